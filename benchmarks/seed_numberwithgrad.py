"""The seed notebook's NumberWithGrad, copied verbatim from cell In[4] of
/work/shared/seeds/000_851e9f7daf86a0da.txt, for benchmark comparison only.

Nothing in gradcanvas imports this module. Its ``backward`` recurses once per path from the
output (not once per node), so it is exponential on a diamond ladder; the benchmark measures
exactly that. The class body below is the seed's text unchanged, hence the lint exemption;
only the import line (cell In[1]) is added so the module stands alone.
"""
# ruff: noqa

from typing import Union, List

Numberable = Union[float, int]

def ensure_number(num: Numberable):
    if isinstance(num, NumberWithGrad):
        return num
    else:
        return NumberWithGrad(num)        

class NumberWithGrad(object):
    
    def __init__(self, 
                 num: Numberable,
                 depends_on: List[Numberable] = None,
                 creation_op: str = ''):
        self.num = num
        self.grad = None
        self.depends_on = depends_on or []
        self.creation_op = creation_op

    def __add__(self, 
                other: Numberable):
        return NumberWithGrad(self.num + ensure_number(other).num,
                              depends_on = [self, ensure_number(other)],
                              creation_op = 'add')
    
    def __mul__(self,
                other: Numberable = None):

        return NumberWithGrad(self.num * ensure_number(other).num,
                              depends_on = [self, ensure_number(other)],
                              creation_op = 'mul')
    
    def backward(self, backward_grad: Numberable = None):
        if backward_grad is None: # first time calling backward
            self.grad = 1
        else: 
            # These lines allow gradients to accumulate.
            # If the gradient doesn't exist yet, simply set it equal
            # to backward_grad
            if self.grad is None:
                self.grad = backward_grad
            # Otherwise, simply add backward_grad to the existing gradient
            else:
                self.grad += backward_grad
        
        gradient_to_send = backward_grad if backward_grad is not None else 1
        if self.creation_op == "add":
            # Simply send backward backward_grad, since increasing either of these 
            # elements will increase the output by that same amount
            self.depends_on[0].backward(gradient_to_send)
            self.depends_on[1].backward(gradient_to_send)    

        if self.creation_op == "mul":

            # Calculate the derivative with respect to the first element
            new = self.depends_on[1] * gradient_to_send
            # Send backward the derivative with respect to that element
            self.depends_on[0].backward(new.num)

            # Calculate the derivative with respect to the second element
            new = self.depends_on[0] * gradient_to_send
            # Send backward the derivative with respect to that element
            self.depends_on[1].backward(new.num)
