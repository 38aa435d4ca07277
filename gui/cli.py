"""The ``gradcanvas`` command.

::

    gradcanvas [FILE]                          open the app on FILE, or on the built-in example
    gradcanvas eval FILE [--output NODE] [--json]
    gradcanvas expr "PROGRAM" [NAME=VALUE ...] [--json] [--save FILE] [--open]
    gradcanvas render FILE -o OUT.png|OUT.svg
    gradcanvas check FILE [--output NODE]
    gradcanvas train FILE --params W1,b1 [--data X,y] [--optimizer ...] ...  (see gui/cli_train.py)
    gradcanvas animate FILE -o OUT.gif|OUT.png|OUT.mp4|DIR/ [--size WxH] [--fps N] [--forward]
    gradcanvas --version

Only the GUI, ``render`` and ``animate`` load Qt (after their arguments and the document are
checked); everything else runs on the engine alone. ``render`` and ``animate`` exit 2 on
every failure.

Exit codes: 0 success; 1 ``check`` found a mismatch or a node it could not check (the output
has no value, say, because a class target is out of range), or the GUI could not start; 2 bad
input (missing or malformed file, parse error, unknown node, bad NAME=VALUE, an empty
document). Errors are one line on stderr: ``gradcanvas: error: ...``.

The output is ``--output``, else the document's: the pinned one, else the node nothing
consumes that depends on the most nodes (``Graph.output_node``), so a document with several
such nodes evaluates, checks and renders without an output set.

``--json`` prints ``{"output": ID, "nodes": [{"id", "name", "op", "value", "grad"}, ...]}``,
nodes in evaluation (topological) order. JSON has no NaN or infinity, so those values are the
strings ``"nan"``, ``"inf"`` and ``"-inf"``; ``null`` means "none": no value (an input upstream
is unconnected) or no gradient (no path to the output).

When the output or a gradient is not finite, ``eval`` and ``check`` end with one line naming
the node where it was born and why (``Graph.nonfinite_origin``); ``eval --json`` adds
``"origin": {"id", "name", "of", "reason"}`` (``of``: the node traced).

A graph with unconnected inputs still evaluates: the affected nodes have no value and no
gradient (``null`` / "—"), the human table says why in its last column, ``--json`` prints the
same reasons to stderr as ``gradcanvas: warning: ...`` lines, and the exit code is 0.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

COMMANDS = ("eval", "expr", "render", "check", "train", "animate")
NONE = "—"
OUTPUT_HELP = "node id or name to differentiate (default: the document's output)"


class _Exit(Exception):
    """Raised instead of SystemExit so that main() returns its status to a caller."""

    def __init__(self, status: int, message: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        command = self.prog.split()[1:]  # "gradcanvas eval" -> say which command complained
        raise _Exit(2, f"{command[0]}: {message}" if command else message)

    def exit(self, status=0, message=None):
        if message:
            _write(message.rstrip("\n"), sys.stderr if status else sys.stdout)
        raise _Exit(status)


def main(argv=None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["expr"] and len(argv) > 1 and _looks_like_option(argv[1]):
            # "-a*2" is a program, not an option: argparse would refuse it
            args = _command_parser().parse_args(["expr", "0", *argv[2:]])
            args.program = argv[1]
        elif argv and argv[0] in COMMANDS:
            args = _command_parser().parse_args(argv)
        else:
            args = _app_parser().parse_args(argv)
        return args.run(args)
    except _Exit as e:
        if e.message:
            _error(e.message)
        return e.status
    except KeyboardInterrupt:
        return 130


# ---------------------------------------------------------------------------- parsers


def _looks_like_option(arg: str) -> bool:
    """A program starting with a minus sign, as opposed to one of expr's own options."""
    own = ("-h", "--help", "--json", "--save", "--open")
    return arg.startswith("-") and arg not in own and not arg.startswith("--save=")


def _version() -> str:
    from engine import __version__

    return f"gradcanvas {__version__}"


def _app_parser():
    p = _Parser(
        prog="gradcanvas",
        description="See automatic differentiation happen. Without a command, opens the app.",
        epilog="commands: eval, expr, render, check, train, animate (gradcanvas COMMAND --help)",
    )
    p.add_argument("--version", action="version", version=_version())
    p.add_argument("file", nargs="?", metavar="FILE", help="document to open (default: the built-in example)")
    desk = p.add_mutually_exclusive_group()
    desk.add_argument("--install-desktop", action="store_true",
                      help="add a launcher, the icon and the document type to this user's desktop "
                           "($XDG_DATA_HOME), so documents open in gradcanvas from the file manager")
    desk.add_argument("--uninstall-desktop", action="store_true", help="remove what --install-desktop added")
    p.set_defaults(run=_cmd_app)
    return p


def _command_parser():
    p = _Parser(prog="gradcanvas")
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    e = sub.add_parser("eval", help="print every node's value and gradient")
    e.add_argument("file", metavar="FILE")
    e.add_argument("--output", metavar="NODE", help=OUTPUT_HELP)
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")
    e.set_defaults(run=_cmd_eval)

    x = sub.add_parser("expr", help="evaluate an expression or short program")
    x.add_argument("program", metavar="PROGRAM", help='e.g. "(a*4+3)*(a+2)" or "c = a*b; c + 1"')
    x.add_argument("bindings", nargs="*", metavar="NAME=VALUE", help="values for the program's inputs")
    x.add_argument("--json", action="store_true", help="print JSON instead of a table")
    x.add_argument("--save", metavar="FILE", help="also save the graph as a document")
    x.add_argument("--open", action="store_true", help="then open the app on the graph")
    x.set_defaults(run=_cmd_expr)

    r = sub.add_parser(
        "render", help="draw the annotated canvas to a PNG or SVG file",
        description="Draw the annotated canvas to a PNG or SVG file, headless. The picture budget: "
        f"{_picture_budget()}. Written atomically: a failure leaves the old picture.",
    )  # fmt: skip
    r.add_argument("file", metavar="FILE")
    r.add_argument("-o", "--out", required=True, metavar="OUT", help="picture to write (.png or .svg)")
    r.set_defaults(run=_cmd_render)

    c = sub.add_parser("check", help="compare analytic and finite-difference gradients")
    c.add_argument("file", metavar="FILE")
    c.add_argument("--output", metavar="NODE", help=OUTPUT_HELP)
    c.set_defaults(run=_cmd_check)

    from . import cli_train

    cli_train.add_parser(sub).set_defaults(run=_cmd_train)
    _add_animate(sub)
    return p


# ---------------------------------------------------------------------------- commands


def _cmd_app(args) -> int:
    if args.install_desktop or args.uninstall_desktop:
        return _desktop(install=args.install_desktop)
    if args.file is not None:
        _load(args.file)  # a bad file is reported here, in the terminal, before any window
    return _open_app(args.file, None)


def _desktop(install: bool) -> int:
    """--install-desktop / --uninstall-desktop: say each file, or one line and exit 2."""
    from gui.shell import desktop

    try:
        done = desktop.install() if install else desktop.uninstall()
    except (OSError, UnicodeError) as e:
        raise _Exit(2, f"cannot {'install' if install else 'uninstall'} the desktop entry: {e}") from None
    verb = "wrote" if install else "removed"
    for path in done:
        _write(f"{verb} {path}", sys.stdout)
    if install:
        _write(f"gradcanvas is in the applications menu; {desktop.MIME_TYPE} documents open in it",
               sys.stdout)
    elif not done:
        _write("nothing to remove: the desktop entry was not installed", sys.stdout)
    return 0


def _open_app(path, graph) -> int:
    """Start the GUI on a file, or on a graph built here (expr --open)."""
    try:
        from gui.shell.app import run
    except ModuleNotFoundError as e:
        if e.name in ("gui.shell.app", "gui"):
            _error("the GUI arrives in a later release; the headless commands work: gradcanvas --help")
            return 1
        _error(f"cannot start the GUI: {e}")
        return 1
    except ImportError as e:  # e.g. a Qt library the system lacks
        _error(f"cannot start the GUI: {e}")
        return 1
    return run(path, document=graph)


def _cmd_eval(args) -> int:
    g = _load(args.file)
    _report(g, args.output, args.json)
    return 0


def _cmd_expr(args) -> int:
    from engine import DocumentError, GraphError, ParseError

    values = _bindings(args.bindings)
    try:
        from engine.io.parse import parse_program
    except ImportError:
        raise _Exit(1, "expressions need engine.io.parse, which is not installed") from None
    try:
        # parse_program, not Graph.from_expression(source, **values): a variable may be
        # called "source".
        g = parse_program(args.program, values)
    except ParseError as e:
        raise _Exit(2, f"cannot parse the program: {e}") from None
    except GraphError as e:
        raise _Exit(2, f"cannot build the program: {e}") from None
    _report(g, None, args.json)
    if args.save:
        try:
            g.save(args.save)
        except DocumentError as e:
            raise _Exit(2, str(e)) from None
    if args.open:
        return _open_app(None, g)
    return 0


def _cmd_render(args) -> int:
    """Every failure is one line and exit 2 (DESIGN §7), also a document over the picture
    budget, refused before Qt starts and before a big document is even built."""
    from engine import DocumentError
    from gui.canvas import budget  # Qt-free

    try:
        budget.check_format(args.out)
        graph = budget.load_for_picture(args.file)
        budget.check_graph(graph)
    except (DocumentError, ValueError) as e:
        raise _Exit(2, _failed("render", e)) from None
    try:
        from gui.canvas.render import render_graph

        render_graph(graph, args.out)
    except ImportError as e:  # e.g. a Qt library the system lacks
        raise _Exit(2, f"render is unavailable: {e}") from None
    except (DocumentError, ValueError, OSError) as e:
        raise _Exit(2, _failed("render", e)) from None
    except MemoryError:
        raise _Exit(2, "cannot render: not enough memory for the picture") from None
    except Exception as e:  # noqa: BLE001 — a traceback is never the answer on the command line
        raise _Exit(2, f"cannot render: {type(e).__name__}: {e}") from None
    return 0


def _failed(verb: str, e: BaseException) -> str:
    """One line for a failed render or animate: the error's own words (an OSError's without
    its ``[Errno N]``), after ``cannot VERB:`` unless they already say what could not be done."""
    text = e.strerror if isinstance(e, OSError) and isinstance(e.strerror, str) else str(e)
    return text if text.startswith("cannot ") else f"cannot {verb}: {text}"


def _picture_budget() -> str:
    from gui.canvas.budget import BUDGET_TEXT

    return BUDGET_TEXT


def _add_animate(sub) -> None:
    from gui.learn import movie

    a = sub.add_parser(
        "animate", help="the step-through as an animated GIF, APNG, MP4 or numbered PNG frames",
        description="The step-through drawn by the canvas, one frame per step with its caption, "
        f"the last held {movie.HOLD_S:g} s longer. OUT.gif (animated GIF), OUT.png (animated PNG), "
        "OUT.mp4 (H.264), or DIR/ (a folder: frame_0001.png, ...). The frame budget: "
        f"{movie.BUDGET_TEXT}. Written atomically: a failure leaves the old file.",
    )  # fmt: skip
    a.add_argument("file", metavar="FILE")
    a.add_argument("-o", "--out", required=True, metavar="OUT", help="OUT.gif, OUT.png, OUT.mp4 or DIR/")
    w, h = movie.DEFAULT_SIZE
    a.add_argument("--size", default=f"{w}x{h}", metavar="WxH", help=f"frame size (default {w}x{h})")
    a.add_argument("--fps", default=str(movie.DEFAULT_FPS), metavar="N",
                   help=f"steps a second (default {movie.DEFAULT_FPS:g})")  # fmt: skip
    a.add_argument("--forward", action="store_true", help="the forward pass first, then the backward pass")
    a.add_argument("--backward", action="store_true", help="the backward pass (the default; after --forward)")
    a.set_defaults(run=_cmd_animate)


def _cmd_animate(args) -> int:
    """Like render: every failure one line and exit 2; the budget and the document are
    checked before Qt starts."""
    from engine import DocumentError, GraphError
    from gui.canvas import budget
    from gui.learn import movie

    try:
        kind = movie.output_kind(args.out)
        size = movie.size_for(kind, movie.parse_size(args.size))
        fps = movie.check_fps(args.fps)
        graph = budget.load_for_picture(args.file)
        movie.check_budget(movie.count_step_frames(graph, args.forward), size)
        budget.check_graph(graph)
    except (DocumentError, GraphError, ValueError) as e:
        raise _Exit(2, _failed("animate", e)) from None
    try:
        from gui.canvas.render import ensure_app
        from gui.learn.animation import export_steps

        ensure_app()

        kind, written = export_steps(graph, args.out, size, fps, args.forward)
    except ImportError as e:  # e.g. a Qt library, Pillow or imageio-ffmpeg missing
        raise _Exit(2, f"animate is unavailable: {e}") from None
    except (DocumentError, GraphError, ValueError, OSError) as e:
        raise _Exit(2, _failed("animate", e)) from None
    except MemoryError:
        raise _Exit(2, "cannot animate: not enough memory") from None
    except Exception as e:  # noqa: BLE001 — a traceback is never the answer on the command line
        raise _Exit(2, f"cannot animate: {type(e).__name__}: {e}") from None
    what = {"gif": "animated GIF", "apng": "animated PNG", "mp4": "MP4 video", "folder": "PNG frames"}[kind]
    _write(f"{args.out}: {what}, {written} frames of {size[0]}x{size[1]} at {fps:g} a second")
    return 0


def _cmd_check(args) -> int:
    from engine.learn.check import gradient_check, passed, summary

    g = _load(args.file)
    root = _root(g, args.output)
    rows = gradient_check(g, root)
    table = [("node", "op", "analytic", "numeric", "status")]
    for r in rows:
        status = r.status if not r.reason else f"{r.status}: {r.reason}"
        table.append((r.label, r.op, _fmt(r.analytic), _fmt(r.numeric), status))
    _write(f"gradients of {g.label(root)} (id {root})")
    g.backward(root)
    if g.value(root) is None:  # nothing can be checked: say why first, not once per row
        _write(f"the output {g.label(root)} has no value: {g.why_no_value(root)}")
    _write(_table(table))
    _write(summary(rows))
    found = _origin(g, root)
    if found:
        _write(_origin_line(g, found))
    return 0 if passed(rows) else 1


def _cmd_train(args) -> int:
    from .cli_train import TrainCommandError, run

    try:
        return run(args)
    except TrainCommandError as e:
        raise _Exit(e.status, str(e)) from None


# ---------------------------------------------------------------------------- helpers


def _load(path):
    from engine import DocumentError
    from engine.io import document

    try:
        return document.load(path)
    except DocumentError as e:
        raise _Exit(2, str(e)) from None


def _root(g, ref) -> int:
    """The node to differentiate: --output, else the document's output (pinned, else the
    sink that depends on the most nodes)."""
    from engine import GraphError

    if ref is not None:
        try:
            return g.resolve(ref)
        except GraphError as e:
            raise _Exit(2, f"--output: {e}") from None
    root = g.output_node()
    if root is None:
        try:
            g.backward()  # raises NoOutputError with the reason in words
        except GraphError as e:
            raise _Exit(2, f"{e} (or pass --output NODE)") from None
        raise _Exit(2, "no output: set one in the document or pass --output NODE")
    return root


def _bindings(items) -> dict:
    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise _Exit(2, f"expected NAME=VALUE, got {item!r}")
        if name in values:
            raise _Exit(2, f"{name} is given twice")
        if text.lstrip().startswith("["):
            values[name] = _array_binding(name, text)
            continue
        try:
            v = float(text)
        except ValueError:
            raise _Exit(
                2, f"{name}={text!r}: the value must be a number or a list such as [[1, 2], [3, 4]]"
            ) from None
        if not math.isfinite(v):
            raise _Exit(2, f"{name}={text}: the value must be finite")
        values[name] = v
    return values


def _array_binding(name: str, text: str):
    """``W='[[1, 2], [3, 4]]'`` as an array: read as JSON (data only, never run), then checked
    like any array value (ragged, non-finite, too many elements, too deep)."""
    from engine.core.arrays import MAX_ELEMENTS, from_nested

    if len(text) > 40 * MAX_ELEMENTS:
        raise _Exit(2, f"{name}=: the list is too long")

    def refuse(constant):
        raise ValueError(f"{constant} is not allowed")

    try:
        data = json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as e:
        raise _Exit(
            2, f"{name}=: not a list of numbers such as [[1, 2], [3, 4]] ({e.msg}, column {e.colno})"
        ) from None
    except RecursionError:
        raise _Exit(2, f"{name}=: the list is nested too deeply") from None
    except ValueError as e:
        raise _Exit(2, f"{name}={text[:40]!r}: {e}") from None
    try:
        return from_nested(data, f"{name}")
    except RecursionError:
        raise _Exit(2, f"{name}=: the list is nested too deeply") from None
    except ValueError as e:  # JSONDecodeError is a ValueError too
        raise _Exit(2, f"{name}={text[:40]!r}: {e}") from None


def _report(g, output, as_json) -> None:
    root = _root(g, output)
    g.backward(root)
    order = g.tape().order
    if g.definitions:  # instances are inlined on the tape: list the document's own nodes
        from engine.core.autodiff import _topological_order

        order = _topological_order(g.nx)
    values, grads, problems = g.values(), g.grads(), g.problems()
    found = _origin(g, root)
    if as_json:
        nodes = [
            {"id": n, "name": g.name(n), "op": g.op(n), "value": _json(values[n]), "grad": _json(grads[n])}
            for n in order
        ]
        data = {"output": root, "nodes": nodes}
        if found:
            data["origin"] = {"id": found[0], "name": g.name(found[0]), "of": found[2], "reason": found[1]}
        _write(json.dumps(data, ensure_ascii=False, allow_nan=False))
        if g.seed_note():
            _write(f"gradcanvas: note: {g.seed_note()}", sys.stderr)
        for n in order:
            if problems.get(n):
                _write(f"gradcanvas: warning: {g.label(n)}: {problems[n]}", sys.stderr)
        return
    table = [("id", "name", "op", "value", "grad", "")]
    for n in order:
        mark = "; ".join(m for m in ("output" if n == root else "", problems.get(n, "")) if m)
        table.append((str(n), g.name(n) or "", g.op(n), _fmt(values[n]), _fmt(grads[n]), mark))
    _write(_table(table))
    if g.seed_note():
        _write(f"note: {g.seed_note()}")
    if found:
        _write(_origin_line(g, found))


def _origin(g, root):
    """``(origin node, reason, traced node)`` when the output's value or a gradient is not
    finite (the output first, else the first node in evaluation order with a non-finite
    gradient), else None."""
    from engine.core.nonfinite import finite

    candidates = [root] + [n for n in g.tape().order if not finite(g.grad(n))]
    for n in candidates:
        found = g.nonfinite_origin(n)
        if found:
            return found[0], found[1], n
    return None


def _origin_line(g, found) -> str:
    """One line: what is not finite, and where and why it was born."""
    from engine.core.nonfinite import finite, kind

    node, reason, traced = found
    v = g.value(traced)
    if finite(v):
        what, v = f"the gradient of {g.label(traced)}", g.grad(traced)
    else:
        what = "the output" if traced == g.evaluated_output() else g.label(traced)
    shown = "not finite" if type(v).__name__ == "ndarray" else kind(v)
    return f"non-finite: {what} is {shown}, born at {g.label(node)} (id {node}): {reason}"


def _json(v):
    if type(v).__name__ == "ndarray":
        from engine.core.arrays import to_jsonable

        return to_jsonable(v)
    if v is None or isinstance(v, int) or math.isfinite(v):
        return v
    return "nan" if v != v else ("inf" if v > 0 else "-inf")


def _fmt(v) -> str:
    if v is None:
        return NONE
    if type(v).__name__ == "ndarray":
        from engine.core.arrays import summary

        return summary(v, 6)
    if isinstance(v, int):
        return str(v)
    return f"{v:.10g}"


def _table(rows) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def _write(text: str, stream=None) -> None:
    stream = stream or sys.stdout
    try:
        print(text, file=stream)
    except UnicodeEncodeError:  # a terminal that cannot show "—" or a node's name
        enc = getattr(stream, "encoding", None) or "ascii"
        print(text.encode(enc, "replace").decode(enc), file=stream)


def _error(message: str) -> None:
    _write("gradcanvas: error: " + " ".join(str(message).split()), sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
