"""The data flow DESIGN.md §1 promises, checked on the source (issue 7's acceptance greps).

One bridge per document is the only subscriber to a Graph in the GUI and the only caller of
``Graph.evaluate()``; nothing probes the window for attributes; the GUI's modules import
each other without a cycle (lazy imports inside functions count too).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
GUI = ROOT / "gui"
BRIDGE = GUI / "canvas" / "bridge.py"


def _sources():
    for path in sorted(GUI.rglob("*.py")):
        yield path, path.read_text(encoding="utf-8")


def _code_lines(text):
    """Lines of code without comments and docstrings (an example in a docstring is not a call)."""
    tree = ast.parse(text)
    doc_lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(getattr(node.value, "value", None), str):
            doc_lines.update(range(node.lineno, node.end_lineno + 1))
    for i, line in enumerate(text.splitlines(), 1):
        if i not in doc_lines:
            yield i, line.split("#", 1)[0]


def _grep(pattern):
    rx = re.compile(pattern)
    return [
        f"{path.relative_to(ROOT)}:{i}"
        for path, text in _sources()
        for i, line in _code_lines(text)
        if rx.search(line)
    ]


def test_only_the_bridge_subscribes_to_a_graph():
    assert {hit.split(":")[0] for hit in _grep(r"\bsubscribe\(")} == {"gui/canvas/bridge.py"}


def test_only_the_bridge_evaluates():
    assert {hit.split(":")[0] for hit in _grep(r"\.evaluate\(")} == {"gui/canvas/bridge.py"}


def test_no_probing_of_the_window_and_no_menu_lookup_by_title():
    assert _grep(r"(getattr|hasattr)\((self\.)?_?window\b|(getattr|hasattr)\(w\b") == []
    assert _grep(r"find_menu|_replace_document") == []


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gui"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("gui"))
    return out


def test_the_gui_modules_import_each_other_without_a_cycle():
    g = nx.DiGraph()
    for path, _ in _sources():
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        for target in _imports(path):
            if target != "gui" and target != name:  # "import gui" only pins Qt (gui/_compat.py)
                g.add_edge(name, target)
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], cycles


def test_readme_picture_tooling_is_not_a_runtime_module():
    assert _grep(r"def (tour_pictures|render_window)\b") == []
    assert (ROOT / "benchmarks" / "readme_pictures.py").is_file()


ENGINE = ROOT / "engine"
# Which engine folders a module may import from at module level: everything rests on core/.
ENGINE_MAY_IMPORT = {
    "core": {"core"},
    "drawing": {"core", "drawing"},
    "io": {"core", "io"},
    "learn": {"core", "io", "drawing", "learn", "training"},
    "training": {"core", "io", "training"},
}


def _engine_module_imports(path: Path) -> set[str]:
    """Engine folders imported at module level (not inside a function) by one engine file."""
    folder = path.relative_to(ENGINE).parts[0]
    out = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            parts = (node.module or "").split(".")
            if node.level == 1:
                out.add(folder if path.parent != ENGINE else parts[0])
            elif node.level == 2 and parts[0]:
                out.add(parts[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engine."):
            out.add(node.module.split(".")[1])
    return out


def test_engine_folders_import_one_way_onto_core():
    wrong = []
    for path in sorted(ENGINE.glob("*/*.py")):
        folder = path.relative_to(ENGINE).parts[0]
        if folder not in ENGINE_MAY_IMPORT:
            continue
        extra = _engine_module_imports(path) - ENGINE_MAY_IMPORT[folder]
        if extra:
            wrong.append(f"{path.relative_to(ROOT)} imports {sorted(extra)} at module level")
    assert wrong == []


def test_engine_modules_import_each_other_without_a_cycle_at_module_level():
    g = nx.DiGraph()
    for path in sorted(ENGINE.rglob("*.py")):
        here = path.relative_to(ROOT).with_suffix("").parts
        package = here[:-1]
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                mod = base + tuple((node.module or "").split(".")) if node.module else base
                targets = [mod] if node.module else [base + (a.name,) for a in node.names]
                for t in targets:
                    if t != here:
                        g.add_edge(".".join(here), ".".join(t))
    assert list(nx.simple_cycles(g)) == []
