"""The gradcanvas command line: exit codes, output formats, one-line errors, no Qt when headless."""

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from engine import Graph, Value
from engine.io.document import load, save
from gui import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "resources" / "examples"
FANOUT = str(EXAMPLES / "seed_fanout.json")


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def strict_json(text):
    """json.loads that refuses NaN/Infinity, as strict JSON readers do."""
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


def assert_one_line_error(err):
    assert err.startswith("gradcanvas: error: ") and err.endswith("\n")
    assert err.count("\n") == 1, err


def by_name(data):
    return {n["name"]: n for n in data["nodes"]}


@pytest.fixture
def doc(tmp_path):
    """Save a graph in tmp_path and return its path as text."""

    def make(graph, name="doc.json"):
        p = tmp_path / name
        save(graph, p)
        return str(p)

    return make


# ---------------------------------------------------------------------------- eval


def test_eval_prints_a_table(capsys):
    code, out, err = run(capsys, "eval", FANOUT)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["id", "name", "op", "value", "grad"]
    a = next(line.split() for line in lines if line.split()[1:2] == ["a"])
    assert a == ["1", "a", "number", "3", "35"]
    e = next(line.split() for line in lines if line.split()[1:2] == ["e"])
    assert e == ["8", "e", "mul", "75", "1", "output"]


def test_eval_json_is_exactly_the_documented_shape(capsys):
    code, out, err = run(capsys, "eval", FANOUT, "--json")
    assert code == 0 and err == ""
    data = strict_json(out)
    assert set(data) == {"output", "nodes"} and data["output"] == 8
    for n in data["nodes"]:
        assert list(n) == ["id", "name", "op", "value", "grad"]
    nodes = by_name(data)
    assert nodes["a"] == {"id": 1, "name": "a", "op": "number", "value": 3.0, "grad": 35.0}
    assert nodes["e"]["value"] == 75.0 and nodes["e"]["grad"] == 1.0
    assert len(data["nodes"]) == 8
    ids = [n["id"] for n in data["nodes"]]
    assert ids.index(1) < ids.index(3) < ids.index(5) < ids.index(8)  # inputs first


def test_eval_output_by_name_or_id(capsys):
    for ref in ("b", "3"):
        code, out, _ = run(capsys, "eval", FANOUT, "--json", "--output", ref)
        data = strict_json(out)
        assert code == 0 and data["output"] == 3
        nodes = by_name(data)
        assert nodes["a"]["grad"] == 4.0 and nodes["e"]["grad"] is None and nodes["d"]["grad"] is None


def test_eval_non_finite_values_are_strings_in_json(capsys, doc):
    x = Value(-1.0, name="x")
    y = x.sqrt()
    y.name = "y"
    z = x * 0.0
    z.name = "z"
    w = y + z
    w.name = "w"
    code, out, err = run(capsys, "eval", doc(w.graph()), "--json")
    assert code == 0
    nodes = by_name(strict_json(out))
    assert nodes["y"]["value"] == "nan" and nodes["w"]["value"] == "nan"
    assert nodes["x"]["grad"] == "nan"
    assert "gradcanvas: warning: y: NaN" in err
    big = Value(1e308, name="big")
    code, out, _ = run(capsys, "eval", doc((big * 10).graph(), "inf.json"), "--json")
    assert code == 0 and [n["value"] for n in strict_json(out)["nodes"]][-1] == "inf"


def test_eval_with_an_unconnected_input_reports_it_and_succeeds(capsys, doc):
    g = Graph()
    a = g.add_number(2.0, name="a")
    m = g.add_op("mul", name="m")
    g.connect(a, m, 0)
    path = doc(g)
    code, out, err = run(capsys, "eval", path, "--json")
    assert code == 0
    nodes = by_name(strict_json(out))
    assert nodes["m"]["value"] is None and nodes["m"]["grad"] is None and nodes["a"]["grad"] is None
    assert nodes["a"]["value"] == 2.0
    assert err == "gradcanvas: warning: m: input 'b' is not connected\n"
    code, out, err = run(capsys, "eval", path)
    assert code == 0 and err == ""
    m_row = next(line for line in out.splitlines() if " m " in line)
    assert "—" in m_row and m_row.endswith("output; input 'b' is not connected")


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda tmp: str(tmp / "missing.json"), "No such file"),
        (lambda tmp: str(tmp), "directory"),
        (lambda tmp: _write(tmp / "bad.json", "{not json"), "not valid JSON"),
        (
            lambda tmp: _write(tmp / "v4.json", '{"format": "gradcanvas", "version": 4, "nodes": []}'),
            "version 4",
        ),
        (
            lambda tmp: _write(tmp / "empty.json", '{"format": "gradcanvas", "version": 1, "nodes": []}'),
            "empty",
        ),
    ],
    ids=["missing", "directory", "not json", "newer version", "empty graph"],
)
@pytest.mark.parametrize("command", ["eval", "check"])
def test_bad_input_is_one_line_on_stderr_and_exit_2(capsys, tmp_path, make, words, command):
    code, out, err = run(capsys, command, make(tmp_path))
    assert code == 2 and out == ""
    assert_one_line_error(err)
    assert words in err


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("command", ["eval", "check"])
def test_several_sinks_need_no_output_set(capsys, tmp_path, command):
    """Two unconnected numbers: each is a sink with no ancestors, a tie the higher id wins
    (DESIGN §7), so eval and check work on q without an output in the file."""
    code, out, err = run(capsys, command, _two_sinks(tmp_path))
    assert code == 0 and err == ""
    if command == "check":
        assert out.splitlines()[0] == "gradients of q (id 2)"
    else:
        q_row = next(line for line in out.splitlines() if " q " in line)
        assert q_row.split()[-1] == "output"


def _two_sinks(tmp):
    g = Graph()
    g.add_number(1.0, name="p")
    g.add_number(2.0, name="q")
    p = tmp / "two.json"
    save(g, p)
    return str(p)


def test_unknown_output_node_is_exit_2(capsys):
    code, out, err = run(capsys, "eval", FANOUT, "--output", "nosuch")
    assert code == 2 and out == ""
    assert_one_line_error(err)
    assert "nosuch" in err


def test_usage_errors_are_one_line_and_exit_2(capsys):
    for argv in (
        ["eval"],
        ["eval", FANOUT, "--frobnicate"],
        ["render", FANOUT],
        ["check"],
        ["expr"],
        ["a", "b"],
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "", argv
        assert_one_line_error(err)


# ---------------------------------------------------------------------------- expr


needs_parse = pytest.mark.skipif(
    importlib.util.find_spec("engine.io.parse") is None, reason="no engine.io.parse yet"
)


@needs_parse
def test_expr_evaluates_a_program(capsys):
    code, out, err = run(capsys, "expr", "(a*4+3)*(a+2)", "a=3", "--json")
    assert code == 0 and err == ""
    assert by_name(strict_json(out))["a"]["grad"] == 35.0
    code, out, err = run(capsys, "expr", "c = a + b\nd = a*b + b**3\nc += c + 1\nc - d", "a=-4", "b=2")
    assert code == 0 and err == ""
    assert "output" in out


@needs_parse
def test_expr_accepts_a_variable_called_source(capsys):
    code, out, _ = run(capsys, "expr", "source * 2", "source=4", "--json")
    assert code == 0 and by_name(strict_json(out))["source"]["grad"] == 2.0


@pytest.mark.parametrize(
    "bindings, words",
    [
        (["a"], "expected NAME=VALUE"),
        (["=3"], "expected NAME=VALUE"),
        (["1a=3"], "expected NAME=VALUE"),
        (["a=three"], "must be a number"),
        (["a=nan"], "must be finite"),
        (["a=1e999"], "must be finite"),
        (["a=1", "a=2"], "given twice"),
    ],
)
@needs_parse
def test_expr_bad_bindings_are_exit_2(capsys, bindings, words):
    code, out, err = run(capsys, "expr", "a*2", *bindings)
    assert code == 2 and out == ""
    assert_one_line_error(err)
    assert words in err


@needs_parse
def test_expr_parse_errors_and_missing_values_are_exit_2(capsys):
    for program, bindings in [("a +", ["a=1"]), ("__import__('os')", []), ("a * b", ["a=1"]), ("", [])]:
        code, out, err = run(capsys, "expr", program, *bindings)
        assert code == 2 and out == "", program
        assert_one_line_error(err)


@needs_parse
def test_expr_save_writes_a_loadable_document(capsys, tmp_path):
    p = tmp_path / "saved.json"
    code, out, err = run(capsys, "expr", "(a*4+3)*(a+2)", "a=3", "--save", str(p))
    assert code == 0 and err == ""
    g = load(p)
    assert g.grad("a") == 35.0 and g.value(g.output_node()) == 75.0


@needs_parse
def test_expr_save_into_a_missing_directory_is_exit_2(capsys, tmp_path):
    code, out, err = run(capsys, "expr", "a*2", "a=1", "--save", str(tmp_path / "no" / "x.json"))
    assert code == 2
    assert_one_line_error(err)
    assert "cannot save" in err


# ---------------------------------------------------------------------------- check


def test_check_passes_on_a_correct_graph(capsys):
    code, out, err = run(capsys, "check", FANOUT)
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "gradients of e (id 8)"
    assert out.splitlines()[-1] == "4 checked: 4 ok, 0 mismatched, 0 skipped"
    a = next(line.split() for line in out.splitlines() if line.startswith("a "))
    assert a == ["a", "number", "35", "35", "ok"]


def test_check_exits_1_on_a_mismatch(capsys, doc):
    path = doc(Value(0.0, name="x").relu().graph())
    code, out, err = run(capsys, "check", path)
    assert code == 1 and err == ""
    assert "MISMATCH: kink" in out and "1 mismatched" in out


def _cross_entropy(doc, target):
    """loss = cross_entropy(z, t) for 2 rows of 3-class logits, target row 1 = ``target``."""
    import numpy as np

    g = Graph()
    z = g.add_number(np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]), name="z")
    t = g.add_number(np.array([0, target]), name="t")
    loss = g.add_op("cross_entropy", name="loss")
    g.connect(z, loss, 0)
    g.connect(t, loss, 1)
    return doc(g)


def test_check_names_a_class_target_out_of_range_and_fails(capsys, doc):
    """Issue 13 point 11: both inputs are wired, so "unconnected input" was a wrong diagnosis,
    and 0 nodes checked is not a pass."""
    code, out, err = run(capsys, "check", _cross_entropy(doc, 7))
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[1] == ("the output loss has no value: cross_entropy: target 1 is class 7, "
                        "outside 0..2 (the logits have 3 classes)")
    assert "unconnected" not in out and lines[-1] == "0 checked: 0 ok, 0 mismatched, 2 skipped"
    code, out, _ = run(capsys, "check", _cross_entropy(doc, 2))  # in range: z checked, t has no gradient
    assert code == 0 and out.splitlines()[-1] == "1 checked: 1 ok, 0 mismatched, 1 skipped"


def test_eval_names_the_out_of_range_target_on_the_node(capsys, doc):
    code, out, err = run(capsys, "eval", _cross_entropy(doc, 7))
    assert code == 0 and err == ""
    row = next(line for line in out.splitlines() if " loss " in line)
    assert row.endswith("output; cross_entropy: target 1 is class 7, outside 0..2 "
                        "(the logits have 3 classes)")


def test_check_output_option(capsys):
    code, out, _ = run(capsys, "check", FANOUT, "--output", "b")
    assert code == 0 and out.splitlines()[0] == "gradients of b (id 3)"
    code, _, err = run(capsys, "check", FANOUT, "--output", "99")
    assert code == 2 and "no node named '99'" in err


# ---------------------------------------------------------------------------- version, app, render


def test_version_and_help(capsys):
    code, out, err = run(capsys, "--version")
    assert code == 0 and out == "gradcanvas 0.1.0\n" and err == ""
    code, out, err = run(capsys, "--help")
    assert code == 0 and "usage: gradcanvas" in out
    code, out, _ = run(capsys, "eval", "--help")
    assert code == 0 and "--output NODE" in out


def test_app_delegates_to_gui_app(capsys, monkeypatch):
    calls = []
    fake = types.ModuleType("gui.shell.app")
    fake.run = lambda path, document=None: calls.append(path) or 0
    monkeypatch.setitem(sys.modules, "gui.shell.app", fake)
    assert cli.main([]) == 0
    assert cli.main([FANOUT]) == 0
    assert calls == [None, FANOUT]


def test_app_without_a_gui_says_so(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "gui.shell.app", None)  # the import fails as if the module were absent
    code, out, err = run(capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err)
    assert "the GUI arrives in a later release" in err


def test_app_refuses_a_bad_file_before_starting_the_gui(capsys, monkeypatch, tmp_path):
    fake = types.ModuleType("gui.shell.app")
    fake.run = lambda path: pytest.fail("the GUI must not start")
    monkeypatch.setitem(sys.modules, "gui.shell.app", fake)
    code, _, err = run(capsys, str(tmp_path / "missing.json"))
    assert code == 2 and "No such file" in err


def test_render_delegates_to_gui_render(capsys, monkeypatch, tmp_path):
    calls = []
    fake = types.ModuleType("gui.canvas.render")
    fake.render_graph = lambda graph, out: calls.append((graph.value(graph.output_node()), out))
    monkeypatch.setitem(sys.modules, "gui.canvas.render", fake)
    out_png = str(tmp_path / "x.png")
    assert cli.main(["render", FANOUT, "-o", out_png]) == 0
    assert calls == [(75, out_png)]  # e = (3*4 + 3) * (3 + 2), the document loaded once


def test_render_bad_input_is_exit_2_without_qt(capsys, tmp_path):
    code, _, err = run(capsys, "render", FANOUT, "-o", str(tmp_path / "x.gif"))
    assert code == 2 and ".png or .svg" in err
    code, _, err = run(capsys, "render", str(tmp_path / "none.json"), "-o", str(tmp_path / "x.png"))
    assert code == 2 and "No such file" in err


# ---------------------------------------------------------------------------- no Qt when headless

HEADLESS = {
    "eval": ["eval", FANOUT],
    "eval --json": ["eval", FANOUT, "--json"],
    "check": ["check", FANOUT],
    "expr": ["expr", "(a*4+3)*(a+2)", "a=3", "--json"],
    "version": ["--version"],
    "bad input": ["eval", "/nonexistent/x.json"],
    "render refusal": ["render", FANOUT, "-o", "x.gif"],
    "animate refusal": ["animate", FANOUT, "-o", "x.avi"],
    "animate over budget": ["animate", FANOUT, "-o", "x.gif", "--size", "3840x2160", "--fps", "99"],
}


@pytest.mark.parametrize("argv", HEADLESS.values(), ids=HEADLESS.keys())
def test_headless_commands_never_import_qt(argv):
    script = (
        "import sys; from gui.cli import main; code = main(sys.argv[1:]); "
        "assert 'PySide6' not in sys.modules, sorted(m for m in sys.modules if 'PySide6' in m)[:3]; "
        "print('exit', code)"
    )
    r = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert "AssertionError" not in r.stderr, r.stderr
    assert r.returncode == 0 and r.stdout.splitlines()[-1].startswith("exit ")


def test_the_console_script_exits_with_main_status(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "gui.cli", "eval", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("gradcanvas: error: ") and r.stderr.count("\n") == 1


@needs_parse
def test_expr_program_may_start_with_a_minus_sign(capsys):
    code, out, err = run(capsys, "expr", "-a*2", "a=3", "--json")
    assert code == 0 and err == ""
    assert by_name(strict_json(out))["a"]["grad"] == -2.0


def test_gui_package_loads_qt_only_on_demand():
    import gui

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gui.nope  # noqa: B018
    assert {"MainWindow", "show"} <= set(dir(gui))
    script = "import sys, gui, gui.cli; assert 'PySide6' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=120).returncode == 0


def test_expr_open_hands_the_parsed_graph_to_the_app(monkeypatch, capsys):
    import gui.shell.app
    from gui.cli import main

    seen = {}

    def fake_run(path=None, argv=None, document=None):
        seen["path"], seen["document"] = path, document
        return 0

    monkeypatch.setattr(gui.shell.app, "run", fake_run)
    assert main(["expr", "a*a", "a=3", "--open"]) == 0
    g = seen["document"]
    assert seen["path"] is None and g.grad("a") == 6.0
    assert "a" in capsys.readouterr().out
