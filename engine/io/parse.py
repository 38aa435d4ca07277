"""The safe program parser: Python syntax, read by :mod:`ast`, turned into a Graph.

Nothing typed here is ever run by Python. The source goes through ``ast.parse`` only, and a
whitelist walk (an explicit stack, so deep but legal trees work) turns the allowed syntax
into number and op nodes. Anything else is refused with a :class:`ParseError` carrying the
1-based line and column of the offending construct.

Grammar (Python's own syntax and precedence)::

    program   := statement (NEWLINE | ';') statement ...     comments and blank lines are fine
    statement := NAME '=' [NAME '=' ...] expr                 a = b = expr binds both names
               | NAME ('+=' | '-=' | '*=' | '/=' | '**=' | '^=') expr
               | expr
               | expr '.backward()'                           marks expr's node as the output
               | NAME '.label' '=' STRING                      names NAME's node (also '.name')
               | SHOW '(' ... ')'                              skipped, arguments unread
               | 'from micrograd.engine import Value'         skipped (see below)
    expr      := expr ('+' | '-' | '*' | '/' | '**' | '^') expr
               | '-' expr | '+' expr | '(' expr ')'
               | FUNC '(' expr [',' expr] ')' | expr '.' FUNC '(' [expr] ')'
               | WRAP '(' ['-' | '+' ...] NUMBER [',' ('label' | 'name') '=' STRING] ')'
               | NAME | NUMBER
    FUNC      := any op of engine.core.ops.OPERATORS by name, with that op's number of inputs
                 (exp(x), max(a, b)); as a method the receiver is the first input (a.max(b))
    WRAP      := 'Value' | 'NumberWithGrad'
    SHOW      := 'print' | 'draw_dot' | 'display' | 'trace'
    NUMBER    := a finite real int or float literal (1, 2.5, 1e-3, 0x10, 1_000)

Arrays (issue 10): a list literal of numbers, ``[[1, 2], [3, 4]]``, is one number node holding
a float64 array (ragged, empty, more than 4 levels or more than 1,000,000 elements: refused);
``zeros(2, 3)``, ``ones(3)`` and ``randn(2, 3, seed=0)`` (a NumPy Generator; the seed is
required, so a program always builds the same graph) make array numbers within the same
limits. ``a @ b`` is matmul, ``x.T`` the transpose. A tensor row's parameters are keywords,
as a call or a method: ``sum(x, axis=0)``, ``x.mean(keepdims=True)``, ``softmax(z, axis=1)``;
reshape also takes its sizes after the input, ``reshape(x, 3, 2)`` or ``x.reshape([3, 2])``.
``values`` may hold NumPy arrays or nested lists, checked as above (an integer array, such as
class targets for ``cross_entropy(z, y)``, stays integer).

So micrograd programs and the micrograd lecture's cells paste unchanged: ``a = Value(-4.0)``
is ``a = -4.0``, ``(b + a).relu()`` is ``relu(b + a)``, a final ``g.backward()`` makes ``g``
the output, ``x1w1.label = 'x1*w1'`` names the node, and ``draw_dot(o)`` is skipped.

``^`` means power, and it behaves exactly like ``**`` (it binds tighter than ``*`` and unary
minus and groups right to left): ``x^2 + 1`` is x² + 1 and ``-a^2`` is -(a²), not Python's
bitwise xor precedence, which would silently read ``x^2 + 1`` as x^(2 + 1).

Meaning:

- One name is one node. ``a*a`` is a single ``a`` wired into both ports of one mul node, so
  its gradient is the sum of both contributions. Reassigning a name makes it refer to the new
  node from then on; ``x = y`` makes no node, ``x`` just names ``y``'s node too.
- A name read before any assignment takes its value from ``values``: it becomes a number node
  (an input). Values that are never read make no node. Reading a name that has neither is an
  error. Number literals make one unnamed number node per occurrence; a unary minus on a
  literal folds into it (``-3`` is one number node with value -3).
- The output is the last statement's node: its value, or for an assignment its target. A
  statement ``y.backward()`` (any expression before ``.backward()``, no arguments) makes
  ``y``'s node the output instead, whatever follows; statements after it still add their
  nodes, which, as in micrograd, get no gradient from it. A second ``backward()`` is refused:
  a graph has one output.
- ``Value(x)`` / ``NumberWithGrad(x)`` only wrap a number literal (with any unary signs) and
  make the same number node the bare literal would. Wrapping anything else, ``Value(a * 2)``,
  is refused rather than treated as the identity: in micrograd that would wrap a Value in a
  Value, so it is a mistake worth pointing at. A ``label='a'`` or ``name='a'`` string keyword
  labels the node (see Names, below); any other argument is refused.
- ``x.relu()`` is ``relu(x)`` and ``a.max(b)`` is ``max(a, b)``: any op of the table by name,
  called with as many arguments as it has inputs (one fewer as a method). Operators are read
  from the rows' operator spellings, so ``a + b`` and ``add(a, b)`` make the same node.
- Skipped without being read further: ``print(...)``, ``draw_dot(...)``, ``display(...)`` and
  ``trace(...)`` statements (the canvas shows every value and wire, so
  ``print(f'{g.data:.4f}')`` from micrograd's README or the lecture's ``draw_dot(o)`` need no
  change), and the imports
  ``from micrograd.engine import Value`` and ``from engine import Value, NumberWithGrad``
  (either module, any of those two names, no ``as``), wherever they appear. Skipping is never
  running: no import or print happens. A program with nothing else is refused.
- Labels. ``v.label = 'x1*w1'`` (or ``v.name = ...``, or ``Value(2.0, label='x1')``) labels the
  node ``v`` refers to then, as the lecture does; a later label on it replaces an earlier one,
  ``''`` removes it. It is not a computation: it adds no node and leaves the output alone.
  Setting anything else (``o.grad = 1.0``, ``a.data += ...``) is refused.
- Names. Each node carries at most one name, and names stay unique. A node's label, else its
  binding (below), is offered as its name in node order, as ``Value.graph()`` does with labels:
  a valid name not taken yet names the node; anything else (a second ``x``, ``'12'``, control
  characters) becomes the node's display text, numbered where it repeats (``x (2)``). The
  bindings:

  1. a node bound to a name when the program ends carries that plain name (if several names
     end bound to it, the one bound to it first: after ``b = a`` the node stays ``a``);
  2. otherwise a node that was bound to a name earlier carries ``name@k``, k being which
     binding of that name it was: 0 for the input from ``values``, 1 for the first assignment,
     2 for the second, ... (an alias ``c = x`` counts too, though it names no node of its
     own). So ``c = a + b; c = c * 2`` names the add ``c@1`` and the mul ``c``, and
     ``a = a + 1`` (with a=3 given) names the input ``a@0`` and the add ``a``.
     (``@`` cannot appear in a Python identifier, so these never clash with program names.)
     If ``name@k`` would be longer than a node name may be, that node stays unnamed;
  3. literals and intermediate results are unnamed.

- Node ids are 1, 2, ...: inputs first, in the order the program first reads them, then
  every other node in program order (operands before the op that uses them).

Refused, each with its own message: attributes other than the methods above (``x.data``,
``x.grad``, ``x.__class__``, an uncalled ``x.relu``, ``x.relu(1)``), setting any attribute but
a label, a label that is not a string literal or is set on anything but a name, subscripts, calls to
anything but a FUNC or WRAP by name (so ``__import__('os')`` too), keyword or starred
arguments, strings (but for the label above), bytes, f-strings (but inside a skipped print),
True/False/None, complex or overflowing literals, tuples, lists of anything but numbers,
dicts, sets, comparisons,
``and``/``or``/``not``, ``if``-expressions, lambda, comprehensions, ``:=``, the operators
``// % | & << >> ~``, and every statement but those above (any other import, def, class,
loops, ...). Errors about a method point at its name. A program over 1 MB, with a null
byte, or empty is refused; one nested too deeply for Python's own parser (about 200
parentheses, a few thousand terms in one expression) is refused with a hint to split it
into statements.

>>> g = parse_program("c = a + b; c * c", {"a": 1.0, "b": 2.0})
>>> g.value("c"), g.grad("a"), g.grad("c")
(3.0, 6.0, 6.0)
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import unicodedata
import warnings
from collections.abc import Mapping
from typing import NoReturn

import numpy as np

from ..core import arrays
from ..core.errors import GraphError, ParseError
from ..core.graph import Graph, LabelNames, check_name, check_value
from ..core.ops import NUMBER, OPERATORS, OPS, check_params

MAX_SOURCE = 1_000_000
"""Longest program accepted, in bytes of UTF-8."""

# Python's own operator tokens as ast spells them; which op each one means is the table's.
_AST_OPERATORS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "**": ast.Pow, "@": ast.MatMult}
_BINOPS = {_AST_OPERATORS[op.operator]: op.name for op in OPERATORS.values() if op.operator and op.arity == 2}
_NEG = next(op.name for op in OPERATORS.values() if op.operator == "-" and op.arity == 1)
_AUG_SYMBOLS = {kind: token for token, kind in _AST_OPERATORS.items()}
# Every op by name, with its number of arguments as a call.
_FUNCTIONS = {name: op.arity for name, op in OPERATORS.items()}

_OP_SYMBOLS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
}

_REFUSED = {
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Subscript: "subscripts (a[i]) are not allowed",
    ast.Slice: "slices are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "the walrus operator := is not allowed; write 'name = expr' as its own statement",
    ast.Compare: "comparisons (<, ==, is, in, ...) are not allowed",
    ast.BoolOp: "'and' / 'or' are not allowed",
    ast.IfExp: "conditional expressions (x if c else y) are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.List: "lists are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.Starred: "starred expressions (*x) are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Import: "import is not allowed",
    ast.ImportFrom: "import is not allowed",
    ast.FunctionDef: "function definitions (def) are not allowed",
    ast.AsyncFunctionDef: "function definitions (def) are not allowed",
    ast.ClassDef: "class definitions are not allowed",
    ast.For: "loops are not allowed",
    ast.AsyncFor: "loops are not allowed",
    ast.While: "loops are not allowed",
    ast.If: "if statements are not allowed",
    ast.With: "with statements are not allowed",
    ast.AsyncWith: "with statements are not allowed",
    ast.Try: "try statements are not allowed",
    ast.Raise: "raise is not allowed",
    ast.Assert: "assert is not allowed",
    ast.Delete: "del is not allowed",
    ast.Global: "global is not allowed",
    ast.Nonlocal: "nonlocal is not allowed",
    ast.Pass: "pass is not allowed",
    ast.Break: "break is not allowed",
    ast.Continue: "continue is not allowed",
    ast.Return: "return is not allowed",
    ast.Match: "match statements are not allowed",
    ast.AnnAssign: "annotations (a: float = 1) are not allowed; write a = 1",
}
if hasattr(ast, "TryStar"):
    _REFUSED[ast.TryStar] = "try statements are not allowed"

_IMPORT_REFUSED = (
    "import is not allowed; only 'from micrograd.engine import Value' (or 'from engine import "
    "Value, NumberWithGrad') is accepted, and skipped: Value(...) needs no import here"
)
_REFUSED[ast.Import] = _REFUSED[ast.ImportFrom] = _IMPORT_REFUSED

# The imports a pasted micrograd program starts with; skipped, never run.
_SKIPPED_MODULES = frozenset({"micrograd.engine", "engine"})
_WRAPPERS = frozenset({"Value", "NumberWithGrad"})
_LABELS = frozenset({"label", "name"})
# Calls that show or print, as pasted notebook code makes them (the lecture's draw_dot and
# trace, IPython's display): skipped as statements, never run; why each is not needed here.
_SKIPPED_CALLS = {
    "print": "the canvas shows every value",
    "draw_dot": "the canvas draws the graph",
    "display": "the canvas draws the graph",
    "trace": "the canvas shows every node and wire",
}

# Functions that make a number node holding an array: zeros(2, 3), ones(3), randn(2, 3, seed=0).
_MAKERS = frozenset({"zeros", "ones", "randn"})
# x.T, as NumPy spells the transpose: an attribute, not a call.
_ATTRIBUTE_OPS = {"T": "transpose"}

_TARGETS = {
    ast.Attribute: "an attribute (a.b)",
    ast.Subscript: "a subscript (a[i])",
    ast.Starred: "a starred name (*a)",
}

_ALLOWED = (
    "allowed: numbers, names, + - * / ** ^, unary -, calls like exp(x), x.exp() or max(a, b), Value(2.0), "
    "and statements 'name = expr', 'name += expr', 'expr', 'y.backward()', 'v.label = \"x\"'"
)


def parse_program(source: str, values: Mapping | None = None) -> Graph:
    """Parse a program (see the module docstring for the grammar) into a laid-out Graph.

    ``values`` gives the inputs: names read before they are assigned. Raises ParseError, and
    nothing else, on any input.

    >>> g = parse_program("(a*4+3)*(a+2)", {"a": 3})
    >>> g.value(g.output), g.grad("a")
    (75.0, 35.0)
    """
    inputs = _check_values(values)
    text = _check_source(source)
    src = _Source(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are about constructs refused anyway
            module = ast.parse(src.text, mode="exec")
    except SyntaxError as e:
        line = e.lineno or 1
        col = src.col(line, (e.offset or 1) - 1) + 1 if e.lineno else 1
        if isinstance(e, IndentationError) and 0 < line <= len(src.lines):
            # Python points somewhere in the indentation; the statement it misplaces is clearer.
            bad_line = src.lines[line - 1]
            col = src.col(line, len(bad_line) - len(bad_line.lstrip(" \t\f"))) + 1
        raise ParseError(f"syntax error: {e.msg}", line, max(col, 1)) from None
    except (RecursionError, MemoryError):
        line, col = _longest_line(text)
        raise ParseError(
            "the program is nested too deeply for Python's parser; "
            "split long expressions into several statements (t = ...; t = t + ...)",
            line,
            col,
        ) from None
    except ValueError as e:  # invalid text the checks above did not foresee
        raise ParseError(f"cannot read the program: {e}") from None
    if not module.body:
        raise ParseError("the program is empty (only comments); write an expression such as a * b")
    try:
        return _Walker(src, inputs).run(module.body)
    except (RecursionError, MemoryError):
        raise ParseError("the program is too large to turn into a graph") from None


VALUE_HINT = ("a value is a number such as 2.5, a list such as [[1, 2], [3, 4]], "
              "or zeros(3), ones(2, 3), randn(2, 3, seed=0)")
_NOT_FINITE = frozenset({"inf", "nan", "infinity"})


def parse_value(text: str):
    """A value typed where one is asked for (a node's value editor, the inspector, the search
    box): a number, a list literal, or ``zeros``/``ones``/``randn(..., seed=...)``, read by
    the same rules, limits and messages as inside a program, and never run. A typographic
    minus (the canvas writes one) reads as ``-``. Returns a float or a float64 array; raises
    ParseError (with the column) for anything else, an expression included.

    >>> parse_value("−2.5"), parse_value("[[1, 2], [3, 4]]").shape, parse_value("zeros(3)").tolist()
    (-2.5, (2, 2), [0.0, 0.0, 0.0])
    >>> parse_value("randn(2, 3, seed=0)").shape
    (2, 3)
    >>> try:
    ...     parse_value("a * 2")
    ... except ParseError as e:
    ...     print(e.col, e.msg.split(";")[0])
    1 a * 2 is an expression, not a value
    """
    if not isinstance(text, str):
        raise ParseError(f"a value must be typed as text, not {type(text).__name__}")
    if not text.strip():
        raise ParseError(f"nothing typed; {VALUE_HINT}")
    lead = len(text) - len(text.lstrip())
    src = _Source(_check_source(text.strip().replace("\u2212", "-")))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = ast.parse(src.text, mode="exec")
    except SyntaxError as e:
        col = src.col(e.lineno or 1, (e.offset or 1) - 1) + 1 if e.lineno else 1
        raise ParseError(f"syntax error: {e.msg}; {VALUE_HINT}", e.lineno or 1, max(col, 1) + lead) from None
    except (RecursionError, MemoryError, ValueError):
        raise ParseError(f"cannot read this as a value; {VALUE_HINT}") from None
    walker = _Walker(src, {})
    try:
        if len(module.body) != 1 or type(module.body[0]) is not ast.Expr:
            where = module.body[-1] if module.body else module
            walker.fail(where, f"type one value, not statements; {VALUE_HINT}")
        node = inner = module.body[0].value
        while type(inner) is ast.UnaryOp and type(inner.op) in (ast.USub, ast.UAdd):
            inner = inner.operand
        kind, func = type(inner), getattr(getattr(inner, "func", None), "id", None)
        if kind is ast.Name and inner.id.lower() in _NOT_FINITE:
            walker.fail(inner, f"{inner.id} is not a finite number; a value must be finite")
        if not (kind is ast.Constant or (inner is node and kind is ast.List)
                or (inner is node and kind is ast.Call and func in _MAKERS | _WRAPPERS)):
            what = f"'{inner.id}' is a name" if kind is ast.Name else (
                f"{ast.unparse(node)[:40]} is an expression")
            walker.fail(node, f"{what}, not a value; {VALUE_HINT}")
        n = walker.expr(node)
    except ParseError as e:
        raise ParseError(e.msg, e.line, e.col + lead if e.line == 1 else e.col) from None
    except (RecursionError, MemoryError):
        raise ParseError(f"the value is nested too deeply; {VALUE_HINT}") from None
    return walker.numbers[n]


# ---------------------------------------------------------------------- input checks


def _check_values(values) -> dict:
    """Names and numbers of the inputs, validated; names NFKC-normalised like identifiers."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ParseError(f"values must map names to numbers, not {type(values).__name__}")
    out: dict = {}
    try:
        items = list(values.items())
    except Exception as e:  # a foreign mapping that fails to iterate: report, never propagate
        raise ParseError(f"cannot read the values: {e}") from None
    for key, value in items:
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            raise ParseError(
                f"value name {key!r} is not a valid name: use letters, digits and _, "
                "not starting with a digit, and not a Python keyword"
            )
        name = unicodedata.normalize("NFKC", key)  # what ast.parse does to identifiers
        try:
            check_name(name)
            number = check_value(value, f"the value of '{key}'")
        except GraphError as e:
            raise ParseError(str(e)) from None
        except Exception as e:  # a number-like object whose __float__ misbehaves
            raise ParseError(f"the value of '{key}' is not a usable number: {e}") from None
        if name in out:
            raise ParseError(f"the value of '{name}' is given twice")
        out[name] = number
    return out


def _check_source(source) -> str:
    if not isinstance(source, str):
        raise ParseError(f"the program must be text, not {type(source).__name__}")
    if len(source) > MAX_SOURCE or len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE:
        raise ParseError(f"the program is longer than {MAX_SOURCE:,} bytes")
    # Python reads a lone \r as a line break too; one kind of break keeps line numbers simple.
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):  # a byte-order mark, as Windows editors save: Python skips it
        text = text[1:]
    bad = re.search(r"[\x00\ud800-\udfff]", text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        col = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        char = bad.group()
        what = "null bytes are" if char == "\x00" else f"lone surrogates (U+{ord(char):04X}) are"
        raise ParseError(f"{what} not allowed in a program", line, col)
    if not text.strip():
        raise ParseError("the program is empty; write an expression such as a * b")
    return text


class _Source:
    """The text handed to ast.parse, and the way back from its positions to the user's.

    Every ``^`` becomes ``**`` (so ``^=`` becomes ``**=``), which gives it power's precedence
    and associativity in Python's parser; each one shifts the rest of its line by one
    character, which :meth:`col` undoes.
    """

    def __init__(self, text: str):
        self.shifts: dict[int, list[int]] = {}  # line -> original columns of rewritten carets
        self.text = self._rewrite_carets(text) if "^" in text else text
        self.lines = self.text.split("\n")

    def _rewrite_carets(self, text: str) -> str:
        # Plain text replacement is enough: outside an operator, a ^ can only sit in a comment
        # (ignored) or a string (refused anyway), so no accepted program changes meaning.
        lines = text.split("\n")
        for i, s in enumerate(lines):
            if "^" in s:
                self.shifts[i + 1] = [m.start() for m in re.finditer(r"\^", s)]
                lines[i] = s.replace("^", "**")
        return "\n".join(lines)

    def col(self, line: int, col: int) -> int:
        """The user's 0-based character column for a 0-based character column in ``text``."""
        shifts = self.shifts.get(line)
        if not shifts:
            return col
        return col - sum(1 for i, c in enumerate(shifts) if c + i < col)

    def pos(self, node) -> tuple[int, int]:
        """1-based (line, column) of an ast node; ast gives columns in UTF-8 bytes."""
        line = getattr(node, "lineno", 1) or 1
        offset = getattr(node, "col_offset", 0) or 0
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        chars = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
        return line, self.col(line, chars) + 1


def _is_skipped_call(value) -> bool:
    """A ``print(...)``, ``draw_dot(...)``, ``display(...)`` or ``trace(...)`` call, which a
    statement may be and then is skipped unread."""
    return type(value) is ast.Call and type(value.func) is ast.Name and value.func.id in _SKIPPED_CALLS


def _is_skipped_import(stmt) -> bool:
    """``from micrograd.engine import Value`` and the like: harmless, so skipped (never run)."""
    return (
        stmt.level == 0
        and stmt.module in _SKIPPED_MODULES
        and all(alias.name in _WRAPPERS and alias.asname is None for alias in stmt.names)
    )


def _longest_line(text: str) -> tuple[int, int]:
    """Where the longest line's code starts: the likely culprit when Python's parser runs
    out of stack, since it gives no position then. Plain text, so it stays fast on 1 MB."""
    lines = text.split("\n")
    i = max(range(len(lines)), key=lambda k: len(lines[k]))
    line = lines[i]
    return i + 1, len(line) - len(line.lstrip()) + 1


def _count_elements(node) -> int:
    """How many elements a list literal has, counted from its first entries (cheap; a ragged
    literal is caught later)."""
    count = 1
    while type(node) is ast.List:
        count *= max(len(node.elts), 1)
        if not node.elts:
            break
        node = node.elts[0]
    return count


def _count(n: int, noun: str) -> str:
    words = {1: "one", 2: "two", 3: "three"}
    return f"{words.get(n, n)} {noun}{'' if n == 1 else 's'}"


def _call(name: str, receiver: str | None = None, method: bool = False) -> str:
    """How op ``name`` is called: ``exp(x)``, ``max(a, b)``; as a method ``x.exp()``, ``a.max(b)``."""
    arity = _FUNCTIONS.get(name, 1)
    args = ["x"] if arity == 1 else [chr(ord("a") + k) for k in range(arity)]
    if method:
        return f"{receiver or args[0]}.{name}({', '.join(args[1:])})"
    return f"{name}({', '.join(args)})"


# ---------------------------------------------------------------------- the walk


class _Walker:
    """Turns whitelisted statements into nodes and edges; knows nothing of Graph internals
    beyond ``_build``'s node dicts."""

    def __init__(self, src: _Source, values: dict):
        self.src = src
        self.values = values
        self.functions = _FUNCTIONS
        self.ops: list[str] = []  # per provisional node: op name, NUMBER for numbers
        self.numbers: dict[int, float] = {}  # provisional node -> value, numbers only
        self.params: dict[int, dict] = {}  # provisional node -> params of a tensor row
        self.pending: dict[int, dict] = {}  # id(ast call) -> params, until its op node is made
        self.inputs: list[int] = []  # provisional nodes made from ``values``, in first-read order
        self.edges: list[tuple[int, int, int]] = []
        self.env: dict[str, int] = {}  # name -> provisional node it refers to now
        self.version: dict[str, int] = {}  # name -> how many times it has been bound (input: 0)
        self.bindings: list[tuple[str, int, int]] = []  # (name, version, node), in order
        self.checked_names: set[str] = set()
        self.labels: dict[int, str] = {}  # provisional node -> label set in the program
        self.defs: dict[str, _Function] = {}  # functions defined so far, by name
        self.definitions: list[dict] = []  # their definition data for Graph._build, in order
        self.outputs: dict[int, tuple] = {}  # a call's provisional node -> its output sources

    def fail(self, node, message: str) -> NoReturn:
        line, col = self.src.pos(node)
        raise ParseError(message, line, col)

    def refuse(self, node, message: str | None = None) -> NoReturn:
        if message is None:
            message = _REFUSED.get(type(node)) or f"{type(node).__name__} is not allowed; {_ALLOWED}"
        self.fail(node, message)

    def fail_at(self, pos: tuple[int, int], message: str) -> NoReturn:
        raise ParseError(message, *pos)

    def attr_pos(self, node) -> tuple[int, int]:
        """Where the name after the dot of an ast.Attribute starts: a method's errors point at
        the method, not at the start of a possibly long receiver."""
        line = getattr(node, "end_lineno", None)
        end = getattr(node, "end_col_offset", None)
        if line is None or end is None or not 0 < line <= len(self.src.lines):
            return self.src.pos(node)
        before = self.src.lines[line - 1].encode("utf-8")[:end].decode("utf-8", "ignore")
        m = re.search(r"\w+$", before)
        if m is None:
            return self.src.pos(node)
        return line, self.src.col(line, m.start()) + 1

    # ------------------------------------------------------------------ statements

    def run(self, body: list) -> Graph:
        out = self.statements(body)
        if out is None:
            raise ParseError(
                "the program has only statements that are skipped (print(...), draw_dot(...), "
                "imports), labels and function definitions; write an expression such as a * b "
                "(or a call of your function)"
            )
        return self.graph(out)

    def statements(self, body: list):
        """Walk the statements; return the node of the output (None if nothing made one)."""
        out = None
        backward_line = None  # where backward() fixed the output, if it did
        for stmt in body:
            kind = type(stmt)
            if kind is ast.FunctionDef:
                self.define(stmt)
                continue
            if kind is ast.Assign and self.unpacks(stmt):
                node = self.unpack(stmt)
                if backward_line is None:
                    out = node
                continue
            if kind is ast.Expr:
                value = stmt.value
                if _is_skipped_call(value):
                    continue
                receiver = self.backward_receiver(value)
                if receiver is not None:
                    if backward_line is not None:
                        self.fail_at(
                            self.attr_pos(value.func),
                            f"backward() was already called on line {backward_line}; "
                            "a graph has one output, so call it once",
                        )
                    out = self.expr(receiver)
                    backward_line = stmt.lineno
                    continue
                node = self.expr(value)
            elif kind is ast.Assign and self.is_label(stmt):
                continue  # names a node; not a computation, so the output stays where it was
            elif kind is ast.Assign:
                for target in stmt.targets:
                    self.check_target(target)
                node = self.expr(stmt.value)
                for target in stmt.targets:
                    self.bind(target, node)
            elif kind is ast.AugAssign:
                node = self.aug_assign(stmt)
            elif kind is ast.ImportFrom and _is_skipped_import(stmt):
                continue
            else:
                self.refuse(stmt)
            if backward_line is None:
                out = node
        return out

    # ------------------------------------------------------------------ functions

    def define(self, stmt) -> None:
        """``def name(a, b): ... return expr`` (or ``return x, y``): a definition. The body is
        straight-line code over the arguments; it may call functions defined before it."""
        name = stmt.name
        if stmt.decorator_list:
            self.fail(stmt.decorator_list[0], "decorators are not allowed on a function here")
        if stmt.returns is not None:
            self.fail(stmt.returns, "return annotations are not allowed; write def f(a, b):")
        if getattr(stmt, "type_params", None):
            self.fail(stmt, "type parameters are not allowed")
        a = stmt.args
        if a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg:
            bad = (a.posonlyargs or [None])[0] or a.vararg or (a.kwonlyargs or [None])[0] or a.kwarg
            self.fail(bad or stmt, "a function takes plain arguments only: def f(a, b) (no /, *, *a, **kw)")
        if a.defaults or any(d is not None for d in a.kw_defaults):
            self.fail(a.defaults[0], "default arguments are not allowed: every argument is an input port")
        if name in self.functions or name in _WRAPPERS or name in _MAKERS or name == "print":
            self.fail(stmt, f"'{name}' is already a function here; give your function another name")
        if name in self.defs:
            self.fail(stmt, f"function '{name}' is defined twice; give the second one another name")
        try:
            from ..core.composite_graph import check_definition_name

            check_definition_name(name)
        except GraphError as e:
            self.fail(stmt, str(e))
        if len(self.definitions) >= _MAX_FUNCTIONS:
            self.fail(stmt, f"a program may define at most {_MAX_FUNCTIONS} functions")
        args = []
        for arg in a.args:
            if arg.annotation is not None:
                self.fail(arg.annotation, "argument annotations are not allowed; write def f(a, b):")
            if arg.arg in args:
                self.fail(arg, f"argument '{arg.arg}' appears twice")
            if arg.arg in self.defs or arg.arg in self.functions:
                self.fail(arg, f"argument '{arg.arg}' has the name of a function; rename it")
            try:
                check_name(arg.arg)
            except GraphError as e:
                self.fail(arg, str(e))
            args.append(arg.arg)
        body = list(stmt.body)
        if body and type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant and isinstance(
            body[0].value.value, str
        ):
            body = body[1:]  # a docstring
        if not body or type(body[-1]) is not ast.Return:
            where = body[-1] if body else stmt
            self.fail(where, f"function '{name}' must end with return, such as return a * b")
        for inner in body[:-1]:
            if type(inner) is ast.Return:
                self.fail(inner, "return must be the last statement of a function (straight-line code only)")
            if type(inner) is ast.FunctionDef:
                self.fail(inner, "functions cannot be defined inside functions; define it before")
        sub = _BodyWalker(self.src, name, args, self.defs, self.definitions)
        sub.statements(body[:-1])
        ret = body[-1]
        if ret.value is None:
            self.fail(ret, "return needs a value: return a * b, or return a, b for several outputs")
        exprs = list(ret.value.elts) if type(ret.value) is ast.Tuple else [ret.value]
        if not exprs:
            self.fail(ret, "return needs at least one value")
        outs = [(e.id if type(e) is ast.Name else None, sub.expr(e)) for e in exprs]
        data = sub.definition(name, args, outs)
        self.defs[name] = _Function(name, len(args), len(outs))
        self.definitions.append(data)

    def unpacks(self, stmt) -> bool:
        """Whether ``stmt`` is ``p, q = f(...)`` (several outputs of a function, by name)."""
        if len(stmt.targets) != 1 or type(stmt.targets[0]) not in (ast.Tuple, ast.List):
            return False
        v = stmt.value
        return type(v) is ast.Call and type(v.func) is ast.Name and v.func.id in self.defs

    def unpack(self, stmt) -> int:
        target = stmt.targets[0]
        call = stmt.value
        f = self.defs[call.func.id]
        for t in target.elts:
            if type(t) is not ast.Name:
                what = _TARGETS.get(type(t), "that")
                self.refuse(t, f"only names can be assigned to, not {what}")
            self.check_name(t)
        if len(target.elts) != f.outputs:
            self.fail(target, f"{f.name}() returns {_count(f.outputs, 'value')}; "
                              f"unpack {f.outputs} name(s), not {len(target.elts)}")
        node = self.call_function(call)
        for port, t in enumerate(target.elts):
            self.bind(t, node if port == 0 else (node, port))
        return node

    def user_call(self, node, stack) -> None:
        """Push a call of a function defined in the program: its arguments, then the instance."""
        f = self.defs[node.func.id]
        self.check_user_call(node, f)
        if f.outputs != 1:
            self.fail(node, f"{f.name}() returns {_count(f.outputs, 'value')}; unpack them by name: "
                            f"{', '.join(f'r{k + 1}' for k in range(f.outputs))} = {f.name}(...)")
        stack.append((node, ("call", f.name)))
        stack.extend((arg, None) for arg in reversed(node.args))

    def check_user_call(self, node, f) -> None:
        for kw in node.keywords:
            self.fail(kw, f"{f.name}() takes its arguments by position, not as keywords")
        for arg in node.args:
            if type(arg) is ast.Starred:
                self.refuse(arg)
        if len(node.args) != f.arity:
            takes = _count(f.arity, "argument")
            self.fail(node, f"{f.name}() takes exactly {takes} ({len(node.args)} given)")

    def call_function(self, node) -> int:
        f = self.defs[node.func.id]
        self.check_user_call(node, f)
        args = [self.expr(a) for a in node.args]
        return self.add_call(f.name, args)

    def add_call(self, fname: str, args) -> int:
        n = len(self.ops)
        self.ops.append(("call", fname))
        self.edges.extend((a, n, port) for port, a in enumerate(args))
        return n

    def backward_receiver(self, value):
        """The expression ``e`` of a statement ``e.backward()``, or None for other statements."""
        func = value.func if type(value) is ast.Call else None
        if type(func) is not ast.Attribute or func.attr != "backward":
            return None
        if value.args or value.keywords:
            self.fail_at(
                self.attr_pos(func),
                "backward() takes no arguments here: the output's gradient always starts at 1",
            )
        return func.value

    def check_target(self, target) -> None:
        if type(target) is ast.Name:
            self.check_name(target)
        elif type(target) in (ast.Tuple, ast.List):
            self.refuse(
                target,
                "only one name can be assigned at a time (no a, b = ...), except to unpack the "
                "outputs of a function defined here: p, q = f(x)",
            )
        elif type(target) is ast.Attribute:
            self.refuse_attribute_target(target)
        else:
            what = _TARGETS.get(type(target), "that")
            self.refuse(target, f"only a name can be assigned to, not {what}")

    def refuse_attribute_target(self, target) -> NoReturn:
        """``v.grad = 1.0``, ``v.data += ...`` and the like: a program builds the graph, it does
        not set numbers on it afterwards; only a label can be set."""
        v = target.value.id if type(target.value) is ast.Name else "v"
        attr = target.attr
        if attr == "grad":
            why = (
                "a program only builds the graph; backward starts the output's gradient at 1 and "
                "gives every other (write o.backward() to choose the output o)"
            )
        elif attr == "data":
            why = f"give the number when the node is made ({v} = Value(2.0)) or assign {v} = ... again"
        elif attr in _LABELS:
            why = f"a label is set with '=' on its own, such as {v}.{attr} = 'x'"
        else:
            why = f"only a name can be assigned to ({v} = ...), or a label set ({v}.label = 'x')"
        self.fail_at(self.attr_pos(target), f"setting {v}.{attr} is not allowed: {why}")

    def is_label(self, stmt) -> bool:
        """Whether ``stmt`` sets a label, ``v.label = 'x1*w1'`` (or ``v.name = ...``); if so,
        record it on ``v``'s node. The lecture labels nodes this way; the label names the
        node as it does in ``Value.graph()`` (see :meth:`graph`)."""
        target = stmt.targets[0]
        if type(target) is not ast.Attribute or target.attr not in _LABELS:
            return False
        if len(stmt.targets) != 1:
            self.refuse(stmt, f"set one label at a time: v.{target.attr} = 'x'")
        if type(target.value) is not ast.Name:
            self.refuse(
                target.value,
                f"a label is set on a name, such as v.{target.attr} = 'x'; assign the expression "
                "to a name first",
            )
        text = stmt.value
        if type(text) is not ast.Constant or not isinstance(text.value, str):
            self.refuse(text, f"a label is a string, such as {target.value.id}.{target.attr} = 'x'")
        self.labels[self.read(target.value)] = text.value
        return True

    def aug_assign(self, stmt) -> int:
        target = stmt.target
        self.check_target(target)
        opname = _BINOPS.get(type(stmt.op))
        if opname is None:
            sym = _OP_SYMBOLS.get(type(stmt.op), type(stmt.op).__name__)
            self.refuse(stmt, f"the operator {sym}= is not allowed; use += -= *= /= **= ^=")
        name = target.id
        if name not in self.env and name not in self.values:
            sym = _AUG_SYMBOLS[type(stmt.op)]
            self.fail(
                target,
                f"name '{name}' has no value, so '{name} {sym}= ...' cannot update it; "
                f"give it as {name}=... or assign it first",
            )
        left = self.read(target)
        right = self.expr(stmt.value)
        node = self.add_op(opname, (left, right))
        self.bind(target, node)
        return node

    # ------------------------------------------------------------------ names

    def check_name(self, node) -> None:
        name = node.id
        if name in self.checked_names:
            return
        try:
            check_name(name)
        except GraphError as e:
            self.fail(node, str(e))
        self.checked_names.add(name)

    def read(self, node) -> int:
        name = node.id
        found = self.env.get(name)
        if found is not None:
            return found
        if name not in self.values:
            if name in self.functions:
                hint = f" ('{name}' is a function: call it as {_call(name)})"
            elif name in _WRAPPERS:
                hint = f" ({name} wraps a number: write {name}(2.0))"
            else:
                hint = ""
            self.fail(node, f"name '{name}' has no value{hint}; give it as {name}=... or assign it first")
        self.check_name(node)
        n = self.add_number(self.values[name])
        self.inputs.append(n)
        self.env[name] = n
        self.version[name] = 0
        self.bindings.append((name, 0, n))
        return n

    def bind(self, target, n: int) -> None:
        name = target.id
        v = self.version.get(name, 0) + 1
        self.version[name] = v
        self.env[name] = n
        self.bindings.append((name, v, n))

    # ------------------------------------------------------------------ expressions

    def add_number(self, value: float) -> int:
        n = len(self.ops)
        self.ops.append(NUMBER)
        self.numbers[n] = value
        return n

    def add_op(self, opname: str, args, params=None) -> int:
        n = len(self.ops)
        self.ops.append(opname)
        self.edges.extend((a, n, port) for port, a in enumerate(args))
        if params:
            self.params[n] = params
        return n

    # ------------------------------------------------------------------ arrays

    def array_literal(self, node) -> int:
        """``[[1, 2], [3, 4]]``: one number node holding the array. Elements are number
        literals (with signs); ragged, empty, too deep or too big lists are refused."""
        def convert(x, depth):
            if type(x) is ast.List:
                if depth >= arrays.MAX_DIMS:
                    self.fail(x, f"a list literal may be nested at most {arrays.MAX_DIMS} deep")
                return [convert(e, depth + 1) for e in x.elts]
            sign, inner = 1, x
            while type(inner) is ast.UnaryOp and type(inner.op) in (ast.USub, ast.UAdd):
                sign = -sign if type(inner.op) is ast.USub else sign
                inner = inner.operand
            if type(inner) is not ast.Constant or isinstance(inner.value, bool) or not isinstance(
                inner.value, (int, float)
            ):
                self.fail(x, "a list literal holds number literals only, such as [[1, 2], [3, 4]]")
            return sign * inner.value

        count = _count_elements(node)
        if count > arrays.MAX_ELEMENTS:
            self.fail(node, f"the list literal has {count:,} elements; at most {arrays.MAX_ELEMENTS:,}")
        try:
            value = check_value(convert(node, 0), "the list literal")
        except GraphError as e:
            self.fail(node, str(e))
        return self.add_number(value)

    def maker(self, node) -> int:
        """``zeros(2, 3)``, ``ones(3)``, ``randn(2, 3, seed=0)``: a number node with an array."""
        name = node.func.id
        dims = []
        for arg in node.args:
            if type(arg) is not ast.Constant or isinstance(arg.value, bool) or not isinstance(arg.value, int):
                self.fail(arg, f"{name}() takes whole-number sizes, such as {name}(2, 3)")
            if arg.value < 1:
                self.fail(arg, f"{name}(): a size must be at least 1, not {arg.value}")
            dims.append(arg.value)
        if not dims:
            self.fail(node, f"{name}() needs at least one size, such as {name}(3) or {name}(2, 3)")
        if len(dims) > arrays.MAX_DIMS:
            self.fail(node, f"{name}() makes at most {arrays.MAX_DIMS} dimensions ({len(dims)} given)")
        count = math.prod(dims)
        if count > arrays.MAX_ELEMENTS:
            self.fail(
                node, f"{name}{tuple(dims)} would have {count:,} elements; at most {arrays.MAX_ELEMENTS:,}"
            )
        seed = None
        for kw in node.keywords:
            ok = kw.arg == "seed" and name == "randn"
            v = kw.value
            if not ok:
                hint = "; randn takes seed=" if name == "randn" else ""
                self.fail(kw, f"{name}() takes no keyword {kw.arg}={hint}")
            whole = type(v) is ast.Constant and isinstance(v.value, int) and not isinstance(v.value, bool)
            if not whole or v.value < 0:
                self.fail(v, "seed= must be a non-negative whole number, such as seed=0")
            seed = v.value
        if name == "zeros":
            value = np.zeros(dims)
        elif name == "ones":
            value = np.ones(dims)
        else:
            if seed is None:
                self.fail(
                    node, "randn() needs a seed, such as randn(2, 3, seed=0): the graph is the same every run"
                )
            value = np.random.default_rng(seed).standard_normal(dims)
        return self.add_number(value if value.ndim else float(value))

    def keyword_params(self, node, name: str, extra_args=()) -> dict | None:
        """The params of a tensor-row call from its keywords (and, for reshape, any sizes
        given after the input), checked against the row; None when there are none."""
        op = OPS[name]
        given: dict = {}
        spelled = _call(name)
        for kw in node.keywords:
            if kw.arg is None:
                self.fail(kw, f"** arguments are not allowed; write {spelled}")
            if not op.params:
                self.fail(kw, f"keyword arguments are not allowed; write {spelled}, not {name}({kw.arg}=...)")
            if all(p.name != kw.arg for p in op.params):
                takes = ", ".join(f"{p.name}=" for p in op.params)
                self.fail(kw, f"{name}() takes the keyword(s) {takes}, not {kw.arg}=")
            given[kw.arg] = self.param_literal(kw.value)
        if extra_args:
            if len(extra_args) == 1 and type(extra_args[0]) in (ast.Tuple, ast.List):
                given["shape"] = self.param_literal(extra_args[0])
            else:
                given["shape"] = [self.param_literal(a) for a in extra_args]
        if not given:
            return None
        try:
            return check_params(op, given)
        except ValueError as e:
            self.fail(node, str(e))

    def param_literal(self, v):
        """A parameter's value: a whole number, None, True/False, or a list/tuple of whole
        numbers, written literally."""
        if type(v) in (ast.Tuple, ast.List):
            return [self.param_literal(e) for e in v.elts]
        sign = 1
        while type(v) is ast.UnaryOp and type(v.op) in (ast.USub, ast.UAdd):
            sign = -sign if type(v.op) is ast.USub else sign
            v = v.operand
        if type(v) is ast.Constant and (v.value is None or isinstance(v.value, bool)) and sign == 1:
            return v.value
        if type(v) is ast.Constant and isinstance(v.value, int) and not isinstance(v.value, bool):
            return sign * v.value
        self.fail(v, "a parameter is a whole number, True/False, None or a list of whole numbers")

    def literal(self, node, negations: int = 0) -> int:
        v = node.value
        if v is None or isinstance(v, bool):
            self.fail(node, f"{v} is not a number; only numbers and names are allowed")
        if isinstance(v, str):
            self.fail(node, "strings are not allowed")
        if isinstance(v, bytes):
            self.fail(node, "bytes are not allowed")
        if isinstance(v, complex):
            self.fail(node, "complex numbers (1j) are not allowed; only real numbers")
        if not isinstance(v, (int, float)):
            self.fail(node, f"{v!r} is not allowed; only numbers and names")
        for _ in range(negations % 2):
            v = -v  # Python's own negation: -0 stays the int 0, -0.0 keeps its sign
        try:
            return self.add_number(check_value(v, NUMBER))
        except GraphError:
            self.fail(node, "this number is too large: it overflows to infinity")

    def expr(self, root) -> int:
        """Post-order walk with an explicit stack; returns the node of ``root``'s value."""
        results: list[int] = []
        # Entries: (ast node, None) to visit, or (ast node, opname) to combine its operands.
        stack: list[tuple] = [(root, None)]
        while stack:
            node, combine = stack.pop()
            if combine is not None:
                if combine == NUMBER:  # folded literal: node is (Constant, negations)
                    results.append(self.literal(*node))
                    continue
                if type(combine) is tuple:  # a call of a function defined in the program
                    arity = self.defs[combine[1]].arity
                    args = results[len(results) - arity:]
                    del results[len(results) - arity:]
                    results.append(self.add_call(combine[1], args))
                    continue
                arity = _FUNCTIONS[combine]
                args = results[-arity:]
                del results[-arity:]
                results.append(self.add_op(combine, args, self.pending.pop(id(node), None)))
                continue
            kind = type(node)
            if kind is ast.Constant:
                results.append(self.literal(node))
            elif kind is ast.Name:
                results.append(self.read(node))
            elif kind is ast.BinOp:
                opname = _BINOPS.get(type(node.op))
                if opname is None:
                    sym = _OP_SYMBOLS.get(type(node.op), type(node.op).__name__)
                    self.refuse(node, f"the operator {sym} is not allowed; use + - * / ** (or ^ for power)")
                stack.append((node, opname))
                stack.append((node.right, None))
                stack.append((node.left, None))
            elif kind is ast.UnaryOp:
                self.unary_chain(node, stack)
            elif kind is ast.Call:
                func = node.func
                if type(func) is ast.Attribute:
                    name = self.method_op(node)
                    stack.append((node, name))
                    inputs = node.args[: _FUNCTIONS[name] - 1]
                    stack.extend((arg, None) for arg in reversed(inputs))
                    stack.append((func.value, None))  # the receiver is the first input
                elif type(func) is ast.Name and func.id in self.defs:
                    self.user_call(node, stack)
                elif type(func) is ast.Name and func.id in _WRAPPERS:
                    results.append(self.wrapped_number(node))
                elif type(func) is ast.Name and func.id in _MAKERS and func.id not in self.env:
                    results.append(self.maker(node))
                else:
                    name = self.call_op(node)
                    stack.append((node, name))
                    stack.extend((arg, None) for arg in reversed(node.args[: _FUNCTIONS[name]]))
            elif kind is ast.List:
                results.append(self.array_literal(node))
            elif kind is ast.Attribute and node.attr in _ATTRIBUTE_OPS:
                stack.append((node, _ATTRIBUTE_OPS[node.attr]))
                stack.append((node.value, None))
            elif kind is ast.Attribute:
                self.refuse_attribute(node)
            else:
                self.refuse(node)
        return results[0]

    def unary_chain(self, node, stack: list) -> None:
        """Push a run of unary +/- at once: folded into a literal it ends on, else one neg
        node per minus. Taking the whole run here keeps deep runs linear."""
        chain = []
        while type(node) is ast.UnaryOp:
            if type(node.op) not in (ast.USub, ast.UAdd):
                sym = _OP_SYMBOLS.get(type(node.op), type(node.op).__name__)
                self.refuse(node, f"the operator {sym} is not allowed; use + - * / ** (or ^ for power)")
            chain.append(node)
            node = node.operand
        minus = [u for u in chain if type(u.op) is ast.USub]
        if type(node) is ast.Constant:
            stack.append(((node, len(minus)), NUMBER))
            return
        stack.extend((u, _NEG) for u in minus)
        stack.append((node, None))

    def call_op(self, node) -> str:
        func = node.func
        if type(func) is not ast.Name:
            if type(func) in _REFUSED:
                self.refuse(func)
            self.refuse(node, "only ops can be called, by name: exp(x), relu(a + b), max(a, b), ...")
        name = func.id
        if name in _SKIPPED_CALLS:
            self.fail(
                func,
                f"{name}(...) can only be a statement of its own (it is skipped: {_SKIPPED_CALLS[name]})",
            )
        if name not in self.functions:
            known = ", ".join(sorted(self.functions))
            self.fail(func, f"unknown function '{name}'; the functions are: {known}")
        for arg in node.args:
            if type(arg) is ast.Starred:
                self.refuse(arg)
        arity = self.functions[name]
        extra = node.args[arity:] if name == "reshape" else ()
        params = self.keyword_params(node, name, extra)
        if len(node.args) != arity and not (extra and len(node.args) > arity):
            self.fail(node, f"{name}() takes exactly {_count(arity, 'argument')} ({len(node.args)} given)")
        if params:
            self.pending[id(node)] = params
        return name

    def method_op(self, node) -> str:
        """The op of a method call ``x.relu()``, ``a.max(b)``: an op of the table, with one
        argument fewer than it has inputs (the receiver is the first)."""
        func = node.func
        name = func.attr
        pos = self.attr_pos(func)
        if name == "backward":
            self.fail_at(
                pos, "backward() must be a statement of its own, such as y.backward(); it makes y the output"
            )
        if name not in self.functions:
            known = ", ".join(f".{f}()" for f in sorted(self.functions))
            self.fail_at(pos, f"unknown method '.{name}()'; the methods are {known} and .backward()")
        receiver = func.value.id if type(func.value) is ast.Name else None
        spelled = _call(name, receiver, method=True)
        if not OPS[name].params:
            for kw in node.keywords:
                self.fail(kw, f"keyword arguments are not allowed; write {spelled}")
        for arg in node.args:
            if type(arg) is ast.Starred:
                self.refuse(arg)
        wanted = self.functions[name] - 1
        extra = node.args[wanted:] if name == "reshape" else ()
        params = self.keyword_params(node, name, extra)
        if params:
            self.pending[id(node)] = params
        if len(node.args) != wanted and not extra:
            takes = "no arguments" if wanted == 0 else f"exactly {_count(wanted, 'argument')}"
            self.fail_at(pos, f".{name}() takes {takes} ({len(node.args)} given); write {spelled}")
        return name

    def refuse_attribute(self, node) -> NoReturn:
        """An attribute that is not the callee of a method call."""
        name = node.attr
        receiver = node.value.id if type(node.value) is ast.Name else "x"
        if name in self.functions or name == "backward":
            spelled = f"{receiver}.backward()" if name == "backward" else _call(name, receiver, method=True)
            self.fail_at(self.attr_pos(node), f"the method .{name} must be called: write {spelled}")
        if name in ("data", "grad"):
            self.refuse(
                node,
                f"attribute access ({receiver}.{name}) is not allowed; a program only builds the graph, "
                "and the canvas shows every node's value and gradient",
            )
        self.refuse(node)

    def wrapped_number(self, node) -> int:
        """``Value(-4.0)``: the number node the bare literal makes. Only a literal may be
        wrapped (see the module docstring for why ``Value(a * 2)`` is refused)."""
        name = node.func.id
        for kw in node.keywords:
            if kw.arg not in _LABELS:
                what = "** arguments are" if kw.arg is None else f"the keyword {kw.arg}= is"
                self.fail(kw, f"{what} not allowed in {name}(); write {name}(2.0) or {name}(2.0, label='x')")
            if type(kw.value) is not ast.Constant or not isinstance(kw.value.value, str):
                self.fail(kw.value, f"{kw.arg}= must be a string, such as {kw.arg}='a' (the node's label)")
        for arg in node.args:
            if type(arg) is ast.Starred:
                self.refuse(arg)
        if len(node.args) != 1:
            self.fail(
                node, f"{name}() takes exactly one number, such as {name}(-4.0) ({len(node.args)} given)"
            )
        arg, negations = node.args[0], 0
        while type(arg) is ast.UnaryOp and type(arg.op) in (ast.USub, ast.UAdd):
            negations += type(arg.op) is ast.USub
            arg = arg.operand
        if type(arg) is not ast.Constant:
            self.fail(
                node.args[0],
                f"{name}() wraps a number literal, such as {name}(-4.0); "
                f"to use an expression, write it without {name}(...)",
            )
        n = self.literal(arg, negations)
        for kw in node.keywords:
            self.labels[n] = kw.value.value
        return n

    # ------------------------------------------------------------------ result

    def names(self) -> dict[int, str]:
        """Provisional node -> name, by the rules in the module docstring."""
        names: dict[int, str] = {}
        for name, v, n in self.bindings:
            if type(n) is int and v == self.version[name] and n not in names:
                names[n] = name
        for name, v, n in self.bindings:
            if type(n) is not int or n in names:
                continue
            label = f"{name}@{v}"
            try:
                check_name(label)
            except GraphError:
                continue  # too long with its suffix: leave it unnamed rather than truncate
            names[n] = label
        return names

    def node_dicts(self, order, ids) -> list:
        bound = self.names()
        names = LabelNames()
        nodes = []
        for n in order:
            op = self.ops[n]
            # A label names its node, as in Value.graph(); an unlabelled node goes by its
            # binding. Either one taken already, or no valid name, is display text instead.
            name, label = names.take(self.labels.get(n) or bound.get(n))
            d = {"id": ids[n], "op": op, "name": name}
            if label is not None:
                d["label"] = label
            if type(op) is tuple:
                d["op"], d["definition"] = op
            if n in self.numbers:
                d["value"] = self.numbers[n]
            if n in self.params:
                d["params"] = self.params[n]
            nodes.append(d)
        return nodes

    def edge_tuples(self, ids) -> list:
        out = []
        for s, t, p in self.edges:
            s, sp = s if type(s) is tuple else (s, 0)
            out.append((ids[s], ids[t], p, sp))
        return out

    def graph(self, out) -> Graph:
        inputs = set(self.inputs)
        order = self.inputs + [n for n in range(len(self.ops)) if n not in inputs]
        ids = {n: i + 1 for i, n in enumerate(order)}
        out, out_port = out if type(out) is tuple else (out, 0)
        g = Graph()
        g._build(self.node_dicts(order, ids), self.edge_tuples(ids), output=ids[out], output_port=out_port,
                 pin_only_if_needed=True, definitions=self.definitions)
        for d in g.definitions.values():
            d.body.apply_layout()
        g.apply_layout()
        return g


class _Function:
    """A function the program defined: what a call of it needs to know."""

    __slots__ = ("name", "arity", "outputs")

    def __init__(self, name: str, arity: int, outputs: int):
        self.name = name
        self.arity = arity
        self.outputs = outputs


_MAX_FUNCTIONS = 1_000


class _BodyWalker(_Walker):
    """A function's body: its arguments are its input ports, every name it reads must be one
    of them or assigned in it, and it may call only functions defined before it."""

    def __init__(self, src, fname, args, defs, definitions):
        super().__init__(src, {})
        self.fname = fname
        self.defs = defs
        self.definitions = definitions
        self.args = list(args)
        self.placeholders = []
        for arg in args:
            n = len(self.ops)
            self.ops.append("input")
            self.placeholders.append(n)
            self.env[arg] = n

    def read(self, node) -> int:
        name = node.id
        found = self.env.get(name)
        if found is not None:
            return found
        if name == self.fname:
            self.fail(node, f"recursion is not allowed: {self.fname} uses itself")
        self.fail(
            node,
            f"function '{self.fname}' reads '{name}', which is not one of its arguments; a function "
            f"uses only its arguments and its own names (add '{name}' to its arguments)",
        )

    def statements(self, body: list):
        for stmt in body:
            if type(stmt) is ast.Expr and type(stmt.value) is ast.Call and self.backward_receiver(stmt.value):
                self.fail(stmt, "backward() cannot be called inside a function; call it on the result")
        return super().statements(body)

    def user_call(self, node, stack) -> None:
        if node.func.id == self.fname:
            self.fail(node, f"recursion is not allowed: {self.fname} calls itself")
        super().user_call(node, stack)

    def call_op(self, node) -> str:
        func = node.func
        if type(func) is ast.Name and func.id == self.fname:
            self.fail(func, f"recursion is not allowed: {self.fname} calls itself")
        return super().call_op(node)

    def definition(self, name, args, outs) -> dict:
        """The definition data (see Graph._build) of the walked body with outputs ``outs``
        (``(name or None, node)`` per port)."""
        order = list(range(len(self.ops)))
        ids = {n: i + 1 for i, n in enumerate(order)}
        nodes = self.node_dicts(order, ids)
        for d, n in zip(nodes, order):
            if n in self.placeholders:
                d["name"] = None
        edges = self.edge_tuples(ids)
        outputs = []
        taken: set = set()
        for k, (oname, src) in enumerate(outs):
            nid = len(order) + 1 + k
            nodes.append({"id": nid, "op": "output", "name": None})
            s, sp = src if type(src) is tuple else (src, 0)
            edges.append((ids[s], nid, 0, sp))
            pname = oname if oname and oname not in taken else f"out{k + 1}"
            while pname in taken:
                pname += "_"
            taken.add(pname)
            outputs.append((pname, nid))
        inputs = [(arg, ids[n]) for arg, n in zip(args, self.placeholders)]
        return {"name": name, "inputs": inputs, "outputs": outputs, "nodes": nodes, "edges": edges}
