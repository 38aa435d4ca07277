"""Bundled resources: icons, the stylesheet and example documents."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
EXAMPLES = ROOT / "examples"
ICONS = ROOT / "icons"


def example_path(name: str) -> Path:
    """Path of a bundled example document, by file stem (``"seed_fanout"``) or file name."""
    p = EXAMPLES / name
    return p if p.suffix == ".json" else p.with_suffix(".json")


def examples() -> list[Path]:
    """Every bundled example document, sorted by file name (gallery.json is the index, not one)."""
    return sorted(p for p in EXAMPLES.glob("*.json") if p.name != "gallery.json")
