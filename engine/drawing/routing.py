"""Wire routes that never pass under a node, and the numbers that measure a drawing.

A wire's route is a list of cubic Bézier segments ``(p0, c1, c2, p3)`` from the source's
output port to the target's input port. The canvas draws exactly these segments, and the
metrics here flatten exactly these segments, so what is measured is what is seen.

Routing, cheapest first:

1. the plain curve (horizontal tangents at both ports) if it passes under no node;
2. a left-to-right route through the gaps between nodes: the x range between the ports is cut
   into slabs at every node edge, each slab's free heights are the gaps between its nodes,
   and a pass over the slabs picks the run with the least climbing (the layout leaves a gap
   wherever a long wire crosses a column, so this finds those channels); the waypoints are
   then joined by the longest S-curves that still clear every node. A long wire (past LONG
   nodes in its way, where that search costs tens of ms) first tries one free horizontal
   channel across its whole run, the nearest to its ends: a drop, a straight run, a climb
   (checked like any route; the search runs when it does not clear);
3. for a target left of its source, a loop: out to the right, along a free horizontal line
   above or below, and into the target from the left.

Every route leaves its source to the right and enters its target from the left.

>>> r = Router({1: (0, 0, 140, 70), 2: (300, 0, 140, 70), 3: (160, -20, 120, 120)})
>>> segs = r.route((140, 47), (300, 47), ends=(1, 2))
>>> under_count([segs], r.rects)
0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

Point = tuple[float, float]
Segment = tuple[Point, Point, Point, Point]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1

LEAD = 16.0  # straight run out of an output port and into an input port
CLEAR = 8.0  # room kept between a routed wire and a node it passes
MIN_PULL = 40.0  # the plain curve's handles are at least this long (as the canvas always drew)
BRUSH = 4.0  # a wire this close to a node it does not connect reads as touching it
NARROW = 6.0  # a gap between two padded nodes narrower than this is closed
BEND = 30.0  # cost of one climb in the slab search, in pixels of vertical travel
STRAY = 100.0  # straying 1 px from the straight line over this many px costs as 1 px of climb
CELL = 256.0  # spatial grid cell
_EPS = 0.75  # a wire touching a node's border is not under it
MARGINS = (160.0, 640.0, 2560.0)  # how far above and below its ends a forward route may look
REACH = MARGINS[-1] + CLEAR  # so a forward route stays this close to its ends' heights
FORWARD_MIN = 2 * LEAD + 4  # a target at least this far right of its source is routed forward
# Past this many nodes in a forward route's way the slab search (linear in them, per wire, so
# quadratic in a document of long wires) is tried after one straight channel
# (benchmarks/routing_bench.py: 300 wires past up to 1,200 nodes each).
LONG = 64
CHANNELS = 3  # free lines a long wire tries before the slab search


# ---------------------------------------------------------------------------------- curves


def plain_curve(p0: Point, p1: Point) -> list[Segment]:
    """The wire the canvas always drew: one cubic with horizontal handles."""
    dx = max(abs(p1[0] - p0[0]) * 0.5, MIN_PULL)
    return [(p0, (p0[0] + dx, p0[1]), (p1[0] - dx, p1[1]), p1)]


def s_curve(a: Point, b: Point) -> Segment:
    """Horizontal at both ends, x monotone when b is right of a: it stays inside the box
    spanned by a and b, which is what makes a clear box a clear curve."""
    mx = (a[0] + b[0]) / 2
    return a, (mx, a[1]), (mx, b[1]), b


def line(a: Point, b: Point) -> Segment:
    return a, _lerp(a, b, 1 / 3), _lerp(a, b, 2 / 3), b


def rounded(points: list[Point], radius: float = 12.0) -> list[Segment]:
    """An axis-parallel polyline as segments, each corner rounded by a quarter curve."""
    segs: list[Segment] = []
    cur = points[0]
    for k in range(1, len(points) - 1):
        a, b, c = points[k - 1], points[k], points[k + 1]
        r = min(radius, _dist(a, b) / 2, _dist(b, c) / 2)
        if r <= 0.5:
            continue
        enter = _toward(b, a, r)
        leave = _toward(b, c, r)
        if _dist(cur, enter) > 1e-9:
            segs.append(line(cur, enter))
        k_ = 0.5523  # cubic approximation of a quarter circle
        segs.append((enter, _lerp(enter, b, k_), _lerp(leave, b, k_), leave))
        cur = leave
    if _dist(cur, points[-1]) > 1e-9 or not segs:
        segs.append(line(cur, points[-1]))
    return segs


def flatten(segs: Iterable[Segment], step: float = 8.0) -> list[Point]:
    """Points along the segments, about ``step`` apart (at least 4 per segment)."""
    out: list[Point] = []
    for p0, c1, c2, p3 in segs:
        approx = _dist(p0, c1) + _dist(c1, c2) + _dist(c2, p3)
        n = max(4, min(160, math.ceil(approx / step)))
        if not out:
            out.append(p0)
        x0, y0 = p0
        x1, y1 = c1
        x2, y2 = c2
        x3, y3 = p3
        out.extend((a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)
                   for a, b, c, d in _bernstein(n))
    return out


_BERNSTEIN: dict[int, list] = {}


def _bernstein(n: int) -> list:
    """The cubic Bernstein weights at t = 1/n .. 1, computed once per n."""
    w = _BERNSTEIN.get(n)
    if w is None:
        w = []
        for i in range(1, n + 1):
            t = i / n
            u = 1 - t
            w.append((u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t))
        _BERNSTEIN[n] = w
    return w


def bounds(segs: Iterable[Segment]) -> Rect:
    """A box around every point and handle (a Bézier stays inside its handles' hull)."""
    if len(segs) == 1:  # the plain curve, most wires: without building lists (speed only)
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = segs[0]
        return min(ax, bx, cx, dx), min(ay, by, cy, dy), max(ax, bx, cx, dx), max(ay, by, cy, dy)
    xs, ys = [], []
    for seg in segs:
        for x, y in seg:
            xs.append(x)
            ys.append(y)
    return min(xs), min(ys), max(xs), max(ys)


def _lerp(a: Point, b: Point, t: float) -> Point:
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def _dist(a: Point, b: Point) -> float:
    return math.hypot(b[0] - a[0], b[1] - a[1])


def _toward(a: Point, b: Point, r: float) -> Point:
    d = _dist(a, b)
    return a if d == 0 else _lerp(a, b, r / d)


# ---------------------------------------------------------------------------------- geometry


def segment_hits_rect(a: Point, b: Point, r: Rect, eps: float = _EPS) -> bool:
    """Whether segment a-b enters the interior of ``r`` shrunk by ``eps`` (Liang-Barsky)."""
    x0, y0, x1, y1 = r[0] + eps, r[1] + eps, r[2] - eps, r[3] - eps
    if x0 >= x1 or y0 >= y1:
        return False
    dx, dy = b[0] - a[0], b[1] - a[1]
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
        if p == 0:
            if q <= 0:
                return False
        else:
            t = q / p
            if p < 0:
                if t > t1:
                    return False
                t0 = max(t0, t)
            else:
                if t < t0:
                    return False
                t1 = min(t1, t)
    return t1 - t0 > 1e-12


def polyline_hits_rect(pts: list[Point], r: Rect, eps: float = _EPS) -> bool:
    rx0, ry0, rx1, ry1 = r
    for a, b in zip(pts, pts[1:]):
        # cheap reject before the clip
        if (max(a[0], b[0]) <= rx0 or min(a[0], b[0]) >= rx1
                or max(a[1], b[1]) <= ry0 or min(a[1], b[1]) >= ry1):
            continue
        if segment_hits_rect(a, b, r, eps):
            return True
    return False


class Grid:
    """Rectangles by key in a uniform grid, for "which rectangles near this box" queries."""

    def __init__(self, rects: Mapping | None = None, cell: float = CELL):
        self.cell = cell
        self.rects: dict = {}
        self._cells: dict[tuple[int, int], set] = {}
        for k, r in (rects or {}).items():
            self.set(k, r)

    def _span(self, r: Rect):
        c = self.cell
        return (math.floor(r[0] / c), math.floor(r[1] / c), math.floor(r[2] / c), math.floor(r[3] / c))

    def set(self, key, r: Rect) -> None:
        if key in self.rects:
            self.remove(key)
        self.rects[key] = r
        i0, j0, i1, j1 = self._span(r)
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                self._cells.setdefault((i, j), set()).add(key)

    def remove(self, key) -> None:
        r = self.rects.pop(key, None)
        if r is None:
            return
        i0, j0, i1, j1 = self._span(r)
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                s = self._cells.get((i, j))
                if s is not None:
                    s.discard(key)
                    if not s:
                        del self._cells[(i, j)]

    def hits(self, pts: list[Point], pad: float = 0.0, ignore=()) -> bool:
        """Whether the polyline enters any rectangle (grown by ``pad``). The polyline is taken
        in runs of a few points: each run is tested only against the rectangles in the grid
        cells under its box."""
        c = self.cell
        cells = self._cells
        rects = self.rects
        n = len(pts)
        step = 12
        for start in range(0, n - 1, step):
            run = pts[start:start + step + 1]
            xs = [p[0] for p in run]
            ys = [p[1] for p in run]
            bx0, bx1 = min(xs) - pad, max(xs) + pad
            by0, by1 = min(ys) - pad, max(ys) + pad
            i0, i1 = math.floor(bx0 / c), math.floor(bx1 / c)
            j0, j1 = math.floor(by0 / c), math.floor(by1 / c)
            if (i1 - i0 + 1) * (j1 - j0 + 1) > len(cells) + 16:
                near = set(rects)  # a run longer than the populated grid: test every box
            else:
                near = set()
                for i in range(i0, i1 + 1):
                    for j in range(j0, j1 + 1):
                        found = cells.get((i, j))
                        if found:
                            near |= found
            for k in near:
                if k in ignore:
                    continue
                x0, y0, x1, y1 = rects[k]
                r = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
                if r[2] <= bx0 or r[0] >= bx1 or r[3] <= by0 or r[1] >= by1:
                    continue
                if polyline_hits_rect(run, r):
                    return True
        return False

    def query(self, box: Rect) -> set:
        """Keys of the rectangles that overlap ``box`` (touching edges do not count)."""
        found: set = set()
        if not all(math.isfinite(v) for v in box):
            i0 = j0 = 0
            i1 = j1 = 1 << 40  # unbounded: scan
        else:
            i0, j0, i1, j1 = self._span(box)
        if (i1 - i0 + 1) * (j1 - j0 + 1) > 4 * len(self._cells) + 16:
            cand: Iterable = self.rects  # a box bigger than the populated grid: scan instead
        else:
            cand = set()
            for i in range(i0, i1 + 1):
                for j in range(j0, j1 + 1):
                    s = self._cells.get((i, j))
                    if s:
                        cand |= s
        bx0, by0, bx1, by1 = box
        for k in cand:
            x0, y0, x1, y1 = self.rects[k]
            if x0 < bx1 and bx0 < x1 and y0 < by1 and by0 < y1:
                found.add(k)
        return found


# ---------------------------------------------------------------------------------- router


class Router:
    """Routes wires around node rectangles ``{key: (x0, y0, x1, y1)}``.

    Keep one per drawing and call :meth:`move` when a node moves: a route is recomputed from
    the rectangles alone, so it never depends on how the nodes got where they are.
    """

    def __init__(self, rects: Mapping | None = None):
        self.grid = Grid(rects)

    @property
    def rects(self) -> dict:
        return self.grid.rects

    def move(self, key, rect: Rect | None) -> None:
        """Set (or with None, remove) one node's rectangle."""
        if rect is None:
            self.grid.remove(key)
        else:
            self.grid.set(key, rect)

    def hits(self, segs: list[Segment], ends=()) -> bool:
        """Whether the drawn segments pass under a node, or brush one (within BRUSH) that is
        not one of the wire's own ``ends`` (whose ports are on their borders)."""
        x0, y0, x1, y1 = bounds(segs)  # a curve stays inside its handles' box
        near = self.grid.query((x0 - BRUSH, y0 - BRUSH, x1 + BRUSH, y1 + BRUSH))
        if not near:
            return False
        pts = flatten(segs)
        if not near.issubset(ends) and self.grid.hits(pts, BRUSH, ends):
            return True
        rects = self.grid.rects
        return any(k in near and polyline_hits_rect(pts, rects[k]) for k in ends)

    def route(self, p0: Point, p1: Point, ends=()) -> list[Segment]:
        """Segments from output port ``p0`` to input port ``p1``; ``ends`` are the keys of the
        wire's own nodes (routed around like any other, but their ports are on their borders)."""
        plain = plain_curve(p0, p1)
        if not self.hits(plain, ends):
            return plain
        forward = None
        if p1[0] - p0[0] >= FORWARD_MIN:
            forward, clear = self._forward(p0, p1, ends)
            if forward is not None and (clear or not self.hits(forward, ends)):
                return forward
        loop = self._loop(p0, p1, ends)
        if loop is not None:
            return loop
        return forward or plain  # boxed in: the least bad

    # -------------------------------------------------------------- left to right through gaps

    def _forward(self, p0: Point, p1: Point, ends) -> tuple[list[Segment] | None, bool]:
        """A route through the gaps (or None), and whether it is already known to be clear."""
        xa, xb = p0[0] + LEAD, p1[0] - LEAD
        lo, hi = min(p0[1], p1[1]), max(p0[1], p1[1])
        for margin in MARGINS:
            box = (xa, lo - margin, xb, hi + margin)
            keys = self.grid.query((xa - CLEAR, box[1], xb + CLEAR, box[3]))
            obstacles = []
            for k in keys:
                x0, y0, x1, y1 = self.grid.rects[k]
                r = (x0 - CLEAR, y0 - CLEAR, x1 + CLEAR, y1 + CLEAR)
                if k in ends:
                    # the wire's own node: only its body blocks, its port side stays open
                    r = (x0, y0, x1, y1)
                if r[0] < xb and xa < r[2]:
                    obstacles.append(r)
            if len(obstacles) > LONG:
                segs = self._channel(p0, p1, obstacles, box[1], box[3], ends)
                if segs is not None:
                    return segs, True
            ys = _slab_path(xa, xb, p0[1], p1[1], obstacles, box[1], box[3])
            if ys is not None:
                break
        else:
            return None, False
        gaps = ys
        way = self._spread(xa, xb, p0[1], p1[1], gaps)
        hops = self._pull(way, ends)
        segs = [line(p0, (xa, p0[1]))] if xa > p0[0] else []
        segs += hops
        segs.append(line((xb, p1[1]), p1))
        return segs, False

    def _channel(self, p0: Point, p1: Point, obstacles, top, bottom, ends) -> list[Segment] | None:
        """A long wire's route along one free horizontal line across its whole run: a drop
        just after the source's lead, a straight run, a climb just before the target's. The
        free lines nearest its ends' heights are tried first (a few: the climb may be blocked
        near one end); None when none clears every node."""
        xa, xb = p0[0] + LEAD, p1[0] - LEAD
        y0, y1 = p0[1], p1[1]
        heights = []
        y = top
        for a, b in _merge(sorted((r[1], r[3]) for r in obstacles), NARROW) + [[bottom, bottom]]:
            if a > y:  # free from y to a across the whole run
                lo_, hi_ = (y + 2.0, a - 2.0) if a - y > 4.0 else (y, a)
                heights.append(min(max((y0 + y1) / 2, lo_), hi_))
            y = max(y, b)
        d = min(LEAD, (xb - xa) / 4)  # the drop and the climb: as steep as the leads
        for c in sorted(heights, key=lambda c: abs(c - y0) + abs(c - y1))[:CHANNELS]:
            way = [(xa, y0), (xa + d, c), (xb - d, c), (xb, y1)]
            segs = [line(p0, (xa, y0))] if xa > p0[0] else []
            for a, b in zip(way, way[1:]):
                if a != b:
                    segs.append(s_curve(a, b) if b[1] != a[1] else line(a, b))
            segs.append(line((xb, y1), p1))
            # piece by piece: the long straight run's thin box meets no node (the usual case)
            # at the price of one grid query, where the whole route's box meets hundreds
            if not any(self.hits([seg], ends) for seg in segs):
                return segs
        return None

    def _spread(self, xa, xb, y0, y1, gaps) -> list[Point]:
        """Waypoints near the straight line from start to end: in each slab the run climbs
        (inside that slab's gap) to the height of the line there, kept inside the gap it
        shares with the next slab. So wires heading for different places keep apart in a
        shared gap instead of all hugging one edge of it, and every hop stays in a gap."""
        way: list[Point] = [(xa, y0)]
        span = max(xb - xa, 1e-9)
        cur = y0
        for s, (x_start, x_end, (a, b)) in enumerate(gaps):
            if s + 1 < len(gaps):
                na, nb = gaps[s + 1][2]
                lo, hi = max(a, na), min(b, nb)
                ideal = y0 + (y1 - y0) * (x_end - xa) / span
                if hi - lo > 4.0:
                    lo, hi = lo + 2.0, hi - 2.0
                y = min(max(ideal, lo), hi)
            else:
                y = y1
            if y != cur:
                if way[-1] != (x_start, cur):
                    way.append((x_start, cur))
                way.append((x_end, y))
                cur = y
        if way[-1] != (xb, y1):
            way.append((xb, y1))
        return way

    def _pull(self, way: list[Point], ends) -> list[Segment]:
        """Join waypoints by the fewest S-curves that clear every node (string pulling)."""
        out: list[Segment] = []
        i, n = 0, len(way)
        while i < n - 1:
            # the farthest clear waypoint, found by halving: a few checks even on long runs
            # (it may miss a farther clear one behind a blocked one: only a longer route)
            lo, hi = i + 1, n - 1
            if self._joins(way[i], way[hi], ends):
                lo = hi  # straight to the end: the common case, one check
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if self._joins(way[i], way[mid], ends):
                    lo = mid
                else:
                    hi = mid - 1
            j = lo
            a, b = way[i], way[j]
            out.append(s_curve(a, b) if b[0] > a[0] else line(a, b))
            i = j
        return out

    def _joins(self, a: Point, b: Point, ends) -> bool:
        return b[0] > a[0] and not self.hits([s_curve(a, b)], ends)

    # -------------------------------------------------------------- backward: a loop around

    def _loop(self, p0: Point, p1: Point, ends) -> list[Segment] | None:
        xr, xl = p0[0] + LEAD, p1[0] - LEAD
        bx0, bx1 = min(xl, xr) - CLEAR, max(xl, xr) + CLEAR
        rects = self.grid.rects
        lo, hi = min(p0[1], p1[1]), max(p0[1], p1[1])
        for margin in (400.0, None):
            if margin is None:
                keys = self.grid.query((bx0, -math.inf, bx1, math.inf)) if rects else set()
            else:
                keys = self.grid.query((bx0, lo - margin, bx1, hi + margin))
            spans = sorted((rects[k][1] - CLEAR, rects[k][3] + CLEAR) for k in keys)
            # free horizontal lines across the band: just outside each blocked span
            cands = {lo, hi, (lo + hi) / 2}
            for a, b in _merge(spans):
                cands.update((a - 1.0, b + 1.0))
            best = None
            for yc in sorted(cands, key=lambda y: abs(y - p0[1]) + abs(y - p1[1])):
                if any(a < yc < b for a, b in spans):
                    continue
                pts = [p0, (xr, p0[1]), (xr, yc), (xl, yc), (xl, p1[1]), p1]
                pts = [p for k, p in enumerate(pts) if k == 0 or p != pts[k - 1]]
                segs = rounded(pts)
                if not self.hits(segs, ends):
                    best = segs
                    break
            if best is not None:
                return best
        return None


def _merge(spans, narrow: float = 0.0):
    """Overlapping spans joined; with ``narrow``, so are spans closer than that (a gap a wire
    cannot use without brushing both nodes)."""
    out: list[list[float]] = []
    for a, b in spans:
        if out and a <= out[-1][1] + narrow:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def _slab_path(xa, xb, y0, y1, obstacles, top, bottom):
    """A left-to-right run from (xa, y0) to (xb, y1) that stays in free gaps, as a list of
    (slab start, slab end, (top, bottom) of the gap the run holds there); None when no run
    exists. Among runs, the one with the least climbing (and fewest climbs) wins."""
    cuts = {xa, xb}
    for r in obstacles:
        if xa < r[0] < xb:
            cuts.add(r[0])
        if xa < r[2] < xb:
            cuts.add(r[2])
    xs = sorted(cuts)
    slabs = []
    pending = sorted(obstacles)  # by left edge
    nxt = 0
    active: list = []
    for x_start, x_end in zip(xs, xs[1:]):
        while nxt < len(pending) and pending[nxt][0] < x_end:
            active.append(pending[nxt])
            nxt += 1
        active = [r for r in active if r[2] > x_start]
        blocked = sorted((r[1], r[3]) for r in active)
        free = []
        y = top
        for a, b in _merge(blocked, NARROW):
            if a > y:
                free.append((y, a))
            y = max(y, b)
        if y < bottom:
            free.append((y, bottom))
        slabs.append((x_start, x_end, free))
    # Each slab's gap is scored by how far the run must stray from the straight line between
    # its ends there (times the slab's width) plus its climbs: independent wires then keep the
    # order of their ends through shared gaps, as the layout's channels do, instead of all
    # taking the one gap nearest their start.
    span = max(xb - xa, 1e-9)

    def ideal(x):
        return y0 + (y1 - y0) * (x - xa) / span

    def held(s, gap):
        a, b = gap
        return min(max(ideal((slabs[s][0] + slabs[s][1]) / 2), a), b)

    # states per slab: gap index -> (cost, y held, back pointer)
    first = slabs[0][2]
    states = {i: (0.0, y0, None) for i, (a, b) in enumerate(first) if a <= y0 <= b}
    if not states:
        return None
    history = [states]
    for s in range(1, len(slabs)):
        prev_free, free = slabs[s - 1][2], slabs[s][2]
        width = slabs[s][1] - slabs[s][0]
        nxt: dict = {}
        for j, gap in enumerate(free):
            y2 = held(s, gap)
            stray = abs(y2 - ideal((slabs[s][0] + slabs[s][1]) / 2)) * width / STRAY
            for i, (cost, y, _) in states.items():
                a0, b0 = prev_free[i]
                if max(a0, gap[0]) > min(b0, gap[1]):
                    continue  # the two gaps do not meet: no way from one to the other
                c = cost + stray + abs(y2 - y) + (BEND if abs(y2 - y) > 0.5 else 0.0)
                if j not in nxt or c < nxt[j][0]:
                    nxt[j] = (c, y2, i)
        if not nxt:
            return None
        states = nxt
        history.append(states)
    last = slabs[-1][2]
    ends = [(c + abs(y1 - y) + (BEND if abs(y1 - y) > 0.5 else 0.0), j) for j, (c, y, _) in states.items()
            if last[j][0] <= y1 <= last[j][1]]
    if not ends:
        return None
    _, j = min(ends)
    chosen = [0] * len(slabs)
    for s in range(len(slabs) - 1, -1, -1):
        chosen[s] = j
        j = history[s][j][2]
    return [(slabs[s][0], slabs[s][1], slabs[s][2][chosen[s]]) for s in range(len(slabs))]


# ---------------------------------------------------------------------------------- metrics


def under_count(routes: Iterable[list[Segment]], rects: Mapping) -> int:
    """How many (wire, node) pairs have the wire passing under the node's rectangle."""
    grid = Grid(rects)
    n = 0
    for segs in routes:
        pts = flatten(segs)
        for k in grid.query(bounds(segs)):
            if polyline_hits_rect(pts, grid.rects[k]):
                n += 1
    return n


def crossing_count(routes: list[list[Segment]]) -> int:
    """Points where two wires cross. Wires leaving one output port carry the same value and
    may run together and part anywhere: they never count as crossing each other (as in graph
    drawing, where edges sharing an end are not counted). Wires into one node touch there:
    only their crossings away from that node count."""
    lines = [flatten(segs) for segs in routes]
    ends = [(pts[0], pts[-1]) for pts in lines]
    grid: dict[tuple[int, int], list] = {}
    c = 64.0
    for w, pts in enumerate(lines):
        for k, (a, b) in enumerate(zip(pts, pts[1:])):
            i0, i1 = sorted((math.floor(a[0] / c), math.floor(b[0] / c)))
            j0, j1 = sorted((math.floor(a[1] / c), math.floor(b[1] / c)))
            for i in range(i0, i1 + 1):
                for j in range(j0, j1 + 1):
                    grid.setdefault((i, j), []).append((w, k))
    seen: set = set()
    found: set = set()
    for members in grid.values():
        for x in range(len(members)):
            w1, k1 = members[x]
            for y in range(x + 1, len(members)):
                w2, k2 = members[y]
                if w1 == w2 or ends[w1][0] == ends[w2][0]:
                    continue
                key = (w1, k1, w2, k2) if w1 < w2 else (w2, k2, w1, k1)
                if key in seen:
                    continue
                seen.add(key)
                a, b = lines[w1][k1], lines[w1][k1 + 1]
                p, q = lines[w2][k2], lines[w2][k2 + 1]
                hit = _cross_point(a, b, p, q)
                if hit is None:
                    continue
                shared = set(ends[w1]) & set(ends[w2])
                if any(_dist(hit, e) < 12.0 for e in shared):
                    continue
                # one crossing per pair of wires per place: a crossing found on the joint of
                # two flattened pieces must not count twice
                found.add((min(w1, w2), max(w1, w2), round(hit[0] / 4), round(hit[1] / 4)))
    return len(found)


def _cross_point(a, b, p, q):
    """The point where segments a-b and p-q properly cross, else None."""
    d1x, d1y = b[0] - a[0], b[1] - a[1]
    d2x, d2y = q[0] - p[0], q[1] - p[1]
    den = d1x * d2y - d1y * d2x
    if abs(den) < 1e-12:
        return None
    t = ((p[0] - a[0]) * d2y - (p[1] - a[1]) * d2x) / den
    u = ((p[0] - a[0]) * d1y - (p[1] - a[1]) * d1x) / den
    if 0.0 <= t < 1.0 and 0.0 <= u < 1.0:  # half-open: a crossing on a joint counts once
        return a[0] + t * d1x, a[1] + t * d1y
    return None


def enters_from_left(segs: list[Segment]) -> bool:
    """Whether the last piece arrives horizontally, travelling right."""
    _, _, c2, p3 = segs[-1]
    return c2[0] < p3[0] and abs(c2[1] - p3[1]) < 1e-6


# ---------------------------------------------------------------------------------- a drawing


def node_rects(g, pos: Mapping, node_size=None) -> dict:
    """``{node: (x0, y0, x1, y1)}`` for nodes at top-left ``pos`` (sizes from geometry)."""
    from . import geometry

    out = {}
    for n, (x, y) in pos.items():
        a = g.nodes[n]
        w, h = node_size(a.get("op", "number")) if node_size else geometry.size_of(a)
        out[n] = (x, y, x + w, y + h)
    return out


def route_graph(g, pos: Mapping, node_size=None, router: Router | None = None) -> tuple[dict, dict]:
    """Route every wire of the networkx graph ``g`` with nodes at top-left ``pos``, as the
    canvas draws them; returns ``({(source, target, port): segments}, rects)``."""
    from . import geometry

    rects = node_rects(g, pos, node_size)
    router = router or Router(rects)
    routes = {}
    for s, t, port, sp in g.edges(keys=True, data="source_port", default=0):
        ox, oy = geometry.output_offset_of(g.nodes[s], sp)
        ix, iy = geometry.input_offset_of(g.nodes[t], port)
        p0 = (pos[s][0] + ox, pos[s][1] + oy)
        p1 = (pos[t][0] + ix, pos[t][1] + iy)
        routes[(s, t, port)] = router.route(p0, p1, ends=(s, t))
    return routes, rects
