"""The seed notebook's cells run unchanged on the engine's NumberWithGrad.

The cells are copied verbatim (the tests must not need the seed file), run in a fresh interpreter
with only ``from engine import NumberWithGrad`` put in front, and their output compared with what
the notebook printed. Integers stay integers: the notebook prints 4, not 4.0.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PRELUDE = "from engine import NumberWithGrad\n"

CELL_5 = """\
a = NumberWithGrad(3)
b = a * 4
c = b + 3
c.backward()
print(a.grad) # as expected
print(b.grad) # as expected
"""

CELL_8_FIRST = """\
a = NumberWithGrad(3)
b = a * 4
c = b + 3
d = b * 5
e = c + d


e.backward()
print(a.grad)
"""

CELL_6 = """\
a = NumberWithGrad(3)
"""

# The notebook's lines end in a space here; kept (as \x20) so the cell stays byte-for-byte.
CELL_7 = """\
b = a * 4
c = b + 3
d = (a + 2)
e = c * d\x20
e.backward()\x20
"""

CELL_8_SECOND = """\
a.grad # as expected
"""

# The notebook displays the value of a cell's last expression; a script has to print it.
DISPLAY_A_GRAD = "print(repr(a.grad))\n"

ROOT = Path(__file__).resolve().parent.parent


def run_cells(*cells: str) -> str:
    code = PRELUDE + "".join(cells)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_cell_5_prints_4_and_1():
    assert run_cells(CELL_5) == "4\n1\n"


def test_first_cell_8_prints_24():
    assert run_cells(CELL_8_FIRST) == "24\n"


def test_cells_6_7_8_give_a_grad_35():
    assert run_cells(CELL_6, CELL_7, CELL_8_SECOND, DISPLAY_A_GRAD) == "35\n"


def test_cells_in_process_match():
    """The same cells in this process, for a readable failure if the subprocess ones break."""
    from engine import NumberWithGrad

    a = NumberWithGrad(3)
    b = a * 4
    c = b + 3
    c.backward()
    assert (a.grad, b.grad) == (4, 1)
    a = NumberWithGrad(3)
    b = a * 4
    e = (b + 3) + b * 5
    e.backward()
    assert a.grad == 24
    a = NumberWithGrad(3)
    e = (a * 4 + 3) * (a + 2)
    e.backward()
    assert a.grad == 35 and type(a.grad) is int
