"""``gradcanvas train``: train a document's parameters headless, on the engine alone (no Qt).

::

    gradcanvas train FILE --params W1,b1,W2,b2 [--data X,y] [--test X_test,y_test]
        [--optimizer sgd|momentum|adam|adamw] [--lr 0.01] [--momentum 0.9] [--nesterov]
        [--weight-decay 0] [--l1 0] [--batch N] [--steps N | --epochs N] [--until-loss L]
        [--until-accuracy A] [--seed S] [--accuracy SCORES,LABELS] [--loss NODE]
        [--json] [--save OUT]

Neither --steps nor --epochs: 100 steps (a condition alone runs until it holds, at most
100,000 steps). --json prints ``{"steps": [{"step": 1, "loss": ..., "accuracy": ...}, ...]}``
(``accuracy`` where there is one: a cross-entropy loss or --accuracy; ``test_loss`` and
``test_accuracy`` at the end of each epoch with --test). --save writes the whole document with
the trained values. Exit codes: 0 done; 1 the run stopped on a non-finite loss, gradient or
update (the message names the step; nothing is saved); 2 bad input, in one line.

This module keeps the command in one place; ``gui/cli.py`` only registers it.
"""

from __future__ import annotations

import json
import sys

OPTIMIZERS = (
    "sgd",
    "momentum",
    "adam",
    "adamw",
)  # engine.training.OPTIMIZERS (not imported: --help stays light)


class TrainCommandError(Exception):
    """A refusal of the train command: ``status`` is the exit code, the message one line."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def add_parser(sub):
    """Register ``train`` on the command line's subparsers; returns its parser."""
    t = sub.add_parser("train", help="train a document's parameters on its data")
    t.add_argument("file", metavar="FILE")
    t.add_argument("--params", required=True, metavar="W1,b1", help="number nodes to train, comma-separated")
    t.add_argument("--data", metavar="X,y", help="data nodes (arrays; first axis = points), features first; "
                   "data.X_train,data.y_train for a dataset node's outputs (the default when the "
                   "document has a dataset node, with its test outputs as --test)")
    t.add_argument("--test", metavar="X_test,y_test", help="test data, one node per data node")
    t.add_argument("--loss", metavar="NODE", help="the node to minimise (default: the document's output)")
    t.add_argument(
        "--accuracy", metavar="SCORES,LABELS", help="nodes to read accuracy from (default: a cross-entropy's)"
    )
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="default sgd")
    t.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    t.add_argument("--momentum", type=float, help="sgd and momentum only (momentum: default 0.9)")
    t.add_argument("--nesterov", action="store_true", help="Nesterov momentum")
    t.add_argument("--weight-decay", type=float, default=0.0, help="L2 (adamw: decoupled); default 0")
    t.add_argument("--l1", type=float, default=0.0, help="L1 strength; default 0")
    t.add_argument("--batch", type=int, metavar="N", help="mini-batch size (default: full batch)")
    length = t.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, metavar="N", help="steps to take (default 100)")
    length.add_argument("--epochs", type=int, metavar="N", help="epochs to take")
    t.add_argument("--until-loss", type=float, metavar="L", help="stop at the first step whose loss is <= L")
    t.add_argument(
        "--until-accuracy", type=float, metavar="A", help="stop at the first step whose accuracy is >= A"
    )
    t.add_argument("--seed", type=int, default=0, help="seed of the batch order (default 0)")
    t.add_argument("--json", action="store_true", help="print JSON instead of a table")
    t.add_argument("--save", metavar="OUT", help="write the document with the trained values")
    return t


def run(args, out=None) -> int:
    """Run the command; TrainCommandError for a refusal (the caller prints it)."""
    from engine import DocumentError, GraphError
    from engine.io import document
    from engine.training import Trainer, find_dataset
    from engine.training.setup import data_nodes

    out = out or sys.stdout
    if args.momentum is not None and args.optimizer not in ("sgd", "momentum"):
        raise TrainCommandError(2, f"--momentum is for sgd and momentum, not {args.optimizer}")
    try:
        g = document.load(args.file)
    except DocumentError as e:
        raise TrainCommandError(2, str(e)) from None
    data, test = _data_refs(args.data, "--data"), _data_refs(args.test, "--test")
    if data is None and find_dataset(g) is not None:  # a dataset node: its X_train, y_train (and test)
        data, found_test = data_nodes(g)
        test = found_test if test is None else test
    try:
        trainer = Trainer(
            g,
            params=_names(args.params, "--params"),
            data=data,
            test=test,
            loss=args.loss,
            accuracy=_pair(args.accuracy),
            optimizer=args.optimizer,
            lr=args.lr,
            momentum=args.momentum,
            nesterov=args.nesterov,
            weight_decay=args.weight_decay,
            l1=args.l1,
            batch=args.batch,
            seed=args.seed,
        )
        result = trainer.run(
            steps=args.steps,
            epochs=args.epochs,
            until_loss=args.until_loss,
            until_accuracy=args.until_accuracy,
        )
    except (GraphError, ValueError) as e:  # TrainingError is both
        raise TrainCommandError(2, str(e)) from None
    if args.json:
        data = trainer.history.to_json()
        for step in data["steps"]:
            if step["accuracy"] is None:
                del step["accuracy"]
        if result.reason:
            data["stopped"] = result.reason
        print(json.dumps(data, allow_nan=False), file=out)
    else:
        _table(trainer, result, out)
    if result.failed:
        raise TrainCommandError(1, result.reason)
    if args.save:
        try:
            trainer.graph_at().save(args.save)
        except (DocumentError, GraphError) as e:
            raise TrainCommandError(2, str(e)) from None
    return 0


def _names(text, flag):
    if text is None:
        return None
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise TrainCommandError(2, f"{flag}: an empty name in {text!r}")
    return names


def _data_refs(text, flag):
    """Data nodes by name; ``NAME.PORT`` picks an output of a dataset node (``data.X_train``,
    ``data.y_train``, ``data.X_test``, ``data.y_test``)."""
    from engine.training import PORTS

    names = _names(text, flag)
    if names is None:
        return None
    out = []
    for n in names:
        base, _, port = n.rpartition(".")
        out.append((base, PORTS.index(port)) if base and port in PORTS else n)
    return out


def _pair(text):
    names = _names(text, "--accuracy")
    if names is not None and len(names) != 2:
        raise TrainCommandError(2, f"--accuracy takes two nodes SCORES,LABELS, not {text!r}")
    return tuple(names) if names else None


def _table(trainer, result, out) -> None:
    hist = trainer.history
    has_acc = any(r.accuracy is not None for r in hist)
    has_test = any(r.test_loss is not None for r in hist)
    rows = [
        ("step", "epoch", "loss")
        + (("accuracy",) if has_acc else ())
        + (("test loss", "test accuracy") if has_test else ())
    ]
    every = max(1, len(hist) // 20)
    for r in hist:
        if r.step % every and r.step not in (1, len(hist)):
            continue
        row = (str(r.step), str(r.epoch + 1), f"{r.loss:.6g}")
        if has_acc:
            row += (_pct(r.accuracy),)
        if has_test:
            row += ("", "") if r.test_loss is None else (f"{r.test_loss:.6g}", _pct(r.test_accuracy))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)).rstrip(), file=out)
    opt = trainer.optimizer
    batch = "full batch" if trainer.full_batch else f"batches of {trainer.batch}"
    print(
        f"{result.steps} steps of {opt.kind} (lr {opt.lr:g}), {batch}, "
        f"{trainer.steps_per_epoch} step(s) per epoch" + (f"; {result.reason}" if result.reason else ""),
        file=out,
    )


def _pct(v) -> str:
    return "" if v is None else f"{100 * v:.1f}%"


__all__ = ["TrainCommandError", "add_parser", "run"]
