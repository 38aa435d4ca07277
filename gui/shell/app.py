"""Starting the app: ``gradcanvas [FILE]`` and ``gui.show(value_or_graph)`` from a script or notebook.

Qt aborts the whole process (qFatal) when its xcb platform plugin cannot load, with a generic
message. So before any QApplication exists, :func:`display_problem` checks what Qt would
need and, if something is missing, ``run`` prints one line that names the fix and returns 2.

>>> import gui
>>> from engine import Value
>>> a = Value(3, name="a"); gui.show((a * 4 + 3) * (a + 2))   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import ctypes.util
import gc
import os
import socket
import subprocess
import sys

XCB_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 "
    "libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0"
)
XCB_MESSAGE = (
    "gradcanvas: Qt's xcb platform plugin cannot load; install the system packages: "
    f"sudo apt install {XCB_PACKAGES}  (or run headless: QT_QPA_PLATFORM=offscreen, gradcanvas render)"
)
NO_DISPLAY_MESSAGE = (
    "gradcanvas: no display: set DISPLAY, or use QT_QPA_PLATFORM=offscreen / gradcanvas render"
)
NO_SERVER_MESSAGE = (
    "gradcanvas: cannot connect to the X display '{display}': check DISPLAY "
    "(or use QT_QPA_PLATFORM=offscreen / gradcanvas render)"
)
# The shared libraries behind XCB_PACKAGES, by the name ctypes.util.find_library knows them.
XCB_LIBRARIES = (
    "xcb-cursor", "xcb-icccm", "xcb-image", "xcb-keysyms", "xcb-randr", "xcb-render-util",
    "xcb-xkb", "xkbcommon-x11", "xcb-shape",
)
PROBE_TIMEOUT = 30.0

_windows: list = []  # windows opened by show(): kept alive while the caller's script runs


def _missing_libraries() -> list[str]:
    return [lib for lib in XCB_LIBRARIES if ctypes.util.find_library(lib) is None]


def _display_reachable(display: str) -> bool:
    """A cheap look for the X server behind DISPLAY ("[host]:N[.S]"): its socket file for a
    local display, a TCP connection for a remote one (ssh -X forwards to localhost:10)."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host in ("", "unix") or host.startswith("/"):
        # Linux servers also listen on an abstract socket, which no file shows: the probe decides.
        return os.path.exists(f"/tmp/.X11-unix/X{number}")
    try:
        with socket.create_connection((host, 6000 + int(number)), timeout=2.0):
            return True
    except OSError:
        return False


def _xcb_probe() -> str | None:
    """Start a QApplication on xcb in a child process (Qt's abort stays there): None when it
    starts, else what Qt printed."""
    code = "from PySide6.QtWidgets import QApplication; QApplication([])"
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    try:
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=PROBE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None  # cannot tell; let Qt try and speak for itself
    return None if r.returncode == 0 else r.stderr.decode("utf-8", "replace")


def display_problem(environ=None) -> str | None:
    """The one line to print when no window can open here, else None.

    Only Linux/BSD desktops (xcb or wayland) are checked; an explicit QT_QPA_PLATFORM other
    than xcb (offscreen, wayland, vnc, ...) is trusted as is.
    """
    env = os.environ if environ is None else environ
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if platform and platform != "xcb":
        return None
    has_x, has_wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if not has_x and not has_wayland:
        return NO_DISPLAY_MESSAGE
    if not platform and has_wayland:
        return None  # Qt picks its wayland plugin, which needs none of the xcb libraries
    if not has_x:
        return NO_DISPLAY_MESSAGE  # xcb asked for explicitly, but there is no X display
    # The cheap checks can miss libraries or servers that are there (unusual layouts, abstract
    # sockets), so a miss is only believed once a real start in a child process fails too.
    display = env.get("DISPLAY", "")
    missing = _missing_libraries()
    if not missing and _display_reachable(display):
        return None
    failure = _xcb_probe()
    if failure is None:
        return None
    if missing or "xcb-cursor" in failure or "could not load" in failure.lower():
        if "could not connect to display" not in failure:
            return XCB_MESSAGE
    return NO_SERVER_MESSAGE.format(display=display)


def dark_palette():
    """The palette behind the dark theme (the canvas colours come from gui.style)."""
    from PySide6.QtGui import QColor, QPalette

    from gui import style

    pal = QPalette()
    roles = {
        QPalette.Window: "#22262d", QPalette.WindowText: "#e8eaee", QPalette.Base: "#1a1d22",
        QPalette.AlternateBase: "#22262d", QPalette.Text: "#e8eaee", QPalette.Button: "#2f3540",
        QPalette.ButtonText: "#e8eaee", QPalette.ToolTipBase: "#2a2f38", QPalette.ToolTipText: "#e8eaee",
        QPalette.Highlight: "#3a5f8f", QPalette.HighlightedText: "#ffffff", QPalette.Link: "#7fb7ff",
        QPalette.PlaceholderText: "#6c7480", QPalette.BrightText: style.PROBLEM.name(),
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        pal.setColor(QPalette.Disabled, role, QColor("#6c7480"))
    return pal


def stylesheet() -> str:
    """resources/style.qss, or "" if it cannot be read (an unstyled window still works)."""
    import resources

    try:
        return (resources.ROOT / "style.qss").read_text(encoding="utf-8")
    except OSError:
        return ""


def apply_style(target) -> None:
    """The app's look on a QApplication (Fusion, dark palette, style.qss, icon), or on one
    window when the application belongs to someone else (a notebook, another app)."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    import resources

    if isinstance(target, QApplication):
        target.setStyle("Fusion")  # a widget's own style would not reach its children
    target.setPalette(dark_palette())
    target.setStyleSheet(stylesheet())
    icon = resources.ICONS / "gradcanvas.svg"
    if icon.is_file():
        target.setWindowIcon(QIcon(str(icon)))


OWNED = "gradcanvas_owned"  # a property on the QApplications gradcanvas itself created
OFFSCREEN_MESSAGE = (
    "gradcanvas: no window can open: Qt was started without a display (offscreen) earlier in "
    "this process (QT_QPA_PLATFORM=offscreen, or gui.draw with no display); pictures still work"
)


def _make_app(argv=None, platform=None):
    """The running QApplication, or a new styled one of ours (on ``platform`` when given);
    ``created`` says whether this call made it."""
    from PySide6.QtWidgets import QApplication

    from gui.shell import files

    app = QApplication.instance()
    created = app is None
    if created:
        args = list(argv) if argv is not None else [sys.argv[0] if sys.argv else "gradcanvas"]
        if platform:
            args += ["-platform", platform]
        app = QApplication(args)
        app.setProperty(OWNED, True)
        app.setOrganizationName(files.ORGANISATION)
        app.setApplicationName(files.APPLICATION)
        app.setApplicationDisplayName("gradcanvas")
        app.setDesktopFileName("gradcanvas")
        apply_style(app)
    return app, created


def owns_app(app) -> bool:
    """Whether ``app`` was created by gradcanvas (by show, run or draw), so gradcanvas also
    runs its event loop; someone else's (a notebook's, another program's) is left alone."""
    return bool(app is not None and app.property(OWNED))


def picture_app():
    """The QApplication ``gui.draw`` paints with. A new one is made on the display when a
    window could open here, so that a later ``gui.show`` in the same script gets a real,
    blocking window (one process has one Qt platform, chosen when the first QApplication
    starts); else offscreen, as ``gradcanvas render`` does (a server needs no display)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    if os.environ.get("QT_QPA_PLATFORM") or display_problem() is not None:
        app, _ = _make_app(platform=None if os.environ.get("QT_QPA_PLATFORM") else "offscreen")
    else:
        app, _ = _make_app()
    return app


def _full_window(graph, path, own=False):
    """The main window, with the experiment tools (step mode, checks, descent, ...); with
    ``own`` it takes ``graph`` itself as its document instead of a copy."""
    from gui.shell.main_window import MainWindow

    return MainWindow(graph, path=path, own_document=own)


def run(path=None, argv=None, document=None) -> int:
    """Open the window on ``path``, on ``document`` (a Graph, shown as Untitled), or on the
    built-in example, and run until it closes.

    A file that cannot be loaded, or a machine where no window can open, is reported as one
    line on stderr and exit code 2, before any window appears.
    """
    from PySide6.QtWidgets import QApplication

    graph = document
    if path is not None:
        from engine import DocumentError
        from gui.shell.files import load_document

        try:
            graph = load_document(path)
        except DocumentError as e:
            print(f"gradcanvas: {e}", file=sys.stderr)
            return 2
    if QApplication.instance() is None:
        problem = display_problem()
        if problem:
            print(problem, file=sys.stderr)
            return 2
    app, _ = _make_app(argv)
    window = _full_window(graph, path)
    window.show()
    # Keys (Tab, F, Delete...) work from the first moment only in the active window; without a
    # window manager (Xvfb, kiosk) nothing else would activate it before the first click.
    window.raise_()
    window.activateWindow()
    from PySide6.QtCore import QTimer

    # After a crash or a kill, the unsaved work of the last session is offered back, once the
    # window is up (the question belongs to it).
    QTimer.singleShot(0, window.offer_recovery)
    return int(app.exec())


@contextlib.contextmanager
def _built_aside():
    """Python's cyclic collector paused while a document and its window are built (hundreds
    of thousands of objects made, none freed: the collector would walk them all again and
    again, about a quarter of opening the 66k-node MLP loss), and what was built then set
    aside from its full passes (gc.freeze: the first one after building walked it all,
    ~0.3 s). The caller gives them back (gc.unfreeze) when the window goes."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if collecting:
            gc.enable()


def show(value_or_graph=None):
    """Open a window on a copy of a Value's graph (``value.graph()``), of a Graph, or on the
    built-in example.

    Creates the QApplication if there is none. Blocks: runs the event loop, and returns when
    the window closes, when the application is gradcanvas' own (made here or by an earlier
    ``gui.draw``) and nothing else runs one: in a notebook with ``%gui qt`` or inside
    an app, it returns the window at once. Returns the MainWindow: the edited document is its
    ``.document`` (the caller's graph is never touched, so the undo history always holds).
    """
    from engine import Graph, Value

    own = isinstance(value_or_graph, Value)
    if not (own or isinstance(value_or_graph, Graph) or value_or_graph is None):
        raise TypeError(f"show() takes a Value or a Graph, not {type(value_or_graph).__name__}")
    from PySide6.QtCore import QThread
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        problem = display_problem()
        if problem:
            raise RuntimeError(problem)
    app, created = _make_app()
    ours = owns_app(app)
    if ours and not created and app.platformName() == "offscreen" and not os.environ.get("QT_QPA_PLATFORM"):
        # gui.draw ran first on a machine with no display: say so rather than return a window
        # nobody can see
        raise RuntimeError(display_problem() or OFFSCREEN_MESSAGE)
    with _built_aside():
        # a Value's graph is fresh and nobody else holds it: the window keeps it, uncopied
        graph = value_or_graph.graph() if own else value_or_graph
        window = _full_window(graph, None, own)
    window.destroyed.connect(gc.unfreeze)
    if not ours:
        apply_style(window)  # someone else's application: theme this window only
    _windows.append(window)
    window.show()
    window.raise_()
    window.activateWindow()
    # Our own application (made here, or by gui.draw earlier in the script) runs its event
    # loop until the window closes; someone else's (a notebook with %gui qt) already runs one.
    if ours and QThread.currentThread().loopLevel() == 0:
        app.exec()
    return window
