"""One measure of a gradient's size (engine.core.gradsize) behind both the trainer's per-layer
norms and gradient health. Oracles: NumPy's own norm on the elements laid end to end, and
hand calculations where the squares would overflow or underflow."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import training as T
from engine.core import gradsize
from engine.learn.health import magnitude, read
from tests.oracles import examples

_finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=examples(40))
@given(st.lists(st.lists(_finite, min_size=0, max_size=6), min_size=1, max_size=4))
def test_norm_is_the_norm_of_all_elements_together(parts):
    gs = [np.array(p) for p in parts] + [None, 2.5]
    flat = np.concatenate([np.array(p, float) for p in parts] + [np.array([2.5])])
    assert math.isclose(gradsize.norm(gs), float(np.linalg.norm(flat)), rel_tol=1e-12, abs_tol=1e-300)


def test_norm_and_rms_neither_overflow_nor_underflow():
    assert math.isclose(gradsize.norm([np.array([3e200]), 4e200]), 5e200, rel_tol=1e-15)
    assert math.isclose(gradsize.norm([np.array([3e-200, 4e-200])]), 5e-200, rel_tol=1e-15)
    assert math.isclose(gradsize.rms(np.array([3e200, 4e200, 0.0, 0.0])), 2.5e200, rel_tol=1e-15)
    assert gradsize.norm([np.array([np.inf, 1.0])]) == math.inf
    assert math.isnan(gradsize.rms(np.array([np.nan, 1.0])))
    assert gradsize.rms(None) is None and gradsize.rms(np.zeros(0)) == 0.0 and gradsize.rms(-3.0) == 3.0


def test_health_and_the_trainer_judge_a_layer_by_the_same_size():
    # a wide layer of tiny gradients: its L2 norm is 100 times its RMS, so judging the norm
    # (what the Train dock did) calls it healthy while View > Gradient Health calls it vanishing
    grads = [np.full((100, 100), 5e-9), np.full(100, 5e-9)]
    norm = gradsize.norm(grads)
    assert norm > 1e-8 and not read(norm).vanishing
    size = gradsize.count(grads)
    assert read(gradsize.rms_of_norm(norm, size)).vanishing
    together = np.concatenate([g.ravel() for g in grads])
    assert math.isclose(gradsize.rms_of_norm(norm, size), magnitude(together), rel_tol=1e-12)
    assert math.isclose(magnitude(together), float(np.sqrt(np.mean(together**2))), rel_tol=1e-12)


def test_a_trainers_layer_sizes_count_its_parameters():
    net = T.build_mlp(T.dataset("xor", n=20, seed=0), hidden=[3, 4], seed=0)
    run = net.trainer()
    assert run.layers == ["layer 1", "layer 2", "layer 3"]
    assert run.layer_sizes == (2 * 3 + 3, 3 * 4 + 4, 4 * 2 + 2)
