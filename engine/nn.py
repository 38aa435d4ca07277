"""micrograd's ``nn`` on :class:`engine.Value`, whose calls build grouped graphs.

The classes are micrograd's (``Module``, ``Neuron``, ``Layer``, ``MLP``, ``parameters()``,
``zero_grad()``), with the same random initialisation in the same order, so after
``random.seed(1337)`` a model has micrograd's weights and trains to micrograd's losses.

What is added: every call of a Module is a group (see :mod:`engine.core.groups`), so
``loss.graph()`` and ``gui.show(loss)`` show one instance per call (a neuron, a layer, the
whole network) instead of every scalar. A Module's parameters are inputs of its definition,
after the call's own inputs (``x1, x2, ..., w1, w2, ..., b``), fed from one *parameter bank*
per top-level module: a multi-output node whose outputs are the parameters (its definition,
``MLP parameters``, holds them as constants, so Descend and the check work on them).

>>> import random
>>> from engine import Value
>>> from engine.nn import MLP
>>> random.seed(1337); model = MLP(2, [4, 1])
>>> y = model([Value(1.0), Value(-2.0)])
>>> g = y.graph(); sorted(g.definitions)  # doctest: +NORMALIZE_WHITESPACE
['Layer(2, 4)', 'Layer(4, 1)', 'LinearNeuron(4)', 'MLP(2, [4, 1])',
 'MLP(2, [4, 1]) parameters', 'ReLUNeuron(2)']
>>> abs(g.value(g.output_node()) - y.data) < 1e-12
True
"""

from __future__ import annotations

import functools
import random

from .core.groups import run_grouped, values_in
from .core.value import Value


def _as_values(x):
    """Plain numbers (alone or in lists) as Value leaves, made here, outside the call's group,
    so that they come in through input ports rather than as constants of the definition."""
    if isinstance(x, Value):
        return x
    if isinstance(x, list):
        return [_as_values(e) for e in x]
    if isinstance(x, tuple):
        return tuple(_as_values(e) for e in x)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return Value(x)
    return x


class Module:
    """micrograd's base class. Subclasses' ``__call__`` become group calls and their
    parameters (``parameters()``, named by ``parameter_names()``) inputs of the definition."""

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0

    def parameters(self):
        return []

    def parameter_names(self) -> list[str]:
        """A name per parameter, in ``parameters()`` order: the ports and bank entries."""
        return [f"p{k + 1}" for k in range(len(self.parameters()))]

    def group_name(self) -> str:
        """The definition's name for a call of this module."""
        return type(self).__name__

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _claiming(cls.__dict__["__init__"])
        if "__call__" in cls.__dict__:
            cls.__call__ = _grouped(cls.__dict__["__call__"])


def _claiming(init):
    """``__init__`` that then marks the module's parameters as its own; the outermost module's
    init ends last, so its claim stands (one bank per top-level module)."""

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        init(self, *args, **kwargs)
        for k, (p, name) in enumerate(zip(self.parameters(), self.parameter_names())):
            if isinstance(p, Value):
                p._bank = (self, k, name)

    wrapper._claiming = True
    return wrapper


def _grouped(call):
    if getattr(call, "_grouped", False):
        return call

    @functools.wraps(call)
    def wrapper(self, *args, **kwargs):
        args = tuple(_as_values(a) for a in args)
        xs = values_in([args, list(kwargs.values())])
        params = [p for p in self.parameters() if isinstance(p, Value)]
        names = [f"x{k + 1}" for k in range(len(xs))] + list(self.parameter_names())[: len(params)]
        return run_grouped(lambda *a, **kw: call(self, *a, **kw), self.group_name(), args, kwargs,
                           inputs=xs + params, input_names=names)

    wrapper._grouped = True
    return wrapper


class Neuron(Module):
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]

    def parameter_names(self):
        return [f"w{k + 1}" for k in range(len(self.w))] + ["b"]

    def group_name(self):
        return repr(self)

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def parameter_names(self):
        return [f"n{i + 1}.{name}" for i, n in enumerate(self.neurons) for name in n.parameter_names()]

    def group_name(self):
        nin = len(self.neurons[0].w) if self.neurons else 0
        return f"Layer({nin}, {len(self.neurons)})"

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def parameter_names(self):
        return [f"L{i + 1}.{name}" for i, layer in enumerate(self.layers) for name in layer.parameter_names()]

    def group_name(self):
        sizes = [len(self.layers[0].neurons[0].w)] if self.layers and self.layers[0].neurons else [0]
        return f"MLP({sizes[0]}, {[len(layer.neurons) for layer in self.layers]})"

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


__all__ = ["Layer", "MLP", "Module", "Neuron"]
