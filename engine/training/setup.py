"""What to train in a document, found from the document itself: the data, the test split and
the parameters a Train panel offers before the user changes anything.

- Data: the dataset node the output depends on (X_train, y_train; its test ports when it has
  test points), else the number nodes named ``X`` and ``y`` (with ``X_test``/``y_test``).
- Parameters: the named number nodes holding floats that the loss depends on and that are
  weights or biases by name (``W1``, ``w``, ``b2``, ``W1_x1``: a name starting with W, w or b),
  except data; when no name looks like that, every named float number the loss depends on
  that is not data. Constants such as a regularisation strength ``alpha`` or the feature
  selectors ``pick_x1`` stay put.

>>> from engine.training import build_mlp, dataset
>>> net = build_mlp(dataset("xor", n=20, seed=0), hidden=[3], seed=0)
>>> s = training_setup(net.graph); [net.graph.label(p) for p in s["params"]], s["test"] is not None
(['W1', 'b1', 'W2', 'b2'], True)
"""

from __future__ import annotations

import re

import networkx as nx
import numpy as np

from ..core.ops import NUMBER
from .datanode import data_value, dataset_of, find_dataset
from .errors import TrainingError

_PARAM_NAME = re.compile(r"[Wwb]([A-Za-z]?\d.*|_.*|)")


def looks_like_parameter(name: str | None) -> bool:
    """Whether a name reads as a weight or bias: W, W1, w2, b, b1, W1_x1, Wxh.

    >>> [looks_like_parameter(n) for n in ("W1", "b", "W1_sin_x1", "alpha", "pick_x1", "bias")]
    [True, True, True, False, False, False]
    """
    return bool(name) and _PARAM_NAME.fullmatch(name) is not None


def data_nodes(graph) -> tuple[list, list | None]:
    """(data, test): the data references (``(node, port)``) and the test split's, or None."""
    ds = find_dataset(graph)
    if ds is not None:
        test = [(ds, 2), (ds, 3)] if len(dataset_of(graph, ds).test) else None
        return [(ds, 0), (ds, 1)], test
    names = {n: graph.name(n) for n in graph.nodes() if graph.op(n) == NUMBER and graph.name(n)}
    by_name = {v: k for k, v in names.items()}
    if "X" in by_name and "y" in by_name and all(
        data_value(graph, by_name[k]) is not None for k in ("X", "y")
    ):
        data = [(by_name["X"], 0), (by_name["y"], 0)]
        test = None
        if "X_test" in by_name and "y_test" in by_name:
            test = [(by_name["X_test"], 0), (by_name["y_test"], 0)]
        return data, test
    raise TrainingError(
        "no data to train on: add a dataset node (Learn ▸ New Network…) or name the input array X "
        "and the targets y"
    )


def parameters(graph, data=(), loss=None) -> list[int]:
    """The default parameters (see the module docstring), in document order."""
    out = graph.output_node() if loss is None else graph.resolve(loss)
    if out is None:
        raise TrainingError("training needs a loss: the document has no output")
    upstream = nx.ancestors(graph.nx, out)
    used = {n for n, _p in data}
    cands = []
    for n in graph.nodes():
        if n not in upstream or n in used or graph.op(n) != NUMBER or not graph.name(n):
            continue
        v = graph.number(n)
        if type(v) is np.ndarray and v.dtype.kind != "f":
            continue
        cands.append(n)
    named = [n for n in cands if looks_like_parameter(graph.name(n))]
    return named or [n for n in cands if not graph.name(n).startswith("pick_")]


def training_setup(graph) -> dict:
    """Trainer arguments for ``graph``: ``params``, ``data``, ``test`` (TrainingError when
    the document has no data or no parameters)."""
    data, test = data_nodes(graph)
    params = parameters(graph, data)
    if not params:
        raise TrainingError(
            "nothing to train: the loss depends on no named number (name the weights W1, b1, ...)"
        )
    return {"params": params, "data": data, "test": test}





__all__ = ["data_nodes", "looks_like_parameter", "parameters", "training_setup"]
