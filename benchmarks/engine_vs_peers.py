"""Engine benchmark: gradcanvas against its peers, on the same graphs, in the same run.

Implementations timed side by side:

- the seed notebook's NumberWithGrad (``seed_numberwithgrad.py``, copied verbatim),
- micrograd (if installed), PyTorch scalar float64 tensors (if installed),
- ours, eager: ``engine.Value``,
- ours, document: ``engine.Graph`` built with the public edit methods, and built from a Value
  with ``Value.graph()``; its compiled tape is timed with ``engine.core.autodiff``.

Graphs: a chain, a diamond ladder (``x = x*c + x``, whose path count doubles per rung) and a
random DAG with fan-out whose sinks are summed into one output. Every implementation builds
the same structure from the same description with the same Python loop, using only ``+`` and
``*`` so that every peer supports every node. Columns are explained in benchmarks/README.md.

    python benchmarks/engine_vs_peers.py           # full size: 100,000 nodes, a few minutes
    python benchmarks/engine_vs_peers.py --quick   # 10,000 nodes, well under 30 s
"""

from __future__ import annotations

import argparse
import datetime
import gc
import math
import os
import platform
import random
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # seed_numberwithgrad sits next to this script
sys.path.insert(1, os.path.dirname(HERE))  # engine, when run from a checkout that is not installed

import networkx  # noqa: E402
from seed_numberwithgrad import NumberWithGrad as SeedNumber  # noqa: E402

from engine import Graph, Value  # noqa: E402
from engine.core import autodiff  # noqa: E402

ADD, MUL = 0, 1
PEERS = ("seed", "micrograd", "torch")
STACK_BYTES = 1024 * 1024 * 1024  # micrograd's and the seed's backward recurse once per level
RECURSION_LIMIT = 2_000_000


# ---------------------------------------------------------------------- graph descriptions


@dataclass
class Spec:
    """A graph every implementation can build: leaves first, then binary ops on earlier nodes.

    Node k < len(leaves) is a leaf; node len(leaves) + i is ``ops[i] = (kind, a, b)``. The
    output is the last node. ``edit`` is the leaf changed for the re-evaluation column.
    """

    title: str
    leaves: list
    ops: list
    edit: int
    new_value: float
    notes: list = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.leaves) + len(self.ops)

    def edited(self) -> list:
        vals = list(self.leaves)
        vals[self.edit] = self.new_value
        return vals


def chain_spec(n: int) -> Spec:
    """x -> x*c -> x*c + d -> ... : every op consumes the previous node (depth n)."""
    leaves = [0.5, 0.9999, 0.0001]  # x, c, d: x*c + d converges to 1, grads stay O(1)
    ops = []
    prev = 0
    for i in range(n - len(leaves)):
        ops.append((MUL, prev, 1) if i % 2 == 0 else (ADD, prev, 2))
        prev = len(leaves) + i
    return Spec(f"chain: {n:,} nodes (x = x*c, x = x + d, alternating)", leaves, ops, 0, 0.6)


def ladder_spec(depth: int) -> Spec:
    """``x = x*c + x`` repeated: 2 ops per rung, 2**depth paths from the output to x."""
    leaves = [1.0, 1e-5]  # x, c: the output is x*(1+c)**depth, finite at any tested depth
    ops = []
    x = 0
    for _ in range(depth):
        m = len(leaves) + len(ops)
        ops.append((MUL, x, 1))
        ops.append((ADD, m, x))
        x = m + 1
    return Spec(f"diamond ladder: depth {depth:,}, {2 + 2 * depth:,} nodes", leaves, ops, 0, 1.1)


def random_dag_spec(n: int, seed: int = 12345, recent: int = 8) -> Spec:
    """Random DAG with fan-out, exactly or one more than ``n`` nodes including the final sum.

    Each op takes one input from the ``recent`` newest nodes and one from anywhere earlier
    (so old nodes keep gaining consumers). Ops: add and mul of two nodes (40 % each) and mul
    by a shared constant 0.5 (20 %), which keeps every value finite. The sinks are summed
    with a chain of adds, so every node is an ancestor of the output.
    """
    rng = random.Random(seed)
    leaves = [rng.uniform(-1.0, 1.0) for _ in range(max(2, n // 100))]
    half = len(leaves)
    leaves.append(0.5)
    ops = []
    consumed = bytearray(len(leaves))
    sinks = len(leaves)
    size = len(leaves)
    # Stop when the ops plus the adds that will sum the sinks reach n.
    while size + sinks - 1 < n:
        a = rng.randrange(max(0, size - recent), size)
        r = rng.random()
        if r < 0.4:
            op = (ADD, a, rng.randrange(size))
        elif r < 0.8:
            op = (MUL, a, rng.randrange(size))
        else:
            op = (MUL, a, half)
        ops.append(op)
        consumed.append(0)
        sinks += 1
        for j in {op[1], op[2]}:
            if not consumed[j]:
                consumed[j] = 1
                sinks -= 1
        size += 1
    sink_ids = [i for i in range(size) if not consumed[i]]
    acc = sink_ids[0]
    for s in sink_ids[1:]:
        ops.append((ADD, acc, s))
        acc = size
        size += 1
    spec = Spec(f"random DAG: {size:,} nodes, seed {seed}", leaves, ops, 0, leaves[0] + 0.25)
    spec.notes.append(
        f"{len(leaves):,} leaves, {len(ops) - len(sink_ids) + 1:,} ops with fan-out, "
        f"{len(sink_ids):,} sinks summed by {len(sink_ids) - 1:,} adds"
    )
    return spec


def seed_visits(spec: Spec) -> float:
    """How many times the seed's recursive backward is called: once per path from the output
    to each node (float, inf when it overflows)."""
    paths = [0.0] * spec.size
    paths[-1] = 1.0
    base = len(spec.leaves)
    for i in range(len(spec.ops) - 1, -1, -1):
        p = paths[base + i]
        _, a, b = spec.ops[i]
        paths[a] += p
        paths[b] += p
    return sum(paths)  # not fsum: it raises on the overflow that a deep ladder reaches


# ---------------------------------------------------------------------- timing helpers


def timed(fn: Callable, *args):
    """(seconds, result) of one call, after a collection so earlier garbage is not billed here."""
    gc.collect()
    t0 = time.perf_counter()
    r = fn(*args)
    return time.perf_counter() - t0, r


def best(fn: Callable, reps: int, budget: float = 2.0) -> float:
    """Best of up to ``reps`` calls; stops early once the calls have used ``budget`` seconds."""
    times = []
    while len(times) < reps and (not times or sum(times) < budget):
        times.append(timed(fn)[0])
    return min(times)


@dataclass
class Row:
    name: str
    build: float | None = None
    compile: float | None = None
    forward: float | None = None
    backward: float | None = None
    reeval: float | None = None
    status: str = ""  # non-empty: the row was skipped or failed, and why
    note: str = ""
    grads: list | None = None  # gradients of the checked leaves, original values
    doc: tuple | None = None  # (Graph, ids) kept for the paired summary, so it is built once

    def fused(self) -> float | None:
        return None if self.build is None or self.backward is None else self.build + self.backward


# ---------------------------------------------------------------------- eager implementations


def build_eager(spec: Spec, values: list, leaf: Callable) -> list:
    """The one build loop every eager implementation runs: operator overloading, nothing else."""
    nodes = [leaf(v) for v in values]
    app = nodes.append
    for kind, a, b in spec.ops:
        app(nodes[a] * nodes[b] if kind else nodes[a] + nodes[b])
    return nodes


class EagerRun:
    """One eager implementation, measured one repetition at a time so that several can take turns.

    A repetition builds (odd ones with the edited value), then runs backward. The re-eval column
    is the best build + backward: after an edit an eager engine can only rebuild and rerun.
    """

    def __init__(self, name: str, spec: Spec, leaf: Callable, check: list, grad_of: Callable | None = None):
        self.row = Row(name)
        self.spec, self.leaf, self.check = spec, leaf, check
        self.grad_of = grad_of or _grad
        self.times: list[tuple[float, float]] = []
        self.done = False

    def step(self) -> None:
        spec = self.spec
        values = spec.leaves if len(self.times) % 2 == 0 else spec.edited()
        tb, nodes = timed(build_eager, spec, values, self.leaf)
        tw, _ = timed(_bwd, nodes[-1])
        if not self.times:
            self.row.grads = [self.grad_of(nodes[i]) for i in self.check]
        self.times.append((tb, tw))
        del nodes
        gc.collect()
        # Slow runs vary little relative to their length: keep the whole script in minutes.
        spent = sum(a + b for a, b in self.times)
        self.done = (len(self.times) >= 2 and spent > 6.0) or tb + tw > 3.0

    def finish(self) -> Row:
        row = self.row
        if self.times and not row.status:
            row.build = min(b for b, _ in self.times)
            row.backward = min(w for _, w in self.times)
            row.reeval = min(b + w for b, w in self.times)
        return row


def interleave(runs: list, reps: int) -> None:
    """Round-robin: repetition r of every implementation before repetition r+1 of any, so that a
    burst of load from other processes lands on all of them instead of on one row. A crash
    becomes that row's 'failed (...)' status, never the end of the run."""
    for _ in range(reps):
        for run in runs:
            if run.done:
                continue
            try:
                run.step()
            except RecursionError:
                run.row.status = "failed (recursion)"
            except MemoryError:
                run.row.status = "failed (out of memory)"
            except Exception as e:  # a peer's bug must not hide the other rows
                run.row.status = f"failed ({type(e).__name__}: {e})"[:90]
            if run.row.status:
                run.done = True
                gc.collect()


def run_eager(name: str, spec: Spec, leaf: Callable, reps: int, check: list) -> Row:
    run = EagerRun(name, spec, leaf, check)
    interleave([run], reps)
    return run.finish()


def seed_skip(spec: Spec, limit: float, per_visit) -> str:
    """Why the seed is not run on this graph ('' if it is): its predicted time passes the limit."""
    visits = seed_visits(spec)
    # Without a measured cost per call (the chain failed), assume a fast 0.1 us per call.
    estimate = visits * (per_visit or 1e-7)
    if estimate > limit:
        return f"skipped: {visits:.3g} recursive calls (one per path), est. {_duration(estimate)}"
    return ""


def torch_leaf(torch) -> Callable:
    def leaf(v):
        return torch.tensor(v, dtype=torch.float64, requires_grad=True)

    return leaf


def torch_grad(t):
    return None if t.grad is None else t.grad.item()


# ---------------------------------------------------------------------- the Graph document


def build_graph(spec: Spec, values: list):
    """The Graph through its public edit methods, one call per node and per wire."""
    g = Graph()
    ids = [g.add_number(v) for v in values]
    add_op, connect = g.add_op, g.connect
    for kind, a, b in spec.ops:
        n = add_op("mul" if kind else "add")
        connect(ids[a], n, 0)
        connect(ids[b], n, 1)
        ids.append(n)
    g.set_output(ids[-1])
    return g, ids


def build_graph_from_value(spec: Spec, values: list):
    nodes = build_eager(spec, values, Value)
    nodes[spec.edit].name = "edit"  # so the edit below can find the leaf in the Graph
    t0 = time.perf_counter()
    g = nodes[-1].graph()
    return g, time.perf_counter() - t0


def measure_graph(row: Row, g: Graph, edit_ref, spec: Spec, check_refs, reps) -> Row:
    """Compile, forward and backward on the tape (best of reps), then set_value + backward."""
    out = g.output

    def compile_once():
        tape = autodiff.compile_tape(g.nx)
        if hasattr(autodiff, "plan"):  # the per-output backward plan, also cached, also one-off
            autodiff.plan(tape, tape.index[out])

    row.compile = best(compile_once, reps)
    tape = g.tape()
    root = tape.index[out]
    row.forward = best(lambda: autodiff.forward(tape), reps)
    vals = autodiff.forward(tape)
    row.backward = best(lambda: autodiff.backward(tape, vals, root), reps)
    g.backward()
    row.grads = [g.grad(r) for r in check_refs]
    flip = [spec.new_value, spec.leaves[spec.edit]]

    def reeval():
        g.set_value(edit_ref, flip[0])
        g.backward()
        flip.reverse()

    row.reeval = best(reeval, max(reps, 3))
    return row


def run_graph_edits(spec, reps, check, keep=False) -> Row:
    row = Row("ours: Graph (edit methods)")
    row.note = "compile = topological sort into a tape (+ backward plan), once per topology"
    builds = []
    g = ids = None
    for _ in range(reps):
        del g, ids
        tb, (g, ids) = timed(build_graph, spec, spec.leaves)
        builds.append(tb)
        if sum(builds) > 4.0:
            break
    row.build = min(builds)
    measure_graph(row, g, ids[spec.edit], spec, [ids[i] for i in check], reps)
    if keep:
        row.doc = (g, ids)
    return row


def run_graph_from_value(spec, reps, check) -> Row:
    tb, (g, conv) = timed(build_graph_from_value, spec, spec.leaves)
    row = Row("ours: Graph (Value.graph())", build=tb)
    row.note = f"build = Value build {tb - conv:.4g} s + .graph() {conv:.4g} s (incl. auto-layout)"
    # Value.graph() numbers nodes in the Value's topological order; find the checked leaves by value.
    check_refs = _graph_leaf_ids(g, spec, check)
    return measure_graph(row, g, "edit", spec, check_refs, reps)


def _graph_leaf_ids(g: Graph, spec: Spec, check) -> list:
    """Ids of the checked leaves in a Graph made by Value.graph(): leaves keep the order in
    which the depth-first walk first meets them, so match them by their (distinct) values."""
    by_value: dict = {}
    for n in g.nodes():
        if g.op(n) == "number":
            by_value.setdefault(g.number(n), []).append(n)
    out = []
    for i in check:
        hits = by_value.get(float(spec.leaves[i]), [])
        out.append(hits[0] if len(hits) == 1 else None)
    return out


# ---------------------------------------------------------------------- peers that may be missing


@dataclass
class Peer:
    name: str
    module: object = None
    Value: object = None
    missing: str = ""


def load_micrograd(disabled: bool) -> Peer:
    if disabled:
        return Peer("micrograd", missing="disabled (--without micrograd)")
    try:
        from micrograd.engine import Value as MgValue
    except ImportError:
        return Peer("micrograd", missing="not installed")
    return Peer(f"micrograd {_version('micrograd')}", Value=MgValue)


def load_torch(disabled: bool) -> Peer:
    if disabled:
        return Peer("torch", missing="disabled (--without torch)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Failed to initialize NumPy": not needed for scalars
            import torch
    except ImportError:
        return Peer("torch", missing="not installed")
    torch.set_num_threads(1)  # scalar ops gain nothing from threads; keep the comparison 1-core
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    (x * x + x).backward()  # first-call initialisation is not part of any measurement
    return Peer(f"torch {torch.__version__} scalars", module=torch)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def guarded(name: str, fn: Callable, *args) -> Row:
    """Run one implementation; a crash becomes a 'failed (...)' cell, not the end of the run."""
    try:
        return fn(*args)
    except RecursionError:
        return Row(name, status="failed (recursion)")
    except MemoryError:
        return Row(name, status="failed (out of memory)")
    except Exception as e:  # a peer's bug must not hide the other rows
        return Row(name, status=f"failed ({type(e).__name__}: {e})"[:90])
    finally:
        gc.collect()


# ---------------------------------------------------------------------- report


COLUMNS = ("build", "compile", "forward", "backward", "reeval")
HEADINGS = ("build", "compile", "forward", "backward", "re-eval, 1 edit")
NAME_W, CELL_W = 28, 19


def _cell(t, base) -> str:
    if t is None:
        return "—"
    s = f"{t:.6f}s" if t < 0.01 else f"{t:.4f}s" if t < 10 else f"{t:.2f}s"
    if base:
        s += f" {t / base:6.2f}x"
    return s


def _duration(s: float) -> str:
    if not math.isfinite(s):
        return "forever"
    for unit, size in (("years", 3.156e7), ("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} s"


def print_table(spec: Spec, rows: list, mg: Row | None):
    print()
    print(f"== {spec.title} ==")
    for n in spec.notes:
        print(f"   {n}")
    base = {}
    if mg is not None and not mg.status:
        # micrograd's forward is its build; its re-eval is a rebuild + backward
        base = {"build": mg.build, "forward": mg.build, "backward": mg.backward, "reeval": mg.reeval}
    print("seconds, best of the repetitions; ratio = this / micrograd (forward: / micrograd's build,")
    print("which is its forward: eager engines compute values while they build)")
    print("implementation".ljust(NAME_W) + "".join(h.rjust(CELL_W) for h in HEADINGS))
    for row in rows:
        line = row.name.ljust(NAME_W)
        if row.status:
            print(line + "  " + row.status)
            continue
        for col in COLUMNS:
            t = getattr(row, col)
            if col == "forward" and t is None and row.build is not None:
                cell = "(in build)"
            else:
                cell = _cell(t, base.get(col))
            line += cell.rjust(CELL_W)
        print(line)
    notes = [f"  {r.name}: {r.note}" for r in rows if r.note and not r.status]
    if notes:
        print("notes:")
        print("\n".join(notes))
    _check_grads(rows)


def _check_grads(rows: list):
    """Every implementation must agree on the leaf gradients, or the timings mean nothing."""
    ref = next((r for r in rows if r.name.startswith("ours: Value") and r.grads), None)
    if ref is None:
        return
    worst, bad = 0.0, []
    for r in rows:
        if r.status or r.grads is None or r is ref:
            continue
        for a, b in zip(r.grads, ref.grads):
            if a is None or b is None:
                continue
            d = abs(a - b) / max(abs(b), 1e-12)
            worst = max(worst, d)
            if d > 1e-6:
                bad.append(f"{r.name}: {a!r} vs {b!r}")
    if bad:
        print("GRADIENT MISMATCH: " + "; ".join(bad[:4]))
    else:
        n = len(ref.grads)
        print(f"gradient check: all rows agree on {n} leaf gradients (max rel. diff {worst:.0e})")


# ---------------------------------------------------------------------- the run


@dataclass
class Settings:
    n: int
    reps: int
    seed_limit: float
    ladder_cap: int
    paired_reps: int
    without: tuple


def run_graph_suite(spec: Spec, s: Settings, mg: Peer, th: Peer, per_visit, keep=False) -> dict:
    check = sorted({0, 1, spec.edit, len(spec.leaves) - 1})
    t0 = time.perf_counter()
    fixed: dict[str, Row] = {}
    runs: dict[str, EagerRun] = {}
    seed_name = "seed NumberWithGrad"
    if "seed" in s.without:
        fixed["seed"] = Row(seed_name, status="disabled (--without seed)")
    elif why := seed_skip(spec, s.seed_limit, per_visit):
        fixed["seed"] = Row(seed_name, status=why)
    else:
        runs["seed"] = EagerRun(seed_name, spec, SeedNumber, check)
        runs["seed"].row.note = f"{seed_visits(spec):,.0f} recursive backward calls"
    if mg.missing:
        fixed["micrograd"] = Row("micrograd", status=mg.missing)
    else:
        runs["micrograd"] = EagerRun(mg.name, spec, mg.Value, check)
    if th.missing:
        fixed["torch"] = Row("torch", status=th.missing)
    else:
        runs["torch"] = EagerRun(th.name, spec, torch_leaf(th.module), check, torch_grad)
    runs["value"] = EagerRun("ours: Value (eager)", spec, Value, check)
    interleave(list(runs.values()), s.reps)
    rows = {k: fixed[k] if k in fixed else runs[k].finish() for k in ("seed", "micrograd", "torch", "value")}
    # Value.graph() first: the edit-method document may be kept alive for the summary afterwards.
    graph_v = guarded("ours: Graph (Value.graph())", run_graph_from_value, spec, s.reps, check)
    rows["graph"] = guarded("ours: Graph (edit methods)", run_graph_edits, spec, s.reps, check, keep)
    rows["graph_v"] = graph_v
    print_table(spec, list(rows.values()), rows["micrograd"])
    print(f"({time.perf_counter() - t0:.1f} s for this graph)")
    return rows


def seed_ladder(s: Settings, mg: Peer) -> int | None:
    """Grow the ladder one rung at a time until one seed build + backward passes the limit."""
    print()
    print(f"== diamond ladder, growing: the seed until one run passes {s.seed_limit:g} s ==")
    print("   seed backward recurses once per path (2**depth); the others visit each node once")
    heads = ("seed build+bwd", "micrograd b+b", "Value b+b", "Graph re-eval", "seed / Value")
    print("depth".rjust(6) + "nodes".rjust(8) + "".join(h.rjust(16) for h in heads))
    passed = None
    for depth in range(1, s.ladder_cap + 1):
        spec = ladder_spec(depth)
        check = [0, 1]
        if "seed" in s.without:
            print("   seed disabled (--without seed)")
            return None
        seed = run_eager("seed", spec, SeedNumber, s.reps, check)
        if seed.status:
            print(f"{depth:6d}  seed {seed.status}")
            return depth
        mrow = None
        if not mg.missing:
            mrow = run_eager("mg", spec, mg.Value, s.reps, check)
        vrow = run_eager("Value", spec, Value, s.reps, check)
        g, ids = build_graph(spec, spec.leaves)
        grow = measure_graph(Row("Graph"), g, ids[0], spec, [ids[0]], s.reps)
        cells = [
            _cell(seed.reeval, None),
            "—" if mrow is None or mrow.status else _cell(mrow.reeval, None),
            _cell(vrow.reeval, None),
            _cell(grow.reeval, None),
            f"{seed.reeval / vrow.reeval:.3g}x",
        ]
        print(f"{depth:6d}{spec.size:8d}" + "".join(c.rjust(16) for c in cells), flush=True)
        if seed.reeval > s.seed_limit:
            passed = depth
            break
    if passed is None:
        print(f"   the seed stayed under {s.seed_limit:g} s up to depth {s.ladder_cap}")
    return passed


def _bwd(out):
    out.backward()


def _grad(v):
    return v.grad


def paired_targets(spec: Spec, mg: Peer, reps: int, doc) -> list:
    """The three target ratios, measured in alternation (micrograd, ours, micrograd, ours, ...)
    so that a burst of load from other processes hits both sides of each ratio alike.

    Backward, being cheap, gets three times as many rounds. ``doc`` is the edit-method document
    from the table, or None to build one. Returns ``[(ours, micrograd), ...]`` best times, in
    the order of the targets: build+backward, backward, re-eval.
    """
    g, ids = doc if doc is not None else build_graph(spec, spec.leaves)
    g.set_value(ids[spec.edit], spec.leaves[spec.edit])
    tape = g.tape()
    root = tape.index[g.output]
    vals = autodiff.forward(tape)
    g.backward()
    # The document's ~10 objects per node must not make micrograd's collections slower.
    gc.collect()
    gc.freeze()
    try:
        mg_bwd, g_bwd, mg_both, v_both, g_re = [], [], [], [], []
        nodes = build_eager(spec, spec.leaves, mg.Value)
        out = nodes[-1]
        for _ in range(3 * reps):
            mg_bwd.append(timed(out.backward)[0])  # a second backward repeats exactly the same work
            g_bwd.append(timed(autodiff.backward, tape, vals, root)[0])
        del nodes, out

        def rebuild(values, leaf):
            build_eager(spec, values, leaf)[-1].backward()

        def reeval(value):
            g.set_value(ids[spec.edit], value)
            g.backward()

        for r in range(reps):
            values = spec.edited() if r % 2 == 0 else spec.leaves
            mg_both.append(timed(rebuild, values, mg.Value)[0])
            v_both.append(timed(rebuild, values, Value)[0])
            g_re.append(timed(reeval, values[spec.edit])[0])
    finally:
        gc.unfreeze()  # the caller collects the document once this frame is gone, then refreezes
    return [(min(v_both), min(mg_both)), (min(g_bwd), min(mg_bwd)), (min(g_re), min(mg_both))]


def summary(spec: Spec, dag: dict, mg: Peer, reps: int):
    print()
    print(f"== summary: targets on the random DAG ({spec.size:,} nodes), this run ==")
    m = dag["micrograd"]
    if mg.missing or m.status:
        print(f"   n/a: micrograd {mg.missing or m.status}; the targets are ratios against it")
        return
    v, g = dag["value"], dag["graph"]
    table = [
        (v.fused(), m.fused()),
        (g.backward, m.backward),
        (g.reeval, m.reeval),
    ]
    doc, g.doc = g.doc, None
    try:
        paired = paired_targets(spec, mg, reps, doc)
    except Exception as e:  # the tables above still stand
        print(f"   paired measurement failed ({type(e).__name__}: {e}); using the table")
        paired = None
    del doc
    gc.collect()
    gc.freeze()
    print(f"   paired = micrograd and ours alternated, best of {reps} each (backward: {3 * reps});")
    print("   table = the ratios of the table above")
    print(f"   {'':58s} {'paired':>8s} {'table':>8s}  target")
    labels = (
        "Value build+backward / micrograd build+backward",
        "Graph backward / micrograd backward",
        "Graph re-eval after 1 edit / micrograd rebuild+backward",
    )
    limits = (1.0, 0.25, 0.10)
    for k, label in enumerate(labels):
        t_ours, t_mg = table[k]
        t_ratio = f"{t_ours / t_mg:7.3f}x" if t_ours and t_mg else "   n/a  "
        if paired is not None:
            ours, theirs = paired[k]
            ratio = ours / theirs
        elif t_ours and t_mg:
            ratio = t_ours / t_mg
        else:
            print(f"   {label:58s} failed to measure  MISS")
            continue
        verdict = "PASS" if ratio <= limits[k] else "MISS"
        print(f"   {label:58s} {ratio:7.3f}x {t_ratio}  <= {limits[k]:g}x  {verdict}")


def machine_info(mg: Peer, th: Peer):
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    print(f"gradcanvas engine benchmark, {now}")
    print(f"python {platform.python_version()} ({platform.python_implementation()}), {platform.platform()}")
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    load = ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""
    print(f"cpus: {cpus} ({usable} usable){load}; processor: {platform.processor() or platform.machine()}")
    peers = "; ".join(f"{p.name}: {p.missing or 'ok'}" for p in (mg, th))
    print(f"networkx {networkx.__version__}; {peers}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help="10,000-node graphs, a 0.5 s seed limit, fewer paired rounds"
    )
    ap.add_argument("--nodes", type=int, default=None, help="graph size (default 100,000; --quick 10,000)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per measurement, best is kept")
    ap.add_argument("--seed-limit", type=float, default=None, help="stop the seed past this many s")
    ap.add_argument("--without", action="append", default=[], choices=PEERS, help="leave a peer out")
    args = ap.parse_args(argv)
    n = args.nodes or (10_000 if args.quick else 100_000)
    if n < 100:
        ap.error("--nodes must be at least 100")
    s = Settings(
        n=n,
        reps=max(1, args.reps),
        seed_limit=args.seed_limit or (0.5 if args.quick else 10.0),
        ladder_cap=40,
        paired_reps=3 if args.quick else max(5, args.reps),
        without=tuple(args.without),
    )
    mg = load_micrograd("micrograd" in s.without)
    th = load_torch("torch" in s.without)
    machine_info(mg, th)
    # torch alone brings ~200,000 long-lived objects; freezing them keeps every collection,
    # ours and the peers', from re-walking them (a full collect drops from ~0.1 s to ~0).
    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()

    chain = run_graph_suite(chain_spec(n), s, mg, th, None)
    # The seed's cost per recursive call, measured on the chain, predicts its cost elsewhere.
    c = chain["seed"]
    per_visit = c.backward / seed_visits(chain_spec(n)) if c.backward else None

    passed = seed_ladder(s, mg)
    ladder = ladder_spec((n - 2) // 2)
    if passed is not None:
        ladder.notes.append(f"the seed passed {s.seed_limit:g} s at depth {passed}; it needs 2**depth calls")
    run_graph_suite(ladder, s, mg, th, per_visit)

    dag_spec = random_dag_spec(n)
    dag = run_graph_suite(dag_spec, s, mg, th, per_visit, keep=not mg.missing)
    summary(dag_spec, dag, mg, s.paired_reps)
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
    return 0


def run_in_big_stack(fn: Callable[[], int]) -> int:
    """micrograd's topological sort and the seed's backward recurse once per level of the
    graph: give them a deep recursion limit and a thread stack to match."""
    sys.setrecursionlimit(RECURSION_LIMIT)
    for size in (STACK_BYTES, STACK_BYTES // 2):
        try:
            threading.stack_size(size)
            break
        except (ValueError, RuntimeError):
            continue
    result = {}

    def target():
        try:
            result["rc"] = fn()
        except SystemExit as e:  # argparse's --help and usage errors
            result["rc"] = e.code if isinstance(e.code, int) else 2
        except BaseException as e:  # re-raised below, in the main thread
            result["error"] = e

    t = threading.Thread(target=target, name="benchmark")
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result.get("rc", 1)


if __name__ == "__main__":
    argv = sys.argv[1:]
    sys.exit(run_in_big_stack(lambda: main(argv)))
