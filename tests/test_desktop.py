"""Issue 13, point 14: ``gradcanvas --install-desktop`` makes the app a desktop citizen.

Run as the user runs it (the console script's ``main``), against a temporary $XDG_DATA_HOME,
and check the files against the specifications' own rules: the Desktop Entry Specification's
required keys and value syntax, the shared-mime-info schema (and, where installed,
``update-mime-database`` itself compiling the type), the hicolor icon theme layout.
"""

import configparser
import shutil
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gui import cli
from gui.shell import desktop

ROOT = Path(__file__).resolve().parent.parent
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    home = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def _entry(path: Path) -> dict:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    assert parser.sections()[0] == "Desktop Entry"  # the first group, as the spec requires
    return dict(parser["Desktop Entry"])


def test_install_desktop_writes_a_valid_launcher_icon_and_document_type(data_home, capsys):
    assert cli.main(["--install-desktop"]) == 0
    out = capsys.readouterr().out
    launcher = data_home / "applications" / "gradcanvas.desktop"
    assert f"wrote {launcher}" in out

    e = _entry(launcher)
    # required keys of a Type=Application entry, and the ones a launcher with a file type needs
    assert e["Type"] == "Application"
    assert e["Name"] == "gradcanvas"
    assert e["Exec"].endswith(" %f") and e["Exec"].count("%") == 1  # one file from the file manager
    program = e["Exec"].split(" ")[0].strip('"')
    assert Path(program).is_absolute() and Path(program).exists(), program
    assert e["Icon"] == "gradcanvas"  # a name, looked up in the icon theme
    assert e["MimeType"].endswith(";") and "application/x-gradcanvas" in e["MimeType"].split(";")
    assert e["Terminal"] == "false"
    assert all(c.isalnum() or c in "-;" for c in e["Categories"])
    for key, value in e.items():  # keys are [A-Za-z0-9-]; values one line
        assert key.replace("-", "").isalnum() and "\n" not in value

    icon = data_home / "icons" / "hicolor" / "scalable" / "apps" / "gradcanvas.svg"
    assert icon.read_bytes() == (ROOT / "resources" / "icons" / "gradcanvas.svg").read_bytes()
    assert ET.fromstring(icon.read_bytes()).tag.endswith("svg")

    root = ET.parse(data_home / "mime" / "packages" / "gradcanvas.xml").getroot()
    assert root.tag == f"{MIME_NS}mime-info"
    (mime,) = root.findall(f"{MIME_NS}mime-type")
    assert mime.get("type") == "application/x-gradcanvas"
    assert mime.find(f"{MIME_NS}sub-class-of").get("type") == "application/json"
    # the magic matches what a saved document starts with (engine.io.document.dumps)
    from engine import Graph

    saved = data_home.parent / "doc.json"
    Graph.from_expression("a*2", a=1).save(saved)
    head = saved.read_bytes()[:64].decode()
    values = [m.get("value") for m in mime.iter(f"{MIME_NS}match")]
    assert any(v in head for v in values), (values, head)

    mimeapps = (data_home / "applications" / "mimeapps.list").read_text()
    assert "[Default Applications]\napplication/x-gradcanvas=gradcanvas.desktop;" in mimeapps
    if shutil.which("update-mime-database"):  # the real tool accepted the type
        assert (data_home / "mime" / "application" / "x-gradcanvas.xml").is_file()


def test_install_keeps_the_users_other_associations_and_uninstall_removes_only_ours(data_home, capsys):
    apps = data_home / "applications"
    apps.mkdir(parents=True)
    (apps / "mimeapps.list").write_text("[Default Applications]\ntext/plain=gedit.desktop;\n")
    (apps / "other.desktop").write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other\n")
    assert cli.main(["--install-desktop"]) == 0
    assert cli.main(["--install-desktop"]) == 0  # twice: one association line, not two
    listing = (apps / "mimeapps.list").read_text()
    assert listing.count("application/x-gradcanvas=") == 1 and "text/plain=gedit.desktop;" in listing

    assert cli.main(["--uninstall-desktop"]) == 0
    assert not (apps / "gradcanvas.desktop").exists()
    assert not list(data_home.glob("icons/hicolor/*/*/gradcanvas.svg"))
    assert not (data_home / "mime" / "packages" / "gradcanvas.xml").exists()
    assert (apps / "mimeapps.list").read_text() == "[Default Applications]\ntext/plain=gedit.desktop;\n"
    assert (apps / "other.desktop").is_file()
    capsys.readouterr()
    assert cli.main(["--uninstall-desktop"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_install_desktop_that_cannot_write_says_one_line_and_exits_2(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))  # a file where the folder should be
    assert cli.main(["--install-desktop"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradcanvas: error: cannot install the desktop entry") and err.count("\n") == 1


def test_exec_arguments_are_quoted_as_the_spec_asks():
    assert desktop._quote("/usr/bin/gradcanvas") == "/usr/bin/gradcanvas"
    assert desktop._quote("/home/a b/python") == '"/home/a b/python"'
    assert desktop._quote('/x/$HOME"q') == '"/x/\\$HOME\\"q"'


def test_windows_gets_a_gui_script_that_opens_no_console():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (target,) = project["gui-scripts"].values()
    assert target == project["scripts"]["gradcanvas"] == "gui.cli:main"


def test_the_window_and_the_application_carry_the_apps_icon(qtbot):
    from PySide6.QtWidgets import QApplication

    from gui.shell.app import apply_style
    from gui.shell.main_window import MainWindow

    apply_style(QApplication.instance())
    w = MainWindow()
    qtbot.addWidget(w)
    assert not w.windowIcon().isNull() and not QApplication.windowIcon().isNull()


def test_readme_install_line_mentions_the_desktop_entry():
    readme = (ROOT / "README.md").read_text()
    install = next(line for line in readme.splitlines() if "pip install" in line)
    assert "gradcanvas --install-desktop" in install


def test_a_mimeapps_list_in_another_encoding_is_kept_byte_for_byte(data_home, capsys):
    apps = data_home / "applications"
    apps.mkdir(parents=True)
    theirs = b"[Default Applications]\ntext/plain=caf\xe9.desktop;\n"
    (apps / "mimeapps.list").write_bytes(theirs)
    assert cli.main(["--install-desktop"]) == 0
    written = (apps / "mimeapps.list").read_bytes()
    assert b"text/plain=caf\xe9.desktop;" in written and b"application/x-gradcanvas=" in written
    assert cli.main(["--uninstall-desktop"]) == 0
    assert (apps / "mimeapps.list").read_bytes() == theirs
