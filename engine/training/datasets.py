"""Datasets to learn from: TensorFlow Playground's generators, scikit-learn's moons, and the
plain-dict forms a document stores (a *recipe* that regenerates the points, or the points
themselves for CSV imports and edited data).

Every generator draws from ``numpy.random.RandomState(seed)`` (whose streams NumPy keeps
stable across versions), so a recipe always gives the same points. Classes are the integers
0..C−1 (Playground's label +1 is class 1, its −1 is class 0); regression targets are floats.
``X`` and ``y`` hold every point in generation order; the split picks the training points
with a permutation drawn after the points, and ``train``/``test`` are their indices.

The definitions (Playground's ``src/dataset.ts``; ``noise`` as Playground uses it internally,
0 to 0.5 on its slider):

- circle: half the points at radius U(0, 2.5), half at U(3.5, 5), angle U(0, 2π); the label
  is whether the point moved by noise U(−5, 5)·noise per axis lies within 2.5 of the centre
  (the stored point is not moved: noise flips labels near the boundary).
- xor: x1, x2 ~ U(−5, 5) pushed 0.3 away from 0; class 1 where (x1+n1)(x2+n2) ≥ 0 with
  n ~ U(−5, 5)·noise (again only the label sees the noise).
- gauss: C clusters of N(centre, (0.5 + 7·noise)·I), centres at radius 2√2 and angles
  5π/4 + 2πk/C (two classes: class 0 at (−2, −2), class 1 at (2, 2), as Playground's).
- spiral: C arms; point i of m on arm k at r = 5i/m, t = 1.75·2π·i/m + π + 2πk/C,
  (r sin t, r cos t) + U(−1, 1)·noise per axis (two arms: Playground's).
- moons: scikit-learn's ``make_moons`` (same points for the same seed): two half circles,
  shuffled, plus N(0, noise²) per coordinate.
- plane: x1, x2 ~ U(−6, 6), target (x1 + n1 + x2 + n2) / 10 with n ~ U(−6, 6)·noise.
- gauss_regression: the same points, target from six bumps at (±4 or 0, ±2.5) with signs
  +−+ / −+−: sign·clamp(1 − d/2, 0, 1) of the bump whose value is largest in size.

>>> X, y = dataset("xor", n=8, seed=3)
>>> X.shape, y.dtype.name, sorted(set(y.tolist()))
((8, 2), 'int64', [0, 1])
>>> d = dataset("moons", n=200, noise=0.1, seed=0, split=0.75); d.X_train.shape, d.X_test.shape
((150, 2), (50, 2))
>>> from_recipe(d.recipe).X.tolist() == d.X.tolist()
True
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, replace

import numpy as np

from ..core import arrays
from .errors import DataError

CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSION = ("plane", "gauss_regression")
GENERATORS = CLASSIFICATION + REGRESSION
MULTICLASS = ("gauss", "spiral")
"""The generators that make any number of classes (the others make two)."""

MAX_POINTS = 100_000
MAX_CLASSES = 32
MAX_NOISE = 5.0
MAX_SEED = 2**32 - 1  # RandomState's range
DEFAULT_N = 200
DEFAULT_SPLIT = 0.5  # Playground's ratio of training to test data
PLAYGROUND_EXTENT = (-6.0, 6.0, -6.0, 6.0)
EXTENTS = {name: PLAYGROUND_EXTENT for name in GENERATORS}
EXTENTS["moons"] = (-1.5, 2.5, -1.75, 2.25)
RECIPE_KEYS = ("generator", "n", "noise", "seed", "split", "classes")


@dataclass(frozen=True, eq=False)  # compared by identity: elementwise == on arrays has no truth value
class Dataset:
    """Points and targets, split into training and test points.

    ``X`` (n, d) float64 and ``y`` (n,) (int64 classes 0..C−1, or float64 targets) in
    generation order; ``train``/``test`` index them. ``classes`` is C, or None for regression.
    ``recipe`` regenerates the points (None for CSV or edited points: store ``to_points()``).
    ``extent`` is the input plane the pictures cover: (x1 min, x1 max, x2 min, x2 max).
    Unpacks as ``X, y`` (all points)."""

    X: np.ndarray
    y: np.ndarray
    train: np.ndarray
    test: np.ndarray
    classes: int | None
    features: tuple = ("x1", "x2")
    recipe: dict | None = None
    extent: tuple = PLAYGROUND_EXTENT
    name: str = ""
    class_names: tuple = field(default=())  # CSV: the original labels, class k is class_names[k]

    def __iter__(self):
        return iter((self.X, self.y))

    @property
    def n(self) -> int:
        """How many points (training and test)."""
        return len(self.y)

    @property
    def task(self) -> str:
        """ "classification" or "regression"."""
        return "regression" if self.classes is None else "classification"

    @property
    def X_train(self) -> np.ndarray:
        return self.X[self.train]

    @property
    def y_train(self) -> np.ndarray:
        return self.y[self.train]

    @property
    def X_test(self) -> np.ndarray:
        return self.X[self.test]

    @property
    def y_test(self) -> np.ndarray:
        return self.y[self.test]

    def counts(self) -> list[int]:
        """Points per class (classification), for the class-balance display."""
        if self.classes is None:
            raise DataError("a regression dataset has no classes to count")
        return np.bincount(self.y, minlength=self.classes).tolist()

    def to_points(self) -> dict:
        """The points as plain JSON-ready data (what a document stores for data that has no
        recipe); :func:`from_points` reads it back."""
        out = {
            "features": list(self.features),
            "classes": self.classes,
            "X_train": self.X_train.tolist(),
            "y_train": self.y_train.tolist(),
        }
        if len(self.test):
            out["X_test"] = self.X_test.tolist()
            out["y_test"] = self.y_test.tolist()
        if self.class_names:
            out["class_names"] = list(self.class_names)
        return out

    # -- edits (the data view's clicks): each returns a new Dataset with inline points

    def add_point(self, x, label, test: bool = False) -> Dataset:
        """A copy with one more point at ``x`` (its d coordinates) of class or target
        ``label``, in the training points (or the test points). The copy has no recipe.

        >>> d = dataset("xor", n=4, seed=0, split=1.0).add_point([1.0, -2.0], 0)
        >>> d.n, d.X[-1].tolist(), int(d.y[-1]), d.recipe
        (5, [1.0, -2.0], 0, None)
        """
        row = _point_row(x, self.X.shape[1])
        target = _target_value(label, self.classes)
        if self.n + 1 > MAX_POINTS:
            raise DataError(f"a dataset holds at most {MAX_POINTS:,} points")
        X = np.vstack([self.X, row[None, :]])
        y = np.append(self.y, np.array([target], dtype=self.y.dtype))
        k = self.n
        train = self.train if test else np.append(self.train, k)
        tests = np.append(self.test, k) if test else self.test
        return self._edited(X, y, train, tests)

    def remove_point(self, index: int) -> Dataset:
        """A copy without point ``index`` (an index into ``X``); the copy has no recipe."""
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < self.n:
            raise DataError(f"no point {index!r}: the dataset has points 0..{self.n - 1}")
        if self.n <= 1:
            raise DataError("cannot remove the last point")
        keep = np.arange(self.n) != index
        shift = np.cumsum(keep) - 1  # old index -> new index
        train = shift[self.train[self.train != index]]
        test = shift[self.test[self.test != index]]
        if not len(train):
            raise DataError("cannot remove the last training point")
        return self._edited(self.X[keep], self.y[keep], train, test)

    def nearest(self, x, within: float | None = None) -> int | None:
        """The index of the point nearest to ``x`` (None if none lies within ``within``)."""
        row = _point_row(x, self.X.shape[1])
        d = np.hypot.reduce(self.X - row, axis=1) if self.X.shape[1] > 1 else np.abs(self.X[:, 0] - row[0])
        k = int(np.argmin(d))
        return None if within is not None and d[k] > within else k

    def _edited(self, X, y, train, test) -> Dataset:
        return replace(
            self,
            X=_frozen(X),
            y=_frozen(y),
            train=_frozen(np.asarray(train, dtype=np.int64)),
            test=_frozen(np.asarray(test, dtype=np.int64)),
            recipe=None,
        )


# ---------------------------------------------------------------------------- generators


def dataset(
    name: str,
    n: int = DEFAULT_N,
    noise: float = 0.0,
    seed: int = 0,
    split: float = DEFAULT_SPLIT,
    classes: int | None = None,
) -> Dataset:
    """Generate ``n`` points of the named set (see the module docstring for each definition).

    ``noise`` ≥ 0 (at most 5), ``seed`` 0..2³²−1, ``split`` the fraction of points used for
    training (0 < split ≤ 1, at least one point), ``classes`` C ≥ 2 for gauss and spiral (the
    other classification sets have 2; regression sets none). DataError for anything else.

    >>> d = dataset("spiral", n=300, classes=3, seed=1); d.classes, d.counts()
    (3, [100, 100, 100])
    """
    recipe = check_recipe(
        {
            "generator": name,
            "n": n,
            "noise": noise,
            "seed": seed,
            "split": split,
            **({"classes": classes} if classes is not None else {}),
        }
    )
    return from_recipe(recipe)


def check_recipe(recipe) -> dict:
    """A recipe dict, checked and completed (defaults filled in, numbers normalised); a
    DataError names the first bad key. What a document stores for a generated dataset."""
    if not isinstance(recipe, dict):
        raise DataError(f"a dataset recipe must be a dict, not {type(recipe).__name__}")
    unknown = [k for k in recipe if k not in RECIPE_KEYS]
    if unknown:
        raise DataError(f"a dataset recipe has no key {unknown[0]!r} (it takes {', '.join(RECIPE_KEYS)})")
    name = recipe.get("generator")
    if name not in GENERATORS:
        raise DataError(f"unknown dataset {name!r}; the generators are {', '.join(GENERATORS)}")
    n = _whole(recipe.get("n", DEFAULT_N), "n", 2, MAX_POINTS)
    noise = _real(recipe.get("noise", 0.0), "noise", 0.0, MAX_NOISE)
    seed = _whole(recipe.get("seed", 0), "seed", 0, MAX_SEED)
    split = _real(recipe.get("split", DEFAULT_SPLIT), "split", 0.0, 1.0)
    if split == 0.0 or round(n * split) < 1:
        raise DataError(f"split {split} leaves no training points out of {n}")
    out = {"generator": name, "n": n, "noise": noise, "seed": seed, "split": split}
    classes = recipe.get("classes")
    if name in REGRESSION:
        if classes is not None:
            raise DataError(f"{name} is a regression set: it has no classes")
    elif name in MULTICLASS:
        out["classes"] = _whole(2 if classes is None else classes, "classes", 2, MAX_CLASSES)
        if n < out["classes"]:
            raise DataError(f"{n} points cannot make {out['classes']} classes")
    else:
        if classes not in (None, 2) or isinstance(classes, bool):
            raise DataError(f"{name} has two classes, not {classes!r} (gauss and spiral take any number)")
        out["classes"] = 2
    return out


def from_recipe(recipe) -> Dataset:
    """The Dataset a recipe (see :func:`check_recipe`) describes: the same points every time."""
    r = check_recipe(recipe)
    rng = np.random.RandomState(r["seed"])
    name, n, noise = r["generator"], r["n"], r["noise"]
    classes = r.get("classes")
    X, y = _GENERATE[name](rng, n, noise, classes)
    perm = rng.permutation(n)
    k = max(1, round(n * r["split"]))
    train, test = np.sort(perm[:k]), np.sort(perm[k:])
    y = y.astype(np.int64) if classes is not None else y.astype(np.float64)
    return Dataset(
        _frozen(X.astype(np.float64)),
        _frozen(y),
        _frozen(train),
        _frozen(test),
        classes,
        recipe=r,
        extent=EXTENTS[name],
        name=name,
    )


def _per_class(n, classes) -> list[int]:
    """n points over C classes as evenly as possible (the first n mod C get one more)."""
    return [n // classes + (k < n % classes) for k in range(classes)]


def _circle(rng, n, noise, classes):
    radius = 5.0
    parts = []
    # Playground generates its positive (inside) points first: class 1, then class 0.
    for count, lo, hi in ((n - n // 2, 0.0, radius * 0.5), (n // 2, radius * 0.7, radius)):
        r = rng.uniform(lo, hi, count)
        angle = rng.uniform(0.0, 2 * math.pi, count)
        x, y = r * np.sin(angle), r * np.cos(angle)
        nx = rng.uniform(-radius, radius, count) * noise
        ny = rng.uniform(-radius, radius, count) * noise
        label = np.hypot(x + nx, y + ny) < radius * 0.5
        parts.append((np.column_stack([x, y]), label.astype(np.int64)))
    return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _xor(rng, n, noise, classes):
    x = rng.uniform(-5.0, 5.0, n)
    x = x + np.where(x > 0, 0.3, -0.3)
    y = rng.uniform(-5.0, 5.0, n)
    y = y + np.where(y > 0, 0.3, -0.3)
    nx = rng.uniform(-5.0, 5.0, n) * noise
    ny = rng.uniform(-5.0, 5.0, n) * noise
    label = (x + nx) * (y + ny) >= 0
    return np.column_stack([x, y]), label.astype(np.int64)


def _gauss(rng, n, noise, classes):
    std = math.sqrt(0.5 + 7.0 * noise)  # Playground: variance from 0.5 (noise 0) to 4 (noise 0.5)
    xs, ys = [], []
    for k, count in enumerate(_per_class(n, classes)):
        a = 5 * math.pi / 4 + 2 * math.pi * k / classes
        centre = np.array([2 * math.sqrt(2) * math.cos(a), 2 * math.sqrt(2) * math.sin(a)])
        xs.append(centre + rng.normal(0.0, std, (count, 2)))
        ys.append(np.full(count, k))
    return np.vstack(xs), np.concatenate(ys)


def _spiral(rng, n, noise, classes):
    xs, ys = [], []
    for k, m in enumerate(_per_class(n, classes)):
        i = np.arange(m)
        r = i / m * 5.0
        t = 1.75 * i / m * 2 * math.pi + math.pi + 2 * math.pi * k / classes
        x = r * np.sin(t) + rng.uniform(-1.0, 1.0, m) * noise
        y = r * np.cos(t) + rng.uniform(-1.0, 1.0, m) * noise
        xs.append(np.column_stack([x, y]))
        ys.append(np.full(m, k))
    return np.vstack(xs), np.concatenate(ys)


def _moons(rng, n, noise, classes):
    # scikit-learn's make_moons(n, shuffle=True, noise, random_state=RandomState(seed)).
    n_out = n // 2
    n_in = n - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [np.append(np.cos(t_out), 1 - np.cos(t_in)), np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)]
    ).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    idx = np.arange(n)
    rng.shuffle(idx)
    X, y = X[idx], y[idx]
    return X + rng.normal(scale=noise, size=X.shape), y


def _plane_points(rng, n, noise):
    x = rng.uniform(-6.0, 6.0, n)
    y = rng.uniform(-6.0, 6.0, n)
    nx = rng.uniform(-6.0, 6.0, n) * noise
    ny = rng.uniform(-6.0, 6.0, n) * noise
    return x, y, x + nx, y + ny


def _plane(rng, n, noise, classes):
    x, y, px, py = _plane_points(rng, n, noise)
    return np.column_stack([x, y]), (px + py) / 10.0


BUMPS = (
    (-4.0, 2.5, 1.0),
    (0.0, 2.5, -1.0),
    (4.0, 2.5, 1.0),
    (-4.0, -2.5, -1.0),
    (0.0, -2.5, 1.0),
    (4.0, -2.5, -1.0),
)


def _gauss_regression(rng, n, noise, classes):
    x, y, px, py = _plane_points(rng, n, noise)
    values = np.column_stack(
        [s * np.clip(1.0 - np.hypot(px - cx, py - cy) / 2.0, 0.0, 1.0) for cx, cy, s in BUMPS]
    )
    pick = np.argmax(np.abs(values), axis=1)  # the first of equals, as Playground's strict ">"
    return np.column_stack([x, y]), values[np.arange(n), pick] + 0.0  # no -0.0


_GENERATE = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "moons": _moons,
    "plane": _plane,
    "gauss_regression": _gauss_regression,
}


# ---------------------------------------------------------------------------- inline points


def from_points(points, name: str = "points") -> Dataset:
    """The Dataset that :meth:`Dataset.to_points` wrote; a DataError names the bad key or
    element (ragged rows, non-numbers, non-finite values, classes outside 0..C−1, too many)."""
    if not isinstance(points, dict):
        raise DataError(f"dataset points must be a dict, not {type(points).__name__}")
    known = ("features", "classes", "X_train", "y_train", "X_test", "y_test", "class_names")
    unknown = [k for k in points if k not in known]
    if unknown:
        raise DataError(f"dataset points have no key {unknown[0]!r}")
    classes = points.get("classes")
    if classes is not None:
        classes = _whole(classes, "classes", 2, MAX_CLASSES)
    parts = {}
    for split in ("train", "test"):
        if f"X_{split}" not in points and split == "test":
            continue
        X = _nested(points.get(f"X_{split}"), f"X_{split}", 2)
        y = _nested(points.get(f"y_{split}"), f"y_{split}", 1)
        if len(X) != len(y):
            raise DataError(f"X_{split} has {len(X)} rows but y_{split} has {len(y)} targets")
        parts[split] = (X, y)
    d = parts["train"][0].shape[1]
    if "test" in parts and parts["test"][0].shape[1] != d:
        raise DataError(f"X_test has {parts['test'][0].shape[1]} columns, X_train has {d}")
    features = points.get("features", [f"x{k + 1}" for k in range(d)])
    if (
        not isinstance(features, list)
        or len(features) != d
        or not all(isinstance(f, str) and f.strip() for f in features)
    ):
        raise DataError(f"features must be a list of {d} column names")
    X = np.vstack([p[0] for p in parts.values()])
    y = np.concatenate([p[1] for p in parts.values()])
    if len(y) > MAX_POINTS:
        raise DataError(f"{len(y):,} points; a dataset holds at most {MAX_POINTS:,}")
    if classes is not None:
        y = _classes(y, classes, "y")
    k = len(parts["train"][1])
    names = points.get("class_names", [])
    if not isinstance(names, list) or (names and (classes is None or len(names) != classes)):
        raise DataError("class_names must list one name per class")
    return Dataset(
        _frozen(X),
        _frozen(y),
        _frozen(np.arange(k)),
        _frozen(np.arange(k, len(y))),
        classes,
        tuple(features),
        None,
        _extent(X),
        name,
        tuple(str(s) for s in names),
    )


def _extent(X) -> tuple:
    """A square-ish plane around the points with a margin (for data with no fixed plane)."""
    if X.shape[1] < 2:
        lo, hi = float(X[:, 0].min()), float(X[:, 0].max())
        return (lo, hi, 0.0, 0.0)
    lo, hi = X[:, :2].min(axis=0), X[:, :2].max(axis=0)
    centre = (lo + hi) / 2
    half = max(float((hi - lo).max()) * 0.55, 1e-6)
    return (
        float(centre[0] - half),
        float(centre[0] + half),
        float(centre[1] - half),
        float(centre[1] + half),
    )


def _nested(value, what, ndim):
    if value is None:
        raise DataError(f"dataset points need {what}")
    try:
        a = arrays.from_nested(value, what) if isinstance(value, list) else None
    except ValueError as e:
        raise DataError(str(e)) from None
    if a is None or a.ndim != ndim:
        raise DataError(f"{what} must be a {'list of rows' if ndim == 2 else 'list of numbers'}")
    return a


def _classes(y, classes, what):
    whole = np.floor(y) == y
    if not whole.all() or (y < 0).any() or (y >= classes).any():
        k = int(np.argmax(~whole | (y < 0) | (y >= classes)))
        raise DataError(f"{what}[{k}] is {y[k]:g}, not a class 0..{classes - 1}")
    return y.astype(np.int64)


def _point_row(x, d):
    try:
        row = np.asarray(x, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise DataError(f"a point is {d} numbers, not {x!r}") from None
    if row.shape != (d,) or not np.isfinite(row).all():
        raise DataError(f"a point is {d} finite numbers, not {x!r}")
    return row


def _target_value(label, classes):
    if classes is None:
        return _real(label, "the target", -1e300, 1e300)
    return _whole(label, "the class", 0, classes - 1)


def _whole(v, what, lo, hi) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise DataError(f"{what} must be a whole number, not {v!r}")
    if not lo <= v <= hi:
        raise DataError(f"{what} must be between {lo:,} and {hi:,}, not {v}")
    return int(v)


def _real(v, what, lo, hi) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise DataError(f"{what} must be a number, not {v!r}")
    v = float(v)
    if not (math.isfinite(v) and lo <= v <= hi):
        raise DataError(f"{what} must be between {lo:g} and {hi:g}, not {v}")
    return v


def _frozen(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


__all__ = [
    "CLASSIFICATION",
    "Dataset",
    "GENERATORS",
    "MAX_POINTS",
    "MULTICLASS",
    "REGRESSION",
    "check_recipe",
    "dataset",
    "from_points",
    "from_recipe",
]
