"""``gradcanvas --install-desktop``: a launcher, an icon and a file type on a freedesktop desktop.

Installing the package puts only a console script on the PATH. This writes, into
``$XDG_DATA_HOME`` (default ``~/.local/share``), for the current user only:

- ``applications/gradcanvas.desktop``: the launcher (Desktop Entry Specification 1.5), whose
  ``Exec`` opens a file given by the file manager (``%f``) and whose ``MimeType`` says which;
- ``icons/hicolor/scalable/apps/gradcanvas.svg`` (and the same picture as the document
  type's icon): the Icon Theme Specification's fallback theme, which every theme inherits;
- ``mime/packages/gradcanvas.xml``: the shared-mime-info type ``application/x-gradcanvas``,
  a subclass of JSON recognised by its ``"format": "gradcanvas"`` header (documents keep
  their ``.json`` suffix, so other JSON files stay JSON);
- the association: ``applications/mimeapps.list`` gets ``application/x-gradcanvas=gradcanvas.desktop``
  under ``[Default Applications]`` (other lines are kept).

Then the desktop's caches are refreshed where the tools exist (``update-mime-database``,
``update-desktop-database``, ``gtk-update-icon-cache``). ``--uninstall-desktop`` removes
exactly what was written. Nothing here needs Qt or a display.

>>> install()      # doctest: +SKIP
[PosixPath('/home/me/.local/share/applications/gradcanvas.desktop'), ...]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import resources
from engine.io import atomic

APP_ID = "gradcanvas"
MIME_TYPE = "application/x-gradcanvas"
DESKTOP_FILE = f"{APP_ID}.desktop"
MIME_ICON = MIME_TYPE.replace("/", "-")  # the icon name the spec derives from the type
REFRESH_TIMEOUT = 30.0
_MIMEAPPS_SECTION = "[Default Applications]"

MIME_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MIME_TYPE}">
    <comment>gradcanvas document</comment>
    <sub-class-of type="application/json"/>
    <generic-icon name="{MIME_ICON}"/>
    <icon name="{MIME_ICON}"/>
    <magic priority="80">
      <match type="string" value="&quot;format&quot;: &quot;gradcanvas&quot;" offset="0:64"/>
      <match type="string" value="&quot;format&quot;:&quot;gradcanvas&quot;" offset="0:64"/>
    </magic>
  </mime-type>
</mime-info>
"""


def data_home(environ=None) -> Path:
    """$XDG_DATA_HOME when it is an absolute path (the spec ignores a relative one), else
    ~/.local/share."""
    env = os.environ if environ is None else environ
    raw = env.get("XDG_DATA_HOME", "")
    if raw and os.path.isabs(raw):
        return Path(raw)
    return Path(env.get("HOME") or Path.home()) / ".local" / "share"


def _quote(arg: str) -> str:
    """One Exec argument, quoted as the Desktop Entry Specification asks when needed."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`='):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def launch_command() -> tuple[list[str], Path | None]:
    """(the command that opens the app, the working directory it needs or None): the
    ``gradcanvas`` script beside this Python, else on the PATH, else this Python running the
    package from the folder it was imported from (a source checkout)."""
    here = Path(sys.executable).parent
    for script in (here / APP_ID, here / f"{APP_ID}.exe"):
        if script.is_file():
            return [str(script)], None
    found = shutil.which(APP_ID)
    if found:
        return [found], None
    root = Path(resources.__file__).resolve().parent.parent
    return [sys.executable, "-m", "gui.cli"], root


def desktop_entry() -> str:
    """The launcher's text: every key the specification requires, and the file type."""
    command, folder = launch_command()
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        "Name=gradcanvas",
        "GenericName=Automatic differentiation canvas",
        "Comment=See automatic differentiation happen: build a graph, watch forward and backward run",
        "Exec=" + " ".join(_quote(a) for a in command) + " %f",
        f"Icon={APP_ID}",
        "Terminal=false",
        f"MimeType={MIME_TYPE};",
        "Categories=Education;Science;Math;",
        "Keywords=autodiff;gradient;backpropagation;micrograd;neural;",
        f"StartupWMClass={APP_ID}",
    ]
    if folder is not None:
        lines.append(f"Path={folder}")
    return "\n".join(lines) + "\n"


def _paths(home: Path) -> dict[str, Path]:
    icons = home / "icons" / "hicolor" / "scalable"
    return {
        "desktop": home / "applications" / DESKTOP_FILE,
        "icon": icons / "apps" / f"{APP_ID}.svg",
        "mime_icon": icons / "mimetypes" / f"{MIME_ICON}.svg",
        "mime": home / "mime" / "packages" / f"{APP_ID}.xml",
        "mimeapps": home / "applications" / "mimeapps.list",
    }


def _association_lines(text: str, add: bool) -> str:
    """mimeapps.list with our default association added (or taken out); every other line kept."""
    ours = f"{MIME_TYPE}={DESKTOP_FILE};"
    # installing replaces any default for our type; uninstalling takes out only our own line
    lines = [ln for ln in text.splitlines()
             if not (ln.strip().startswith(f"{MIME_TYPE}=") if add else ln.strip() == ours)]
    if add:
        if _MIMEAPPS_SECTION in (ln.strip() for ln in lines):
            at = next(i for i, ln in enumerate(lines) if ln.strip() == _MIMEAPPS_SECTION)
            lines.insert(at + 1, f"{MIME_TYPE}={DESKTOP_FILE};")
        else:
            if lines and lines[-1].strip():
                lines.append("")
            lines += [_MIMEAPPS_SECTION, f"{MIME_TYPE}={DESKTOP_FILE};"]
    return "\n".join(lines) + "\n" if lines else ""


def install(home: Path | None = None, *, refresh: bool = True) -> list[Path]:
    """Write the launcher, icons, file type and association into ``home`` (default:
    :func:`data_home`); returns the files written. OSError when a file cannot be written."""
    home = data_home() if home is None else Path(home)
    p = _paths(home)
    svg = (resources.ICONS / f"{APP_ID}.svg").read_bytes()
    for key, data in (
        ("desktop", desktop_entry().encode("utf-8")),
        ("icon", svg),
        ("mime_icon", svg),
        ("mime", MIME_XML.encode("utf-8")),
    ):
        p[key].parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(p[key], data)
    # a mimeapps.list written in another encoding is kept byte for byte
    old = ""
    if p["mimeapps"].is_file():
        old = p["mimeapps"].read_text(encoding="utf-8", errors="surrogateescape")
    atomic.write_bytes(p["mimeapps"], _association_lines(old, add=True).encode("utf-8", "surrogateescape"))
    if refresh:
        _refresh(home)
    return [p[k] for k in ("desktop", "icon", "mime_icon", "mime", "mimeapps")]


def uninstall(home: Path | None = None, *, refresh: bool = True) -> list[Path]:
    """Remove what :func:`install` wrote (the association line only, not the whole
    mimeapps.list); returns the files removed or changed."""
    home = data_home() if home is None else Path(home)
    p = _paths(home)
    done = []
    for key in ("desktop", "icon", "mime_icon", "mime"):
        if p[key].is_file():
            p[key].unlink()
            done.append(p[key])
    if p["mimeapps"].is_file():
        old = p["mimeapps"].read_text(encoding="utf-8", errors="surrogateescape")
        new = _association_lines(old, add=False)
        if new != old:
            if new.strip() in ("", _MIMEAPPS_SECTION):
                p["mimeapps"].unlink()
            else:
                atomic.write_bytes(p["mimeapps"], new.encode("utf-8", "surrogateescape"))
            done.append(p["mimeapps"])
    if refresh:
        _refresh(home)
    return done


def _refresh(home: Path) -> None:
    """Ask the desktop to read what changed; each tool is optional and a failure is harmless
    (the next login reads the files anyway)."""
    for tool, target in (
        ("update-mime-database", home / "mime"),
        ("update-desktop-database", home / "applications"),
        ("gtk-update-icon-cache", home / "icons" / "hicolor"),
    ):
        exe = shutil.which(tool)
        if exe is None or not target.is_dir():
            continue
        args = [exe, "-q", "-t", "-f", str(target)] if tool == "gtk-update-icon-cache" else [exe, str(target)]
        try:
            subprocess.run(args, capture_output=True, timeout=REFRESH_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired):
            pass
