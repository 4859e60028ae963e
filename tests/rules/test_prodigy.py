"""Prodigy: against optax.contrib.prodigy, by hand, its estimate, and its contract.

The optax comparison runs 300-step float64 trajectories (JAX with 64-bit types) over
a few option combinations, a schedule included; skipped where optax is absent.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numopt

STEPS = 300
N = 20


def pull(seed=3):
    """``g(x) = a ⊙ (x - target) + noise_t``: a fixed sequence of noise, the gradient at x."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 3.0, N)
    target = rng.standard_normal(N)
    noise = 0.3 * rng.standard_normal((STEPS, N))
    return rng.standard_normal(N), lambda x, t: a * (x - target) + noise[t]


def numopt_trajectory(hp, x0, grad, backend="auto", steps=STEPS):
    opt, x = numopt.Prodigy(backend=backend, **hp), x0.copy()
    for t in range(steps):
        opt.step(x, grad(x, t))
    return x, opt


def optax_trajectory(hp, x0, grad):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    names = {"beta1": None, "beta2": None}
    kw = {k: v for k, v in hp.items() if k not in names and k != "maximize"}
    kw["betas"] = (hp.get("beta1", 0.9), hp.get("beta2", 0.999))
    with jax.enable_x64(True):
        tx = optax.contrib.prodigy(**kw)
        p = jax.numpy.asarray(x0)
        state = tx.init(p)
        for t in range(STEPS):
            g = grad(np.asarray(p), t)
            g = jax.numpy.asarray(-g if hp.get("maximize") else g)
            updates, state = tx.update(g, state, p)
            p = optax.apply_updates(p, updates)
        out = np.asarray(p)
    assert out.dtype == np.float64
    return out


OPTIONS = [
    {},
    {
        "learning_rate": 0.5,
        "beta1": 0.8,
        "beta2": 0.95,
        "beta3": 0.9,
        "eps": 1e-6,
        "estim_lr0": 1e-4,
        "estim_lr_coef": 0.5,
        "weight_decay": 0.1,
    },
    {"safeguard_warmup": True, "weight_decay": 0.01},
    {"learning_rate": lambda k: 1.0 / (1.0 + 0.01 * k)},
]


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("hp", OPTIONS, ids=["defaults", "options", "safeguard", "schedule"])
def test_trajectory_matches_optax_prodigy(hp, maximize):
    x0, grad = pull()
    if maximize:  # numopt maximises -f: the same trajectory as optax minimising f
        grad = (lambda g: lambda x, t: -g(x, t))(grad)
    hp = {**hp, "maximize": maximize} if maximize else hp
    want = optax_trajectory(hp, x0, grad)
    got, _ = numopt_trajectory(hp, x0, grad)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_the_first_step_moves_every_coordinate_by_about_d0():
    x = np.array([1.0, -2.0, 3.0])
    g = np.array([0.5, 4.0, -2.0])
    opt = numopt.Prodigy(eps=1e-30)
    opt.step(x, g)
    # t = 1: x₀ = θ so ⟨g, x₀ - θ⟩ = 0 and d stays d₀; m = (1-β₁)d₀g, v = (1-β₂)d₀²g²,
    # λ = d₀√(1-β₂)/(1-β₁): the step is λ m/√v = d₀ sign(g)
    np.testing.assert_allclose(x, [1.0 - 1e-6, -2.0 - 1e-6, 3.0 + 1e-6], rtol=1e-15)
    assert opt.estimate == 1e-6
    np.testing.assert_array_equal(opt.state["x0"], [1.0, -2.0, 3.0])


def test_the_second_step_s_estimate_by_hand():
    x, g = np.array([1.0, -1.0]), np.array([1.0, -1.0])
    b1, b2, d0 = 0.9, 0.999, 1e-6
    opt = numopt.Prodigy(eps=1e-30)
    opt.step(x, g)
    opt.step(x, g)
    # step 1: s = (λ₁/d₀) d₀ g = λ₁ g, λ₁ = d₀√(1-β₂)/(1-β₁); r₁ = 0
    lam1 = d0 * math.sqrt(1 - b2) / (1 - b1)
    # step 2: ⟨g, x₀ - θ⟩ = 2 d₀ (each coordinate moved d₀ along -g); λ₂ with d = d₀
    lam2 = d0 * math.sqrt(1 - b2**2) / (1 - b1**2)
    b3 = math.sqrt(b2)
    s = b3 * lam1 + lam2  # each |s_i|, as g_i = ±1
    r = (d0 / d0) * lam2 * 2 * d0
    assert opt.estimate == pytest.approx(max(d0, r / (2 * s)), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), lr=st.floats(0.1, 2.0))
def test_the_estimate_never_shrinks(seed, lr):
    x0, grad = pull(seed)
    opt, x, seen = numopt.Prodigy(learning_rate=lr), x0.copy(), []
    for t in range(40):
        opt.step(x, grad(x, t))
        seen.append(opt.estimate)
    assert all(b >= a for a, b in itertools.pairwise(seen))
    assert seen[0] == 1e-6 and seen[-1] > 1e-6


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", ["serial", "parallel", "auto"])
def test_the_fused_passes_give_the_numpy_lines_bits(backend, dtype):
    x0, grad = pull()
    typed = lambda x, t: grad(x, t).astype(dtype)  # noqa: E731
    for hp in ({}, {"weight_decay": 0.1, "maximize": True, "safeguard_warmup": True}):
        want, a = numopt_trajectory(hp, x0.astype(dtype), typed, backend="numpy", steps=50)
        got, b = numopt_trajectory(hp, x0.astype(dtype), typed, backend=backend, steps=50)
        np.testing.assert_array_equal(got, want)
        assert a.estimate == b.estimate
    # several blocks of the sums, the parallel loops
    rng = np.random.default_rng(2)
    n = 3 * 2048 + 17
    x0, gs = rng.standard_normal(n).astype(dtype), rng.standard_normal((4, n)).astype(dtype)
    ends = []
    for b in ("numpy", backend):
        opt, x = numopt.Prodigy(backend=b), x0.copy()
        for g in gs:
            opt.step(x, g)
        ends.append((x, opt.estimate))
    np.testing.assert_array_equal(ends[0][0], ends[1][0])
    assert ends[0][1] == ends[1][1]


def test_the_estimate_does_not_depend_on_the_thread_count():
    from numba import get_num_threads, set_num_threads

    rng = np.random.default_rng(6)
    n = 5 * 2048 + 3
    x0, gs = rng.standard_normal(n), rng.standard_normal((5, n))
    ends = []
    before = get_num_threads()
    try:
        for threads in {1, before}:
            set_num_threads(threads)
            opt, x = numopt.Prodigy(backend="parallel"), x0.copy()
            for g in gs:
                opt.step(x, g)
            ends.append((x.copy(), opt.estimate))
    finally:
        set_num_threads(before)
    for x, d in ends[1:]:
        np.testing.assert_array_equal(x, ends[0][0])
        assert d == ends[0][1]


def test_state_dict_round_trip_resumes_bit_for_bit():
    x0, grad = pull()
    opt, x = numopt.Prodigy(), x0.copy()
    for t in range(20):
        opt.step(x, grad(x, t))
    saved, at = opt.state_dict(), x.copy()
    assert set(saved["state"]) == {"m", "v", "s", "x0"} and saved["estimate"]["d"] > 1e-6
    for t in range(20, 40):
        opt.step(x, grad(x, t))
    other = numopt.Prodigy()
    other.load_state_dict(saved)
    assert other.estimate == saved["estimate"]["d"]
    for t in range(20, 40):
        other.step(at, grad(at, t))
    np.testing.assert_array_equal(at, x)
    del saved["estimate"]
    with pytest.raises(ValueError, match="state_dict lacks 'estimate'"):
        numopt.Prodigy().load_state_dict(saved)
    other.reset()
    assert other.estimate == 1e-6 and other.step_count == 0


def test_minimize_needs_no_learning_rate_and_resumes_bit_for_bit(tmp_path):
    rng = np.random.default_rng(5)
    a, y = rng.standard_normal((60, 8)), rng.standard_normal(60)

    def fg(w):
        r = a @ w - y
        return 0.5 * float(r @ r), a.T @ r

    best = np.linalg.lstsq(a, y, rcond=None)[0]
    # no learning rate to tune: a decaying factor of the estimated one, as Prodigy's
    # authors advise (at a constant factor it hovers about 2e-4 from the solution)
    options = {"maxiter": 3000, "gtol": 1e-6, "learning_rate": lambda k: 1 / (1 + k / 100)}
    res = numopt.minimize(fg, np.zeros(8), jac=True, method="prodigy", options=options)
    assert res.success and res.nit < 1000
    np.testing.assert_allclose(res.x, best, atol=1e-6)
    path = tmp_path / "p.npz"
    run = {**options, "maxiter": 200, "gtol": 0.0}
    whole = numopt.minimize(fg, np.zeros(8), jac=True, method="prodigy", options=run)
    numopt.minimize(
        fg,
        np.zeros(8),
        jac=True,
        method="prodigy",
        options={**run, "maxiter": 70, "checkpoint": path},
    )
    resumed = numopt.minimize(
        fg, np.zeros(8), jac=True, method="prodigy", options={**run, "resume": path}
    )
    np.testing.assert_array_equal(resumed.x, whole.x)


@pytest.mark.parametrize(
    ("hp", "exc", "match"),
    [
        ({"beta3": 1.0}, ValueError, "beta3 must satisfy 0 <= beta3 < 1"),
        ({"estim_lr0": 0.0}, ValueError, "estim_lr0 must be > 0"),
        ({"estim_lr_coef": -1.0}, ValueError, "estim_lr_coef must be > 0"),
        ({"safeguard_warmup": 1}, TypeError, "safeguard_warmup must be True or False"),
        ({"weight_decay": -0.1}, ValueError, "weight_decay must be >= 0"),
    ],
)
def test_bad_hyperparameters_are_named(hp, exc, match):
    with pytest.raises(exc, match=match):
        numopt.Prodigy(**hp)
