"""Drawing geometry: node sizes, the layered layout and wire routing (no Qt)."""
