"""Datasets against their definitions (written here from Playground's dataset.ts and
scikit-learn's make_moons), seeds, splits, the recipe and points forms, and CSV import's
refusals: each names the row and column, and nothing is half-loaded."""

import io
import math

import numpy as np
import pytest

from engine import DocumentError
from engine.training import (
    DataError,
    check_recipe,
    dataset,
    from_points,
    from_recipe,
    read_csv,
)


def make_moons(n, noise, seed):
    """scikit-learn's make_moons(n, shuffle=True, noise=noise, random_state=seed), as its source
    writes it: outer half circle, inner half circle, shuffle(arange), then Gaussian noise."""
    rng = np.random.RandomState(seed)
    n_out, n_in = n // 2, n - n // 2
    outer = np.c_[np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out))]
    inner = np.c_[1 - np.cos(np.linspace(0, np.pi, n_in)), 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5]
    X = np.vstack([outer, inner])
    y = np.r_[np.zeros(n_out, int), np.ones(n_in, int)]
    idx = np.arange(n)
    rng.shuffle(idx)
    X, y = X[idx], y[idx]
    return X + rng.normal(scale=noise, size=X.shape), y


@pytest.mark.parametrize("n, noise, seed", [(100, 0.1, 1337), (7, 0.0, 0), (250, 0.3, 42)])
def test_moons_are_scikit_learns(n, noise, seed):
    X, y = dataset("moons", n=n, noise=noise, seed=seed)
    X2, y2 = make_moons(n, noise, seed)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_circle_follows_playgrounds_definition():
    d = dataset("circle", n=301, noise=0.0, seed=2)
    r = np.hypot(d.X[:, 0], d.X[:, 1])
    inside = d.y == 1
    # Playground: inside radius U(0, 2.5), outside U(3.5, 5), label = |p| < 2.5
    assert np.array_equal(inside, r < 2.5)
    assert inside.sum() == 151 and np.all(r[~inside] >= 3.5) and np.all(r <= 5)
    # with noise the points stay in their bands; only labels near the boundary flip
    d = dataset("circle", n=400, noise=0.25, seed=2)
    r = np.hypot(d.X[:, 0], d.X[:, 1])
    assert np.all(r[:200] <= 2.5) and np.all((r[200:] >= 3.5) & (r[200:] <= 5))
    flipped = np.mean(np.r_[d.y[:200] == 0, d.y[200:] == 1])
    assert 0.01 < flipped < 0.4


def test_xor_follows_playgrounds_definition():
    d = dataset("xor", n=500, seed=9)
    x1, x2 = d.X.T
    assert np.array_equal(d.y == 1, x1 * x2 >= 0)
    assert np.all(np.abs(d.X) >= 0.3) and np.all(np.abs(d.X) <= 5.3)


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_spiral_points_lie_on_their_arms_within_the_noise(classes):
    n, noise = 203, 0.3
    d0 = dataset("spiral", n=n, noise=0.0, seed=0, classes=classes)
    d = dataset("spiral", n=n, noise=noise, seed=0, classes=classes)
    sizes = [n // classes + (k < n % classes) for k in range(classes)]
    assert d.counts() == sizes
    start = 0
    for k, m in enumerate(sizes):
        i = np.arange(m)
        r = i / m * 5
        t = 1.75 * i / m * 2 * math.pi + math.pi + 2 * math.pi * k / classes
        arm = np.c_[r * np.sin(t), r * np.cos(t)]
        assert np.allclose(d0.X[start : start + m], arm, rtol=0, atol=1e-12)
        assert np.all(np.abs(d.X[start : start + m] - arm) <= noise)
        assert np.all(d.y[start : start + m] == k)
        start += m
    if classes == 2:  # Playground's: class 1 (its +1) starts at angle 0, class 0 at pi
        assert np.allclose(
            d0.X[sizes[0] + 1],
            [
                5 / sizes[1] * math.sin(1.75 * 2 * math.pi / sizes[1]),
                5 / sizes[1] * math.cos(1.75 * 2 * math.pi / sizes[1]),
            ],
        )


def test_gauss_clusters_sit_at_their_centres_with_playgrounds_variance():
    d = dataset("gauss", n=6000, noise=0.1, seed=3, classes=3)
    assert d.counts() == [2000, 2000, 2000]
    std = math.sqrt(0.5 + 7 * 0.1)
    for k in range(3):
        a = 5 * math.pi / 4 + 2 * math.pi * k / 3
        pts = d.X[d.y == k]
        assert np.allclose(
            pts.mean(axis=0), [2 * math.sqrt(2) * math.cos(a), 2 * math.sqrt(2) * math.sin(a)], atol=0.1
        )
        assert np.allclose(pts.std(axis=0), std, rtol=0.05)
    two = dataset("gauss", n=4000, seed=1)
    assert np.allclose(two.X[two.y == 1].mean(axis=0), [2, 2], atol=0.1)
    assert np.allclose(two.X[two.y == 0].mean(axis=0), [-2, -2], atol=0.1)


def test_regression_targets_follow_their_formulas():
    d = dataset("plane", n=200, noise=0.0, seed=5)
    assert np.allclose(d.y, (d.X[:, 0] + d.X[:, 1]) / 10, rtol=0, atol=1e-15)
    assert np.all(np.abs(d.X) <= 6) and d.classes is None and d.y.dtype == np.float64
    d = dataset("gauss_regression", n=300, noise=0.0, seed=6)
    bumps = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    for (x, y), target in zip(d.X, d.y):
        label = 0.0  # Playground's getLabel, point by point
        for cx, cy, sign in bumps:
            new = sign * min(1.0, max(0.0, 1 - math.hypot(x - cx, y - cy) / 2))
            if abs(new) > abs(label):
                label = new
        assert target == pytest.approx(label, abs=1e-15)


@pytest.mark.parametrize("name", ["circle", "xor", "gauss", "spiral", "moons", "plane", "gauss_regression"])
def test_seeds_reproduce_and_split(name):
    a = dataset(name, n=120, noise=0.2, seed=8, split=0.75)
    b = dataset(name, n=120, noise=0.2, seed=8, split=0.75)
    c = dataset(name, n=120, noise=0.2, seed=9, split=0.75)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y) and np.array_equal(a.train, b.train)
    assert not np.array_equal(a.X, c.X)
    assert len(a.train) == 90 and len(a.test) == 30
    assert sorted(np.r_[a.train, a.test].tolist()) == list(range(120))
    if name in ("gauss", "spiral", "moons"):  # balanced by construction (circle's and xor's labels
        assert max(a.counts()) - min(a.counts()) <= 1  # come from noisy or random positions)
    assert from_recipe(a.recipe).X.tolist() == a.X.tolist()
    again = from_points(a.to_points())
    assert np.array_equal(again.X_train, a.X_train) and np.array_equal(again.y_test, a.y_test)


@pytest.mark.parametrize(
    "recipe, words",
    [
        ({"generator": "blobs"}, "unknown dataset"),
        ({"generator": "moons", "n": 10**9}, "between"),
        ({"generator": "moons", "noise": float("nan")}, "noise"),
        ({"generator": "moons", "seed": -1}, "seed"),
        ({"generator": "moons", "split": 0}, "no training points"),
        ({"generator": "moons", "classes": 3}, "two classes"),
        ({"generator": "plane", "classes": 2}, "regression"),
        ({"generator": "spiral", "n": 3, "classes": 4}, "cannot make"),
        ({"generator": "moons", "shape": 1}, "no key"),
        ({"generator": "moons", "n": True}, "whole number"),
    ],
)
def test_bad_recipes_are_refused(recipe, words):
    with pytest.raises(DataError, match=words):
        check_recipe(recipe)


def test_points_are_checked_and_editing_drops_the_recipe():
    with pytest.raises(DataError, match="ragged"):
        from_points({"X_train": [[1, 2], [3]], "y_train": [0, 1], "classes": 2})
    with pytest.raises(DataError, match="not a class"):
        from_points({"X_train": [[1, 2], [3, 4]], "y_train": [0, 2], "classes": 2})
    with pytest.raises(DataError, match="finite"):
        from_points({"X_train": [[1, float("inf")]], "y_train": [0.5]})
    d = dataset("xor", n=10, seed=0, split=0.6)
    e = d.add_point([0.5, 0.5], 1, test=True)
    assert e.n == 11 and e.recipe is None and len(e.test) == 5 and e.y_test[-1] == 1
    f = e.remove_point(0)
    assert f.n == 10 and np.array_equal(f.X, e.X[1:])
    assert d.nearest(d.X[3]) == 3
    with pytest.raises(DataError, match="class"):
        d.add_point([0, 0], 2)


# ---------------------------------------------------------------------------- CSV


def csv_text(text, **kw):
    return read_csv(io.StringIO(text), **kw)


def test_csv_reads_features_and_a_target_by_name(tmp_path):
    p = tmp_path / "points.csv"
    p.write_bytes("\ufeffa,b,kind,c\n1,2,x,0.5\n3,4,y,-1\n5,6e-1,x,2\n\n".encode())
    d = read_csv(p, features=["a", "c"], target="kind")
    assert d.features == ("a", "c") and d.class_names == ("x", "y")  # the BOM is not in the name
    assert d.X.tolist() == [[1, 0.5], [3, -1], [5, 2]] and d.y.tolist() == [0, 1, 0]
    r = read_csv(p, features=["a"], target="b")
    assert r.classes is None and r.y.tolist() == [2, 4, 0.6]
    assert csv_text("x,label\n1,-1\n2,1\n").class_names == ("-1", "1")


@pytest.mark.parametrize(
    "text, row, column, words",
    [
        ("a,b,t\n1,2,0\n3,4\n", 3, None, "row 3 has 2 cells; the header has 3"),
        ("a,b,t\n1,2,0\n3,oops,1\n", 3, "b", "'oops' is not a number"),
        ("a,b,t\n1,,0\n", 2, "b", "empty"),
        ("a,b,t\n1,1e999,0\n", 2, "b", "too large"),
        ("a,b,t\n1,nan,0\n", 2, "b", "not a number"),
        ("a,b,t\n1,2,0\n3,4,x\n", 3, "t", "'x' is not a number"),
        ("a;b;t\n1;2;0\n", None, None, "';'-separated"),
        ("a,a,t\n1,2,0\n", 1, "a", "appears twice"),
        ("a,b,t\n", None, None, "no data rows"),
        ("", None, None, "empty"),
        ("\n\n", None, None, "empty"),
    ],
)
def test_csv_refusals_name_the_row_and_column(text, row, column, words):
    with pytest.raises(DataError) as e:
        csv_text(text)
    assert words in str(e.value)
    assert (e.value.row, e.value.column) == (row, column)
    assert isinstance(e.value, DocumentError)


def test_csv_with_semicolons_reads_when_told_and_hints_at_decimal_commas():
    d = csv_text("a;b;t\n1;2;0\n3;4;1\n", delimiter=";")
    assert d.X.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(DataError, match="decimal comma"):
        csv_text('a;b;t\n"1,5";2;0\n', delimiter=";")


class Endless(io.TextIOBase):
    """A text stream of 10**7 data rows, made as they are read (nothing is written to disk)."""

    def __init__(self, rows=10**7):
        self.rows = rows
        self.read_lines = 0

    def __iter__(self):
        yield "x1,x2,y\n"
        for i in range(self.rows):
            self.read_lines += 1
            yield f"{i},{i % 7},{i % 2}\n"


def test_csv_over_the_row_limit_is_refused_without_reading_the_rest():
    stream = Endless()
    with pytest.raises(DataError, match="more than 1,000 data rows"):
        read_csv(stream, max_rows=1000)
    assert stream.read_lines == 1001
    stream = Endless()
    with pytest.raises(DataError, match="more than 100,000 data rows"):
        read_csv(stream)
    assert stream.read_lines == 100_001


def test_csv_bad_arguments():
    with pytest.raises(DataError, match="no target column 'z'"):
        csv_text("a,b\n1,2\n", target="z")
    with pytest.raises(DataError, match="both a feature and the target"):
        csv_text("a,b\n1,2\n", features=["a", "b"], target="b")
    with pytest.raises(DataError, match="one label"):
        csv_text("a,b\n1,x\n2,x\n")
    with pytest.raises(DataError, match="not UTF-8"):
        read_csv(io.TextIOWrapper(io.BytesIO(b"a,b\n\xff,1\n"), encoding="utf-8"))
