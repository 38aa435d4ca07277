"""The document format: exact round trips, complete validation, atomic saves."""

import copy
import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import DocumentError, Graph, GraphError, Value
from engine.core import arrays
from engine.core.ops import SCALAR_OPS
from engine.io import document as doc
from engine.io.document import dumps, from_dict, load, loads, save, to_dict
from engine.training import Dataset
from engine.training.datanode import KIND as DATASET_KIND
from tests.oracles import examples

EXAMPLES = Path(__file__).resolve().parent.parent / "resources" / "examples"


def fanout():
    a = Value(3.0, name="a")
    b = a * 4
    b.name = "b"
    e = (b + 3) * (a + 2)
    e.name = "e"
    g = e.graph()
    g.meta.update(title="fan-out", lesson="a is used twice")
    return g


def base_doc():
    """A small valid document: a (1), b (2), mul (3) = a*b, output 3."""
    return {
        "format": "gradcanvas",
        "version": 1,
        "output": 3,
        "nodes": [
            {"id": 1, "op": "number", "name": "a", "value": 3.0, "x": 0.0, "y": 0.0},
            {"id": 2, "op": "number", "name": "b", "value": 4.0, "x": 0.0, "y": 110.0},
            {"id": 3, "op": "mul", "name": "m", "x": 200.0, "y": 55.0},
        ],
        "edges": [{"source": 1, "target": 3, "port": 0}, {"source": 2, "target": 3, "port": 1}],
    }


def dataset_json(params):
    return DATASET_KIND.to_json(params)


def same_values(x, y):
    if isinstance(x, dict) and isinstance(y, dict) and isinstance(x.get("data"), Dataset):
        return dataset_json(x) == dataset_json(y)  # a dataset node's params: what the file says
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):  # array values: same dtype and elements
        return isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.dtype == y.dtype and (
            np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
        )
    return x == y or (x != x and y != y)


# ---------------------------------------------------------------------------- graphs for hypothesis

finite = st.floats(allow_nan=False, allow_infinity=False)
positions = st.floats(-1e6, 1e6, allow_nan=False)
name_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12)


@st.composite
def graphs(draw, max_nodes=10):
    """Random acyclic graphs built through the edit API: some names, explicit ids, loose ports."""
    g = Graph()
    count = draw(st.integers(0, max_nodes))
    for _ in range(count):
        name = draw(st.none() | name_text)
        node_id = draw(st.none() | st.integers(0, 10**6))
        x, y = draw(positions), draw(positions)
        kind = draw(st.sampled_from(["number", "number", *SCALAR_OPS])) if len(g) else "number"
        try:
            if kind == "number":
                n = g.add_number(draw(finite), name=name, x=x, y=y, node_id=node_id)
            else:
                n = g.add_op(kind, name=name, x=x, y=y, node_id=node_id)
        except GraphError:  # a clashing name or id: add it plainly instead
            n = g.add_number(1.0) if kind == "number" else g.add_op(kind)
        existing = [m for m in g.nodes() if m != n]
        for port in range(g.arity(n)):
            if existing and draw(st.booleans() | st.just(True)):
                g.connect(draw(st.sampled_from(existing)), n, port)
    if len(g) and draw(st.booleans()):
        g.set_output(draw(st.sampled_from(g.nodes())))
    if draw(st.booleans()):
        g.meta["title"] = draw(st.text(max_size=30))
    if draw(st.booleans()):
        g.meta["lesson"] = draw(st.text(max_size=100))
    return g


# ---------------------------------------------------------------------------- round trips


def assert_same_document(g, h):
    assert dumps(h) == dumps(g)  # ids, names, values, positions, wires, output, meta, float reprs
    assert h.nodes() == g.nodes()
    assert sorted(h.edges()) == sorted(g.edges())
    assert h.output == g.output
    assert h.meta == {k: v for k, v in g.meta.items() if k in ("title", "lesson", "descend")}
    assert h._next_id == (max(g.nodes()) + 1 if len(g) else 1)
    for n in g.nodes():
        a, b = h.node(n), g.node(n)
        assert a.keys() == b.keys() and all(same_values(a[k], b[k]) for k in a), (a, b)
    gv, hv = g.values(), h.values()
    assert gv.keys() == hv.keys() and all(same_values(gv[n], hv[n]) for n in gv)
    gg, hg = g.grads(), h.grads()
    assert all(same_values(gg[n], hg[n]) for n in gg)


def test_round_trip_through_a_file(tmp_path):
    g = fanout()
    p = tmp_path / "fanout.json"
    save(g, p)
    h = load(p)
    assert_same_document(g, h)
    assert h.grad("a") == 35.0 and h.value("e") == 75.0
    assert h.meta == {"title": "fan-out", "lesson": "a is used twice"}


def test_round_trip_keeps_awkward_values_exactly(tmp_path):
    g = Graph()
    for i, v in enumerate([0.1, -0.0, 5e-324, 1.7976931348623157e308, 1 / 3, -2.5e-17, 123456789012345.67]):
        g.add_number(v, name=f"v{i}", x=v if abs(v) < 1e300 else 0.0, y=-v / 7 if abs(v) < 1e300 else 0.0)
    g.add_number(1.0, name="ünïcødé ✓ 名前", node_id=10**9)
    p = tmp_path / "awkward.json"
    save(g, p)
    h = load(p)
    assert_same_document(g, h)
    assert math.copysign(1.0, h.number("v1")) == -1.0
    assert h.number("v2") == 5e-324
    assert h._next_id == 10**9 + 1


def test_graph_methods_delegate_here(tmp_path):
    g = fanout()
    p = tmp_path / "g.json"
    g.save(p)
    assert_same_document(g, Graph.load(p))
    assert Graph.from_dict(g.to_dict()).grad("a") == 35.0
    assert g.to_dict() == to_dict(g)


def test_op_values_and_gradients_are_not_stored():
    d = to_dict(fanout())
    for n in d["nodes"]:
        assert ("value" in n) == (n["op"] == "number")
        assert "grad" not in n
    assert list(d["nodes"][0]) == ["id", "op", "name", "value", "x", "y"]
    assert set(d["edges"][0]) == {"source", "target", "port"}


def test_unnamed_nodes_output_none_and_empty_graph_round_trip():
    assert_same_document(Graph(), from_dict(to_dict(Graph())))
    g = Graph()
    a = g.add_number(2.0)
    m = g.add_op("exp")
    g.add_op("add")  # both ports unconnected
    g.connect(a, m, 0)
    h = from_dict(json.loads(dumps(g)))
    assert "output" not in json.loads(dumps(g)) and h.pinned_output is None and h.name(a) is None
    assert_same_document(g, h)


def test_optional_fields_default_and_unknown_keys_are_ignored():
    d = {
        "format": "gradcanvas",
        "version": 1,
        "nodes": [{"id": 0, "op": "number", "value": 2, "colour": "red"}],
        "whatever": [1, 2, 3],
    }
    g = from_dict(d)
    assert g.number(0) == 2.0 and isinstance(g.number(0), float)
    assert g.position(0) == (0.0, 0.0) and g.name(0) is None and g.pinned_output is None
    assert g._next_id == 1


def test_names_are_stripped_and_blank_names_mean_none():
    d = base_doc()
    d["nodes"][0]["name"] = "  a  "
    d["nodes"][1]["name"] = "   "
    g = from_dict(d)
    assert g.name(1) == "a" and g.name(2) is None


def test_loaded_graph_is_editable_and_new_ids_do_not_clash():
    g = from_dict(base_doc())
    n = g.add_number(1.0)
    assert n == 4
    with pytest.raises(GraphError):
        g.connect(3, 1, 0)  # numbers have no inputs: the loaded graph keeps enforcing rules


def test_loading_does_not_touch_the_input_data():
    d = base_doc()
    before = copy.deepcopy(d)
    from_dict(d)
    assert d == before


@settings(max_examples=examples(80))
@given(graphs())
def test_round_trip_random_graphs(g):
    assert_same_document(g, from_dict(json.loads(dumps(g))))
    assert_same_document(g, loads(dumps(g).encode("utf-8")))


def test_every_example_round_trips():
    for path in sorted(EXAMPLES.glob("*.json")):
        if not isinstance(json.loads(path.read_text("utf-8")), dict):
            continue  # a catalogue (gallery.json), not a document
        g = load(path)
        assert dumps(load(path)) == dumps(g)
        assert_same_document(g, loads(dumps(g)))


# ---------------------------------------------------------------------------- malformed documents


NULL = object()  # a mutation's way of saying "the document is JSON null"


def edit(fn):
    """Apply a mutation to a fresh base document; a mutation may also return a whole new one."""
    d = base_doc()
    out = fn(d)
    return None if out is NULL else d if out is None else out


def node(d, i):
    return d["nodes"][i]


MALFORMED = [
    # (id, document or mutation, words the message must contain)
    ("top-level list", lambda d: [d], ["JSON object", "a list"]),
    ("top-level string", lambda d: "gradcanvas", ["JSON object"]),
    ("top-level null", lambda d: NULL, ["JSON object", "null"]),
    ("format missing", lambda d: d.pop("format") and None, ['"format" is missing']),
    ("format wrong", lambda d: d.update(format="drawio"), ["not a gradcanvas document", "drawio"]),
    ("format not text", lambda d: d.update(format=1), ["not a gradcanvas document"]),
    ("version missing", lambda d: d.pop("version") and None, ['no "version"', "version 1"]),
    ("version newer", lambda d: d.update(version=4), ["version 4", "newer", "supported versions: 1, 2, 3"]),
    ("version unknown", lambda d: d.update(version=0), ["version 0", "supported versions: 1"]),
    ("version text", lambda d: d.update(version="1"), ['"version"', "'1'"]),
    ("version bool", lambda d: d.update(version=True), ['"version"', "true"]),
    ("version float", lambda d: d.update(version=1.0), ['"version"', "1.0"]),
    ("nodes missing", lambda d: d.pop("nodes") and None, ['no "nodes"']),
    ("nodes object", lambda d: d.update(nodes={"1": {}}), ['"nodes" must be a list']),
    ("node not object", lambda d: d["nodes"].insert(1, 5), ["nodes[1]", "object"]),
    ("node id missing", lambda d: node(d, 0).pop("id") and None, ['nodes[0] has no "id"']),
    ("node id negative", lambda d: node(d, 1).update(id=-2), ["nodes[1]", "non-negative", "-2"]),
    ("node id text", lambda d: node(d, 0).update(id="1"), ["nodes[0]", "'1'"]),
    ("node id bool", lambda d: node(d, 0).update(id=True), ["nodes[0]", "true"]),
    ("node id float", lambda d: node(d, 0).update(id=1.0), ["nodes[0]", "1.0"]),
    ("node id huge", lambda d: node(d, 0).update(id=2**60), ["nodes[0]", "too large"]),
    ("duplicate id", lambda d: node(d, 1).update(id=1), ["nodes[1]", "id 1 is used twice"]),
    ("op missing", lambda d: node(d, 2).pop("op") and None, ["node 3", '"op"']),
    ("op unknown", lambda d: node(d, 2).update(op="cube"), ["node 3", "unknown op 'cube'"]),
    ("op not text", lambda d: node(d, 2).update(op=["mul"]), ["node 3", '"op"', "a list"]),
    ("value missing", lambda d: node(d, 0).pop("value") and None, ["node 1 ('a')", '"value"']),
    ("value text", lambda d: node(d, 0).update(value="3"), ["node 1 ('a')", "value", "'3'"]),
    ("value bool", lambda d: node(d, 1).update(value=False), ["node 2 ('b')", "value", "false"]),
    ("value NaN", lambda d: node(d, 0).update(value=math.nan), ["node 1 ('a')", "finite", "nan"]),
    ("value inf", lambda d: node(d, 1).update(value=-math.inf), ["node 2 ('b')", "finite", "-inf"]),
    ("value huge int", lambda d: node(d, 0).update(value=10**400), ["node 1 ('a')", "too large"]),
    ("value on op", lambda d: node(d, 2).update(value=12.0), ["node 3 ('m')", "only number nodes"]),
    ("x text", lambda d: node(d, 2).update(x="left"), ["node 3 ('m')", "x", "'left'"]),
    ("y inf", lambda d: node(d, 0).update(y=math.inf), ["node 1 ('a')", "y", "finite"]),
    ("name number", lambda d: node(d, 0).update(name=5), ["node 1", "text", "int"]),
    ("name duplicate", lambda d: node(d, 1).update(name="a"), ["node 2 ('a')", "already used by node 1"]),
    ("name like an id", lambda d: node(d, 0).update(name="12"), ["node 1", "'12'", "looks like a node id"]),
    ("name control char", lambda d: node(d, 0).update(name="a\nb"), ["node 1", "control characters"]),
    ("name too long", lambda d: node(d, 0).update(name="n" * 65), ["node 1", "longer than 64"]),
    ("edges object", lambda d: d.update(edges={}), ['"edges" must be a list']),
    ("edge not object", lambda d: d["edges"].append([1, 3, 0]), ["edges[2]", "object", "a list"]),
    ("edge port missing", lambda d: d["edges"][1].pop("port") and None, ['edges[1] has no "port"']),
    ("edge port bool", lambda d: d["edges"][0].update(port=False), ["edges[0]", '"port"', "false"]),
    ("edge port negative", lambda d: d["edges"][0].update(port=-1), ["edges[0]", '"port"', "-1"]),
    ("edge source text", lambda d: d["edges"][0].update(source="a"), ["edges[0]", '"source"', "'a'"]),
    ("dangling source", lambda d: d["edges"][0].update(source=99), ["edges[0] (99 -> 3 port 0)", "node 99"]),
    ("dangling target", lambda d: d["edges"][1].update(target=42), ["edges[1] (2 -> 42 port 1)", "node 42"]),
    (
        "port out of range",
        lambda d: d["edges"][1].update(port=2),
        ["edges[1] (2 -> 3 port 2)", "port 2 out of range for 'mul' (ports 0..1)"],
    ),
    (
        "port out of range, unary",
        lambda d: node(d, 2).update(op="exp"),
        ["edges[1] (2 -> 3 port 1)", "out of range for 'exp' (port 0)"],
    ),
    (
        "edge into number",
        lambda d: d["edges"].append({"source": 1, "target": 2, "port": 0}),
        ["edges[2] (1 -> 2 port 0)", "'b'", "is a number"],
    ),
    (
        "duplicate port",
        lambda d: d["edges"].append({"source": 2, "target": 3, "port": 0}),
        ["edges[2] (2 -> 3 port 0)", "port 0 of node 'm'", "already wired by edges[0]"],
    ),
    (
        "duplicate edge",
        lambda d: d["edges"].append(dict(d["edges"][1])),
        ["edges[2]", "already wired by edges[1]"],
    ),
    (
        "self-loop",
        lambda d: (
            d["nodes"].append({"id": 4, "op": "neg", "name": "s"})
            or d["edges"].append({"source": 4, "target": 4, "port": 0})
        ),
        ["edges[2] (4 -> 4 port 0)", "'s'", "cannot feed itself"],
    ),
    (
        "cycle",
        lambda d: (
            d["nodes"].extend([{"id": 4, "op": "neg", "name": "p"}, {"id": 5, "op": "exp", "name": "q"}])
            or d["edges"].extend(
                [{"source": 4, "target": 5, "port": 0}, {"source": 5, "target": 4, "port": 0}]
            )
        ),
        ["cycle", "'p'", "'q'"],
    ),
    ("output dangling", lambda d: d.update(output=7), ['"output" is 7', "no node"]),
    ("output text", lambda d: d.update(output="m"), ['"output"', "'m'"]),
    ("output bool", lambda d: d.update(output=True), ['"output"', "true"]),
    ("title not text", lambda d: d.update(title=["x"]), ['"title" must be text']),
    ("lesson too long", lambda d: d.update(lesson="x" * 20_001), ['"lesson" is longer than 20000']),
]


@pytest.mark.parametrize("mutate, words", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_documents_are_refused_with_a_message_naming_the_place(mutate, words):
    data = edit(mutate)
    with pytest.raises(DocumentError) as info:
        from_dict(data)
    assert type(info.value) is DocumentError
    for w in words:
        assert w in str(info.value), (w, str(info.value))
    # The same document as a file gives the same refusal (where JSON can express it).
    try:
        text = json.dumps(data, allow_nan=False)
    except ValueError:
        return
    with pytest.raises(DocumentError) as again:
        loads(text)
    assert str(again.value) == str(info.value)


def test_at_least_thirty_malformed_documents():
    assert len(MALFORMED) >= 30


def test_cycle_message_names_every_node_on_the_cycle():
    d = base_doc()
    d["nodes"] += [{"id": 4, "op": "add"}, {"id": 5, "op": "neg", "name": "q"}, {"id": 6, "op": "exp"}]
    d["edges"] += [
        {"source": 4, "target": 5, "port": 0},
        {"source": 5, "target": 6, "port": 0},
        {"source": 6, "target": 4, "port": 0},
        {"source": 3, "target": 4, "port": 1},
    ]
    with pytest.raises(DocumentError, match="cycle") as info:
        from_dict(d)
    msg = str(info.value)
    assert "4 (add)" in msg and "'q'" in msg and "6 (exp)" in msg


def test_hostile_python_objects_raise_only_document_error():
    class Boom(dict):
        def get(self, *a):
            raise RuntimeError("boom")

    class Weird:
        def __eq__(self, other):
            raise ValueError("no")

        __hash__ = None

    for data in [Boom(base_doc()), {"format": Weird(), "version": 1, "nodes": []}, {1: 2}, b"{}", 3.5]:
        with pytest.raises(DocumentError):
            from_dict(data)
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    d = base_doc()
    d["nodes"][2]["op"] = deep
    with pytest.raises(DocumentError, match="a list"):
        from_dict(d)


# ---------------------------------------------------------------------------- files and text


def write(tmp_path, content, name="doc.json"):
    p = tmp_path / name
    if isinstance(content, str):
        p.write_text(content, encoding="utf-8")
    else:
        p.write_bytes(content)
    return p


def test_load_refuses_bad_files(tmp_path, monkeypatch):
    good = json.dumps(base_doc())
    cases = {
        "missing": (tmp_path / "nope.json", "No such file"),
        "directory": (tmp_path, "directory"),
        "empty": (write(tmp_path, "", "empty.json"), "not valid JSON"),
        "not utf-8": (write(tmp_path, b'{"format": "\xff\xfe"}', "latin.json"), "not UTF-8"),
        "not json": (write(tmp_path, "format: gradcanvas", "yaml.json"), "not valid JSON"),
        "truncated": (write(tmp_path, good[: len(good) // 2], "half.json"), "not valid JSON"),
        "trailing junk": (write(tmp_path, good + " }", "junk.json"), "not valid JSON"),
        "NaN literal": (write(tmp_path, good.replace("3.0", "NaN"), "nan.json"), "NaN is not allowed"),
        "Infinity": (write(tmp_path, good.replace("3.0", "-Infinity"), "inf.json"), "-Infinity"),
        "1e400": (write(tmp_path, good.replace("3.0", "1e400"), "big.json"), "finite"),
        "too many digits": (
            write(tmp_path, good.replace("3.0", "7" * 5000), "digits.json"),
            "not valid JSON",
        ),
        "too deep": (write(tmp_path, "[" * 200_000 + "]" * 200_000, "deep.json"), "nested too deeply"),
    }
    for what, (path, words) in cases.items():
        with pytest.raises(DocumentError) as info:
            load(path)
        assert type(info.value) is DocumentError, what
        assert words in str(info.value), (what, str(info.value))


def test_load_refuses_a_file_over_the_size_limit(tmp_path, monkeypatch):
    p = write(tmp_path, json.dumps(base_doc()))
    monkeypatch.setattr(doc, "MAX_FILE_BYTES", 100)
    with pytest.raises(DocumentError, match="larger than"):
        load(p)


def test_load_refuses_things_that_are_not_paths(tmp_path):
    for bad in [None, 0, 1, True, 3.5, ["a.json"], "", "a\0b.json"]:
        with pytest.raises(DocumentError):
            load(bad)


def test_load_accepts_str_pathlike_bytes_and_a_bom(tmp_path):
    p = write(tmp_path, "\ufeff" + json.dumps(base_doc()))
    for path in (p, str(p), os.fsencode(p)):
        assert load(path).value("m") == 12.0


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read anything")
def test_load_refuses_an_unreadable_file(tmp_path):
    p = write(tmp_path, json.dumps(base_doc()))
    p.chmod(0)
    with pytest.raises(DocumentError, match="Permission denied"):
        load(p)


# ---------------------------------------------------------------------------- fuzzing

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _paths(x, prefix=()):
    yield prefix
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _paths(v, (*prefix, i))


def _parent(data, path):
    for k in path[:-1]:
        data = data[k]
    return data


@st.composite
def mutated_documents(draw):
    data = to_dict(draw(graphs(max_nodes=6)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        kind = draw(st.sampled_from(["delete", "replace", "swap ids", "duplicate", "small int", "add key"]))
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "replace":
            parent[path[-1]] = draw(json_values)
        elif kind == "small int":  # plausible-looking wrong references are the dangerous ones
            parent[path[-1]] = draw(st.integers(-1, 8))
        elif kind == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        elif kind == "add key" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["id", "op", "name", "value", "port", "output", "x"]))] = draw(
                json_values
            )
        elif kind == "swap ids" and isinstance(data.get("nodes"), list) and len(data["nodes"]) >= 2:
            ns = data["nodes"]
            i, j = draw(st.integers(0, len(ns) - 1)), draw(st.integers(0, len(ns) - 1))
            if isinstance(ns[i], dict) and isinstance(ns[j], dict) and "id" in ns[i] and "id" in ns[j]:
                ns[i]["id"], ns[j]["id"] = ns[j]["id"], ns[i]["id"]
    return data


def assert_usable(g):
    """A graph that loaded must be a real, consistent, evaluable document."""
    assert isinstance(g, Graph)
    g.values(), g.grads(), g.problems()
    for n in g.nodes():
        g.steps(n)
        g.contributions(n)
    assert_same_document(g, from_dict(to_dict(g)))


@settings(max_examples=examples(150))
@given(mutated_documents())
def test_fuzz_mutated_documents_load_or_raise_document_error(data):
    try:
        g = from_dict(data)
    except DocumentError:
        return
    assert_usable(g)


@settings(max_examples=examples(150))
@given(graphs(max_nodes=6), st.data())
def test_fuzz_damaged_text_loads_or_raises_document_error(g, data):
    raw = bytearray(dumps(g).encode("utf-8"))
    how = data.draw(st.sampled_from(["truncate", "flip", "insert", "delete"]))
    at = data.draw(st.integers(0, len(raw) - 1))
    if how == "truncate":
        raw = raw[:at]
    elif how == "flip":
        raw[at] ^= 1 << data.draw(st.integers(0, 7))
    elif how == "insert":
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=4))
    else:
        del raw[at : at + data.draw(st.integers(1, 8))]
    try:
        h = loads(bytes(raw))
    except DocumentError:
        return
    assert_usable(h)


@settings(max_examples=examples(40))
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_fuzz_arbitrary_bytes_from_a_file(tmp_path_factory, raw):
    p = tmp_path_factory.mktemp("fuzz") / "x.json"
    p.write_bytes(raw)
    try:
        assert_usable(load(p))
    except DocumentError:
        pass


# ---------------------------------------------------------------------------- saving


def listing(directory):
    return sorted(os.listdir(directory))


def test_save_writes_json_that_other_readers_accept(tmp_path):
    p = tmp_path / "doc.json"
    save(fanout(), p)
    data = json.loads(p.read_text("utf-8"), parse_constant=lambda c: pytest.fail(c))
    assert data["format"] == "gradcanvas" and data["version"] == 1
    assert p.read_text("utf-8").endswith("}\n")


@pytest.mark.parametrize("victim", ["replace", "fsync", "write"])
def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, victim):
    p = tmp_path / "doc.json"
    save(fanout(), p)
    before = p.read_bytes()

    def fail(*a, **k):
        raise OSError(28, "No space left on device")

    if victim == "write":
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, text):
                self.f.write(text[: len(text) // 2])
                self.f.flush()
                fail()

        monkeypatch.setattr(doc.os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    else:
        monkeypatch.setattr(doc.os, victim, fail)
    g = from_dict(base_doc())
    with pytest.raises(DocumentError, match="No space left on device") as info:
        save(g, p)
    assert type(info.value) is DocumentError
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert listing(tmp_path) == ["doc.json"]
    assert load(p).grad("a") == 35.0


def test_an_interrupted_save_cleans_up_and_lets_the_interrupt_through(tmp_path, monkeypatch):
    p = tmp_path / "doc.json"

    def interrupt(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(doc.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save(fanout(), p)
    assert listing(tmp_path) == []


def test_save_refuses_bad_targets_without_leaving_files(tmp_path):
    g = fanout()
    with pytest.raises(DocumentError, match="cannot save"):
        save(g, tmp_path / "missing" / "doc.json")
    (tmp_path / "adir").mkdir()
    with pytest.raises(DocumentError, match="cannot save"):
        save(g, tmp_path / "adir")
    for bad in [None, 3, ""]:
        with pytest.raises(DocumentError):
            save(g, bad)
    assert listing(tmp_path) == ["adir"] and listing(tmp_path / "adir") == []


def test_save_refuses_metadata_it_could_not_load_back(tmp_path):
    g = fanout()
    g.meta["title"] = 42
    with pytest.raises(DocumentError, match="title"):
        save(g, tmp_path / "x.json")
    g.meta["title"] = "t" * 201
    with pytest.raises(DocumentError, match="title"):
        save(g, tmp_path / "x.json")
    g.meta = {"title": "ok", "other": object()}  # keys outside the format are simply not saved
    save(g, tmp_path / "x.json")
    assert load(tmp_path / "x.json").meta == {"title": "ok"}
    assert listing(tmp_path) == ["x.json"]


def test_save_replaces_an_existing_file_keeping_its_permissions(tmp_path):
    p = tmp_path / "doc.json"
    p.write_text("old")
    p.chmod(0o640)
    save(fanout(), p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert load(p).grad("a") == 35.0


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    p = tmp_path / "new.json"
    mask = os.umask(0o022)
    try:
        save(fanout(), p)
    finally:
        os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_save_through_a_symlink_updates_the_target(tmp_path):
    real = tmp_path / "real.json"
    save(from_dict(base_doc()), real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    save(fanout(), link)
    assert link.is_symlink()
    assert load(real).grad("a") == 35.0


def test_a_hostile_path_object_raises_only_document_error():
    class BadPath:
        def __fspath__(self):
            raise RuntimeError("no path for you")

    with pytest.raises(DocumentError, match="no path for you"):
        load(BadPath())
    with pytest.raises(DocumentError):
        save(fanout(), BadPath())


# ------------------------------------------------------------------------------ shared limits


def _big_document(nodes: int, tables: int = 0) -> Graph:
    """Numbers with long names and sums reading the two nodes before them, then ``tables``
    numbers holding a vector of a million floats that print long (about 25 MB each in a file)."""
    raw, edges = [], []
    for i in range(nodes):
        if i % 2 == 0 or i < 2:
            raw.append({"id": i, "op": "number", "name": f"w{i:07d}_" + "w" * 50, "value": i * 0.123456789,
                        "x": i * 1.5, "y": -i * 2.25})
        else:
            raw.append({"id": i, "op": "add", "name": None, "x": i * 1.5, "y": 7.0})
            edges += [{"source": i - 1, "target": i, "port": 0}, {"source": i - 2, "target": i, "port": 1}]
    g = from_dict({"format": "gradcanvas", "version": 1, "nodes": raw, "edges": edges})
    size = arrays.MAX_ELEMENTS
    for k in range(tables):
        vector = -np.pi * 1e-200 * np.arange(k * size + 1, (k + 1) * size + 1)
        g.add_number(vector, name=f"t{k}", x=-100.0, y=k)
    return g


@pytest.mark.slow
def test_a_60_mb_document_is_saved_and_loads_again(tmp_path):
    # The bytes, not the node count, are the point: 20,000 wired nodes (the per-node path at
    # scale, 3 MB) and three vectors of a million floats make the 60+ MB in a tenth of the time
    # that 420,000 small nodes took.
    g = _big_document(20_000, tables=3)
    p = tmp_path / "big.json"
    save(g, p)
    size = p.stat().st_size
    assert 60 * 2**20 < size <= doc.MAX_FILE_BYTES
    h = load(p)
    assert h.to_dict() == g.to_dict()


def test_save_refuses_what_load_would_refuse_and_writes_nothing(tmp_path, monkeypatch):
    g = Graph.from_expression("(a*4+3)*(a+2)", a=3)
    size = len(doc.dumps(g).encode("utf-8"))
    p = tmp_path / "x.json"
    monkeypatch.setattr(doc, "MAX_FILE_BYTES", size - 1)
    with pytest.raises(DocumentError, match="MB"):
        save(g, p)
    assert not p.exists() and list(tmp_path.iterdir()) == []
    monkeypatch.setattr(doc, "MAX_FILE_BYTES", size)  # exactly at the limit: both sides accept
    save(g, p)
    assert load(p).to_dict() == g.to_dict()


def test_a_fragment_is_an_ordinary_document_of_the_chosen_nodes():
    g = Graph.from_expression("c = a*b\nc + a", a=2, b=3)
    g.set_output(g.output_node())
    a, c = g.resolve("a"), g.resolve("c")
    frag = doc.fragment(g, [c, a, 999])  # unknown ids are left out; the order is kept
    assert [n["id"] for n in frag["nodes"]] == [c, a]
    assert frag["edges"] == [{"source": a, "target": c, "port": 0}]  # only wires among the chosen
    assert "output" not in frag and "title" not in frag
    back = doc.read_fragment(json.loads(json.dumps(frag)))
    assert back.nodes() == [c, a] and back.edges() == [(a, c, 0)]
    with pytest.raises(DocumentError, match="at most 1"):
        doc.read_fragment(frag, max_nodes=1)
    self_loop = dict(frag, edges=[{"source": c, "target": c, "port": 0}])
    for bad in (None, [], {"format": "gradcanvas-clip"}, self_loop):
        with pytest.raises(DocumentError):
            doc.read_fragment(bad)
