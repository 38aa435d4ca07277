"""The gradcanvas document: versioned JSON, validated completely before anything is built.

Format, version 1 (DESIGN.md §4)::

    {"format": "gradcanvas", "version": 1, "output": 7,
     "title": "...", "lesson": "...",                      (optional)
     "nodes": [{"id": 1, "op": "number", "name": "a", "value": 3.0, "x": 0.0, "y": 0.0},
               {"id": 7, "op": "mul", "name": null, "x": 200.0, "y": 0.0}, ...],
     "edges": [{"source": 1, "target": 7, "port": 0}, ...]}

``output`` is written only when the output is pinned (an ``output`` read from a file pins it;
absent or null, the output follows the graph: see ``Graph.output_node``), with
``"output_port"`` when that port is not 0. A wire has ``"source_port"``, the output of its
source it leaves from, when that is not 0. Both are accepted in every version (0 wherever a
source has one output, as numbers and op rows do).

Version 2 (written only when a number holds an array or an op has parameters, so documents
without tensors stay readable by version-1 readers) adds array values,
``"value": {"shape": [2, 3], "data": [1.0, ...]}`` (row-major, finite; ``"dtype": "int"`` for
integer class targets; at most 4 dimensions and 1,000,000 elements), and ``"params"`` on op
nodes of rows that have them (``{"axis": 0, "keepdims": false}``).

Version 3 (written only when the document has a node of a registered node kind that stores
attributes, :mod:`engine.core.kinds`) adds such nodes: the kind reads and writes its own keys
of the node object (``to_json`` / ``from_json``). The dataset node, ``{"id": 3, "op":
"dataset", "recipe": {"generator": "moons", "n": 200, "noise": 0.1, "seed": 0, "split":
0.5}}`` or ``"points": {"X_train": [[...]], "y_train": [...], ...}``, has four outputs that
wires leave from with ``"source_port"`` 0..3.

``op`` is "number" or a key of :data:`engine.core.ops.OPS`; ``value`` is required on number nodes
and refused on op nodes (their values are recomputed after load). ``name``, ``x``, ``y``,
``output``, ``edges`` and the two metadata strings may be left out; unknown keys are ignored.
``"descend"`` (optional) holds the document's own Descend defaults: ``{"lr": 1.0, "steps": 100,
"trainable": ["W1", "b1"], "goal": "minimize"}``, each key optional, trainable numbers by name
or id.

Every refusal is a :class:`DocumentError` whose message names the place: a node by its id
(``node 5 ('a')``) or, before the id is known, by its index (``nodes[2]``); an edge by its index
in "edges" and its endpoints (``edges[3] (5 -> 7 port 2)``). Nothing else escapes :func:`load`
or :func:`from_dict`, whatever the input.

>>> from engine import Graph
>>> g = Graph.from_dict({"format": "gradcanvas", "version": 1, "output": 2,
...     "nodes": [{"id": 1, "op": "number", "name": "a", "value": 3.0},
...               {"id": 2, "op": "mul", "name": "b"}],
...     "edges": [{"source": 1, "target": 2, "port": 0}, {"source": 1, "target": 2, "port": 1}]})
>>> g.value("b"), g.grad("a")
(9.0, 6.0)
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections import Counter

import networkx as nx
import numpy as np

from ..core import arrays, kinds
from ..core.composites import (
    CALL,
    INPUT,
    MAX_INLINED,
    OUTPUT,
    PLACEHOLDERS,
    _post_order,
    check_calls,
    outside_only,
)
from ..core.errors import DocumentError, GraphError
from ..core.graph import ROLES, Graph, check_name
from ..core.ops import NUMBER, OPS, check_params
from . import atomic

FORMAT = "gradcanvas"
VERSION = 3
"""The newest version written: a document with definitions (composites) or a node kind's node
(a dataset). One without is written as version 2 (arrays or op parameters) or 1, so older readers
keep opening it."""
SUPPORTED_VERSIONS = (1, 2, 3)
MAX_DEFINITIONS = 10_000
# One limit for both directions, so that anything save() writes, load() reads back. It is a
# guard against hostile files (a parsed document costs roughly 20x its size in memory), set well
# above what a person builds: a 250,000-node document is about 25 MB.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_ID = 2**53  # ids stay exact in every JSON reader, including JavaScript's
META_LIMITS = {"title": 200, "lesson": 20_000}  # characters
# "descend": the document's own Descend defaults, {"lr": 0.5, "steps": 200, "trainable":
# ["W1", "b1"], "goal": "minimize"} (every key optional; trainable: names or ids of numbers).
DESCEND_KEYS = ("lr", "steps", "trainable", "goal")
MAX_DESCEND_STEPS = 100_000


# ---------------------------------------------------------------------------- writing


def to_dict(graph: Graph, nodes=None) -> dict:
    """The document as JSON-ready data: ids, names, number values, positions, wires, output,
    and the "title"/"lesson" metadata. Op values and all gradients are left out.

    >>> from engine import Value
    >>> a = Value(3.0, name="a"); d = to_dict((a * a).graph())
    >>> d["format"], d["version"], "output" in d, [n["op"] for n in d["nodes"]], len(d["edges"])
    ('gradcanvas', 1, False, ['number', 'mul'], 2)

    ``nodes`` (ids) restricts it to those nodes and the wires among them (and no output):
    see :func:`fragment`.
    """
    if nodes is not None:
        keep = dict.fromkeys(n for n in nodes if n in graph.nx)
        data = {"format": FORMAT, "version": _version(graph, keep)}
        used = _used_definitions(graph, keep)
        if used:
            data["definitions"] = {d.name: definition_dict(graph, d) for d in used}
        data["nodes"] = [_node_dict(graph, n, graph.nx.nodes[n]) for n in keep]
        data["edges"] = _edge_dicts(graph.nx.subgraph(keep))
        return data
    data: dict = {"format": FORMAT, "version": _version(graph, graph.nx.nodes)}
    for key, limit in META_LIMITS.items():
        if key in graph.meta and graph.meta[key] is not None:
            text = graph.meta[key]
            if not isinstance(text, str) or len(text) > limit:
                raise DocumentError(f"document {key} must be text of at most {limit} characters")
            data[key] = text
    if isinstance(graph.meta.get("descend"), dict):
        # A trainable number deleted or renamed since is left out, never a reason to refuse a save.
        spec, refs = dict(graph.meta["descend"]), _number_refs(graph)
        kept = [r for r in spec.pop("trainable", []) if not isinstance(r, bool) and r in refs]
        data["descend"] = _check_descend({**spec, **({"trainable": kept} if kept else {})}, refs)
    if graph.pinned_output is not None:  # only a pinned output is stored; else it follows the graph
        data["output"] = graph.pinned_output
        if graph.output_port:
            data["output_port"] = graph.output_port
    if graph.definitions:
        data["definitions"] = {d.name: definition_dict(graph, d) for d in _in_order(graph.definitions)}
    data["nodes"] = [_node_dict(graph, n, attrs) for n, attrs in graph.nx.nodes(data=True)]
    data["edges"] = _edge_dicts(graph.nx)
    return data


def _in_order(definitions) -> list:
    """Definitions with every callee before its callers (then by name), as files list them."""
    calls = {name: sorted(d.callees()) for name, d in sorted(definitions.items())}
    return [definitions[name] for name in _post_order(calls)]


def _used_definitions(graph: Graph, nodes) -> list:
    """The definitions instances among ``nodes`` need, callees first."""
    todo = [graph.nx._node[n]["definition"] for n in nodes if graph.nx._node[n]["op"] == CALL]
    seen: dict = {}
    while todo:
        d = todo.pop()
        if d.name in seen:
            continue
        seen[d.name] = d
        todo.extend(graph.definitions[c] for c in d.callees())
    return _in_order(seen)


def definition_dict(graph: Graph, d) -> dict:
    """One definition as a document's ``"definitions"`` entry: ``{"inputs": [{"name",
    "node"}], "outputs": [...], "nodes": [...], "edges": [...]}``, its port placeholders
    among the nodes (ops "input" and "output")."""
    body = d.body
    return {
        "inputs": [{"name": p.name, "node": p.node} for p in d.inputs],
        "outputs": [{"name": p.name, "node": p.node} for p in d.outputs],
        "nodes": [_node_dict(body, n, attrs) for n, attrs in body.nx.nodes(data=True)],
        "edges": _edge_dicts(body.nx),
    }


def _edge_dicts(g) -> list:
    # Sorted by target then port so that a saved file does not depend on edit history.
    out = []
    for s, t, p, d in sorted(g.edges(keys=True, data=True), key=lambda e: (e[1], e[2])):
        e = {"source": s, "target": t, "port": p}
        if d.get("source_port"):
            e["source_port"] = d["source_port"]
        out.append(e)
    return out


def _version(graph: Graph, nodes) -> int:
    """3 when the document has definitions (a fragment: when an instance is among
    ``nodes``) or any of ``nodes`` is of a node kind (an instance, a dataset node), else 2
    when any holds an array or is an op with parameters, else 1: documents that use nothing
    newer stay readable by older readers."""
    whole = nodes is graph.nx.nodes
    if (whole and graph.definitions) or any(graph.nx.nodes[n]["op"] not in OPS for n in nodes):
        return kinds.DOCUMENT_VERSION
    for n in nodes:
        attrs = graph.nx.nodes[n]
        row = OPS.get(attrs["op"])  # None: a node kind (engine.core.kinds), not a row
        if type(attrs.get("value")) is np.ndarray or attrs.get("params") or (row is not None and row.tensor):
            return 2
    return 1


def _array_dict(graph: Graph, n, value) -> dict:
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise DocumentError(
            f"node {graph.label(n)} holds an array with NaN or inf: a document stores finite numbers "
            "only; give it finite values before saving"
        )
    out = {"shape": list(value.shape), "data": value.ravel().tolist()}
    if value.dtype.kind == "i":
        out["dtype"] = "int"
    return out


def _node_dict(graph: Graph, n, attrs) -> dict:
    node = {"id": n, "op": attrs["op"], "name": attrs.get("name")}
    kind = kinds.KINDS.get(attrs["op"]) if attrs["op"] not in OPS else None
    if attrs["op"] == CALL:
        node["definition"] = attrs["definition"].name
    elif kind is not None and kind.to_json is not None:
        node.update(kind.to_json(attrs.get("params") or {}))
    elif attrs.get("params"):
        node["params"] = dict(attrs["params"])
    if attrs["op"] == NUMBER:
        value = attrs["value"]
        if type(value) is np.ndarray:
            value = _array_dict(graph, n, value)
        elif isinstance(value, float) and not math.isfinite(value):
            # Value.graph() keeps an inf/NaN leaf so it can be looked at; a document stores
            # finite numbers only (JSON has no inf), so say which node is in the way.
            raise DocumentError(
                f"node {graph.label(n)} holds {value}: a document stores finite numbers only; "
                "give it a finite value before saving"
            )
        node["value"] = value
    node["x"] = attrs.get("x", 0.0)
    node["y"] = attrs.get("y", 0.0)
    if attrs.get("role"):
        node["role"] = attrs["role"]
    return node


def fragment(graph: Graph, nodes) -> dict:
    """Some nodes of ``graph`` and the wires among them as an ordinary document (no output,
    no metadata): what the clipboard carries. Read it back with :func:`read_fragment`.

    >>> g = Graph.from_expression("a*b + b", a=2, b=3)
    >>> f = fragment(g, [g.resolve("a"), g.resolve("b"), 3])
    >>> "output" in f, [n["name"] for n in f["nodes"]], f["edges"]
    (False, ['a', 'b', None], [{'source': 1, 'target': 3, 'port': 0}, {'source': 2, 'target': 3, 'port': 1}])
    >>> read_fragment(f).value(3)
    6.0
    """
    return to_dict(graph, nodes)


def read_fragment(data, max_nodes: int = 100_000) -> Graph:
    """Validate a fragment (untrusted: it may come from another program's clipboard) exactly as
    a document is validated; DocumentError on any problem, including more than ``max_nodes``."""
    if isinstance(data, dict) and isinstance(data.get("nodes"), list) and len(data["nodes"]) > max_nodes:
        raise DocumentError(f"the fragment has {len(data['nodes'])} nodes; at most {max_nodes} are accepted")
    return from_dict(data)


def dumps(graph: Graph) -> str:
    """The document as JSON text (what :func:`save` writes): one node or edge per line, so a
    saved file reads well and diffs line by line."""
    data = to_dict(graph)
    enc = lambda v: json.dumps(v, ensure_ascii=False, allow_nan=False)  # noqa: E731
    try:
        parts = []
        for key, value in data.items():
            if key in ("nodes", "edges") and value:
                items = ",\n".join("  " + enc(item) for item in value)
                parts.append(f" {enc(key)}: [\n{items}\n ]")
            else:
                parts.append(f" {enc(key)}: {enc(value)}")
        return "{\n" + ",\n".join(parts) + "\n}\n"
    except (TypeError, ValueError, OverflowError, RecursionError) as e:
        raise DocumentError(f"cannot write the document: {e}") from None


def save(graph: Graph, path) -> None:
    """Write ``graph`` to ``path`` atomically: the JSON goes to a temporary file in the same
    directory, is flushed to disk, and is then renamed over ``path``. On any failure the
    temporary file is removed, the previous file at ``path`` is untouched, and DocumentError
    is raised.

    >>> import tempfile, os
    >>> from engine import Value
    >>> p = os.path.join(tempfile.mkdtemp(), "sq.json"); save((Value(3.0) ** 2).graph(), p)
    >>> load(p).value(3)
    9.0
    """
    text = dumps(graph)
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        # Refused here rather than written: load() would refuse the file (same limit).
        raise DocumentError(
            f"cannot save: the document is {size / 2**20:.0f} MB, more than the "
            f"{MAX_FILE_BYTES // 2**20} MB a document may have"
        )
    target = _path(path)
    try:
        with atomic.replacing(target) as tmp:
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_TRUNC), "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
    except Exception as e:
        raise DocumentError(f"cannot save to {os.fspath(path)!r}: {_why(e)}") from None


# ---------------------------------------------------------------------------- reading


def load(path, *, max_nodes: int | None = None) -> Graph:
    """Read and validate a document file; DocumentError (and nothing else) on any problem:
    a missing or unreadable file, a directory, more than MAX_FILE_BYTES (256 MB), text that is not UTF-8 or
    not JSON, or a document :func:`from_dict` refuses. With ``max_nodes``, a document with
    more nodes is refused as soon as they are counted, before anything is built (a picture
    of a million nodes is refused in a second, not after a 20-second load)."""
    try:
        return _load(path, max_nodes)
    except DocumentError:
        raise
    except Exception as e:  # a hostile path object, say: the contract is DocumentError only
        raise DocumentError(f"cannot open the document ({type(e).__name__}: {_why(e)})") from None


def _load(path, max_nodes=None) -> Graph:
    p = _path(path)
    shown = repr(os.fspath(p))
    try:
        st = os.stat(p)
        if stat.S_ISDIR(st.st_mode):
            raise DocumentError(f"cannot open {shown}: it is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise DocumentError(f"cannot open {shown}: not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise DocumentError(f"cannot open {shown}: larger than {MAX_FILE_BYTES // 2**20} MB")
        with open(p, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat
    except DocumentError:
        raise
    except (OSError, ValueError) as e:
        raise DocumentError(f"cannot open {shown}: {_why(e)}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise DocumentError(f"cannot open {shown}: larger than {MAX_FILE_BYTES // 2**20} MB")
    try:
        return loads(raw, source=shown, max_nodes=max_nodes)
    except DocumentError as e:
        if str(e).startswith(shown):
            raise
        raise DocumentError(f"{shown}: {e}") from None  # say which file, too


def loads(text, source: str = "document", *, max_nodes: int | None = None) -> Graph:
    """Parse JSON text (str or UTF-8 bytes) and validate it with :func:`from_dict`; with
    ``max_nodes``, refuse a document with more nodes before validating it."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise DocumentError(f"{source} is not UTF-8 text (byte {e.start})") from None
    if not isinstance(text, str):
        raise DocumentError(f"{source}: expected JSON text, not {type(text).__name__}")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        where = f"line {e.lineno}, column {e.colno}"
        raise DocumentError(f"{source} is not valid JSON: {e.msg} at {where}") from None
    except RecursionError:
        raise DocumentError(f"{source} is nested too deeply to be a gradcanvas document") from None
    except (ValueError, OverflowError) as e:  # NaN/Infinity literals, int digit limit
        raise DocumentError(f"{source} is not valid JSON: {_why(e)}") from None
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if max_nodes is not None and isinstance(nodes, list) and len(nodes) > max_nodes:
        raise TooManyNodesError(source, len(nodes), max_nodes)
    return from_dict(data)


class TooManyNodesError(DocumentError):
    """A document with more nodes than the caller's ``max_nodes``: ``count`` and ``limit``
    say by how much, so the caller can say why it has a limit."""

    def __init__(self, source: str, count: int, limit: int):
        super().__init__(f"{source} has {count:,} nodes, more than {limit:,}")
        self.count = count
        self.limit = limit


def _refuse_constant(name):
    raise ValueError(f"{name} is not allowed in JSON")


def from_dict(data) -> Graph:
    """Validate document data completely, then build the Graph in one pass.

    Raises DocumentError naming the offending node or edge; nothing else escapes.

    >>> try:
    ...     from_dict({"format": "gradcanvas", "version": 1, "nodes": [{"id": 1, "op": "cube"}]})
    ... except DocumentError as e:
    ...     print(str(e)[:30])
    node 1: unknown op 'cube'; kno
    """
    try:
        nodes, edges, (output, output_port), meta, definitions = _validate(data)
        g = Graph()
        g._build(nodes, edges, output, output_port, definitions=definitions)
        g.meta.update(meta)
        return g
    except DocumentError:
        raise
    except RecursionError:
        raise DocumentError("the document is nested too deeply") from None
    except Exception as e:  # noqa: BLE001 — the contract: only DocumentError leaves the loader
        raise DocumentError(f"malformed document ({type(e).__name__}: {_why(e)})") from None


# ---------------------------------------------------------------------------- validation


def _validate(data):
    if not isinstance(data, dict):
        raise DocumentError(f"a document must be a JSON object, not {_kind(data)}")
    fmt = data.get("format")
    if fmt != FORMAT or not isinstance(fmt, str):
        if "format" not in data:
            raise DocumentError('not a gradcanvas document: "format" is missing')
        raise DocumentError(f'not a gradcanvas document: "format" is {_show(fmt)}, expected "gradcanvas"')
    version = _check_version(data)
    meta = {}
    for key, limit in META_LIMITS.items():
        if key in data and data[key] is not None:
            text = data[key]
            if not isinstance(text, str):
                raise DocumentError(f'"{key}" must be text, not {_kind(text)}')
            if len(text) > limit:
                raise DocumentError(f'"{key}" is longer than {limit} characters')
            meta[key] = text

    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list):
        if "nodes" not in data:
            raise DocumentError('the document has no "nodes" list')
        raise DocumentError(f'"nodes" must be a list, not {_kind(raw_nodes)}')
    raw_edges = data.get("edges", [])
    if not isinstance(raw_edges, list):
        raise DocumentError(f'"edges" must be a list, not {_kind(raw_edges)}')

    defs, ports, sizes = _validate_definitions(data.get("definitions"), version)
    nodes, by_id = _validate_nodes(raw_nodes, version, ports=ports)
    if data.get("descend") is not None:
        refs = {n["id"] for n in nodes if n["op"] == NUMBER} | {
            n["name"] for n in nodes if n["op"] == NUMBER and n.get("name")}
        meta["descend"] = _check_descend(data["descend"], refs)
    edges = _validate_edges(raw_edges, by_id, ports=ports)
    output = data.get("output")
    output_port = data.get("output_port", 0)
    if not _is_int(output_port) or output_port < 0:
        raise DocumentError(f'"output_port" must be a non-negative whole number, not {_show(output_port)}')
    if output is not None:
        if not _is_int(output):
            raise DocumentError(f'"output" must be a node id or null, not {_show(output)}')
        if output not in by_id:
            raise DocumentError(f'"output" is {output}, but there is no node with that id')
        count = _output_arity(by_id[output], ports)
        if output_port >= count:
            raise DocumentError(
                f'"output_port" is {output_port}, but node {_label(by_id[output])} has {_outputs_text(count)}'
            )
    elif output_port:
        raise DocumentError(f'"output_port" is {output_port}, but no "output" is given')
    _check_acyclic(edges, by_id)
    if defs:
        _check_inlined_size(nodes, sizes)
    return nodes, edges, (output, output_port), meta, defs


def _arity(node: dict, ports=None) -> int:
    op = node["op"]
    if op in OPS:
        return OPS[op].arity
    if op == CALL:
        return ports[node["definition"]][0]
    if op in PLACEHOLDERS:
        return 1 if op == OUTPUT else 0
    return kinds.get(op).arity(node)


def _output_arity(node: dict, ports=None) -> int:
    """Numbers, op rows and input placeholders have one output, an output placeholder none,
    an instance its definition's outputs; another node kind says how many."""
    op = node["op"]
    if op in OPS or op == INPUT:
        return 1
    if op == CALL:
        return ports[node["definition"]][1]
    if op == OUTPUT:
        return 0
    return kinds.get(op).output_arity(node)


def _outputs_text(count: int) -> str:
    return "no outputs" if count == 0 else "one output, port 0" if count == 1 else f"outputs 0..{count - 1}"


def _validate_definitions(raw, version):
    """``"definitions"``: every name, port list and body checked as the top level is, then the
    calls between them (no recursion, at most 64 levels) and what they inline to. Returns the
    parts for Graph._build (callees first), each definition's (inputs, outputs) counts and
    the sizes the inlining check needs."""
    if raw is None:
        return [], {}, None
    if version < 3:
        raise DocumentError('"definitions" needs document version 3')
    if not isinstance(raw, dict):
        raise DocumentError(f'"definitions" must be an object (name -> definition), not {_kind(raw)}')
    if len(raw) > MAX_DEFINITIONS:
        raise DocumentError(f"the document has {len(raw):,} definitions; at most {MAX_DEFINITIONS:,}")
    ports: dict = {}
    lists: dict = {}
    for name, d in raw.items():
        where = f"definition {_show(name)}"
        try:
            clean = _check_definition_name(name)
        except GraphError as e:
            raise DocumentError(f"{where}: {e}") from None
        if clean != name:
            raise DocumentError(f"{where}: a definition's name has no spaces around it")
        if not isinstance(d, dict):
            raise DocumentError(f"{where} must be an object, not {_kind(d)}")
        for key in ("inputs", "outputs", "nodes"):
            if not isinstance(d.get(key), list):
                raise DocumentError(f'{where}: "{key}" must be a list, not {_kind(d.get(key))}')
        if not isinstance(d.get("edges", []), list):
            raise DocumentError(f'{where}: "edges" must be a list, not {_kind(d.get("edges"))}')
        lists[name] = [_port_list(d[key], f"{where}: {key}") for key in ("inputs", "outputs")]
        ports[name] = (len(lists[name][0]), len(lists[name][1]))
    parts: dict = {}
    calls: dict = {}
    own: dict = {}
    constants: dict = {}
    for name, d in raw.items():
        where = f"definition {name!r}"
        nodes, by_id = _validate_nodes(d["nodes"], version, where, ports=ports, body=True)
        edges = _validate_edges(d.get("edges", []), by_id, where, ports=ports)
        ins, outs = lists[name]
        for kind, entries, op in (("inputs", ins, INPUT), ("outputs", outs, OUTPUT)):
            for k, (pname, nid) in enumerate(entries):
                node = by_id.get(nid)
                if node is None or node["op"] != op:
                    raise DocumentError(
                        f"{where}: {kind}[{k}] ({pname!r}) names node {nid}, which is not an {op!r} node "
                        "of its body"
                    )
        listed = [nid for _nm, nid in ins + outs]
        placeholders = [n["id"] for n in nodes if n["op"] in PLACEHOLDERS]
        if sorted(listed) != sorted(placeholders):
            extra = sorted(set(placeholders) - set(listed)) or sorted(
                n for n, k in Counter(listed).items() if k > 1
            )
            raise DocumentError(
                f"{where}: every 'input' and 'output' node is one port, listed once; node(s) {extra} are not"
            )
        _check_acyclic(edges, by_id, where)
        calls[name] = Counter(n["definition"] for n in nodes if n["op"] == CALL)
        fed = {t for _s, t, *_ in edges}
        own[name] = sum(1 for n in nodes if n["op"] not in (NUMBER, CALL, INPUT, OUTPUT)) + sum(
            1 for _nm, nid in outs if nid not in fed
        )
        constants[name] = sum(1 for n in nodes if n["op"] == NUMBER)
        parts[name] = {"name": name, "inputs": ins, "outputs": outs, "nodes": nodes, "edges": edges}
    try:
        check_calls(calls)
    except GraphError as e:
        raise DocumentError(str(e)) from None
    order = _post_order({n: sorted(c) for n, c in calls.items()})
    return [parts[n] for n in order], ports, (calls, own, constants, order)


def _check_definition_name(name) -> str:
    from ..core.groups import check_group_name

    return check_group_name(name)


def _port_list(raw, where) -> list:
    out = []
    names = set()
    for k, entry in enumerate(raw):
        ok = isinstance(entry, dict) and isinstance(entry.get("name"), str) and _is_int(entry.get("node"))
        if not ok:
            raise DocumentError(f'{where}[{k}] must be {{"name": text, "node": id}}, not {_kind(entry)}')
        try:
            name = check_name(entry["name"])
        except GraphError as e:
            raise DocumentError(f"{where}[{k}]: {e}") from None
        if name is None:
            raise DocumentError(f"{where}[{k}]: a port needs a name")
        if name in names:
            raise DocumentError(f"{where}[{k}]: the port name {name!r} is used twice")
        names.add(name)
        out.append((name, entry["node"]))
    return out


def _check_inlined_size(nodes, sizes) -> None:
    """Refuse a document whose instances would inline to more than MAX_INLINED slots: counted
    with exact integers from the definitions' sizes, never by expanding (a small file cannot
    ask for 2**50 nodes)."""
    calls, own, constants, order = sizes
    size: dict = {}
    for name in order:
        size[name] = own[name] + sum(k * size[c] for c, k in calls[name].items())
    top = Counter(n["definition"] for n in nodes if n["op"] == CALL)
    used: set = set()
    todo = list(top)
    while todo:
        n = todo.pop()
        if n not in used:
            used.add(n)
            todo.extend(calls[n])
    total = len(nodes) - sum(top.values()) + sum(constants[n] for n in used)
    total += sum(k * size[c] for c, k in top.items())
    if total > MAX_INLINED:
        heavy = max(top, key=lambda c: top[c] * size[c])
        shown = f"{total:,}" if total < 10**15 else f"about 2**{total.bit_length() - 1}"
        raise DocumentError(
            f"the document would inline to {shown} nodes (definition {heavy!r} alone is "
            f"{size[heavy]:,} nodes per instance); at most {MAX_INLINED:,} are allowed"
        )


def read_definition(name, data, existing) -> dict:
    """One definition's data (a ``"definitions"`` entry), validated as a document's would be
    against the ``existing`` definitions (name -> Definition) it may use; the parts for
    Graph._make_definition. DocumentError otherwise."""
    ports = {n: (d.arity, d.output_arity) for n, d in existing.items()}
    if not isinstance(data, dict):
        raise DocumentError(f"definition {name!r} must be an object, not {_kind(data)}")
    raw = dict(data)
    raw.setdefault("edges", [])
    stub = {n: {"inputs": [{"name": f"i{k}", "node": k} for k in range(a)],
                "outputs": [{"name": f"o{k}", "node": a + k} for k in range(o)],
                "nodes": [{"id": k, "op": INPUT} for k in range(a)]
                + [{"id": a + k, "op": OUTPUT} for k in range(o)]}
            for n, (a, o) in ports.items() if n != name}
    stub[name] = raw
    parts, _ports, (calls, _own, _const, _order) = _validate_definitions(stub, VERSION)
    # The calls of the existing definitions, for the recursion check against them.
    real = {n: sorted(d.callees()) for n, d in existing.items()}
    real[name] = sorted(calls[name])
    try:
        check_calls(real)
    except GraphError as e:
        raise DocumentError(str(e)) from None
    return next(p for p in parts if p["name"] == name)


def _kind_node(raw: dict, nid, op, where, version) -> dict:
    """A node of a registered kind that stores attributes (engine.core.kinds): read with the
    kind's own reader; version 3 and up."""
    if version < kinds.DOCUMENT_VERSION:
        raise DocumentError(f"{where}: a {op!r} node needs document version {kinds.DOCUMENT_VERSION}")
    try:
        params = kinds.get(op).from_json(raw)
    except (ValueError, TypeError) as e:
        raise DocumentError(f"{where}: {e}") from None
    return {"id": nid, "op": op, "params": params}


def _number_refs(graph: Graph) -> set:
    nums = [n for n in graph.nx.nodes if graph.nx.nodes[n]["op"] == NUMBER]
    return set(nums) | {graph.nx.nodes[n]["name"] for n in nums if graph.nx.nodes[n].get("name")}


def _check_descend(spec, refs: set) -> dict:
    """The "descend" settings, checked (DocumentError naming the bad one), as a new dict."""
    where = '"descend"'
    if not isinstance(spec, dict):
        raise DocumentError(f"{where} must be an object, not {_kind(spec)}")
    unknown = [k for k in spec if k not in DESCEND_KEYS]
    if unknown:
        raise DocumentError(f"{where}: unknown setting {_show(unknown[0])}; known: {', '.join(DESCEND_KEYS)}")
    out = {}
    if "lr" in spec:
        lr = spec["lr"]
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (math.isfinite(lr) and lr > 0):
            raise DocumentError(f"{where}: lr must be a finite number above 0, not {_show(lr)}")
        out["lr"] = float(lr)
    if "steps" in spec:
        steps = spec["steps"]
        if not _is_int(steps) or not 1 <= steps <= MAX_DESCEND_STEPS:
            raise DocumentError(f"{where}: steps must be a whole number from 1 to {MAX_DESCEND_STEPS:,}, "
                                f"not {_show(steps)}")
        out["steps"] = int(steps)
    if "trainable" in spec:
        names = spec["trainable"]
        if not isinstance(names, list) or not names or len(names) > MAX_DESCEND_STEPS:
            raise DocumentError(f"{where}: trainable must be a non-empty list of number names or ids")
        for ref in names:
            if isinstance(ref, bool) or not isinstance(ref, (str, int)) or ref not in refs:
                raise DocumentError(f"{where}: trainable {_show(ref)} is not a number node of the document")
        out["trainable"] = list(names)
    if "goal" in spec:
        if spec["goal"] not in ("minimize", "maximize"):
            raise DocumentError(f'{where}: goal must be "minimize" or "maximize", not {_show(spec["goal"])}')
        out["goal"] = spec["goal"]
    return out


def _check_version(data):
    if "version" not in data:
        raise DocumentError('the document has no "version" (this gradcanvas reads version 1)')
    v = data["version"]
    supported = ", ".join(map(str, SUPPORTED_VERSIONS))
    if not _is_int(v):
        raise DocumentError(f'"version" must be a whole number, not {_show(v)} (supported: {supported})')
    if v not in SUPPORTED_VERSIONS:
        newer = " is newer than this gradcanvas understands" if v > max(SUPPORTED_VERSIONS) else " is unknown"
        raise DocumentError(f"document version {v}{newer}; supported versions: {supported}")
    return v


def _validate_nodes(raw_nodes, version=1, prefix="", ports=None, body=False):
    """Nodes of the top level, or (``body``) of a definition's body, whose port placeholders
    (ops "input", "output") may appear only there; instances ("call") name a definition of
    ``ports`` (name -> (inputs, outputs)). Messages start with ``prefix``."""
    ports = ports or {}
    pre = f"{prefix}: " if prefix else ""
    nodes = []
    by_id: dict[int, dict] = {}
    names: dict[str, int] = {}
    for index, raw in enumerate(raw_nodes):
        where = f"{pre}nodes[{index}]"
        if not isinstance(raw, dict):
            raise DocumentError(f"{where} must be an object, not {_kind(raw)}")
        if "id" not in raw:
            raise DocumentError(f'{where} has no "id"')
        nid = raw["id"]
        if not _is_int(nid) or nid < 0:
            raise DocumentError(f'{where}: "id" must be a non-negative whole number, not {_show(nid)}')
        if nid >= MAX_ID:
            raise DocumentError(f"{where}: id {nid} is too large (ids must be below 2**53)")
        if nid in by_id:
            raise DocumentError(f"{where}: node id {nid} is used twice")
        where = f"{pre}node {nid}"
        op = raw.get("op")
        if not isinstance(op, str):
            raise DocumentError(f'{where}: "op" must be "number" or an op name, not {_show(op)}')
        if op in PLACEHOLDERS and not body:
            raise DocumentError(f"{where}: an {op!r} node (a definition's port) belongs in a body")
        if op == CALL or op in PLACEHOLDERS:
            if version < 3:
                raise DocumentError(f"{where}: a {op!r} node needs document version 3")
            node = _composite_node(raw, nid, op, where, ports)
            if node["name"] is not None:
                if node["name"] in names:
                    raise DocumentError(
                        f"{where}: the name {node['name']!r} is already used by node {names[node['name']]}"
                    )
                names[node["name"]] = nid
            nodes.append(node)
            by_id[nid] = node
            continue
        kind = kinds.KINDS.get(op) if op not in OPS else None
        if op not in OPS and (kind is None or kind.from_json is None):
            raise DocumentError(f"{where}: unknown op {_show(op)}; known ops: {', '.join(OPS)}")
        try:
            name = check_name(raw.get("name"))
        except GraphError as e:
            raise DocumentError(f"{where}: {e}") from None
        if name is not None:
            where = f"{pre}node {nid} ({name!r})"
            if name in names:
                raise DocumentError(f"{where}: the name {name!r} is already used by node {names[name]}")
            names[name] = nid
        if kind is not None:
            if body:
                raise DocumentError(f"{where}: {outside_only(op)}")
            node = _kind_node(raw, nid, op, where, version)
            node["name"] = name
            node["x"] = _finite(raw.get("x", 0.0), f"{where}: x")
            node["y"] = _finite(raw.get("y", 0.0), f"{where}: y")
            nodes.append(node)
            by_id[nid] = node
            continue
        node = {"id": nid, "op": op, "name": name}
        raw_params = raw.get("params")
        if raw_params is not None:
            if version < 2:
                raise DocumentError(f'{where}: "params" needs document version 2')
            if op == NUMBER or not OPS[op].params:
                raise DocumentError(f"{where}: a {op!r} node has no parameters")
        if op != NUMBER and OPS[op].params:
            try:
                node["params"] = check_params(OPS[op], raw_params)
            except ValueError as e:
                raise DocumentError(f"{where}: {e}") from None
        if op == NUMBER:
            if "value" not in raw:
                raise DocumentError(f'{where}: a number node needs a "value"')
            if isinstance(raw["value"], dict):
                if version < 2:
                    raise DocumentError(f"{where}: an array value needs document version 2")
                node["value"] = _array(raw["value"], f"{where}: value")
            else:
                node["value"] = _finite(raw["value"], f"{where}: value")
        elif "value" in raw and raw["value"] is not None:
            raise DocumentError(
                f"{where}: only number nodes store a value; the value of a {op!r} node is computed"
            )
        node["x"] = _finite(raw.get("x", 0.0), f"{where}: x")
        node["y"] = _finite(raw.get("y", 0.0), f"{where}: y")
        role = raw.get("role")
        if role is not None:
            if role not in ROLES:
                roles = ", ".join(map(repr, ROLES))
                raise DocumentError(f'{where}: "role" must be one of {roles}, not {_show(role)}')
            node["role"] = role
        nodes.append(node)
        by_id[nid] = node
    return nodes, by_id


def _composite_node(raw, nid, op, where, ports) -> dict:
    try:
        name = check_name(raw.get("name"))
    except GraphError as e:
        raise DocumentError(f"{where}: {e}") from None
    if op in PLACEHOLDERS and name is not None:
        raise DocumentError(f"{where}: a port's node has no name of its own (the port's name is in the list)")
    node = {"id": nid, "op": op, "name": name}
    if op == CALL:
        d = raw.get("definition")
        if not isinstance(d, str):
            raise DocumentError(f'{where}: an instance needs "definition", the name of one, not {_show(d)}')
        if d not in ports:
            known = ", ".join(sorted(ports)[:10]) or "none"
            raise DocumentError(f"{where}: definition {_show(d)} does not exist (definitions: {known})")
        node["definition"] = d
    for key in ("value", "params"):
        if raw.get(key) is not None:
            raise DocumentError(f"{where}: a {op!r} node has no {key!r}")
    node["x"] = _finite(raw.get("x", 0.0), f"{where}: x")
    node["y"] = _finite(raw.get("y", 0.0), f"{where}: y")
    return node


def _validate_edges(raw_edges, by_id, prefix="", ports=None):
    pre = f"{prefix}: " if prefix else ""
    edges = []
    wired: dict[tuple[int, int], int] = {}  # (target, port) -> edge index
    for index, raw in enumerate(raw_edges):
        where = f"{pre}edges[{index}]"
        if not isinstance(raw, dict):
            raise DocumentError(f"{where} must be an object, not {_kind(raw)}")
        for key in ("source", "target", "port"):
            if key not in raw:
                raise DocumentError(f'{where} has no "{key}"')
            v = raw[key]
            if not _is_int(v) or v < 0:
                raise DocumentError(f'{where}: "{key}" must be a non-negative whole number, not {_show(v)}')
        s, t, p = raw["source"], raw["target"], raw["port"]
        sp = raw.get("source_port", 0)
        if not _is_int(sp) or sp < 0:
            raise DocumentError(
                f'{where}: "source_port" must be a non-negative whole number, not {_show(sp)}'
            )
        where = f"{where} ({s} -> {t} port {p})"
        if s not in by_id:
            raise DocumentError(f"{where}: source node {s} does not exist")
        count = _output_arity(by_id[s], ports)
        if sp >= count:
            raise DocumentError(
                f"{where}: source_port {sp} out of range: node {_label(by_id[s])} has {_outputs_text(count)}"
            )
        if t not in by_id:
            raise DocumentError(f"{where}: target node {t} does not exist")
        op = by_id[t]["op"]
        if op == NUMBER:
            raise DocumentError(f"{where}: node {_label(by_id[t])} is a number and has no inputs")
        arity = _arity(by_id[t], ports)
        if p >= arity:
            has = "no inputs" if arity == 0 else "port 0" if arity == 1 else f"ports 0..{arity - 1}"
            what = f"instance of {by_id[t]['definition']!r}" if op == CALL else repr(op)
            raise DocumentError(f"{where}: port {p} out of range for {what} ({has})")
        if s == t:
            raise DocumentError(f"{where}: node {_label(by_id[s])} cannot feed itself")
        if (t, p) in wired:
            raise DocumentError(
                f"{where}: port {p} of node {_label(by_id[t])} is already wired by edges[{wired[(t, p)]}]"
            )
        wired[(t, p)] = index
        edges.append((s, t, p, sp) if sp else (s, t, p))
    return edges


def _check_acyclic(edges, by_id, prefix=""):
    # Kahn's algorithm on plain dicts: linear, and a few times faster than building a
    # networkx graph for a check that almost always passes. networkx names the cycle.
    indegree = dict.fromkeys(by_id, 0)
    succ: dict[int, list[int]] = {}
    for s, t, *_ in edges:
        indegree[t] += 1
        succ.setdefault(s, []).append(t)
    ready = [n for n, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for t in succ.get(n, ()):
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    if seen == len(indegree):
        return
    stuck = nx.DiGraph((s, t) for s, t, *_ in edges if indegree[s] and indegree[t])
    cycle = [u for u, _ in nx.find_cycle(stuck)]
    shown = " -> ".join(_label(by_id[n]) for n in cycle[:12])
    more = " -> …" if len(cycle) > 12 else ""
    where = f"{prefix}: " if prefix else ""
    raise DocumentError(f"{where}the wires form a cycle: {shown}{more} -> {_label(by_id[cycle[0]])}")


# ---------------------------------------------------------------------------- helpers


def _path(path):
    # An int would be taken by open() as a file descriptor: refuse anything but a path.
    if isinstance(path, bool) or not isinstance(path, (str, bytes, os.PathLike)):
        raise DocumentError(f"a file path is needed, not {type(path).__name__}")
    try:
        p = os.fspath(path)
    except Exception as e:  # a path object whose __fspath__ fails in any way
        raise DocumentError(f"a file path is needed: {_why(e)}") from None
    if isinstance(p, bytes):
        p = os.fsdecode(p)
    if not p or "\0" in p:
        raise DocumentError(f"invalid file path {p!r}")
    return p


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _finite(v, what) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DocumentError(f"{what} must be a number, not {_show(v)}")
    try:
        f = float(v)
    except OverflowError:
        raise DocumentError(f"{what} is too large for a float") from None
    if not math.isfinite(f):
        raise DocumentError(f"{what} must be finite, not {f}")
    return f


def _array(raw: dict, what):
    """A version-2 array value ``{"shape": [...], "data": [...], "dtype": "int"?}``, checked."""
    for key in raw:
        if key not in ("shape", "data", "dtype"):
            raise DocumentError(f'{what}: unknown key {_show(key)} (an array has "shape", "data", "dtype")')
    shape = raw.get("shape")
    if not isinstance(shape, list) or not 1 <= len(shape) <= arrays.MAX_DIMS:
        raise DocumentError(
            f'{what}: "shape" must be a list of 1 to {arrays.MAX_DIMS} sizes, not {_show(shape)}'
        )
    if not all(_is_int(n) and n >= 1 for n in shape):
        raise DocumentError(f'{what}: "shape" sizes must be whole numbers of at least 1, not {shape}')
    count = math.prod(shape)
    if count > arrays.MAX_ELEMENTS:
        raise DocumentError(f"{what}: {count:,} elements; at most {arrays.MAX_ELEMENTS:,}")
    dtype = raw.get("dtype", "float")
    if dtype not in ("float", "int"):
        raise DocumentError(f'{what}: "dtype" must be "float" or "int", not {_show(dtype)}')
    data = raw.get("data")
    if not isinstance(data, list):
        raise DocumentError(f'{what}: "data" must be a list of numbers, not {_show(data)}')
    try:
        if data and isinstance(data[0], list):  # nested rows: checked for raggedness, then flattened
            values = arrays.from_nested(data, what)
            if values.shape != tuple(shape):
                raise DocumentError(
                    f"{what}: data has shape {arrays.shape_text(values.shape)}, "
                    f"but shape says {arrays.shape_text(shape)}"
                )
        else:
            if len(data) != count:
                raise DocumentError(
                    f"{what}: data has {len(data)} numbers, "
                    f"but shape {arrays.shape_text(shape)} needs {count}"
                )
            values = arrays.from_nested(data, what).reshape(shape)
    except ValueError as e:
        raise DocumentError(str(e)) from None
    if dtype == "int":
        if not (np.floor(values) == values).all() or np.abs(values).max() > 2**53:
            raise DocumentError(f'{what}: "dtype" is "int", but the data has numbers that are not whole')
        values = values.astype(np.int64)
    values.flags.writeable = False  # as Graph stores arrays: edits go through set_value
    return values


def _label(node: dict) -> str:
    if node["name"]:
        return repr(node["name"])
    what = node["definition"] if node["op"] == CALL else node["op"]
    return f"{node['id']} ({what})"


def _kind(v) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(v), "a number" if isinstance(v, (int, float)) else type(v).__name__
    )


def _show(v) -> str:
    """A short, safe rendering of any JSON value (never repr of a deep container)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return repr(v if len(v) <= 40 else v[:40] + "…")
    if isinstance(v, int):
        s = str(v) if v.bit_length() < 200 else "a huge number"
        return s
    if isinstance(v, float):
        return repr(v)
    return _kind(v)


def _why(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    try:
        return str(e) or type(e).__name__
    except Exception:  # noqa: BLE001 — a hostile __str__ must not escape either
        return type(e).__name__


__all__ = [
    "TooManyNodesError",
    "FORMAT",
    "VERSION",
    "SUPPORTED_VERSIONS",
    "MAX_FILE_BYTES",
    "dumps",
    "fragment",
    "from_dict",
    "load",
    "loads",
    "read_fragment",
    "save",
    "to_dict",
]
