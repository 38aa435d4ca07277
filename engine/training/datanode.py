"""The dataset node: a document node whose four outputs are a data set's training and test
points, ``X_train``, ``y_train``, ``X_test``, ``y_test`` (DESIGN.md §7).

It holds either a *recipe* (generator, n, noise, seed, split, classes: the points are made
again from it, so a file stores a few numbers) or the *points* themselves (a CSV import or
points added and removed by hand, stored inline within the dataset limits). Its attributes
live in the node's ``params`` (``{"recipe": {...}}`` or ``{"points": {...}}``, checked and
completed, with the :class:`~engine.training.datasets.Dataset` they make under ``"data"``,
which a document never stores), so ``Graph.add_op("dataset", params=...)`` and
``Graph.set_params`` edit it as one undoable edit.

``y`` holds class labels 0..C−1 (int64, shape (n,)) for classification and the targets as a
column (float64, shape (n, 1)) for regression, the shape a network's (n, 1) prediction is
compared with (a vector would broadcast against it silently).

>>> from engine import Graph
>>> g = Graph(); d = g.add_op("dataset", params=dataset_params(recipe={"generator": "xor", "n": 20}))
>>> g.value(d, 0).shape, g.value(d, 1).dtype.name, g.output_arity(d)
((10, 2), 'int64', 4)
>>> dataset_of(g, d).recipe["generator"]
'xor'
"""

from __future__ import annotations

import numpy as np

from ..core import kinds
from ..core.errors import GraphError
from .datasets import Dataset, check_recipe, from_points, from_recipe
from .errors import DataError

DATASET = "dataset"
PORTS = ("X_train", "y_train", "X_test", "y_test")
DEFAULT_RECIPE = {"generator": "circle", "n": 200, "noise": 0.0, "seed": 0, "split": 0.5}


def dataset_params(data: Dataset | None = None, *, recipe=None, points=None) -> dict:
    """The params of a dataset node: from a Dataset (its recipe if it has one, else its
    points), a recipe dict, or a points dict (:meth:`Dataset.to_points`). DataError for bad
    input; with nothing given, Playground's default circle."""
    given = [x is not None for x in (data, recipe, points)]
    if sum(given) > 1:
        raise DataError("give a dataset, a recipe or points, not several")
    if data is not None:
        if not isinstance(data, Dataset):
            raise DataError(f"a dataset node holds a Dataset, not {type(data).__name__}")
        if data.recipe is not None:
            return {"recipe": dict(data.recipe), "data": data}
        return {"points": data.to_points(), "data": data}
    if points is not None:
        d = from_points(points, name="points")
        return {"points": d.to_points(), "data": d}
    r = check_recipe(DEFAULT_RECIPE if recipe is None else recipe)
    return {"recipe": r, "data": from_recipe(r)}


def _check_params(params) -> dict:
    """NodeKind.check_params: cleaned params (ValueError, as DataError is, for bad ones)."""
    if params is None:
        return dataset_params()
    if not isinstance(params, dict):
        raise DataError(f"a dataset node's params are a dict, not {type(params).__name__}")
    unknown = [k for k in params if k not in ("recipe", "points", "data")]
    if unknown:
        raise DataError(f"a dataset node has no {unknown[0]!r} (it holds a recipe or points)")
    data = params.get("data")
    if isinstance(data, Dataset) and ("recipe" in params) != ("points" in params):
        return {k: params[k] for k in ("recipe", "points", "data") if k in params}  # made here
    if ("recipe" in params) == ("points" in params):
        raise DataError("a dataset node holds either a recipe or points")
    if "recipe" in params:
        return dataset_params(recipe=params["recipe"])
    return dataset_params(points=params["points"])


def _to_json(params) -> dict:
    return {"recipe": params["recipe"]} if "recipe" in params else {"points": params["points"]}


def _from_json(raw: dict) -> dict:
    if raw.get("value") is not None:
        raise DataError("a dataset node stores a recipe or points, not a value")
    if raw.get("params") is not None:
        raise DataError('a dataset node stores "recipe" or "points", not "params"')
    has = {k: raw[k] for k in ("recipe", "points") if k in raw}
    if len(has) != 1:
        raise DataError('a dataset node needs "recipe" or "points" (one of them)')
    return _check_params(has)


def data_of(params) -> Dataset:
    return params["data"]


def arrays(d: Dataset) -> tuple:
    """The four outputs: X_train, y_train, X_test, y_test (y a column for regression)."""
    def target(y):
        return y if d.classes is not None else y.reshape(-1, 1)

    return d.X_train, target(d.y_train), d.X_test, target(d.y_test)


def _compile(build, node, attrs, inputs):
    out = arrays(data_of(attrs["params"]))
    return tuple(build.number(v, node if k == 0 else (node, PORTS[k])) for k, v in enumerate(out))


KIND = kinds.NodeKind(
    DATASET,
    inputs=lambda attrs: (),
    outputs=lambda attrs: PORTS,
    compile=_compile,
    doc="a data set: training and test points from a recipe or stored inline",
    check_params=_check_params,
    to_json=_to_json,
    from_json=_from_json,
    symbol="data",
)
kinds.register(KIND)


def is_dataset(graph, node) -> bool:
    return graph.op(node) == DATASET


def dataset_of(graph, ref) -> Dataset:
    """The Dataset a dataset node holds; GraphError if ``ref`` is not a dataset node."""
    n = graph.resolve(ref)
    if graph.op(n) != DATASET:
        raise GraphError(f"node {graph.label(n)} is a {graph.op(n)}, not a dataset node")
    return data_of(graph.nx.nodes[n]["params"])


def data_value(graph, node: int, port: int = 0):
    """The array at output ``port`` of a data node: a number node's value (port 0), or one
    of a dataset node's four outputs; None for anything else."""
    op = graph.op(node)
    if op == DATASET:
        return arrays(dataset_of(graph, node))[port] if 0 <= port < len(PORTS) else None
    if port == 0 and op == "number":
        v = graph.number(node)
        return v if type(v) is np.ndarray else None
    return None


def find_dataset(graph) -> int | None:
    """The dataset node the output depends on (else the only one in the document)."""
    ids = [n for n in graph.nodes() if graph.op(n) == DATASET]
    if len(ids) <= 1:
        return ids[0] if ids else None
    out = graph.output_node()
    if out is not None:
        import networkx as nx

        used = [n for n in ids if n in nx.ancestors(graph.nx, out)]
        if used:
            return used[0]
    return ids[0]


def use_dataset_node(graph, data: Dataset, names=("X", "y", "X_test", "y_test"), x=None, y=None) -> int:
    """Replace a network's data numbers (``X``, ``y`` and, when present, ``X_test`` and
    ``y_test``, as :func:`~engine.training.network.build_mlp` names them) by one dataset
    node holding ``data``: each consumer of X is wired from its X_train port, of y from
    y_train. Returns the new node. Edits ``graph`` (a network being built, not a document
    on screen)."""
    ids = [graph.resolve(n) if n in graph else None for n in names]
    if ids[0] is None or ids[1] is None:
        raise GraphError(f"the network has no data nodes {names[0]} and {names[1]}")
    px, py = graph.position(ids[0])
    node = graph.add_op(DATASET, name="data", x=px if x is None else x, y=py if y is None else y,
                        params=dataset_params(data))
    for port, old in enumerate(ids):
        if old is None:
            continue
        for _s, t, p in list(graph.nx.out_edges(old, keys=True)):
            graph.disconnect(t, p)
            graph.connect(node, t, p, source_port=port)
        graph.remove_node(old)
    return node


__all__ = [
    "DATASET",
    "KIND",
    "PORTS",
    "arrays",
    "data_value",
    "dataset_of",
    "dataset_params",
    "find_dataset",
    "is_dataset",
    "use_dataset_node",
]
