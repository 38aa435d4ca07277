"""Docks and panels beside the canvas: palette, inspector, plot."""
