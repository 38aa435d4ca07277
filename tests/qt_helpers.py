"""Helpers that drive the canvas's real widgets in pytest-qt tests (offscreen).

Mouse gestures go to ``view.viewport()`` at ``view.mapFromScene(...)``; moves carry the held
button, as a real drag does. Drops are QDragEnter/QDragMove/QDropEvent sent to the viewport
(a real QDrag never completes offscreen).
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

_NOMOD = Qt.KeyboardModifier.NoModifier


def view_point(view, scene_pos) -> QPoint:
    """Viewport coordinates of a scene point (QPointF or (x, y))."""
    if not isinstance(scene_pos, QPointF):
        scene_pos = QPointF(*scene_pos)
    return view.mapFromScene(scene_pos)


def mouse(view, kind, pos: QPoint, button=Qt.MouseButton.LeftButton, buttons=None, modifiers=_NOMOD):
    """Send one QMouseEvent of ``kind`` ("press", "move", "release", "double") to the viewport."""
    vp = view.viewport()
    types = {
        "press": QMouseEvent.Type.MouseButtonPress,
        "move": QMouseEvent.Type.MouseMove,
        "release": QMouseEvent.Type.MouseButtonRelease,
        "double": QMouseEvent.Type.MouseButtonDblClick,
    }
    if buttons is None:
        buttons = Qt.MouseButton.NoButton if kind == "release" else button
    if kind == "move":
        button = Qt.MouseButton.NoButton
    local = QPointF(pos)
    glob = QPointF(vp.mapToGlobal(pos))
    ev = QMouseEvent(types[kind], local, local, glob, button, buttons, modifiers)
    QApplication.sendEvent(vp, ev)
    return ev


def drag(view, start, end, steps: int = 6, button=Qt.MouseButton.LeftButton, modifiers=_NOMOD) -> None:
    """Press at scene point ``start``, move in ``steps`` steps with the button held, release at
    scene point ``end``."""
    a, b = view_point(view, start), view_point(view, end)
    mouse(view, "press", a, button, modifiers=modifiers)
    for k in range(1, steps + 1):
        p = QPoint(round(a.x() + (b.x() - a.x()) * k / steps), round(a.y() + (b.y() - a.y()) * k / steps))
        mouse(view, "move", p, button, buttons=button, modifiers=modifiers)
    mouse(view, "release", b, button, modifiers=modifiers)
    QApplication.processEvents()


def click(view, scene_pos, button=Qt.MouseButton.LeftButton, modifiers=_NOMOD) -> None:
    p = view_point(view, scene_pos)
    mouse(view, "press", p, button, modifiers=modifiers)
    mouse(view, "release", p, button, modifiers=modifiers)


def double_click(view, scene_pos) -> None:
    """Press, release, double-click, release: the sequence a real double-click makes."""
    p = view_point(view, scene_pos)
    mouse(view, "press", p)
    mouse(view, "release", p)
    mouse(view, "double", p)
    mouse(view, "release", p)
    QApplication.processEvents()


def drag_event(cls, pos, action, data):
    """A drag/drop event at view point ``pos``, whichever point type this PySide6 takes:
    6.12 builds QDragEnterEvent/QDragMoveEvent from a QPointF, 6.11 only from a QPoint."""
    pf = QPointF(pos)
    try:
        return cls(pf, action, data, Qt.MouseButton.LeftButton, _NOMOD)
    except TypeError:
        return cls(pf.toPoint(), action, data, Qt.MouseButton.LeftButton, _NOMOD)


def send_drop(view, data: QMimeData, pos):
    """Drag-enter, drag-move and drop ``data`` at view point ``pos`` on the viewport, as a
    real drag from the palette would; returns the drop event."""
    vp = view.viewport()
    act = Qt.DropAction.CopyAction
    for cls in (QDragEnterEvent, QDragMoveEvent):
        QApplication.sendEvent(vp, drag_event(cls, pos, act, data))
    drop = drag_event(QDropEvent, pos, act, data)
    QApplication.sendEvent(vp, drop)
    QApplication.processEvents()
    return drop


def drop_mime(view, mime_type: str, payload: bytes, scene_pos) -> bool:
    """Drop ``payload`` under ``mime_type`` at a scene point, as the palette's drag would.
    Returns whether the drop was accepted."""
    data = QMimeData()
    data.setData(mime_type, payload)
    drop = send_drop(view, data, view_point(view, scene_pos))
    return drop.isAccepted()


def wheel(view, scene_pos, delta_y: int = 120) -> None:
    """One wheel notch (``delta_y`` in eighths of a degree) over a scene point."""
    vp = view.viewport()
    pos = QPointF(view_point(view, scene_pos))
    ev = QWheelEvent(
        pos, QPointF(vp.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, delta_y),
        Qt.MouseButton.NoButton, _NOMOD, Qt.ScrollPhase.NoScrollPhase, False,
    )
    QApplication.sendEvent(vp, ev)


def snapshot(graph) -> dict:
    """Everything a document is: nodes with ids, ops, names, values, positions; wires; output."""
    nodes = {}
    for n in graph.nodes():
        d = graph.node(n)
        nodes[n] = (d["op"], d["name"], d.get("value"), d["x"], d["y"], d.get("definition"))
    defs = {name: graph.definition_data(name) for name in getattr(graph, "definitions", {})}
    return {"nodes": nodes, "edges": sorted(graph.edges()), "output": graph.output, "definitions": defs}


def scene_matches(scene, graph) -> None:
    """The scene draws exactly the graph: same node ids and positions, same wires, wires
    ending on their ports."""
    items = scene.node_items()
    assert set(items) == set(graph.nodes())
    for n, it in items.items():
        # QPointF compares fuzzily, so setPos may keep (0, 0) for (0, 1e-209): allow a hair
        x, y = graph.position(n)
        assert abs(it.pos().x() - x) <= 1e-6 and abs(it.pos().y() - y) <= 1e-6, n
        # an instance has its definition's ports (a definition edit changes every instance's)
        assert len(it.inputs) == graph.arity(n), n
        if graph.op(n) == "call":
            assert [p.label for p in it.outputs] == graph.definition_of(n).output_names, n
    wires = scene.wire_items()
    assert set(wires) == set(graph.edges())
    for (s, t, p), w in wires.items():
        a, b = wire_ends(w)
        assert a == items[s].output_port_pos(graph.input_wires(t)[p][1]), (s, t, p)  # its source port
        assert b == items[t].input_port_pos(p), (s, t, p)


def wire_ends(wire) -> tuple[QPointF, QPointF]:
    """The first and last points of a wire's drawn path."""
    path = wire.path()
    e0, e1 = path.elementAt(0), path.elementAt(path.elementCount() - 1)
    return QPointF(e0.x, e0.y), QPointF(e1.x, e1.y)
