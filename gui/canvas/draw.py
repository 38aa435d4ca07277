"""``gui.draw(value_or_graph)``: the annotated canvas as a picture that notebooks show inline.

The replacement for micrograd's ``draw_dot``: the same nodes the app draws (value in green,
gradient in red, problems marked, wire gradients on request), drawn headless into an SVG and
a PNG. The returned :class:`Drawing` is what Jupyter displays (``_repr_svg_``, ``_repr_png_``)
and can be saved (``.save("graph.svg")``).

A Value is drawn as it stands, like ``draw_dot`` draws it: each node shows its own ``.data``
and ``.grad`` (0 before ``backward()``, the accumulated sum after several), and a wire shows
what the consumer's ``_backward`` would send along it. A Graph is drawn as the app shows it:
evaluated from its output (a big document's first evaluation is its own cost: seconds at
tens of thousands of nodes; the Graph keeps it for later calls).

Big graphs are cut, never waited on: past ``max_nodes`` only the nodes nearest the output are
drawn, each input that was cut off is drawn as a number node labelled ``⋯`` holding its value,
and a caption says how many nodes were left out. Pictures keep the picture budget of
:mod:`gui.canvas.budget` (a Graph whose own layout puts a node far out is refused with a
ValueError), and ``save`` replaces a file atomically: a failed write leaves the old one.

>>> import gui
>>> from engine import Value
>>> a = Value(3.0, label="a"); gui.draw((a * 4 + 3) * (a + 2))   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path

from engine import NUMBER

MAX_NODES = 200
SCALE = 2.0  # PNG pixels per scene unit: sharp on high-density screens, shown at half that size
MAX_PIXELS = 12_000_000  # beyond this the PNG is drawn at natural size (1 pixel per unit)
CAPTION_H = 30.0
# Qt maps PNG "quality" to zlib effort: light compression encodes a big picture several times
# faster than the default, for a somewhat larger file.
PNG_QUALITY = 80
CUT = "⋯"


class Drawing:
    """A picture of a graph: ``svg`` (text), ``png`` (bytes), ``size`` (natural width and
    height in pixels), ``nodes`` (how many are drawn) and ``left_out`` (how many were not)."""

    def __init__(self, svg: str, png: bytes, size: tuple[int, int], nodes: int, left_out: int, caption: str):
        self.svg = svg
        self.png = png
        self.size = size
        self.nodes = nodes
        self.left_out = left_out
        self.caption = caption

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_png_(self):
        # Drawn at SCALE for sharp text; the metadata asks for its natural size on screen.
        return self.png, {"width": self.size[0], "height": self.size[1]}

    def save(self, path) -> Path:
        """Write the picture to ``path``: .svg or .png by its suffix. The file is replaced
        atomically: if the write fails (OSError) the old file stays and no partial one."""
        from engine.io import atomic
        from gui.canvas.render import check_format

        out = Path(path)
        data = self.svg.encode("utf-8") if check_format(out) == ".svg" else self.png
        try:
            atomic.write_bytes(out, data)
        except OSError as e:
            raise atomic.write_error(out, e) from None
        return out

    def __repr__(self):
        extra = f", {self.left_out:,} left out" if self.left_out else ""
        return f"<Drawing {self.size[0]}x{self.size[1]}: {self.nodes:,} nodes{extra}>"


def draw(value_or_graph, *, wire_grads: bool = False, max_nodes: int = MAX_NODES) -> Drawing:
    """Draw a Value (everything it depends on) or a Graph; see the module docstring."""
    from engine import Graph, Value

    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, not {max_nodes!r}")
    if isinstance(value_or_graph, Value):
        graph, numbers, sends, total, kept = _from_value(value_or_graph, max_nodes, wire_grads)
        which = "nearest the output"
    elif isinstance(value_or_graph, Graph):
        graph, numbers, sends, total, kept = _from_graph(value_or_graph, max_nodes)
        which = "nearest the output" if value_or_graph.output_node() is not None else "first"
    else:
        raise TypeError(f"draw() takes a Value or a Graph, not {type(value_or_graph).__name__}")
    left_out = total - kept
    caption = ""
    if left_out:
        caption = (
            f"{left_out:,} of {total:,} nodes left out: the {kept:,} {which} are drawn "
            f"(max_nodes={max_nodes}); {CUT} is an input whose own inputs are not drawn"
        )
    svg, png, size = _picture(graph, numbers, sends if wire_grads else None, caption)
    return Drawing(svg, png, size, kept, left_out, caption)


# ------------------------------------------------------------------------- what to draw


def _from_value(root, max_nodes, wire_grads):
    """(graph, numbers per node, amounts per wire, total nodes, drawn nodes) for a Value."""
    from engine.core.value import _inputs, graph_from

    order = root._topo()
    total = len(order)
    if total > max_nodes:
        order = _cut(root, order, max_nodes)
        root = order[-1]  # its copy
        kept = sum(1 for v in order if not getattr(v, "_cut", False))
    else:
        kept = total
    graph = graph_from(root, order)
    ids = {v: i + 1 for i, v in enumerate(order)}
    numbers = {ids[v]: (v.data, v.grad) for v in order}
    sends = {}
    for v in order if wire_grads else ():
        # A node with its own _backward closure sends what the closure decides: not drawn.
        if v._opname and v.grad is not None and v._bw is None:
            for port, (child, amount) in enumerate(zip(_inputs(v), _sent(v))):
                sends[(ids[child], ids[v], port)] = amount
    return graph, numbers, sends, total, kept


def _sent(v) -> tuple:
    """What ``v._backward`` adds into each input: its grad times each local derivative."""
    from engine.core.ops import OPS
    from engine.core.ops import local as safe_local
    from engine.core.value import _inputs

    return tuple(v.grad * d for d in safe_local(OPS[v._opname], [c.data for c in _inputs(v)], v.data))


def _cut(root, order, max_nodes):
    """The ``max_nodes`` nodes nearest ``root`` (breadth first over inputs), as copies in
    topological order, with each input that is left out replaced by a ``⋯`` leaf holding its
    numbers; the root's copy comes last. The caller's Values are not touched."""
    from engine.core.value import _inputs, _new_object

    kept = {root}
    queue = deque([root])
    while queue and len(kept) < max_nodes:
        for child in _inputs(queue.popleft()):
            if child not in kept and len(kept) < max_nodes:
                kept.add(child)
                queue.append(child)
    copies, stand_ins, out = {}, {}, []

    def stand_in(v):
        s = stand_ins.get(v)
        if s is None:
            s = stand_ins[v] = _new_object(type(v))
            s.data, s.grad, s._opname = v.data, v.grad, ""
            s.name = f"{CUT} {v.name}" if v.name else CUT
            s._cut = True
            out.append(s)
        return s

    for v in order:
        if v not in kept:
            continue
        c = _new_object(type(v))
        c.data, c.grad, c._opname = v.data, v.grad, v._opname
        if v.name is not None:
            c.name = v.name
        if v._spelled is not None:
            c._spelled = v._spelled
        if v._const_exp:
            c._const_exp = True
        ins = [copies[x] if x in kept else stand_in(x) for x in _inputs(v)]
        if v._opname:
            c._a = ins[0]
            c._b = ins[1] if len(ins) == 2 else None
        elif v._opname is None:
            c._kids = tuple(ins)
        copies[v] = c
        out.append(c)
    return out


def _from_graph(g, max_nodes):
    """(graph, numbers per node, amounts per wire, total nodes, drawn nodes) for a Graph: its
    own evaluation, and the nodes nearest its output when it is too big."""
    total = len(g)
    root = g.output_node()
    if total <= max_nodes or root is None:
        # Without an output there is no "nearest"; the layout is the document's own.
        if total > max_nodes:
            sub, cut = _subgraph(g, g.nodes()[:max_nodes], root)
            return sub, cut, None, total, max_nodes
        from gui.canvas.render import check_graph

        check_graph(g)  # its own layout is drawn: nodes far apart are refused before drawing
        copy = g.copy()
        sends = {(s, t, p): g.edge_grad(s, t, p) for s, t, p in g.edges()}
        return copy, None, sends, total, total
    kept = [root]
    seen = {root}
    queue = deque([root])
    while queue and len(kept) < max_nodes:
        for src in g.inputs(queue.popleft()):
            if src is not None and src not in seen and len(kept) < max_nodes:
                seen.add(src)
                kept.append(src)
                queue.append(src)
    sub, cut = _subgraph(g, kept, root)
    vals, grads = g.values(), g.grads()
    numbers = {n: (vals.get(n), grads.get(n)) for n in kept}
    numbers.update(cut)
    sends = {(s, t, p): g.edge_grad(s, t, p) for s, t, p in g.edges() if t in seen and s in seen}
    return sub, numbers, sends, total, len(kept)


def _subgraph(g, keep, root):
    """The nodes ``keep`` of ``g`` as a new Graph, each input from outside replaced by a ``⋯``
    number node holding that input's value; and the (value, grad) of each such stand-in."""
    from engine import Graph

    keep_set = set(keep)
    vals, grads = g.values(), g.grads()
    nodes, edges, cut = [], [], {}
    next_id = max(g.nodes(), default=0) + 1
    for n in keep:
        a = g.nx.nodes[n]
        node = {"id": n, "op": a["op"], "name": a["name"]}
        if a.get("label"):
            node["label"] = a["label"]
        if a["op"] == NUMBER:
            node["value"] = a["value"]
        nodes.append(node)
        for port, src in enumerate(g.inputs(n) if a["op"] != NUMBER else ()):
            if src is None:
                continue
            if src not in keep_set:
                if src not in cut:
                    cut[src] = next_id
                    v = vals.get(src)
                    label = f"{CUT} {g.label(src)}"
                    value = math.nan if v is None else v
                    nodes.append({"id": next_id, "op": NUMBER, "name": None, "label": label, "value": value})  # noqa: E501
                    next_id += 1
                src = cut[src]
            edges.append((src, n, port))
    sub = Graph()
    sub._build(nodes, edges, output=root if root in keep_set else None)
    sub.apply_layout()
    return sub, {cut[s]: (vals.get(s), grads.get(s)) for s in cut}


# ------------------------------------------------------------------------- the picture


def _picture(graph, numbers, sends, caption):
    """(svg text, png bytes, natural size) of ``graph`` drawn by the app's scene, each node
    showing ``numbers[id] = (value, grad)`` where given (else the graph's own evaluation),
    each wire ``sends[(src, dst, port)]`` when given. The only place this module touches the
    scene."""
    import shiboken6

    from engine.core.ops import _float
    from gui import style as S
    from gui.canvas.scene import GraphScene
    from gui.shell.app import picture_app

    picture_app()
    scene = GraphScene.drawing(graph)  # read-only, on a copy (same ids), already evaluated
    try:

        def fmt(x):
            # An exact int beyond float range (Value(10**400)) would print all its digits.
            return S.format_number(_float(x) if type(x) is int else x)

        if numbers:
            for n, (value, grad) in numbers.items():
                item = scene.node_item(n)
                if item is not None and item.raw_state is not None:
                    _, _, why, mark = item.raw_state
                    item.set_state(fmt(value), fmt(grad), why, mark)
        if sends is not None:
            for (s, t, p), amount in sends.items():
                wire = scene.wire_item(s, t, p)
                if wire is not None:
                    wire.set_grad_text(None if amount is None else fmt(amount))
        return _paint(scene, caption)
    finally:
        shiboken6.delete(scene)


def _paint(scene, caption):
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgGenerator

    from gui import style as S
    from gui.canvas.render import _background, _hints, fit_scale, picture_rect

    source = picture_rect(scene)
    band = CAPTION_H if caption else 0.0
    width, height = math.ceil(source.width()), math.ceil(source.height() + band)
    if caption:  # room for the whole sentence
        from PySide6.QtGui import QFontMetricsF

        width = max(width, math.ceil(QFontMetricsF(S.font(9.0)).horizontalAdvance(caption) + 32))

    cached = [(it, it.cacheMode()) for it in scene.items() if it.cacheMode() != it.CacheMode.NoCache]
    for it, _ in cached:  # a cached item is blitted as a bitmap: blurry, and no text in the SVG
        it.setCacheMode(it.CacheMode.NoCache)

    def paint(painter):
        _hints(painter)
        painter.fillRect(QRectF(0, 0, width, height), _background())
        if caption:
            painter.setFont(S.font(9.0))
            painter.setPen(S.TEXT_DIM)
            painter.drawText(QRectF(16, 0, width - 32, band), Qt.AlignmentFlag.AlignVCenter, caption)
        target = QRectF((width - source.width()) / 2, band, source.width(), source.height())
        scene.render(painter, target, source)

    try:
        svg_bytes = QByteArray()
        buf = QBuffer(svg_bytes)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        gen = QSvgGenerator()
        gen.setOutputDevice(buf)
        # Points to units as on screen and in the PNG (96 per inch); Qt's default of 72 would
        # draw the text a quarter smaller than the boxes around it.
        gen.setResolution(96)
        gen.setSize(QSize(width, height))
        gen.setViewBox(QRectF(0, 0, width, height))
        gen.setTitle("gradcanvas")
        gen.setDescription("A computational graph with values and gradients, drawn by gradcanvas")
        painter = QPainter(gen)
        paint(painter)
        painter.end()
        buf.close()
        svg = bytes(svg_bytes.data()).decode("utf-8")

        # Drawn at SCALE for sharp text; at natural size past MAX_PIXELS, and smaller still
        # past that (the picture budget of gui.canvas.render, with this module's pixel cap).
        scale = SCALE if width * height * SCALE * SCALE <= MAX_PIXELS else 1.0
        scale = fit_scale(width, height, scale, MAX_PIXELS)
        image = QImage(max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)),
                       QImage.Format.Format_ARGB32_Premultiplied)  # fmt: skip
        image.fill(_background())
        painter = QPainter(image)
        painter.scale(scale, scale)
        paint(painter)
        painter.end()
        png_bytes = QByteArray()
        pbuf = QBuffer(png_bytes)
        pbuf.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(pbuf, "PNG", PNG_QUALITY)
        pbuf.close()
        png = bytes(png_bytes.data())
    finally:
        for it, mode in cached:
            it.setCacheMode(mode)
    return svg, png, (width, height)
