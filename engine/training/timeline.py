"""Time travel: the state after each step of a run, kept within a memory budget.

A snapshot holds what a step leaves behind: the parameters, the optimizer's state and where
the batches stand (the epoch, whose permutation is ``RandomState(seed + epoch)``, and how many
of its batches are used). Optimizer updates build new arrays, so a snapshot holds references
and copies nothing. Over the budget, the timeline thins: it keeps every 2nd, then 4th, ...
step (always step 0 and the latest), so the steps kept stay spread over the whole run. A step
that was thinned out is recomputed exactly from the kept step before it (the trainer replays
it: same batches, same arithmetic).

>>> t = Timeline(budget=10_000)
>>> for k in range(10): t.add(Snapshot(k, (), (), 0, k, nbytes=2_000))
>>> t.kept(), t.stride, t.nbytes <= 10_000
([0, 4, 8, 9], 4, True)
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

DEFAULT_BUDGET = 64 * 2**20  # 64 MiB


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state after ``step`` steps: ``params`` (aligned with the trainer's parameters),
    ``state`` (the optimizer's, per parameter), ``epoch`` and ``offset`` (the next batch is
    batch ``offset`` of epoch ``epoch``'s permutation), and its size in bytes."""

    step: int
    params: tuple
    state: tuple
    epoch: int
    offset: int
    nbytes: int = 0


_SNAPSHOT_SIZE = sys.getsizeof(Snapshot(0, (), (), 0, 0)) + 2 * sys.getsizeof(0)


def size_of(params, state) -> int:
    """Bytes a snapshot of these holds: every object's own size (``sys.getsizeof``: an array
    that owns its data counts it), the snapshot and its tuples included."""
    seen = set()

    def size(v) -> int:
        if v is None or id(v) in seen:
            return 0
        seen.add(id(v))
        n = sys.getsizeof(v)
        if isinstance(v, np.ndarray) and v.base is not None:
            n += size(v.base)
        elif isinstance(v, (tuple, list)):
            n += sum(size(x) for x in v)
        return n

    return _SNAPSHOT_SIZE + size(tuple(params)) + size(tuple(state))


class Timeline:
    """Snapshots by step, thinned to stay within ``budget`` bytes."""

    def __init__(self, budget: int = DEFAULT_BUDGET):
        self.budget = int(budget)
        self.stride = 1
        self.nbytes = 0
        self._snaps: dict[int, Snapshot] = {}
        self._steps: list[int] = []  # sorted

    def add(self, snap: Snapshot) -> None:
        """Keep ``snap`` (the newest step); the previous newest stays only on the stride."""
        if self._steps:
            last = self._steps[-1]
            if last % self.stride and last != 0:
                self._drop(last)
        self._snaps[snap.step] = snap
        self._steps.append(snap.step)
        self.nbytes += snap.nbytes
        while self.nbytes > self.budget and len(self._steps) > 2:
            self.stride *= 2
            newest = self._steps[-1]
            for k in [k for k in self._steps if k % self.stride and k not in (0, newest)]:
                self._drop(k)

    def _drop(self, k: int) -> None:
        snap = self._snaps.pop(k)
        self._steps.remove(k)
        self.nbytes -= snap.nbytes

    def kept(self) -> list[int]:
        """The steps held, in order."""
        return list(self._steps)

    def get(self, step: int) -> Snapshot | None:
        return self._snaps.get(step)

    def at_or_before(self, step: int) -> Snapshot:
        """The newest snapshot at or before ``step``."""
        i = bisect_right(self._steps, step)
        return self._snaps[self._steps[max(i - 1, 0)]]

    def truncate(self, step: int) -> None:
        """Forget every step after ``step``."""
        for k in [k for k in self._steps if k > step]:
            self._drop(k)

    def clear(self) -> None:
        self._snaps.clear()
        self._steps.clear()
        self.nbytes = 0
        self.stride = 1

    def __len__(self) -> int:
        return len(self._steps)


__all__ = ["DEFAULT_BUDGET", "Snapshot", "Timeline", "size_of"]
