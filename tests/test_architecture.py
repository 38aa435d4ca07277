"""The data flow DESIGN.md §1 promises, checked on the code's syntax trees (Python's ``ast``).

One bridge per document is the only subscriber to a Graph in the GUI and the only caller of
``Graph.evaluate()``; nothing probes the window for attributes; the GUI's modules import
each other without a cycle (lazy imports inside functions count too); the engine's folders
import one way, onto core. Reading trees rather than text, a reference counts however it is
written (``run = g.evaluate; run()``, ``getattr(g, "subscribe")``), and a docstring or a
comment that mentions one does not; the planted snippets below keep the checks honest.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
GUI = ROOT / "gui"
BRIDGE = "gui/canvas/bridge.py"
_BY_NAME = ("getattr", "hasattr", "attrgetter", "methodcaller")  # ways to name an attribute in a string


@functools.cache
def _tree(text: str) -> ast.Module:
    """``text`` parsed once a run: every check walks the same modules, and none changes a tree."""
    return ast.parse(text)


def _sources():
    for path in sorted(GUI.rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def _func_name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


class _References(ast.NodeVisitor):
    """Lines that reference attribute ``attr`` on anything: ``x.attr`` called or not, and
    ``getattr(x, "attr")`` and the like. ``self.attr`` inside a class that defines ``attr``
    itself is that class's own method, not the engine's."""

    def __init__(self, attr: str):
        self.attr = attr
        self.own: list[bool] = []  # per enclosing class: does it define attr?
        self.lines: list[int] = []

    def visit_ClassDef(self, node):
        defs = (ast.FunctionDef, ast.AsyncFunctionDef)
        self.own.append(any(isinstance(b, defs) and b.name == self.attr for b in node.body))
        self.generic_visit(node)
        self.own.pop()

    def visit_Attribute(self, node):
        mine = isinstance(node.value, ast.Name) and node.value.id == "self" and self.own and self.own[-1]
        if node.attr == self.attr and not mine:
            self.lines.append(node.lineno)
        self.generic_visit(node)

    def visit_Call(self, node):
        if _func_name(node) in _BY_NAME and any(
            isinstance(a, ast.Constant) and a.value == self.attr for a in node.args
        ):
            self.lines.append(node.lineno)
        self.generic_visit(node)


def references(text: str, attr: str) -> list[int]:
    """Where ``text`` (a module's source) references attribute ``attr`` (see _References)."""
    refs = _References(attr)
    refs.visit(_tree(text))
    return refs.lines


_WINDOW = {"window", "_window", "w"}


def window_probes(text: str) -> list[int]:
    """Lines that ask the window whether it has something: ``getattr``/``hasattr`` on
    ``window``, ``w``, ``self.window`` or ``self._window``."""
    hits = []
    for node in ast.walk(_tree(text)):
        if isinstance(node, ast.Call) and _func_name(node) in ("getattr", "hasattr") and node.args:
            target = node.args[0]
            name = getattr(target, "id", None) or getattr(target, "attr", None)  # x or self.x
            if name in _WINDOW:
                hits.append(node.lineno)
    return hits


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def uses_of(text: str, names: set[str]) -> list[int]:
    """Lines that define, call or mention (as a name or attribute) any of ``names``."""
    hits = []
    for node in ast.walk(_tree(text)):
        found = (
            (isinstance(node, ast.Name) and node.id in names)
            or (isinstance(node, ast.Attribute) and node.attr in names)
            or (isinstance(node, _DEFINITIONS) and node.name in names)
        )
        if found:
            hits.append(node.lineno)
    return hits


def _files_where(check, *args) -> set[str]:
    return {path for path, text in _sources() if check(text, *args)}


def test_only_the_bridge_subscribes_to_a_graph():
    assert _files_where(references, "subscribe") == {BRIDGE}


def test_only_the_bridge_evaluates():
    assert _files_where(references, "evaluate") == {BRIDGE}


def test_no_probing_of_the_window_and_no_menu_lookup_by_title():
    assert _files_where(window_probes) == set()
    assert _files_where(uses_of, {"find_menu", "_replace_document"}) == set()


def test_readme_picture_tooling_is_not_a_runtime_module():
    assert _files_where(uses_of, {"tour_pictures", "render_window"}) == set()
    assert (ROOT / "benchmarks" / "readme_pictures.py").is_file()


def test_the_checks_see_through_aliases_and_not_into_docstrings():
    """Each check catches its rule broken in a way a text search would miss, and passes
    what only mentions it."""
    aliased = "class Panel:\n    def refresh(self, g):\n        run = g.evaluate\n        run()\n"
    assert references(aliased, "evaluate") == [3]
    assert references("def f(g, cb):\n    getattr(g, 'subscribe')(cb)\n", "subscribe") == [2]
    assert references("from operator import methodcaller\nmethodcaller('evaluate')(g)\n", "evaluate") == [2]
    own = "class W:\n    def evaluate(self):\n        pass\n    def menus(self):\n        a(self.evaluate)\n"
    assert references(own, "evaluate") == []  # the window's own Evaluate action
    mention = 'def f(g):\n    """Calls g.evaluate() for you."""  # g.evaluate()\n'
    assert references(mention, "evaluate") == []
    assert window_probes("def f(self):\n    return hasattr(self.window, 'experiment')\n") == [2]
    assert window_probes("def f(w):\n    return getattr(w, 'panel', None)\n") == [2]
    assert window_probes("def f(item):\n    return getattr(item, 'node_id', None)\n") == []
    assert uses_of("m = self.find_menu('File')\n", {"find_menu"}) == [1]


def _module(parts: tuple[str, ...]) -> str:
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _gui_imports(path: Path) -> set[str]:
    """The gui modules ``path`` imports, at any depth (lazy imports count), relative ones too."""
    here = path.relative_to(ROOT).with_suffix("").parts
    package = here[:-1]
    out = set()
    for node in ast.walk(_tree(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            out.add(".".join(base + tuple(node.module.split("."))) if node.module else ".".join(base))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gui"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("gui"))
    return out


def test_the_gui_modules_import_each_other_without_a_cycle():
    g = nx.DiGraph()
    for path in sorted(GUI.rglob("*.py")):
        name = _module(path.relative_to(ROOT).with_suffix("").parts)
        for target in _gui_imports(path):
            if target != "gui" and target != name:  # "import gui" only pins Qt (gui/_compat.py)
                g.add_edge(name, target)
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], cycles


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
    for node in _tree(path.read_text(encoding="utf-8")).body:
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
        for node in _tree(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                mod = base + tuple((node.module or "").split(".")) if node.module else base
                targets = [mod] if node.module else [base + (a.name,) for a in node.names]
                for t in targets:
                    if t != here:
                        g.add_edge(".".join(here), ".".join(t))
    assert list(nx.simple_cycles(g)) == []
