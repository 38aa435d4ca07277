"""gradcanvas train: the trajectory it prints and saves against torch.optim, one-line refusals
with exit 2, a non-finite run with exit 1 naming the step, and no Qt."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import Graph
from engine.io.document import load, save
from engine.training import build_mlp, dataset
from gui import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    net = build_mlp(dataset("xor", n=40, noise=0.1, seed=3), hidden=[4], seed=1)
    path = tmp_path_factory.mktemp("train") / "xor.json"
    save(net.graph, path)
    return str(path)


def run(capsys, *argv):
    code = cli.main(["train", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err):
    return err.startswith("gradcanvas: error: ") and err.count("\n") == 1


def test_json_run_and_save_match_torch_and_load_no_qt(doc, tmp_path):
    if os.environ.get("CI"):
        import torch
    else:
        torch = pytest.importorskip("torch")
    out_path = tmp_path / "trained.json"
    script = (
        "import sys; from gui.cli import main; code = main(sys.argv[1:]); "
        "assert 'PySide6' not in sys.modules; sys.exit(code)"
    )
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "train",
            doc,
            "--params",
            "W1,b1,W2,b2",
            "--data",
            "X,y",
            "--optimizer",
            "momentum",
            "--lr",
            "0.1",
            "--nesterov",
            "--json",
            "--save",
            str(out_path),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    steps = json.loads(r.stdout)["steps"]
    assert [s["step"] for s in steps] == list(range(1, 101))  # neither --steps nor --epochs: 100
    g = load(doc)
    P = {n: torch.tensor(np.array(g.number(n)), requires_grad=True) for n in ("W1", "b1", "W2", "b2")}
    X, y = torch.tensor(np.array(g.number("X"))), torch.tensor(np.array(g.number("y")))
    opt = torch.optim.SGD(P.values(), lr=0.1, momentum=0.9, nesterov=True)
    for s in steps:
        logits = torch.tanh(X @ P["W1"] + P["b1"]) @ P["W2"] + P["b2"]
        loss = torch.nn.functional.cross_entropy(logits, y)
        assert s["loss"] == pytest.approx(loss.item(), rel=1e-9)
        assert s["accuracy"] == pytest.approx(float((logits.argmax(1) == y).double().mean()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    trained = load(out_path)
    for n, p in P.items():
        assert np.allclose(trained.number(n), p.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert np.array_equal(trained.number("X"), g.number("X")) and len(trained) == len(g)


def test_table_epochs_and_test_split(doc, capsys):
    code, out, err = run(
        capsys,
        doc,
        "--params",
        "W1,b1,W2,b2",
        "--data",
        "X,y",
        "--test",
        "X_test,y_test",
        "--optimizer",
        "adam",
        "--lr",
        "0.05",
        "--batch",
        "8",
        "--epochs",
        "2",
    )
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["step", "epoch", "loss", "accuracy", "test", "loss", "test", "accuracy"]
    # 20 training points in batches of 8: 3 steps per epoch, 6 steps, test rows at 3 and 6
    assert [ln.split()[0] for ln in lines[1:-1]] == ["1", "2", "3", "4", "5", "6"]
    assert len(lines[3].split()) == 6 and len(lines[2].split()) == 4
    assert lines[-1].startswith("6 steps of adam (lr 0.05), batches of 8, 3 step(s) per epoch")


def test_until_accuracy_stops_early(doc, capsys):
    code, out, _ = run(
        capsys,
        doc,
        "--params",
        "W1,b1,W2,b2",
        "--data",
        "X,y",
        "--optimizer",
        "adam",
        "--lr",
        "0.1",
        "--until-accuracy",
        "0.9",
        "--json",
    )
    steps = json.loads(out)["steps"]
    assert code == 0 and steps[-1]["accuracy"] >= 0.9 and all(s["accuracy"] < 0.9 for s in steps[:-1])
    assert "reached" in json.loads(out)["stopped"]


@pytest.mark.parametrize(
    "argv, words",
    [
        (
            ["--params", "W1", "--optimizer", "adam", "--momentum", "0.9"],
            "--momentum is for sgd and momentum",
        ),
        (["--params", "W1,nope"], "no node named 'nope'"),
        (["--params", "W1,L"], "only number nodes"),
        (["--params", "W1", "--loss", "logits"], "scalar loss"),
        (["--params", "W1", "--steps", "3", "--epochs", "2"], "not allowed with"),
        (["--params", "W1", "--optimizer", "sgdx"], "invalid choice"),
        (["--params", "W1", "--lr", "-1"], "learning rate"),
        (["--params", "W1", "--batch", "4"], "need data nodes"),
        (["--params", "W1", "--data", "X,y", "--batch", "0"], "batch size"),
        (["--params", "W1,,b1"], "empty name"),
        (["--params", "W1", "--until-accuracy", "0.5", "--loss", "L", "--accuracy", "logits"], "two nodes"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(doc, capsys, argv, words):
    code, out, err = run(capsys, doc, *argv)
    assert code == 2 and out == "" and one_line(err) and words in err, err


def test_a_missing_file_is_exit_2(tmp_path, capsys):
    code, _, err = run(capsys, str(tmp_path / "none.json"), "--params", "w")
    assert code == 2 and one_line(err)


def test_a_non_finite_loss_is_exit_1_naming_the_step(tmp_path, capsys):
    path = tmp_path / "blow.json"
    save(Graph.from_expression("L = w * w", w=1.0), path)
    out_path = tmp_path / "out.json"
    code, out, err = run(
        capsys, str(path), "--params", "w", "--lr", "1e200", "--json", "--save", str(out_path)
    )
    assert code == 1 and one_line(err) and "step 2" in err and "inf" in err
    assert len(json.loads(out)["steps"]) == 1 and not out_path.exists()
