"""Issue 13, point 3: ``gui.draw(...)`` then ``gui.show(...)`` in one script opens a real window.

One process has one Qt platform, fixed when its first QApplication starts. These tests run the
script the way a user does, in a fresh Python process with no QT_QPA_PLATFORM, once with no
display at all and once on a private Xvfb server (skipped where Xvfb is not installed).
"""

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT_HEAD = """
import os
from engine import Value
import gui
x = Value(-4.0, label="x")
y = (x * 2 + 2 + x).relu() + x * 3
y.backward()
picture = gui.draw(y)
assert picture.png, "draw painted nothing"
print("env platform after draw:", os.environ.get("QT_QPA_PLATFORM"))
"""


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env.update(PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    env.update(extra)
    return env


def _run(script, env):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], env=env, capture_output=True, text=True, timeout=120
    )


def test_show_after_draw_without_a_display_says_so_instead_of_returning_an_invisible_window(tmp_path):
    script = SCRIPT_HEAD + """
try:
    w = gui.show(y)
    print("returned a window, visible to nobody:", w.windowHandle().screen().name())
except RuntimeError as e:
    print("refused:", e)
"""
    r = _run(script, _env(tmp_path))
    assert r.returncode == 0, r.stderr
    # draw chose offscreen for itself only: child processes still see the user's environment
    assert "env platform after draw: None" in r.stdout
    assert "refused: gradcanvas: no display" in r.stdout, r.stdout + r.stderr


@pytest.fixture
def xvfb_display():
    """A private X server on a high, free display number (not one of the desktop's)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed")
    for number in range(400 + os.getpid() % 300, 800):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(f"/tmp/.X{number}-lock"):
            break
    proc = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):  # the server is up once its socket exists (a poll, not a sleep to wait out)
            if os.path.exists(f"/tmp/.X11-unix/X{number}") or proc.poll() is not None:
                break
            time.sleep(0.02)
        if proc.poll() is not None:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_show_after_draw_opens_a_real_window_on_the_display_and_blocks_until_closed(tmp_path, xvfb_display):
    script = SCRIPT_HEAD + """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
seen = []

def look_then_close():
    app = QApplication.instance()
    windows = [w for w in app.topLevelWidgets()
               if w.isVisible() and w.metaObject().className() == "MainWindow"]
    seen.append((app.platformName(), len(windows), windows[0].document.value("x") if windows else None))
    for w in windows:
        w.close()  # what the user does: show() must return only now

QTimer.singleShot(300, look_then_close)
QTimer.singleShot(60000, QApplication.quit)  # never hang the test run
w = gui.show(y)
print("seen while show ran:", seen)
"""
    r = _run(script, _env(tmp_path, DISPLAY=xvfb_display))
    assert r.returncode == 0, r.stderr
    assert "env platform after draw: None" in r.stdout
    # the timer fired inside show(): show ran the event loop (blocked) on the real display
    assert "seen while show ran: [('xcb', 1, -4.0)]" in r.stdout, r.stdout + r.stderr
