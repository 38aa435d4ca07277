"""The dataset node (issue 15 point 1): a node kind with four outputs holding a recipe or
inline points, saved in documents of version 3, and data for the Trainer as (node, port).
Oracles: the generators' own arrays, the same network trained on plain number nodes, and
hand-written files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import DocumentError, Graph, GraphError
from engine import training as T


def _net_on_node(d, hidden=(3,)):
    net = T.build_mlp(d, hidden=list(hidden), seed=0)
    node = T.use_dataset_node(net.graph, d)
    return net, node


def test_outputs_are_the_recipes_splits_and_the_file_stores_the_recipe(tmp_path):
    d = T.dataset("spiral", n=60, noise=0.1, seed=3, classes=3)
    g = Graph()
    n = g.add_op("dataset", name="data", params=T.dataset_params(d))
    for port, want in enumerate((d.X_train, d.y_train, d.X_test, d.y_test)):
        assert np.array_equal(g.value(n, port), want)
    p = tmp_path / "d.json"
    g.save(p)
    raw = json.loads(p.read_text())
    assert raw["version"] == 3
    (node,) = raw["nodes"]
    assert node["recipe"] == {"generator": "spiral", "n": 60, "noise": 0.1, "seed": 3, "split": 0.5,
                              "classes": 3}
    assert "points" not in node and "params" not in node
    back = Graph.load(p)
    assert np.array_equal(back.value("data", 2), d.X_test)


def test_edited_points_are_stored_inline_and_round_trip(tmp_path):
    d = T.dataset("xor", n=10, seed=0).add_point([1.5, -2.0], 1, test=True).remove_point(0)
    g = Graph()
    g.add_op("dataset", name="data", params=T.dataset_params(d))
    p = tmp_path / "d.json"
    g.save(p)
    node = json.loads(p.read_text())["nodes"][0]
    assert "points" in node and "recipe" not in node
    back = T.dataset_of(Graph.load(p), "data")
    assert back.X_test[-1].tolist() == [1.5, -2.0] and int(back.y_test[-1]) == 1
    assert np.array_equal(back.X_train, d.X_train) and np.array_equal(back.y_train, d.y_train)


@pytest.mark.parametrize(
    "node, words",
    [
        ({"recipe": {"generator": "cube"}}, ["node 1", "unknown dataset 'cube'"]),
        ({"recipe": {"generator": "xor"}, "points": {}}, ["node 1", "recipe"]),
        ({}, ["node 1", "recipe", "points"]),
        ({"points": {"X_train": [[1, 2], [3]], "y_train": [0, 1], "classes": 2}}, ["node 1"]),
        ({"recipe": {"generator": "xor", "n": 10**9}}, ["node 1", "n must be between"]),
    ],
)
def test_a_bad_dataset_node_is_refused_naming_it(node, words):
    doc = {"format": "gradcanvas", "version": 3, "nodes": [{"id": 1, "op": "dataset", **node}]}
    with pytest.raises(DocumentError) as e:
        Graph.from_dict(doc)
    for w in words:
        assert w in str(e.value)


def test_a_dataset_node_needs_version_3_and_wires_name_its_ports():
    base = {"format": "gradcanvas", "nodes": [{"id": 1, "op": "dataset", "recipe": {"generator": "xor"}},
                                              {"id": 2, "op": "neg"}]}
    with pytest.raises(DocumentError, match="version 3"):
        Graph.from_dict({**base, "version": 2})
    wire = {"source": 1, "target": 2, "port": 0}
    g = Graph.from_dict({**base, "version": 3, "edges": [{**wire, "source_port": 2}]})
    assert np.array_equal(g.value(2), -g.value(1, 2))
    with pytest.raises(DocumentError, match="outputs 0..3"):
        Graph.from_dict({**base, "version": 3, "edges": [{**wire, "source_port": 4}]})


def test_set_params_is_an_edit_with_an_event_and_a_refusal_leaves_it():
    g = Graph()
    n = g.add_op("dataset")
    seen = []
    g.subscribe(seen.append)
    g.set_params(n, T.dataset_params(recipe={"generator": "moons", "n": 20, "seed": 1}))
    assert T.dataset_of(g, n).recipe["generator"] == "moons" and seen
    with pytest.raises(GraphError):
        g.set_params(n, {"recipe": {"generator": "moons", "noise": -1}})
    assert T.dataset_of(g, n).n == 20


def test_training_on_the_nodes_ports_matches_training_on_number_nodes():
    d = T.dataset("moons", n=80, noise=0.2, seed=0)
    plain = T.build_mlp(d, hidden=[4], seed=0).trainer(optimizer="adam", lr=0.05, batch=16, seed=2)
    net, node = _net_on_node(d, hidden=[4])
    run = T.Trainer(net.graph, params=net.params, data=[(node, 0), (node, 1)],
                    test=[(node, 2), (node, 3)], optimizer="adam", lr=0.05, batch=16, seed=2)
    plain.run(steps=12)
    run.run(steps=12)
    assert [r.loss for r in run.history] == [r.loss for r in plain.history]
    assert [r.test_loss for r in run.history] == [r.test_loss for r in plain.history]
    assert run.data == [(node, 0), (node, 1)]
    with pytest.raises(T.TrainingError, match="no output port 7"):
        T.Trainer(net.graph, params=net.params, data=[(node, 7), (node, 1)])


def test_regression_targets_are_a_column_and_setup_finds_the_node():
    d = T.dataset("plane", n=30, seed=0)
    net, node = _net_on_node(d)
    assert net.graph.value(node, 1).shape == (15, 1)
    s = T.training_setup(net.graph)
    assert s["data"] == [(node, 0), (node, 1)] and s["test"] == [(node, 2), (node, 3)]
    assert [net.graph.label(p) for p in s["params"]] == ["W1", "b1", "W2", "b2"]


def test_the_command_line_trains_a_dataset_node_by_default(tmp_path, capsys):
    from gui import cli
    from resources import EXAMPLES

    code = cli.main(["train", str(EXAMPLES / "train_gauss.json"), "--params", "W1,b1", "--optimizer", "sgd",
                     "--lr", "0.1", "--until-accuracy", "1", "--json"])
    assert code == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    want = T.Trainer(Graph.load(EXAMPLES / "train_gauss.json"), params=["W1", "b1"],
                     data=[("data", 0), ("data", 1)], test=[("data", 2), ("data", 3)],
                     optimizer="sgd", lr=0.1)
    want.run(until_accuracy=1)
    assert [s["loss"] for s in steps] == [r.loss for r in want.history]
