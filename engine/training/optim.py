"""Optimizers with ``torch.optim``'s update rules, on NumPy arrays and Python numbers.

Each update is a pure function of (parameters, gradients, state): it returns new arrays and
never writes into the old ones, so a snapshot of a step is just the references it holds.
``t`` counts the steps taken, starting at 1. For each parameter p with gradient g:

- every optimizer first forms d = g + weight_decay·p (L2, torch's ``weight_decay``; AdamW
  instead shrinks p ← p·(1 − lr·weight_decay) before its update) and then
  d ← d + l1·sign(p) (L1: the gradient of l1·Σ|p|, with sign(0) = 0 as torch's abs' (0) = 0);
- sgd: p ← p − lr·d;
- momentum (torch's SGD with momentum μ, dampening 0): b ← d at t = 1, else b ← μ·b + d;
  p ← p − lr·(d + μ·b) with Nesterov, else p ← p − lr·b;
- adam / adamw (amsgrad off): m ← m + (1 − β1)·(d − m), v ← β2·v + (1 − β2)·d²,
  p ← p − (lr / (1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + ε).

>>> opt = Optimizer("sgd", lr=0.1)
>>> opt.update([1.0], [2.0], opt.initial_state([1.0]), 1)[0]
[0.8]
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..core.arrays import scalarize
from .errors import TrainingError

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")


class Optimizer:
    """One optimizer's hyperparameters; :meth:`update` applies one step to a list of
    parameters. ``momentum`` is for sgd/momentum only (momentum defaults to 0.9)."""

    def __init__(
        self,
        kind: str = "sgd",
        lr: float = 0.01,
        momentum: float | None = None,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        l1: float = 0.0,
        betas=(0.9, 0.999),
        eps: float = 1e-8,
    ):
        if kind not in OPTIMIZERS:
            raise TrainingError(f"unknown optimizer {kind!r}; choose one of {', '.join(OPTIMIZERS)}")
        self.kind = kind
        self.lr = _nonneg(lr, "the learning rate", positive=True)
        if momentum is not None and kind not in ("sgd", "momentum"):
            raise TrainingError(f"momentum is for sgd and momentum; {kind} has betas instead")
        self.momentum = _nonneg(
            0.9 if momentum is None and kind == "momentum" else momentum or 0.0, "momentum", below=1.0 + 1e-12
        )
        if not isinstance(nesterov, bool):
            raise TrainingError(f"nesterov must be True or False, not {nesterov!r}")
        if nesterov and self.momentum == 0.0:
            raise TrainingError("Nesterov momentum needs a momentum above 0")
        self.nesterov = nesterov
        self.weight_decay = _nonneg(weight_decay, "weight decay")
        self.l1 = _nonneg(l1, "the L1 strength")
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise TrainingError(f"betas must be two numbers, not {betas!r}") from None
        self.betas = (_nonneg(b1, "beta1", below=1.0), _nonneg(b2, "beta2", below=1.0))
        self.eps = _nonneg(eps, "eps")

    @property
    def adaptive(self) -> bool:
        return self.kind in ("adam", "adamw")

    def settings(self) -> dict:
        """The hyperparameters as plain data."""
        out = {"optimizer": self.kind, "lr": self.lr, "weight_decay": self.weight_decay, "l1": self.l1}
        if self.adaptive:
            out.update(betas=list(self.betas), eps=self.eps)
        else:
            out.update(momentum=self.momentum, nesterov=self.nesterov)
        return out

    def initial_state(self, params) -> tuple:
        """The state before the first step: per parameter, None (nothing yet)."""
        return tuple(None for _ in params)

    def update(self, params, grads, state, t: int):
        """``(new_params, new_state)`` after step ``t`` (1-based). A None gradient (a
        parameter the loss does not reach) leaves that parameter and its state as they are,
        as torch skips a parameter whose ``.grad`` is None."""
        new_p, new_s = [], []
        for p, g, s in zip(params, grads, state):
            if g is None:
                new_p.append(p)
                new_s.append(s)
                continue
            p1, s1 = self._one(_f(p), _f(g), s, t)
            new_p.append(scalarize(p1) if not isinstance(p, np.ndarray) else p1)
            new_s.append(s1)
        return new_p, tuple(new_s)

    def _one(self, p, g, s, t):
        lr, wd = self.lr, self.weight_decay
        d = g
        if wd and self.kind != "adamw":
            d = d + wd * p
        if self.l1:
            d = d + self.l1 * np.sign(p)
        if not self.adaptive:
            mu = self.momentum
            if mu:
                b = d if s is None else mu * s + d
                d = d + mu * b if self.nesterov else b
                return p - lr * d, b
            return p - lr * d, None
        if wd and self.kind == "adamw":
            p = p * (1 - lr * wd)
        b1, b2 = self.betas
        m, v = (0.0, 0.0) if s is None else s
        m = m + (1 - b1) * (d - m)
        v = v * b2 + (1 - b2) * (d * d)
        step_size = lr / (1 - b1**t)
        denom = np.sqrt(v) / (1 - b2**t) ** 0.5 + self.eps
        return p - step_size * (m / denom), (m, v)


def _f(v):
    """A value as float64 for the arithmetic (Python numbers as 0-d arrays)."""
    return v if isinstance(v, np.ndarray) and v.dtype == np.float64 else np.asarray(v, dtype=np.float64)


def _nonneg(v, what, positive=False, below=math.inf) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TrainingError(f"{what} must be a number, not {v!r}")
    try:
        v = float(v)
    except OverflowError:
        raise TrainingError(f"{what} is too large") from None
    if not math.isfinite(v) or v < 0 or (positive and v == 0) or v >= below:
        rng = "above 0" if positive else "at least 0"
        extra = f" and below {below:g}" if below != math.inf else ""
        raise TrainingError(f"{what} must be a finite number {rng}{extra}, not {v}")
    return v


__all__ = ["OPTIMIZERS", "Optimizer"]
