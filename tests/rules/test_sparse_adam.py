"""SparseAdam: against torch.optim.SparseAdam, by hand, its laziness, and its contract.

The torch comparison gives torch a ``torch.sparse_coo_tensor`` gradient (repeated
row indices included, which both sides sum) and numopt the same ``(indices,
values)``; skipped where torch is absent.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numopt

STEPS = 300
ROWS, WIDTH = 12, 3


def sparse_gradients(shape, steps=STEPS, seed=5, k=5):
    """``steps`` sparse gradients for a table of ``shape``: ``k`` row indices each, with
    repeats, and the values of a quadratic pull towards a target plus noise."""
    rng = np.random.default_rng(seed)
    target = rng.standard_normal(shape)
    picks = rng.integers(0, shape[0], (steps, k))
    noise = 0.3 * rng.standard_normal((steps, k, *shape[1:]))

    def grad(w, t):
        rows = picks[t]
        return rows, (w[rows] - target[rows]) + noise[t]

    return rng.standard_normal(shape), grad


def numopt_trajectory(hp, w0, grad, backend="auto", steps=STEPS):
    opt, w = numopt.SparseAdam(backend=backend, **hp), w0.copy()
    for t in range(steps):
        opt.step(w, grad(w, t))
    return w


def torch_trajectory(hp, w0, grad, steps=STEPS):
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.tensor(w0))
    opt = torch.optim.SparseAdam(
        [p],
        lr=hp.get("learning_rate", 1e-3),
        betas=(hp.get("beta1", 0.9), hp.get("beta2", 0.999)),
        eps=hp.get("eps", 1e-8),
        maximize=hp.get("maximize", False),
    )
    for t in range(steps):
        rows, values = grad(p.detach().numpy(), t)
        index = torch.tensor(rows)[None, :]
        p.grad = torch.sparse_coo_tensor(
            index, torch.tensor(values), p.shape, check_invariants=True
        )
        opt.step()
    return p.detach().numpy()


OPTIONS = [
    {},
    {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6},
    {"learning_rate": 0.02, "beta1": 0.0, "beta2": 0.5, "maximize": True},
]


@pytest.mark.parametrize("hp", OPTIONS, ids=lambda hp: ",".join(hp) or "defaults")
@pytest.mark.parametrize("shape", [(ROWS, WIDTH), (ROWS,), (ROWS, 2, 2)])
def test_trajectory_matches_torch_sparse_adam(hp, shape):
    w0, grad = sparse_gradients(shape)
    want = torch_trajectory(hp, w0, grad)
    got = numopt_trajectory(hp, w0, grad)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_two_steps_by_hand():
    w = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    opt = numopt.SparseAdam(learning_rate=0.1, beta1=0.5, beta2=0.75, eps=1e-30)
    # step 1, rows 0 and 2; row 2 given twice: (1, 1) + (1, 3) = (2, 4)
    opt.step(w, (np.array([2, 0, 2]), np.array([[1.0, 1.0], [4.0, -2.0], [1.0, 3.0]])))
    # m = g/2, v = g²/4; step size 0.1·sqrt(1/4)/(1/2) = 0.1; m/sqrt(v) = sign(g)
    np.testing.assert_allclose(w, [[0.9, 2.1], [3.0, 4.0], [4.9, 5.9]], rtol=1e-15)
    # step 2, row 0 only, g = (2, 2): m = (2, -1)/2 + (2, 2)/2 = (2, 0.5),
    # v = 0.75 (4, 1) + 0.25 (4, 4) = (4, 1.75)
    opt.step(w, (np.array([0]), np.array([[2.0, 2.0]])))
    size = 0.1 * math.sqrt(1 - 0.75**2) / (1 - 0.5**2)
    want_row0 = [0.9 - size * 2.0 / 2.0, 2.1 - size * 0.5 / math.sqrt(1.75)]
    np.testing.assert_allclose(w[0], want_row0, rtol=1e-15)
    np.testing.assert_array_equal(w[1:], [[3.0, 4.0], [4.9, 5.9]])
    m = opt.state["m"].reshape(3, 2)
    np.testing.assert_allclose(m, [[2.0, 0.5], [0.0, 0.0], [1.0, 2.0]], rtol=1e-15)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.integers(0, ROWS - 1), min_size=0, max_size=8),
    seed=st.integers(0, 2**16),
)
def test_untouched_rows_keep_theta_and_moments_bit_for_bit(rows, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((ROWS, WIDTH))
    opt = numopt.SparseAdam(learning_rate=0.1)
    opt.step(w, rng.standard_normal((ROWS, WIDTH)))  # every row touched: moments non-zero
    before = (w.copy(), opt.state["m"].copy(), opt.state["v"].copy())
    idx = np.array(rows, dtype=np.int64)
    opt.step(w, (idx, rng.standard_normal((idx.size, WIDTH))))
    untouched = np.setdiff1d(np.arange(ROWS), idx)
    after = (w, opt.state["m"], opt.state["v"])
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(
            new.reshape(ROWS, WIDTH)[untouched], old.reshape(ROWS, WIDTH)[untouched]
        )
    assert opt.step_count == 2


def test_repeated_indices_are_summed_like_one_row():
    w0, g = np.zeros((4, 2)), np.array([[1.0, -2.0], [0.5, 0.5], [3.0, 1.0]])
    a, b = w0.copy(), w0.copy()
    numopt.SparseAdam(0.1).step(a, (np.array([1, 3, 1]), g))
    numopt.SparseAdam(0.1).step(b, (np.array([1, 3]), np.array([g[0] + g[2], g[1]])))
    np.testing.assert_array_equal(a, b)


def test_a_dense_gradient_touches_its_non_zero_rows():
    rng = np.random.default_rng(2)
    w0, g0, g = (rng.standard_normal((6, 3)) for _ in range(3))
    g[[1, 4]] = 0.0
    g[2, 0] = 0.0  # a row with one zero is still touched, all of it
    dense, sparse = w0.copy(), w0.copy()
    a, b = numopt.SparseAdam(0.1), numopt.SparseAdam(0.1)
    a.step(dense, g0)
    b.step(sparse, (np.arange(6), g0))
    before = dense.copy()
    a.step(dense, g)
    rows = np.array([0, 2, 3, 5])
    b.step(sparse, (rows, g[rows]))
    np.testing.assert_array_equal(dense, sparse)
    np.testing.assert_array_equal(dense[[1, 4]], before[[1, 4]])
    assert dense[2, 0] != before[2, 0]  # its m is not zero: it moves with a zero gradient


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", ["serial", "parallel", "auto"])
def test_the_fused_kernels_give_the_numpy_lines_bits(backend, dtype):
    w0, grad = sparse_gradients((ROWS, WIDTH), steps=30)

    def typed(w, t):
        rows, values = grad(w, t)
        return rows, values.astype(dtype)

    for hp in ({"learning_rate": 0.05}, {"learning_rate": 0.05, "maximize": True}):
        w = w0.astype(dtype)
        want = numopt_trajectory(hp, w, typed, backend="numpy", steps=30)
        got = numopt_trajectory(hp, w, typed, backend=backend, steps=30)
        np.testing.assert_array_equal(got, want)
    # a dense gradient, a Fortran-order table, many rows (auto picks the parallel loop)
    rng = np.random.default_rng(8)
    w0, g = np.asfortranarray(rng.standard_normal((5000, 4)).astype(dtype)), []
    for _ in range(3):
        gi = rng.standard_normal((5000, 4)).astype(dtype)
        gi[rng.random(5000) < 0.5] = 0.0
        g.append(gi)
    a, b = w0.copy(order="F"), w0.copy(order="F")
    fused, lines = numopt.SparseAdam(0.1, backend=backend), numopt.SparseAdam(0.1, backend="numpy")
    for gi in g:
        fused.step(a, gi)
        lines.step(b, gi)
    np.testing.assert_array_equal(a, b)


def test_float32_stays_float32_and_near_float64():
    w0, grad = sparse_gradients((ROWS, WIDTH), steps=50)
    grad32 = lambda w, t: (lambda r, v: (r, v.astype(np.float32)))(*grad(w, t))  # noqa: E731
    got = numopt_trajectory({"learning_rate": 0.05}, w0.astype(np.float32), grad32, steps=50)
    want = numopt_trajectory({"learning_rate": 0.05}, w0, grad, steps=50)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_fortran_order_steps_like_c_order():
    w0, grad = sparse_gradients((ROWS, WIDTH), steps=20)
    c = numopt_trajectory({"learning_rate": 0.05}, w0, grad, steps=20)
    f = numopt_trajectory({"learning_rate": 0.05}, np.asfortranarray(w0), grad, steps=20)
    np.testing.assert_array_equal(f, c)


def test_clipping_a_sparse_gradient_clips_its_dense_twin():
    rng = np.random.default_rng(3)
    g = np.zeros((5, 2))
    g[[0, 3]] = rng.standard_normal((2, 2)) * 10
    for clip in ({"clip_norm": 1.0}, {"clip_value": 0.5}, {"clip_norm": 0.3, "clip_value": 2.0}):
        dense, sparse = np.ones((5, 2)), np.ones((5, 2))
        a, b = numopt.SparseAdam(0.1, **clip), numopt.SparseAdam(0.1, **clip)
        for _ in range(3):
            a.step(dense, g)
            b.step(sparse, (np.array([3, 0]), g[[3, 0]]))
        np.testing.assert_allclose(sparse, dense, rtol=1e-14)
        np.testing.assert_allclose(b.state["v"], a.state["v"], rtol=1e-14)


def test_bounds_hold_the_touched_rows():
    w = np.zeros((4, 2))
    opt = numopt.SparseAdam(1.0)
    opt.bounds = (-0.5, 0.5)
    for _ in range(5):
        opt.step(w, (np.array([1]), np.array([[1.0, -1.0]])))
    np.testing.assert_array_equal(w[1], [-0.5, 0.5])
    np.testing.assert_array_equal(w[[0, 2, 3]], 0.0)


def test_state_dict_round_trip_resumes_bit_for_bit():
    w0, grad = sparse_gradients((ROWS, WIDTH), steps=10)
    opt, w = numopt.SparseAdam(learning_rate=0.03), w0.copy()
    for t in range(5):
        opt.step(w, grad(w, t))
    saved, at = opt.state_dict(), w.copy()
    for t in range(5, 10):
        opt.step(w, grad(w, t))
    other = numopt.SparseAdam(learning_rate=0.03)
    other.load_state_dict(saved)
    assert saved["state"]["v"].shape == (ROWS, WIDTH)
    for t in range(5, 10):
        other.step(at, grad(at, t))
    np.testing.assert_array_equal(at, w)


# -- minimize ----------------------------------------------------------------------------
def embedding_fit():
    """A dict x0: a table whose rows 1 and 3 never appear in the data, and a bias."""
    rng = np.random.default_rng(7)
    used = np.array([0, 2, 4])
    target = rng.standard_normal((3, 2))

    def fg(p):
        r = p["table"][used] + p["bias"] - target
        g_table = np.zeros_like(p["table"])
        g_table[used] = r
        return 0.5 * float(np.sum(r * r)), {"table": g_table, "bias": r.sum(axis=0)}

    x0 = {"table": rng.standard_normal((5, 2)), "bias": np.zeros(2)}
    return fg, x0


def test_minimize_leaves_rows_without_gradient_alone_and_equals_the_stateful_steps(tmp_path):
    fg, x0 = embedding_fit()
    options = {"learning_rate": 0.05, "maxiter": 60, "gtol": 0.0}
    res = numopt.minimize(fg, x0, jac=True, method="sparse_adam", options=options)
    np.testing.assert_array_equal(res.x["table"][[1, 3]], x0["table"][[1, 3]])
    opt, p = numopt.SparseAdam(learning_rate=0.05), {k: v.copy() for k, v in x0.items()}
    for _ in range(60):
        opt.step(p, fg(p)[1])
    for k in p:
        np.testing.assert_array_equal(res.x[k], p[k])
    assert res.fun < fg(x0)[0]
    path = tmp_path / "s.npz"
    numopt.minimize(
        fg,
        x0,
        jac=True,
        method="sparse_adam",
        options={**options, "maxiter": 25, "checkpoint": path},
    )
    resumed = numopt.minimize(
        fg, x0, jac=True, method="sparse_adam", options={**options, "resume": path}
    )
    for k in p:
        np.testing.assert_array_equal(resumed.x[k], res.x[k])


# -- the contract ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("g", "exc", "match"),
    [
        ((np.array([0.5]), np.ones((1, 2))), TypeError, "indices must be a 1-D integer array"),
        ((np.array([[0]]), np.ones((1, 2))), TypeError, r"indices .* got shape \(1, 1\)"),
        ((np.array([4]), np.ones((1, 2))), IndexError, r"lie in \[0, 4\) .* got 4"),
        ((np.array([-1]), np.ones((1, 2))), IndexError, "got -1"),
        ((np.array([0, 1]), np.ones((2, 3))), ValueError, r"values must have shape \(2, 2\)"),
        ((np.array([0]), np.ones((1, 2), np.float32)), TypeError, "x's dtype float64"),
        ((np.array([0]), np.ones((1, 2)), 1), TypeError, "a tuple of 3"),
    ],
)
def test_bad_sparse_gradients_are_named(g, exc, match):
    w = np.zeros((4, 2))
    with pytest.raises(exc, match=match):
        numopt.SparseAdam().step(w, g)
    np.testing.assert_array_equal(w, 0.0)


def test_a_sparse_gradient_is_for_one_table():
    with pytest.raises(TypeError, match=r"with a sparse g, x must be a numpy\.ndarray"):
        numopt.SparseAdam().step(5.0, (np.array([0]), np.ones(1)))
    opt = numopt.SparseAdam(shapes=[(2, 2), (4,)])
    with pytest.raises(ValueError, match="a sparse g is for one table"):
        opt.step(np.zeros(8), (np.array([0]), np.ones(1)))


def test_the_guide_s_example_runs():
    """The Python block of docs/sparse-adam.md (its assertion included)."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "sparse-adam.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], "docs/sparse-adam.md", "exec"), {})


def test_a_sparse_gradient_inside_a_list_or_from_minimize_is_named():
    with pytest.raises(TypeError, match=r"a sparse gradient .* is for one table"):
        numopt.SparseAdam().step({"E": np.ones((4, 2))}, {"E": (np.array([1]), np.ones((1, 2)))})
    with pytest.raises(TypeError, match=r"jac must be an array of shape \(4, 2\), got a ragged"):
        numopt.minimize(
            lambda e: float(np.sum(e * e)),
            np.ones((4, 2)),
            jac=lambda e: (np.array([1]), np.ones((1, 2))),
            method="sparse_adam",
        )


def test_a_fortran_ordered_table_takes_the_same_sparse_step():
    """(A fix: a sparse gradient of a Fortran-ordered 3-D table updated wrong elements.)"""
    rng = np.random.default_rng(7)
    table = rng.standard_normal((6, 2, 3))
    c_x, f_x = table.copy(order="C"), np.asfortranarray(table)
    c_opt, f_opt = numopt.SparseAdam(learning_rate=0.1), numopt.SparseAdam(learning_rate=0.1)
    for _ in range(4):
        indices = rng.integers(0, 6, 4)
        values = rng.standard_normal((4, 2, 3))
        c_opt.step(c_x, (indices, values))
        f_opt.step(f_x, (indices, values))
    assert f_x.flags.f_contiguous
    np.testing.assert_array_equal(f_x, c_x)
