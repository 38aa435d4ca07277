"""The layered layout and the wire router: wires never pass under a node, enter their ports
from the left, nodes never overlap, crossings are no worse than the layout before issue 8
(tests/baseline_layout.py drawn as the canvas drew it then). The numbers are printed:

    .venv/bin/python -m pytest -q -s tests/test_layout.py -k numbers
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import networkx as nx
import pytest

from engine import OPERATORS, Graph
from engine.core.ops import OPS
from engine.drawing import geometry, layout, routing
from engine.io.document import load
from tests import baseline_layout

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*.json") if p.name != "gallery.json")
# The comparison with the pre-issue-8 layout leaves out micrograd's MLP: that baseline knows no
# bundles, so it routes all 3,109 wires of the parameter bank one by one (two minutes of the
# suite) to compare against a picture nobody drew; the MLP's own layout is checked below with
# every other example (no wire under a node, nothing overlapping).
BASELINE_FILES = [n for n in EXAMPLE_FILES if n != "micrograd_mlp_moons.json"]
OLD_W, OLD_H, OLD_HEAD = 140.0, 70.0, 24.0


def random_graph(rng: random.Random, max_ops: int = 14) -> Graph:
    """Shaped like tests/strategies.py's specs: 1-4 leaves, ops reading the latest, a recent
    or any earlier node, repeated inputs (a*a) a quarter of the time."""
    g = Graph()
    ids = [g.add_number(rng.uniform(-3, 3), name=f"x{k}") for k in range(rng.randint(1, 4))]
    names = sorted(OPERATORS)
    for _ in range(rng.randint(1, max_ops)):
        op = rng.choice(names)
        m = g.add_op(op)
        pick = lambda: rng.choice([len(ids) - 1, rng.randint(max(0, len(ids) - 3), len(ids) - 1),  # noqa: E731
                                   rng.randint(0, len(ids) - 1)])
        first = pick()
        for port in range(OPS[op].arity):
            g.connect(ids[first if port == 0 or rng.random() < 0.25 else pick()], m, port)
        ids.append(m)
    g.set_output(ids[-1])
    return g


RANDOM = [random_graph(random.Random(seed)) for seed in range(200)]


def drawing(g: nx.MultiDiGraph):
    """The layout and the wires the canvas draws now (a bundle: its one drawn wire)."""
    pos = layout.layered_positions(g)
    routes, rects = routing.route_graph(g, pos)
    drawn = layout.drawn_edges(g)
    return pos, {k: r for k, r in routes.items() if k in drawn}, rects


def old_drawing(g: nx.MultiDiGraph):
    """The layout before issue 8 with the wires the canvas drew then (one plain curve)."""
    pos = baseline_layout.layered_positions(g)
    rects = {n: (x, y, x + OLD_W, y + OLD_H) for n, (x, y) in pos.items()}
    routes = {}
    for s, t, port in g.edges(keys=True):
        arity = geometry.ports_of(g.nodes[t])[0]  # an instance's inputs come from its definition
        p0 = (pos[s][0] + OLD_W, pos[s][1] + OLD_HEAD + (OLD_H - OLD_HEAD) / 2)
        p1 = (pos[t][0], pos[t][1] + OLD_HEAD + (OLD_H - OLD_HEAD) * (port + 1) / (arity + 1))
        routes[(s, t, port)] = routing.plain_curve(p0, p1)
    return pos, routes, rects


def check_truthful(g: nx.MultiDiGraph, pos, routes, rects) -> None:
    """No wire under a node; each wire leaves its output to the right, enters its input from
    the left, and comes near a node only at its own ports; no two nodes overlap."""
    assert routing.under_count(routes.values(), rects) == 0
    for (s, t, port), segs in routes.items():
        assert routing.enters_from_left(segs), (s, t, port)
        p0, c1 = segs[0][0], segs[0][1]
        assert c1[0] > p0[0] and c1[1] == p0[1], "leaves its output port to the right"
        pts = routing.flatten(segs)
        for n, (x0, y0, x1, y1) in rects.items():
            for x, y in pts:
                if x0 - 3 < x < x1 + 3 and y0 - 3 < y < y1 + 3:  # brushing the node
                    own = ((n == s and math.dist((x, y), p0) <= routing.LEAD + 1)
                           or (n == t and math.dist((x, y), pts[-1]) <= routing.LEAD + 1))
                    assert own, f"wire {s}->{t}:{port} runs alongside node {n} at {(x, y)}"
    boxes = list(rects.values())
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], "nodes overlap"


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_every_example_is_drawn_truthfully(name):
    g = load(EXAMPLES / name).nx
    check_truthful(g, *drawing(g))


def long_wires(levels: int) -> Graph:
    """One number x wired into every level of a chain, level_k = tanh(level_{k-1} * x + c_k):
    the wires from x run past every node before their level (benchmarks/routing_bench.py)."""
    g = Graph()
    x = prev = g.add_number(0.5, name="x")
    for k in range(levels):
        c = g.add_number(0.01 * k)
        m = g.add_op("mul")
        g.connect(prev, m, 0)
        g.connect(x, m, 1)
        a = g.add_op("add")
        g.connect(m, a, 0)
        g.connect(c, a, 1)
        prev = g.add_op("tanh")
        g.connect(a, prev, 0)
    return g


def test_long_wires_past_many_nodes_still_go_round_every_node():
    g = long_wires(30)
    x = next(n for n in g.nodes() if g.name(n) == "x")
    pos, routes, rects = drawing(g.nx)
    check_truthful(g.nx, pos, routes, rects)
    # the wires from x past more than routing.LONG nodes took the one-channel route: after
    # the drop from x they hold one height (checked on what is drawn) until the climb to
    # their target, below or above every node in between
    long = [(k, segs) for k, segs in routes.items()
            if k[0] == x and sum(pos[k[0]][0] < r[0] and r[2] < pos[k[1]][0] for r in rects.values())
            > routing.LONG]
    assert len(long) >= 5
    for (s, t, _), segs in long:
        run = [p for p in routing.flatten(segs) if rects[s][2] + 2 * routing.LEAD < p[0]
               < rects[t][0] - 2 * routing.LEAD]
        assert run and max(p[1] for p in run) - min(p[1] for p in run) < 1e-6, (s, t)
        between = [r for r in rects.values() if rects[s][2] < r[0] and r[2] < rects[t][0]]
        y = run[0][1]
        assert all(y >= r[3] + routing.CLEAR - 1e-6 for r in between) or all(
            y <= r[1] - routing.CLEAR + 1e-6 for r in between), (s, t, y)


@pytest.mark.parametrize("seed", range(0, 200, 25))
def test_random_graphs_are_drawn_truthfully(seed):
    for g in RANDOM[seed:seed + 25]:
        check_truthful(g.nx, *drawing(g.nx))


def test_the_old_layout_did_put_wires_under_nodes():
    """The measurement can fail: the drawing before issue 8 fails it."""
    g = load(EXAMPLES / "micrograd_sanity.json").nx
    _, routes, rects = old_drawing(g)
    assert routing.under_count(routes.values(), rects) > 0


def test_crossings_no_worse_than_before_numbers(capsys):
    rows = []
    totals = {"before": [0, 0], "after": [0, 0]}
    for label, graphs in (("examples", [load(EXAMPLES / n).nx for n in BASELINE_FILES]),
                          ("200 random graphs", [g.nx for g in RANDOM])):
        c = {"before": 0, "after": 0}
        u = {"before": 0, "after": 0}
        for g in graphs:
            for kind, fn in (("before", old_drawing), ("after", drawing)):
                _, routes, rects = fn(g)
                c[kind] += routing.crossing_count(list(routes.values()))
                u[kind] += routing.under_count(routes.values(), rects)
        for kind in c:
            totals[kind][0] += c[kind]
            totals[kind][1] += u[kind]
        rows.append(f"{label:18} crossings {c['before']:4d} -> {c['after']:4d}, "
                    f"wires under nodes {u['before']:3d} -> {u['after']:3d}")
    with capsys.disabled():
        print("\n" + "\n".join(rows))
    assert totals["after"][1] == 0
    assert totals["after"][0] <= totals["before"][0]


def test_micrograd_x_enters_the_mul_on_its_own_port():
    """The issue's picture: x -> #13 (a mul) ran beside the node and left by its output port."""
    g = load(EXAMPLES / "micrograd_sanity.json")
    pos, routes, rects = drawing(g.nx)
    x = g.resolve("x")
    mul = 13
    assert g.op(mul) == "mul" and x in g.nx.predecessors(mul)
    for (s, t, port), segs in routes.items():
        if (s, t) != (x, mul):
            continue
        end = segs[-1][3]
        assert end == (pos[mul][0], pos[mul][1] + geometry.input_port_y(port))
        x0, y0, x1, y1 = rects[mul]
        pts = routing.flatten(segs)
        # everything within a node's height of the mul stays left of it and ends at the port
        close = [p for p in pts if x0 - routing.LEAD - 1 < p[0] and y0 - 10 < p[1] < y1 + 10]
        assert all(p[0] <= x0 + 1e-9 for p in close)
        assert all(abs(p[1] - end[1]) < 1e-6 for p in close)


@pytest.mark.parametrize("name", ["micrograd_sanity.json", "perceptron_2layer.json"])
def test_a_small_graph_fits_a_laptop_view_at_a_readable_zoom(name):
    _, _, rects = drawing(load(EXAMPLES / name).nx)
    w = max(r[2] for r in rects.values()) - min(r[0] for r in rects.values())
    h = max(r[3] for r in rects.values()) - min(r[1] for r in rects.values())
    margin = 40.0
    zoom = min(1280 / (w + 2 * margin), 800 / (h + 2 * margin))
    # the perceptron is 11 columns deep: it reads at 0.63 (text needs ~0.6 at 1x)
    assert zoom >= (0.7 if name == "micrograd_sanity.json" else 0.6), (w, h, zoom)


def test_layout_is_deterministic_and_in_whole_pixels():
    g = load(EXAMPLES / "micrograd_more_ops.json").nx
    a, b = layout.layered_positions(g), layout.layered_positions(g.copy())
    assert a == b
    assert all(float(y).is_integer() for _, y in a.values())


def test_long_wires_get_a_reserved_channel_in_every_column_they_cross():
    g = load(EXAMPLES / "micrograd_sanity.json").nx
    pos, channels = layout.layered_layout(g)
    rects = routing.node_rects(g, pos)
    columns = sorted({x for x, _ in pos.values()})
    for (s, t, port), points in channels.items():
        cols = [x for x, _ in points]
        first = columns.index(pos[s][0])
        assert cols == columns[first + 1:first + 1 + len(points)]  # every column crossed, in order
        assert columns[first + len(points) + 1] == pos[t][0]
        for x, y in points:  # a channel is a free gap: a wire there passes no node
            seg = routing.line((x, y), (x + geometry.NODE_W, y))
            assert routing.under_count([[seg]], rects) == 0


def test_node_heights_grow_with_ports_and_layout_uses_them():
    g = nx.MultiDiGraph()
    g.add_nodes_from([(1, {"op": "number"}), (2, {"op": "number"}), (3, {"op": "number"}),
                      (4, {"op": "mul"}), (5, {"op": "add"})])
    g.add_edges_from([(1, 4, 0), (2, 4, 1), (3, 5, 0), (2, 5, 1)])
    assert geometry.node_size("mul")[1] == geometry.node_size("number")[1] + 2 * geometry.PORT_ROW_H
    tall = layout.layered_positions(g, node_size=lambda op: (140.0, 300.0))
    same_column = sorted(tall[n][1] for n in (1, 2, 3))
    assert all(b - a >= 300.0 for a, b in zip(same_column, same_column[1:]))


def test_empty_single_and_huge_graphs():
    assert layout.layered_positions(nx.MultiDiGraph()) == {}
    g = Graph()
    a = g.add_number(1.0)
    assert g.layout() == {a: (0.0, 0.0)}
    # past the refinement limit the columns are stacked plainly, still without overlaps
    big = nx.MultiDiGraph()
    rng = random.Random(3)
    for i in range(3000):
        big.add_node(i, op="number" if i < 50 else "add")
        if i >= 50:
            big.add_edge(rng.randrange(i), i, 0)
            big.add_edge(rng.randrange(i), i, 1)
    pos = layout.layered_positions(big)
    assert len(pos) == 3000
    rects = sorted(routing.node_rects(big, pos).values())
    by_col: dict = {}
    for r in rects:
        by_col.setdefault(r[0], []).append(r)
    for col in by_col.values():
        col.sort(key=lambda r: r[1])
        assert all(a[3] <= b[1] for a, b in zip(col, col[1:]))


# ------------------------------------------------------------------------------ the router


def test_plain_curve_kept_when_it_passes_no_node():
    r = routing.Router({1: (0, 0, 140, 70), 2: (300, 0, 440, 70)})
    assert r.route((140, 47), (300, 47), ends=(1, 2)) == routing.plain_curve((140, 47), (300, 47))


def test_wire_goes_around_a_node_dropped_on_it():
    rects = {1: (0, 0, 140, 70), 2: (500, 0, 640, 70), 3: (250, 10, 390, 80)}
    r = routing.Router(rects)
    segs = r.route((140, 47), (500, 47), ends=(1, 2))
    assert routing.under_count([segs], rects) == 0
    assert routing.enters_from_left(segs) and segs[-1][3] == (500, 47)
    # moving the node away gives the plain curve back
    r.move(3, (250, 300, 390, 370))
    assert r.route((140, 47), (500, 47), ends=(1, 2)) == routing.plain_curve((140, 47), (500, 47))


def test_a_wall_of_nodes_is_passed_through_its_gap():
    wall = {k: (250, k * 90.0, 390, k * 90.0 + 70) for k in range(-5, 6) if k != 2}
    rects = {"s": (0, 0, 140, 70), "t": (600, 0, 740, 70), **wall}
    segs = routing.Router(rects).route((140, 47), (600, 47), ends=("s", "t"))
    assert routing.under_count([segs], rects) == 0
    ys = [y for x, y in routing.flatten(segs) if 250 <= x <= 390]
    assert ys and all(160 < y < 270 for y in ys)  # through the gap between k=1 and k=3


def test_target_left_of_its_source_loops_round_and_enters_from_the_left():
    rects = {"s": (400, 100, 540, 170), "t": (0, 120, 140, 190), "m": (200, 100, 340, 200)}
    segs = routing.Router(rects).route((540, 147), (0, 165), ends=("s", "t"))
    assert routing.under_count([segs], rects) == 0
    assert routing.enters_from_left(segs)
    assert segs[0][1][0] > 540  # leaves to the right


def test_router_survives_odd_input():
    r = routing.Router({})
    assert r.route((0, 0), (0, 0)) == routing.plain_curve((0, 0), (0, 0))
    # a port inside another node: no clean route exists, some route is still returned
    rects = {1: (0, 0, 1000, 1000)}
    segs = routing.Router(rects).route((100, 100), (900, 900), ends=())
    assert segs and segs[-1][3] == (900, 900)


def test_far_apart_nodes_route_at_once():
    """Coordinates a document may hold (finite, but far apart) cost no more than near ones."""
    rects = {1: (0, 0, 140, 70), 2: (1e15, 5e14, 1e15 + 140, 5e14 + 70),
             3: (5e14, 2.5e14, 5e14 + 140, 2.5e14 + 70)}
    segs = routing.Router(rects).route((140, 47), (1e15, 5e14 + 47), ends=(1, 2))
    assert segs[-1][3] == (1e15, 5e14 + 47)
    back = routing.Router(rects).route((1e15 + 140, 5e14 + 47), (0, 47), ends=(2, 1))
    assert back[-1][3] == (0, 47)


def test_crossing_count_counts_real_crossings_only():
    a = routing.plain_curve((0, 0), (200, 100))
    b = routing.plain_curve((0, 100), (200, 0))
    c = routing.plain_curve((0, 0), (200, 50))  # shares a's output port: not a crossing
    assert routing.crossing_count([a, b]) == 1
    assert routing.crossing_count([a, c]) == 0
    assert routing.crossing_count([a, b, c]) == 2


def test_examples_are_stored_laid_out():
    for name in EXAMPLE_FILES:
        g = load(EXAMPLES / name)
        back = [n for n in g.nodes() if g.role(n) == "backward"]
        if back:  # a backward graph sits below the document, mirrored (Graph.gradient_graph)
            top = max(g.position(n)[1] for n in g.nodes() if n not in back)
            assert min(g.position(n)[1] for n in back) > top
            g = g.copy()
            for n in back:
                g.remove_node(n)
        assert g.layout() == {n: g.position(n) for n in g.nodes()}, name
        doc = json.loads((EXAMPLES / name).read_text("utf-8"))
        assert all(float(n["y"]).is_integer() for n in doc["nodes"]), name


# ------------------------------------------------------------------------------ on the canvas


def _canvas(qtbot, graph: Graph):
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from gui.canvas.controller import Controller
    from gui.canvas.scene import GraphScene
    from gui.canvas.view import GraphView

    w = QWidget()
    w.stack = QUndoStack(w)
    w.controller = Controller(graph, w.stack, w)
    w.scene = GraphScene(w.controller, w)
    w.view = GraphView(w.scene, w)
    lay = QVBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(w.view)
    w.resize(1280, 800)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _bodies(scene) -> dict:
    from gui.canvas.items import NodeItem

    out = {}
    for it in scene.items():
        if isinstance(it, NodeItem):
            r = it.mapRectToScene(it.body_rect())
            out[it] = (r.left(), r.top(), r.right(), r.bottom())
    return out


def _drawn_points(wire, n: int = 400) -> list:
    path = wire.path()
    return [(p.x(), p.y()) for p in (path.pointAtPercent(k / n) for k in range(n + 1))]


def _check_scene(scene) -> None:
    """Every drawn wire is the engine's route for the scene's node rectangles, and no point
    of it lies under a node."""
    bodies = _bodies(scene)
    router = routing.Router(bodies)
    for wire in scene.wire_items().values():
        p0, p1 = wire.endpoints()
        want = router.route((p0.x(), p0.y()), (p1.x(), p1.y()), ends=(wire.src, wire.dst))
        assert wire.route() == want, wire.key
        pts = _drawn_points(wire)
        assert pts[0] == pytest.approx((p0.x(), p0.y())) and pts[-1] == pytest.approx((p1.x(), p1.y()))
        for it, (x0, y0, x1, y1) in bodies.items():
            inside = [p for p in pts if x0 + 1 < p[0] < x1 - 1 and y0 + 1 < p[1] < y1 - 1]
            assert not inside, f"wire {wire.key} drawn under node {it.node_id}"
        assert routing.enters_from_left(wire.route())


@pytest.mark.gui
@pytest.mark.parametrize("name", ["micrograd_sanity.json", "perceptron_2layer.json", "softplus_lse.json"])
def test_canvas_draws_each_wire_along_its_route(qtbot, name):
    w = _canvas(qtbot, load(EXAMPLES / name))
    _check_scene(w.scene)


@pytest.mark.gui
def test_a_node_dragged_onto_a_wire_pushes_the_wire_round_it(qtbot):
    from PySide6.QtCore import QPointF

    from tests.qt_helpers import drag

    g = Graph()
    a = g.add_number(2.0, name="a")
    n = g.add_op("neg", name="n")
    z = g.add_number(1.0, name="z")
    g.connect(a, n, 0)
    g.set_position(a, 0.0, 0.0)
    g.set_position(n, 600.0, 0.0)
    g.set_position(z, 300.0, 300.0)
    w = _canvas(qtbot, g)
    wire = w.scene.wire_item(a, n, 0)
    assert len(wire.route()) == 1  # nothing in the way: the plain curve
    z_item = w.scene.node_item(z)
    w.view.centerOn(370.0, 150.0)
    p0, p1 = wire.endpoints()
    middle = QPointF((p0.x() + p1.x()) / 2, (p0.y() + p1.y()) / 2)
    grab = z_item.mapToScene(QPointF(70.0, 10.0))  # its title
    drag(w.view, grab, middle + QPointF(0.0, 10.0 - 35.0), steps=8)  # title centre lands there
    assert w.stack.count() == 1 and g.position(z) != (300.0, 300.0)
    assert z_item.mapRectToScene(z_item.body_rect()).contains(middle)  # it lies on the old line
    _check_scene(w.scene)
    assert len(wire.route()) > 1  # routed round it
    w.stack.undo()
    _check_scene(w.scene)
    assert len(wire.route()) == 1  # z moved away again: the plain curve is back


@pytest.mark.gui
def test_canvas_nodes_fit_the_boxes_the_layout_reserves(qapp):
    """The layout sizes nodes with engine.drawing.geometry: a drawn node must fit in that box, with
    its ports on the box's left and right edges."""
    from gui.canvas.items import NodeItem

    for op in ["number", *sorted(OPS)]:
        it = NodeItem(1, op)
        w, h = geometry.node_size(op)
        body = it.body_rect()
        assert body.width() == w and body.height() <= h, op
        assert it.output_port.pos().x() == w
        for p in it.inputs:
            assert p.pos().x() == 0.0 and 0.0 < p.pos().y() < h


def test_docstring_examples_run():
    import doctest

    from engine.drawing import geometry as geometry_module

    for module in (layout, routing, geometry_module):
        assert doctest.testmod(module).failed == 0, module.__name__
