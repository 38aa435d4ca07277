"""Arrays in and out: the parser's list literals, @, .T, parameters and array makers; the CLI's
array bindings and JSON; documents version 2; and the hostile inputs issue 10 lists, each a
ParseError, DocumentError or marked problem with a clear message."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_cli import assert_one_line_error, by_name, run, strict_json

from engine import DocumentError, Graph, ParseError
from engine.io.document import dumps, from_dict, loads, to_dict
from gui import cli

# ---------------------------------------------------------------------------- parser


def test_list_literals_matmul_transpose_and_reductions():
    g = Graph.from_expression(
        "y = [[1, 2], [3, 4]] @ x; z = y.T; s = sum(z, axis=0); mean(s)", x=[[1, 0], [0, -1]]
    )
    assert g.value("y").tolist() == [[1.0, -2.0], [3.0, -4.0]]
    assert g.op("z") == "transpose" and g.params("s") == {"axis": 0, "keepdims": False}
    assert g.value(g.output) == pytest.approx(-1.0)
    assert g.grad("x").tolist() == [[2.0, 2.0], [3.0, 3.0]]


def test_softmax_cross_entropy_and_makers():
    g = Graph.from_expression(
        "W = randn(2, 3, seed=0)\nz = ones(4, 2) @ W + zeros(3)\np = softmax(z, axis=1)\n"
        "L = cross_entropy(z, y)\nL.backward()",
        y=np.array([0, 1, 2, 0]),
    )
    assert g.output == g.resolve("L") and g.shape("W") == (2, 3)
    np.testing.assert_array_equal(g.number("W"), np.random.default_rng(0).standard_normal((2, 3)))
    p = g.value("p")
    np.testing.assert_allclose(g.grad("z"), (p - np.eye(3)[[0, 1, 2, 0]]) / 4, rtol=1e-12)
    assert g.number("y").dtype == np.int64


def test_methods_keywords_and_reshape_sizes():
    g = Graph.from_expression(
        "a = x.reshape(3, 2); b = reshape(x, [6]); c = x.sum(axis=1, keepdims=True); "
        "d = logsumexp(x, axis=None); a.mean() + sum(b) + sum(c) + d",
        x=np.ones((2, 3)),
    )
    assert g.params("a") == {"shape": [3, 2]} and g.params("b") == {"shape": [6]}
    assert g.shape("c") == (2, 1) and g.shape("d") == ()
    assert g.problems() == {}


def test_from_expression_takes_numpy_arrays_and_nested_lists_alike():
    a = Graph.from_expression("sum(W * W)", W=np.array([[1.0, 2.0], [3.0, 4.0]]))
    b = Graph.from_expression("sum(W * W)", W=[[1, 2], [3, 4]])
    assert a.value(a.output) == b.value(b.output) == 30.0


@pytest.mark.parametrize(
    "src, values, words",
    [
        ("[[1, 2], [3]]", {}, "ragged"),
        ("[[1, 2], 3]", {}, "ragged"),
        ("[]", {}, "empty"),
        ("[a, 1]", {"a": 1.0}, "number literals only"),
        ("[[[[[1]]]]]", {}, "nested at most 4"),
        ("zeros(100000, 10000)", {}, "1,000,000,000 elements"),
        ("zeros(1000, 1000, 1000, 1000)", {}, "elements"),
        ("ones(0)", {}, "at least 1"),
        ("ones(2.5)", {}, "whole-number sizes"),
        ("randn(3)", {}, "needs a seed"),
        ("randn(3, seed=-1)", {}, "non-negative"),
        ("zeros(2, seed=1)", {}, "no keyword"),
        ("sum(x, axis='a')", {"x": 1.0}, "parameter"),
        ("sum(x, dim=0)", {"x": 1.0}, "axis="),
        ("exp(x, axis=0)", {"x": 1.0}, "keyword arguments are not allowed"),
        ("reshape(x, -1, -1)", {"x": 1.0}, "at most one may be -1"),
        ("x.foo", {"x": 1.0}, "attribute"),
        ("[1e400]", {}, "finite"),
    ],
)
def test_parser_refusals_are_parse_errors(src, values, words):
    with pytest.raises(ParseError, match=words):
        Graph.from_expression(src, **values)


@pytest.mark.parametrize(
    "value, words",
    [
        (np.array([1.0, np.inf]), "finite"),
        ([[1, 2], [3]], "ragged"),
        (np.ones(2_000_000), "elements"),
        (np.array([1 + 2j]), "real numbers"),
    ],
)
def test_bad_array_values_are_parse_errors(value, words):
    with pytest.raises(ParseError, match=words):
        Graph.from_expression("sum(x)", x=value)


def test_a_huge_maker_is_refused_fast_without_allocating():
    import time

    start = time.process_time()
    with pytest.raises(ParseError):
        Graph.from_expression("zeros(1000000000)")
    assert time.process_time() - start < 5  # generous: it must not try to allocate 8 GB


# ---------------------------------------------------------------------------- CLI


def test_cli_expr_with_array_bindings_prints_nested_lists(capsys):
    code, out, err = run(
        capsys, "expr", "y = x @ W; sum(y)", "x=[[1, 2], [3, 4]]", "W=[[1, 0], [0, 1]]", "--json"
    )
    assert code == 0, err
    nodes = by_name(strict_json(out))
    assert nodes["W"]["value"] == [[1.0, 0.0], [0.0, 1.0]]
    assert nodes["W"]["grad"] == [[4.0, 4.0], [6.0, 6.0]]
    assert nodes["y"]["value"] == [[1.0, 2.0], [3.0, 4.0]]


def test_cli_json_nan_in_arrays_as_strings(capsys):
    code, out, err = run(capsys, "expr", "log(x)", "x=[1, -1, 0]", "--json")
    data = strict_json(out)
    out_node = [n for n in data["nodes"] if n["id"] == data["output"]][0]
    assert out_node["value"] == [0.0, "nan", "-inf"]
    assert "ones" in err  # the array output's seed is announced


def test_cli_table_summarises_arrays_and_notes_the_seed(capsys):
    code, out, err = run(capsys, "expr", "x * 2", "x=[1, 2, 3]")
    assert code == 0 and "3 [2, 4, 6]" in out and "note:" in out


@pytest.mark.parametrize(
    "binding, words",
    [
        ("x=[[1, 2], [3]]", "ragged"),
        ("x=[NaN]", "NaN"),
        ("x=[1, 'a']", "list of numbers"),
        ("x=[[[[[1]]]]]", "4"),
        ("x=[1e999]", "finite|too large"),
        ("x=" + "[" * 100000, "deep"),
    ],
)
def test_cli_bad_array_bindings_are_one_line_errors(capsys, binding, words):
    code, out, err = run(capsys, "expr", "sum(x)", binding)
    assert code == 2 and out == ""
    assert_one_line_error(err)
    assert any(w in err for w in words.split("|")), err


def test_cli_eval_of_a_tensor_document(capsys, tmp_path):
    from resources import EXAMPLES

    code, out, err = run(capsys, "eval", str(EXAMPLES / "broadcast_bias.json"), "--json")
    assert code == 0
    assert by_name(json.loads(out))["b"]["grad"] == [2.0, 2.0, 2.0]
    code, out, err = run(capsys, "check", str(EXAMPLES / "xor_mlp.json"))
    assert code == 0, out + err


# ---------------------------------------------------------------------------- documents


def test_version_two_round_trip_keeps_arrays_ints_and_params(tmp_path):
    g = Graph.from_expression(
        "s = sum(x @ W, axis=1, keepdims=True); cross_entropy(x @ W, t) + sum(s)",
        x=np.ones((2, 3)),
        W=np.arange(6.0).reshape(3, 2),
        t=np.array([1, 0]),
    )
    p = tmp_path / "t.json"
    g.save(p)
    raw = json.loads(p.read_text())
    assert raw["version"] == 2
    w = [n for n in raw["nodes"] if n["name"] == "W"][0]
    assert w["value"] == {"shape": [3, 2], "data": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}
    t = [n for n in raw["nodes"] if n["name"] == "t"][0]
    assert t["value"]["dtype"] == "int"
    h = Graph.load(p)
    assert h.params("s") == {"axis": 1, "keepdims": True}
    assert h.value(h.output) == g.value(g.output) and h.number("t").dtype == np.int64
    np.testing.assert_array_equal(h.grad("W"), g.grad("W"))


def test_a_document_without_tensors_is_still_written_as_version_one():
    assert to_dict(Graph.from_expression("a * b", a=1, b=2))["version"] == 1
    assert to_dict(Graph.from_expression("a * b", a=np.ones(2), b=2))["version"] == 2


def test_version_one_files_load_unchanged_and_cannot_hold_arrays():
    from resources import EXAMPLES

    for f in sorted(EXAMPLES.glob("*.json")):
        if f.name != "gallery.json" and json.loads(f.read_text())["version"] == 1:
            Graph.load(f)
    doc = {
        "format": "gradcanvas",
        "version": 1,
        "nodes": [{"id": 1, "op": "number", "value": {"shape": [1], "data": [1]}}],
    }
    with pytest.raises(DocumentError, match="version 2"):
        from_dict(doc)


def _doc(value=None, **op_node):
    nodes = [{"id": 1, "op": "number", "name": "w", "value": value if value is not None else 1.0}]
    if op_node:
        nodes.append({"id": 2, **op_node})
    return {"format": "gradcanvas", "version": 2, "nodes": nodes}


@pytest.mark.parametrize(
    "doc, words",
    [
        (_doc({"shape": [2, 2], "data": [[1, 2], [3]]}), ["node 1 ('w')", "ragged"]),
        (_doc({"shape": [2], "data": [1, 2, 3]}), ["node 1 ('w')", "3 numbers", "needs 2"]),
        (_doc({"shape": [2], "data": [1, "x"]}), ["node 1 ('w')", "must be a number"]),
        (_doc({"shape": [2], "data": [1, 1e999]}), ["node 1 ('w')", "finite"]),
        (_doc({"shape": [1000, 1000, 10], "data": []}), ["node 1 ('w')", "10,000,000 elements"]),
        (_doc({"shape": [2], "data": [1.5, 2], "dtype": "int"}), ["node 1 ('w')", "not whole"]),
        (_doc({"shape": [2], "data": [1, 2], "dtype": "complex"}), ["node 1 ('w')", "dtype"]),
        (_doc({"shape": [1, 1, 1, 1, 1], "data": [1]}), ["node 1 ('w')", "shape"]),
        (_doc({"shape": [0], "data": []}), ["node 1 ('w')", "at least 1"]),
        (_doc({"data": [1]}), ["node 1 ('w')", "shape"]),
        (_doc(op="sum", params={"axis": "a"}), ["node 2", "axis"]),
        (_doc(op="tanh", params={"axis": 0}), ["node 2", "no parameters"]),
        (_doc(op="sum", params={"dim": 0}), ["node 2", "no parameter 'dim'"]),
    ],
)
def test_malformed_version_two_documents_name_the_node(doc, words):
    with pytest.raises(DocumentError) as e:
        from_dict(doc)
    for w in words:
        assert w in str(e.value), str(e.value)


def test_nan_in_a_document_array_is_refused_by_the_json_reader_too():
    text = (
        '{"format": "gradcanvas", "version": 2, "nodes": '
        '[{"id": 1, "op": "number", "value": {"shape": [1], "data": [NaN]}}]}'
    )
    with pytest.raises(DocumentError, match="NaN"):
        loads(text)


def test_saving_an_array_with_nan_names_the_node_and_writes_nothing(tmp_path):
    x = np.array([1.0, -1.0])
    from engine import Value

    g = Value(x, label="x").log().graph()  # values computed fine; the number itself is finite
    g.save(tmp_path / "ok.json")
    h = Graph()
    n = h.add_number(1.0, name="bad")
    h.nx.nodes[n]["value"] = np.array([np.nan])  # as Value.graph() may leave a NaN leaf
    with pytest.raises(DocumentError, match="bad"):
        h.save(tmp_path / "nan.json")
    assert not (tmp_path / "nan.json").exists()


def test_every_tensor_example_saves_and_loads_identically():
    from engine.learn.gallery import TENSOR_BUILDERS as BUILDERS

    for file in ("broadcast_bias.json", "linear_mse.json", "xor_mlp.json"):
        g = BUILDERS[file]()
        assert dumps(loads(dumps(g))) == dumps(g)


def test_a_fragment_with_arrays_is_version_two_and_reads_back():
    from engine.io.document import fragment, read_fragment

    g = Graph.from_expression("sum(x * 2)", x=np.ones(3))
    f = fragment(g, [g.resolve("x"), 3])
    assert f["version"] == 2
    assert read_fragment(f).number("x").tolist() == [1.0, 1.0, 1.0]


def test_cli_module_is_importable_without_qt():
    assert cli.main  # the headless commands never import Qt (see test_cli)
