"""The canvas: the drawn scene, its items, the view and the gestures that become undo commands."""
