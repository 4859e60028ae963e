"""Adafactor: against torch.optim.Adafactor, by hand, its factored state, and its contract.

The torch comparison is over 300-step float64 trajectories on matrices, vectors, a
batch of matrices and a list of arrays; skipped where torch is absent.  The fused
CPU passes (``"serial"``, ``"parallel"``) give the NumPy lines' bits: their sums go
in one fixed order, whatever the thread count.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numopt
from numopt.rules import adafactor_kernels
from numopt.rules.adafactor import state_length

STEPS = 300


def pull(shape, seed=3):
    """``g(w) = a ⊙ (w - target) + noise_t``: a fixed sequence of noise, the gradient at w."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 3.0, shape)
    target = rng.standard_normal(shape)
    noise = 0.3 * rng.standard_normal((STEPS, *shape))
    return np.asarray(rng.standard_normal(shape)), lambda w, t: np.asarray(
        a * (w - target) + noise[t]
    )


def numopt_trajectory(hp, w0, grad, backend="auto", steps=STEPS):
    opt, w = numopt.Adafactor(backend=backend, **hp), w0.copy()
    for t in range(steps):
        opt.step(w, grad(w, t))
    return w


def torch_trajectory(hp, w0, grad, steps=STEPS):
    torch = pytest.importorskip("torch")
    names = {"learning_rate": "lr"}
    p = torch.nn.Parameter(torch.tensor(w0))
    opt = torch.optim.Adafactor([p], **{names.get(k, k): v for k, v in hp.items()})
    for t in range(steps):
        p.grad = torch.tensor(grad(p.detach().numpy(), t))
        opt.step()
    return p.detach().numpy()


OPTIONS = [
    {},
    {"learning_rate": 0.05, "beta2_decay": -0.5, "eps": (1e-20, 1e-2), "d": 1.5},
    {"learning_rate": 0.02, "weight_decay": 0.1, "maximize": True},
]


@pytest.mark.parametrize("hp", OPTIONS, ids=lambda hp: ",".join(hp) or "defaults")
@pytest.mark.parametrize("shape", [(6, 4), (3, 7), (5,), (2, 3, 4), ()])
def test_trajectory_matches_torch_adafactor(hp, shape):
    w0, grad = pull(shape)
    if hp.get("maximize"):
        grad = (lambda g: lambda w, t: np.asarray(-g(w, t)))(grad)
    want = torch_trajectory(hp, w0, grad)
    got = numopt_trajectory(hp, w0, grad)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_a_list_matches_torch_with_one_parameter_per_array():
    torch = pytest.importorskip("torch")
    (w0, gw), (b0, gb) = pull((5, 3), seed=1), pull((3,), seed=2)
    ps = [torch.nn.Parameter(torch.tensor(w0)), torch.nn.Parameter(torch.tensor(b0))]
    ref = torch.optim.Adafactor(ps, lr=0.03, weight_decay=0.05)
    opt, x = numopt.Adafactor(learning_rate=0.03, weight_decay=0.05), [w0.copy(), b0.copy()]
    for t in range(STEPS):
        ps[0].grad = torch.tensor(gw(ps[0].detach().numpy(), t))
        ps[1].grad = torch.tensor(gb(ps[1].detach().numpy(), t))
        ref.step()
        opt.step(x, [gw(x[0], t), gb(x[1], t)])
    for mine, theirs in zip(x, ps, strict=True):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert opt.state["v"].shape == (5 + 3 + 3,)


def test_two_steps_by_hand():
    w = np.ones((2, 2))
    opt = numopt.Adafactor(learning_rate=0.1, beta2_decay=-1.0)
    g1 = np.array([[2.0, 0.0], [0.0, 2.0]])
    opt.step(w, g1)
    # t = 1: weight 1, r = c = (2, 2), mean r = 2, V = r cᵀ / 2 = 2 everywhere;
    # u = g/√2; ‖u‖/√4 = 1 so no clipping; α = RMS(θ)=1 · min(0.1, 1) = 0.1
    want = 1.0 - 0.1 * g1 / math.sqrt(2.0)
    np.testing.assert_allclose(w, want, rtol=1e-15)
    np.testing.assert_array_equal(opt.state["v"], [2.0, 2.0, 2.0, 2.0])
    g2 = np.array([[0.0, 4.0], [0.0, 0.0]])
    opt.step(w, g2)
    # t = 2: weight 1/2, r = (2 + (8 - 2)/2, 2 - 2/2) = (5, 1), c = (2 - 1, 2 + (8-2)/2) = (1, 5)
    np.testing.assert_allclose(opt.state["v"], [5.0, 1.0, 1.0, 5.0], rtol=1e-15)
    # V = r cᵀ / mean(r) = [[5, 25], [1, 5]] / 3; only g2[0, 1] is non-zero:
    # u = 4/√(25/3), ‖u‖/√4 = u/2 ≈ 0.69 < 1; α = RMS(θ) · min(0.1, 1/√2)
    u = 4.0 / math.sqrt(25.0 / 3.0)
    alpha = math.sqrt(np.mean(want**2)) * 0.1
    np.testing.assert_allclose(w[0, 1], want[0, 1] - alpha * u, rtol=1e-14)
    np.testing.assert_array_equal(w.ravel()[[0, 2, 3]], want.ravel()[[0, 2, 3]])


def test_the_state_is_factored():
    opt = numopt.Adafactor()
    x = {"W": np.ones((300, 200)), "conv": np.ones((8, 3, 5, 5)), "b": np.ones(200)}
    opt.step(x, {k: np.full_like(v, 0.1) for k, v in x.items()})
    assert opt.state["v"].size == (300 + 200) + 8 * 3 * (5 + 5) + 200
    assert state_length((300, 200)) == 500 and state_length(()) == 1


@pytest.mark.parametrize("backend", ["serial", "parallel"])
def test_every_cpu_backend_gives_the_same_bits(backend):
    w0, grad = pull((6, 5))
    want = numopt_trajectory({"learning_rate": 0.05}, w0, grad, backend="numpy", steps=40)
    got = numopt_trajectory({"learning_rate": 0.05}, w0, grad, backend=backend, steps=40)
    np.testing.assert_array_equal(got, want)


def run_backend(backend, x0, gs, hp=None):
    """x and the state after stepping ``x0`` (an array, or a list of arrays) by ``gs``."""
    opt = numopt.Adafactor(backend=backend, **(hp or {}))
    x = [a.copy(order="K") for a in x0] if isinstance(x0, list) else x0.copy(order="K")
    for g in gs:
        opt.step(x, g)
    return x, opt.state["v"].copy()


def assert_same_bits(got, want):
    """The same x (every array) and the same state, bit for bit."""
    listed = lambda x: x if isinstance(x, list) else [x]  # noqa: E731
    for mine, theirs in zip(listed(got[0]), listed(want[0]), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(got[1], want[1])


# several row blocks and lanes (and their tails), a batch, vectors of several blocks,
# a 0-D array, Fortran order (strided rows)
BIG_SHAPES = [(70, 130), (3, 2, 37, 9), (2 * adafactor_kernels.BLOCK + 5,), (), (4, 1), "F"]
HARD = {
    "learning_rate": 0.05,
    "weight_decay": 0.1,
    "maximize": True,
    "eps": (1e-20, 1e-2),
    "d": 1.3,
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", ["serial", "parallel", "auto"])
@pytest.mark.parametrize("shape", BIG_SHAPES, ids=str)
def test_the_fused_passes_give_the_numpy_lines_bits(shape, backend, dtype):
    rng = np.random.default_rng(5)
    order, shape = ("F", (40, 70)) if shape == "F" else ("C", shape)
    x0 = np.asarray(rng.standard_normal(shape), dtype, order=order)
    gs = [np.asarray(s * rng.standard_normal(shape), dtype, order=order) for s in (1, 3, 0.1, 2)]
    gs.append(np.zeros(shape, dtype, order=order))  # zero factors: the ε₁ floor
    for hp in ({}, HARD):
        assert_same_bits(run_backend(backend, x0, gs, hp), run_backend("numpy", x0, gs, hp))


def test_a_list_of_arrays_gives_the_numpy_lines_bits():
    rng = np.random.default_rng(8)
    shapes = [(33, 65), (7,), (2, 3, 5), (), (3000,), (1, 70)]
    x0 = [rng.standard_normal(s) for s in shapes]
    gs = [[rng.standard_normal(s) for s in shapes] for _ in range(4)]
    for backend in ("serial", "parallel"):
        assert_same_bits(run_backend(backend, x0, gs, HARD), run_backend("numpy", x0, gs, HARD))


def test_the_sums_do_not_depend_on_the_thread_count():
    from numba import get_num_threads, set_num_threads

    rng = np.random.default_rng(6)
    shape = (200, 301)
    x0, gs = rng.standard_normal(shape), [rng.standard_normal(shape) for _ in range(4)]
    want = run_backend("serial", x0, gs)
    before = get_num_threads()
    try:
        for threads in {1, before}:
            set_num_threads(threads)
            assert_same_bits(run_backend("parallel", x0, gs), want)
    finally:
        set_num_threads(before)


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(0, 9), min_size=0, max_size=3).map(tuple),
    fortran=st.booleans(),
    lr=st.floats(1e-3, 0.5),
    decay=st.floats(-1.0, -0.1),
    maximize=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_any_shape_steps_alike_on_every_cpu_backend(shape, fortran, lr, decay, maximize, seed):
    rng = np.random.default_rng(seed)
    order = "F" if fortran else "C"
    x0 = np.asarray(rng.standard_normal(shape), order=order)
    gs = [np.asarray(rng.standard_normal(shape), order=order) for _ in range(3)]
    hp = {"learning_rate": lr, "beta2_decay": decay, "maximize": maximize}
    with np.errstate(all="ignore"):  # an empty axis: a mean over nothing
        want = run_backend("numpy", x0, gs, hp)
        for backend in ("serial", "parallel"):
            assert_same_bits(run_backend(backend, x0, gs, hp), want)


def test_the_numpy_lines_match_torch_too():
    w0, grad = pull((6, 4))
    want = torch_trajectory({}, w0, grad)
    np.testing.assert_allclose(numopt_trajectory({}, w0, grad, backend="numpy"), want, rtol=1e-10)


def test_fortran_order_steps_like_c_order():
    w0, grad = pull((6, 5))
    c = numopt_trajectory({"learning_rate": 0.05}, w0, grad, steps=30)
    f = numopt_trajectory({"learning_rate": 0.05}, np.asfortranarray(w0), grad, steps=30)
    np.testing.assert_array_equal(f, c)


def test_float32_stays_float32_and_near_float64():
    w0, grad = pull((6, 5))
    g32 = lambda w, t: grad(w, t).astype(np.float32)  # noqa: E731
    got = numopt_trajectory({"learning_rate": 0.05}, w0.astype(np.float32), g32, steps=50)
    want = numopt_trajectory({"learning_rate": 0.05}, w0, grad, steps=50)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_state_dict_round_trip_resumes_bit_for_bit():
    w0, grad = pull((4, 3))
    opt, w = numopt.Adafactor(learning_rate=0.03), w0.copy()
    for t in range(5):
        opt.step(w, grad(w, t))
    saved, at = opt.state_dict(), w.copy()
    assert saved["state"]["v"].shape == (7,) and saved["shape"] == [4, 3]
    for t in range(5, 10):
        opt.step(w, grad(w, t))
    other = numopt.Adafactor(learning_rate=0.03)
    other.load_state_dict(saved)
    for t in range(5, 10):
        other.step(at, grad(at, t))
    np.testing.assert_array_equal(at, w)
    with pytest.raises(ValueError, match=r"state was built for shape \(4, 3\)"):
        other.step(np.zeros((3, 4)), np.ones((3, 4)))


def test_minimize_gives_each_array_its_factors_and_resumes_bit_for_bit(tmp_path):
    rng = np.random.default_rng(4)
    a, y = rng.standard_normal((40, 3)), rng.standard_normal((40, 2))

    def fg(p):
        r = a @ p["W"] + p["b"] - y
        return 0.5 * float(np.sum(r * r)), {"W": a.T @ r, "b": r.sum(axis=0)}

    x0 = {"W": np.zeros((3, 2)), "b": np.zeros(2)}
    options = {"learning_rate": 0.05, "maxiter": 40, "gtol": 0.0}
    res = numopt.minimize(fg, x0, jac=True, method="adafactor", options=options)
    opt, p = numopt.Adafactor(learning_rate=0.05), {k: v.copy() for k, v in x0.items()}
    for _ in range(40):
        opt.step(p, fg(p)[1])
    for k in p:
        np.testing.assert_array_equal(res.x[k], p[k])
    assert res.fun < fg(x0)[0]
    path = tmp_path / "a.npz"
    numopt.minimize(
        fg, x0, jac=True, method="adafactor", options={**options, "maxiter": 15, "checkpoint": path}
    )
    resumed = numopt.minimize(
        fg, x0, jac=True, method="adafactor", options={**options, "resume": path}
    )
    for k in p:
        np.testing.assert_array_equal(resumed.x[k], res.x[k])


@pytest.mark.parametrize(
    ("hp", "exc", "match"),
    [
        ({"beta2_decay": 0.1}, ValueError, "beta2_decay must be <= 0, got 0.1"),
        ({"eps": 1e-3}, TypeError, r"eps must be a pair \(eps1, eps2\)"),
        ({"eps": (-1.0, 1e-3)}, ValueError, r"eps\[0\] must be >= 0"),
        ({"eps": (None, math.nan)}, ValueError, r"eps\[1\] must be finite"),
        ({"d": 0.5}, ValueError, "d must be >= 1, got 0.5"),
        ({"weight_decay": -1.0}, ValueError, "weight_decay must be >= 0"),
        ({"shapes": [(2, 2), "x"]}, TypeError, r"shapes\[1\] must be a shape"),
    ],
)
def test_bad_hyperparameters_are_named(hp, exc, match):
    with pytest.raises(exc, match=match):
        numopt.Adafactor(**hp)


def test_shapes_must_hold_x():
    with pytest.raises(ValueError, match=r"shapes \[\[2, 2\]\] hold 4 elements but x has 6"):
        numopt.Adafactor(shapes=[(2, 2)]).step(np.zeros(6), np.ones(6))
