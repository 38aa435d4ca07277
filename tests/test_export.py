"""Export to Python (engine.Value) and PyTorch: the scripts run and print the graph's gradients,
and nothing from the document ever becomes code."""

import ast
import io
import keyword
import math
import random
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_steps import random_graphs

from engine import OPERATORS, OPS, Graph, GraphError, NoOutputError, PortNotConnectedError, Value
from engine.core.graph import check_name
from engine.core.ops import SCALAR_OPS
from engine.io.export import identifier, to_python, to_pytorch
from tests.oracles import examples, require

REPO = Path(__file__).resolve().parents[1]
HOSTILE = '"); import os; os.system("x'

DRIVER = """
import runpy, sys
for path in sys.argv[1:]:
    print("=== " + path, flush=True)
    try:
        runpy.run_path(path, run_name="__main__")
    except Exception as exc:
        print("!!! " + type(exc).__name__ + ": " + str(exc))
    sys.stdout.flush()
"""


def run_scripts(tmp_path, scripts, timeout=300):
    """Run every script in one fresh interpreter (cwd = the repo); return each one's stdout."""
    paths = []
    for k, code in enumerate(scripts):
        p = tmp_path / f"script_{k}.py"
        p.write_text(code, encoding="utf-8")
        paths.append(str(p))
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, *paths],
        cwd=REPO,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
    )
    assert proc.returncode == 0, proc.stderr
    chunks = proc.stdout.split("=== ")[1:]
    assert len(chunks) == len(scripts), proc.stdout + proc.stderr
    return [c.split("\n", 1)[1] for c in chunks]


def parse_output(text):
    """(output value, {label: grad}) from a script's printout."""
    assert "!!!" not in text, text
    out, grads = None, {}
    for line in text.splitlines():
        left, _, right = line.rpartition(" = ")
        value = None if right == "None" else float(right)
        if left == "output":
            out = value
        else:
            assert left.endswith(".grad"), line
            grads[left[: -len(".grad")]] = value
    return out, grads


def close(x, y, rel=1e-9):
    if x is None or y is None:
        return x is y
    if math.isfinite(x) and math.isfinite(y):
        return math.isclose(x, y, rel_tol=rel, abs_tol=rel)
    return x == y or (x != x and y != y)


def check_printout(g, text, rel=1e-9, loose_nonfinite=False):
    out_value, grads = parse_output(text)
    out = g.output_node()
    assert close(out_value, g.value(out), rel)
    numbers = [n for n in g.nodes() if g.op(n) == "number"]
    named = [n for n in numbers if g.name(n)]
    if named:
        assert list(grads) == [g.name(n) for n in named]
        pairs = [(grads[g.name(n)], g.grad(n)) for n in named]
    else:  # unnamed numbers are printed under their generated names, in node order
        assert len(grads) == len(numbers)
        pairs = list(zip(grads.values(), (g.grad(n) for n in numbers)))
    for got, want in pairs:
        if want is None and got == 0:
            continue  # no path to the output: PyTorch prints None, engine.Value its starting grad, 0
        if loose_nonfinite and want is not None and not math.isfinite(want):
            # relu/abs backward in torch masks (0 where the input is <= 0) where the op table
            # multiplies by 0, so inf * 0 is NaN here and 0 there: nothing to compare.
            assert got is not None
        else:
            assert close(got, want, rel), (got, want)


# ------------------------------------------------------------------ graphs to export


def seed_graph():
    a = Value(3.0, name="a")
    return ((a * 4 + 3) * (a + 2)).graph()


def micrograd_sanity():
    # micrograd's test_sanity_check, with x.relu() and y * x spelt out.
    x = Value(-4.0, name="x")
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    return y.graph()


def micrograd_more_ops():
    a = Value(-4.0, name="a")
    b = Value(2.0, name="b")
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return g.graph()


def neuron():
    x1, x2 = Value(2.0, name="x1"), Value(0.0, name="x2")
    w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
    b = Value(6.8813735870195432, name="b")
    return (x1 * w1 + x2 * w2 + b).tanh().graph()


def every_op():
    x = Value(0.7, name="x")
    y = Value(1.3, name="y")
    parts = [x + y, x - y, x * y, x / y, x**y, -x]
    # and every op spelled as a Value method, from the table
    parts += [getattr(x * y, op.method)() for op in SCALAR_OPS.values() if op.method and op.arity == 1]
    parts += [getattr(x, op.method)(y) for op in SCALAR_OPS.values() if op.method and op.arity == 2]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total.graph()


def hostile_names():
    g = Graph()
    a = g.add_number(1.5, name=HOSTILE)
    b = g.add_number(-2.0, name="lambda")
    c = g.add_number(0.25, name="__import__")
    d = g.add_number(3.0, name="print")
    e = g.add_number(0.5, name="π r²")
    f = g.add_number(2.0, name="a'b\"c\\")
    m1, m2, m3, m4 = (
        g.add_op(o, name=nm) for o, nm in [("mul", "x.y"), ("add", "1st"), ("exp", ""), ("div", "Value")]
    )
    g.connect(a, m1, 0)
    g.connect(b, m1, 1)
    g.connect(m1, m2, 0)
    g.connect(c, m2, 1)
    g.connect(m2, m3, 0)
    g.connect(m3, m4, 0)
    g.connect(d, m4, 1)
    s = g.add_op("add")
    g.connect(m4, s, 0)
    t = g.add_op("mul")
    g.connect(e, t, 0)
    g.connect(f, t, 1)
    g.connect(t, s, 1)
    g.set_output(s)
    return g


def clashing_names():
    # A user name equal to a generated one, and names that sanitize to the same identifier.
    g = Graph()
    a = g.add_number(2.0, name="mul4")
    b = g.add_number(3.0, name="a b")
    c = g.add_number(5.0, name="a_b")
    m = g.add_op("mul")
    assert m == 4
    g.connect(a, m, 0)
    g.connect(b, m, 1)
    s = g.add_op("sub")
    g.connect(m, s, 0)
    g.connect(c, s, 1)
    return g


def unnamed_only():
    g = Graph()
    a = g.add_number(2.0)
    b = g.add_number(-1.0)
    m = g.add_op("pow")
    g.connect(a, m, 0)
    g.connect(b, m, 1)
    return g


def with_dead_parts():
    # An unconnected op (undefined), an unused named number, a branch off the output.
    g = seed_graph()
    g.add_op("neg")
    g.add_number(9.0, name="unused")
    side = g.add_op("sin")
    g.connect("a", side, 0)
    return g


def single_number():
    g = Graph()
    g.add_number(4.0, name="only")
    return g


FIXED = [
    seed_graph,
    micrograd_sanity,
    micrograd_more_ops,
    neuron,
    every_op,
    hostile_names,
    clashing_names,
    unnamed_only,
    with_dead_parts,
    single_number,
]


def seeded_random_graph(rng: random.Random, ops=tuple(SCALAR_OPS)):
    g = Graph()
    ids = [g.add_number(rng.uniform(-2.5, 2.5), name=f"x{k}") for k in range(rng.randint(1, 4))]
    for _ in range(rng.randint(1, 12)):
        name = rng.choice(ops)
        m = g.add_op(name)
        for port in range(OPS[name].arity):
            g.connect(rng.choice(ids[-3:] if rng.random() < 0.6 else ids), m, port)
        ids.append(m)
    g.set_output(ids[-1])
    return g


# ------------------------------------------------------------------ running the Value export


def test_value_export_runs_and_prints_the_graphs_gradients(tmp_path):
    rng = random.Random(20261126)
    graphs = [make() for make in FIXED] + [seeded_random_graph(rng) for _ in range(40)]
    outputs = run_scripts(tmp_path, [to_python(g) for g in graphs])
    for g, text in zip(graphs, outputs):
        check_printout(g, text)


def test_seed_script_by_itself(tmp_path):
    p = tmp_path / "seed.py"
    p.write_text(to_python(seed_graph()), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(p)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "output = 75.0\na.grad = 35.0\n"


def test_hostile_name_is_only_a_label(tmp_path):
    g = hostile_names()
    code = to_python(g)
    (text,) = run_scripts(tmp_path, [code])
    check_printout(g, text)
    assert f"{HOSTILE}.grad = " in text
    assert "import os" not in code_outside_strings(code)


# ------------------------------------------------------------------ PyTorch


def test_pytorch_export_matches(tmp_path):
    require("torch")
    rng = random.Random(7)
    graphs = [make() for make in FIXED] + [seeded_random_graph(rng) for _ in range(25)]
    outputs = run_scripts(tmp_path, [to_pytorch(g) for g in graphs], timeout=600)
    for g, text in zip(graphs, outputs):
        # torch's kernels round differently, and differ from the table where grads are NaN/inf.
        check_printout(g, text, rel=1e-7, loose_nonfinite=True)


def test_pytorch_spelling():
    code = to_pytorch(every_op())
    spellings = [op.torch for op in SCALAR_OPS.values() if op.torch]
    assert {"torch.exp", "torch.relu", "torch.sigmoid"} <= set(spellings)
    for torch_call in spellings:
        assert f"{torch_call}(" in code
    assert "requires_grad=True" in code and "dtype=torch.float64" in code
    assert ".grad.item()" in code


# ------------------------------------------------------------------ nothing user-made is code


def code_outside_strings(code):
    toks = tokenize.generate_tokens(io.StringIO(code).readline)
    return " ".join(t.string for t in toks if t.type not in (tokenize.STRING, tokenize.COMMENT))


ALLOWED_ATTRS = {"backward", "grad", "data", "item", "float64"}
# the rows' spellings: x.exp(), torch.nn.functional.softplus(...)
ALLOWED_ATTRS |= {op.method for op in OPERATORS.values()}
ALLOWED_ATTRS |= {part for op in OPERATORS.values() for part in op.torch.split(".")}


def check_code_is_safe(code, g, torch_flavour):
    """Every identifier is generated, every literal a float or a label made from a name."""
    tree = ast.parse(code)
    names = {g.name(n) for n in g.nodes() if g.name(n)}
    labels = {"output ="} | {f"{name}.grad =" for name in names}
    if not torch_flavour:
        labels |= names  # Value(..., name='...')
    labels |= {f"{v}.grad =" for v in _names(tree)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            assert type(node.value) in (float, str) or node.value is None or node.value is True, node.value
            if isinstance(node.value, str):
                assert node.value in labels, node.value
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            assert ast.unparse(node) in ("import torch", "from engine import Value")
        elif isinstance(node, ast.Name):
            assert node.id.isascii() and node.id.isidentifier() and not keyword.iskeyword(node.id)
            assert not node.id.startswith("_")
        elif isinstance(node, ast.Attribute):
            assert node.attr in ALLOWED_ATTRS | {"tensor", "torch"}, node.attr
        elif isinstance(node, ast.keyword):
            assert node.arg in ({"dtype", "requires_grad"} if torch_flavour else {"name"})
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name):
                assert f.id in ("print", "Value")
        assert not isinstance(node, (ast.Subscript, ast.Lambda, ast.FunctionDef, ast.JoinedStr))


def _names(tree):
    return {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets}


printable_names = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp")), min_size=1, max_size=20
).filter(lambda s: _valid_name(s))


def _valid_name(s):
    try:
        return check_name(s) is not None
    except Exception:
        return False


FIXED_WORDS = {"Value", "torch", "print", "import", "from", "engine", "None", "if", "else", "is", "True"}
FIXED_WORDS |= ALLOWED_ATTRS | {"tensor", "dtype", "requires_grad", "name"}


@settings(max_examples=examples(80))
@given(random_graphs(unconnected=True), st.lists(printable_names, min_size=1, max_size=20))
def test_generated_code_never_contains_user_code(g, names):
    for n, name in zip(g.nodes(), names):
        try:
            g.set_name(n, name)
        except GraphError:
            pass  # taken already: this node keeps its generated name
    if not g.tape().defined[g.tape().index[g.output_node()]]:
        with pytest.raises(PortNotConnectedError):
            to_python(g)
        return
    for code, torch_flavour in ((to_python(g), False), (to_pytorch(g), True)):
        check_code_is_safe(code, g, torch_flavour)
        compile(code, "<export>", "exec")  # syntactically valid; not run here
        # Token by token, outside string literals there are only fixed words and variables.
        variables = _names(ast.parse(code))
        toks = tokenize.generate_tokens(io.StringIO(code).readline)
        for t in toks:
            if t.type == tokenize.NAME:
                assert t.string in FIXED_WORDS or t.string in variables, t.string


@pytest.mark.parametrize(
    "text, ident",
    [
        ("a", "a"),
        ("learning rate", "learning_rate"),
        ("2x", "v2x"),
        ("class", "class_"),
        ("__import__", "import_"),
        ("print", "print_"),
        ("Value", "Value_"),
        ("torch", "torch_"),
        ("π", "v"),
        ("x.grad", "x_grad"),
        (HOSTILE, "import_os_os_system_x"),
        ("___", "v"),
    ],
)
def test_identifier(text, ident):
    assert identifier(text) == ident


def test_unique_variables_for_clashing_names():
    code = to_python(clashing_names())
    targets = [line.split(" = ", 1)[0] for line in code.splitlines() if " = " in line and "print" not in line]
    assert len(targets) == len(set(targets)) == 5
    assert "mul4" in targets and "mul4_2" in targets and "a_b" in targets and "a_b_2" in targets


def test_export_errors():
    with pytest.raises(NoOutputError):
        to_python(Graph())
    with pytest.raises(NoOutputError):
        to_pytorch(Graph())
    a = Value(1.0, name="a")
    g = (a.exp() + 1).graph()
    g.disconnect(g.output_node(), 1)
    with pytest.raises(PortNotConnectedError, match="not connected"):
        to_pytorch(g)


def test_export_relative_to_another_output(tmp_path):
    g = seed_graph()
    inner = g.inputs(g.output_node())[1]  # a + 2
    (text,) = run_scripts(tmp_path, [to_python(g, output=inner)])
    out, grads = parse_output(text)
    assert out == 5.0 and grads == {"a": 1.0}
