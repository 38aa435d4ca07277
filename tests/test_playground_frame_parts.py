"""The shortcuts that made the Playground frame fast give the same answers as the long way:
a forward pass over some rows equals the whole pass on those rows; the pictures' colour tables
match the colour formulas to one table step; the history's incremental columns equal columns
built from scratch, after appends and after a rewind. Oracles: the unshortened computation."""

from __future__ import annotations

import numpy as np

from engine import training as T
from engine.training.tape import PrivateTape
from engine.training.trainer import History, StepRecord


def _net():
    d = T.dataset("circle", n=60, noise=0.1, seed=0)
    return T.build_mlp(d, hidden=[4, 3], seed=0)


def test_a_forward_over_some_rows_equals_the_whole_pass_there():
    net = _net()
    tape = PrivateTape(net.graph)
    full, _ = tape.forward()
    out = tape.slot(net.graph.resolve("logits"))
    rows = set(tape.ancestors(out))
    part, _ = tape.forward(only=rows)
    for i in rows:
        assert np.array_equal(np.asarray(part[i]), np.asarray(full[i]))
    loss = tape.slot(net.graph.resolve("L"))
    assert loss not in rows and part[loss] is None  # not computed
    rest, _ = tape.forward(only={loss}, start=part)  # only what was left, from the first pass
    assert rest[loss] == full[loss]


def test_the_colour_tables_match_the_formulas_to_one_step():
    from gui.learn.training import colours as C

    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(0, 2, 400), [0.0, -3.0, 3.0, np.nan, np.inf, -np.inf]]).reshape(2, -1)

    def channels(p):
        return (p[..., None] >> np.array([16, 8, 0], np.uint32)) & 255

    for fast, slow in ((C.unit_pixels(v, 3.0), C.argb(C.unit_rgb(v, 3.0))),
                       (C.grad_pixels(v[:, :-3], 3.0), C.argb(C.grad_rgb(v[:, :-3], 3.0)))):
        assert np.abs(channels(fast).astype(int) - channels(slow).astype(int)).max() <= 1
    z = rng.normal(0, 3, (20, 20, 2))
    p = np.exp(z) / np.exp(z).sum(axis=2, keepdims=True)
    fast, slow = C.output_pixels(p, None, 2), C.argb(C.output_rgb(p, None, 2))
    assert np.abs(channels(fast).astype(int) - channels(slow).astype(int)).max() <= 1
    assert C.unit_pixels(np.array([0.0]), 1.0)[0] == C.argb(np.array(C.MIDDLE))  # zero is exactly white


def test_history_columns_grow_and_rebuild_like_fresh_ones():
    def rec(k, loss):
        return StepRecord(k, 0, loss, None if k % 3 else 0.5, (k, -k), 1.0 if k % 2 == 0 else None, None)

    def fresh(h):
        return (np.array([r.loss for r in h]), np.array([r.step for r in h]),
                np.array([r.grad_norms for r in h], float), [(r.step, r.test_loss) for r in h if r.test_loss])

    h = History()
    for k in range(1, 6):
        h.append(rec(k, 1.0 / k))
        steps, tl, _ta = h.test_columns()
        assert np.array_equal(h.loss, fresh(h)[0]) and np.array_equal(h.steps, fresh(h)[1])
        assert np.array_equal(h.grad_norms, fresh(h)[2])
        assert list(zip(steps.tolist(), tl.tolist())) == fresh(h)[3]
    del h[2:]  # a rewind keeps the same list, shorter
    h.append(rec(3, 9.0))
    assert np.array_equal(h.loss, [1.0, 0.5, 9.0]) and np.array_equal(h.grad_norms, fresh(h)[2])
    h.loss[0] = 77.0  # a caller's copy, never the cache
    assert h.loss[0] == 1.0
