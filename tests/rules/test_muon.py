"""Muon: against torch.optim.Muon, by hand, its Newton–Schulz property, and its contract.

torch runs its Newton–Schulz iteration in bfloat16; numopt in θ's dtype.  To compare
trajectories to 1e-10 the torch side runs torch's own source of that function with
the one cast to bfloat16 removed (everything else — the momentum's lerp, the
transposition, the learning-rate adjustment, the decay — is torch's code as shipped);
a separate test checks that torch's bfloat16 step is within bfloat16's precision of
numopt's.  Skipped where torch is absent.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numopt
from numopt.rules.muon import NS_COEFFICIENTS, newton_schulz

STEPS = 300
A, B, C = NS_COEFFICIENTS


def quadratic(shape, seed=3):
    """``g(W) = a ⊙ (W - T) + noise_t``: a fixed sequence of noise, the gradient at W."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 3.0, shape)
    target = rng.standard_normal(shape)
    noise = 0.3 * rng.standard_normal((STEPS, *shape))
    return rng.standard_normal(shape), lambda w, t: a * (w - target) + noise[t]


def numopt_trajectory(hp, w0, grad, backend="auto", steps=STEPS):
    opt = numopt.Muon(backend=backend, **hp)
    w = w0.copy()
    for t in range(steps):
        opt.step(w, grad(w, t))
    return w


def torch_muon_in_float64(torch):
    """torch.optim.Muon, its Newton–Schulz run in the input's dtype (no bfloat16 cast)."""
    from torch.optim import _muon

    source = inspect.getsource(_muon._zeropower_via_newtonschulz)
    assert source.count("grad.bfloat16()") == 1  # the one change, checked to apply
    namespace = dict(vars(_muon))
    exec(source.replace("grad.bfloat16()", "grad.clone()"), namespace)
    return namespace["_zeropower_via_newtonschulz"]


def torch_trajectory(hp, w0, grad, float64_ns=True, steps=STEPS):
    torch = pytest.importorskip("torch")
    from torch.optim import _muon

    names = {"learning_rate": "lr"}
    kwargs = {names.get(k, k): v for k, v in hp.items()}
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    opt = torch.optim.Muon([p], **kwargs)
    original = _muon._zeropower_via_newtonschulz
    if float64_ns:
        _muon._zeropower_via_newtonschulz = torch_muon_in_float64(torch)
    try:
        for t in range(steps):
            p.grad = torch.tensor(grad(p.detach().numpy().copy(), t))
            opt.step()
    finally:
        _muon._zeropower_via_newtonschulz = original
    return p.detach().numpy()


CASES = [
    ({"learning_rate": 0.02}, (6, 4)),
    ({"learning_rate": 0.02, "nesterov": False, "weight_decay": 0.0}, (4, 7)),
    ({"learning_rate": 0.01, "momentum": 0.8, "adjust_lr_fn": "match_rms_adamw"}, (5, 5)),
    ({"learning_rate": 0.05, "ns_steps": 3, "eps": 1e-5, "weight_decay": 0.3}, (9, 2)),
    (
        {"learning_rate": 0.01, "ns_coefficients": (2.0, -1.5, 0.5), "adjust_lr_fn": "original"},
        (3, 8),
    ),
]


@pytest.mark.parametrize("backend", ["numpy", "serial", "parallel"])
@pytest.mark.parametrize(("hp", "shape"), CASES, ids=lambda c: str(c))
def test_trajectory_matches_torch_muon(hp, shape, backend):
    w0, grad = quadratic(shape)
    want = torch_trajectory(hp, w0, grad)
    got = numopt_trajectory(hp, w0, grad, backend)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


def test_torch_bfloat16_step_is_numopt_step_to_bfloat16_precision():
    w0, grad = quadratic((16, 12))
    hp = {"learning_rate": 0.1}
    want = torch_trajectory(hp, w0, grad, float64_ns=False, steps=1)
    got = numopt_trajectory(hp, w0, grad, steps=1)
    step = np.abs(got - w0).max()
    assert np.abs(got - want).max() < 2e-2 * step  # bfloat16 keeps 8 bits


# -- by hand ------------------------------------------------------------------------------
def quintic(s: float, steps: int = 5) -> float:
    """The iteration on one singular value: ``s ← a s + b s³ + c s⁵``."""
    for _ in range(steps):
        s = A * s + B * s**3 + C * s**5
    return s


def test_one_step_on_a_diagonal_gradient_by_hand():
    # g = diag(3, 4) in a 2×3 matrix: ‖g‖_F = 5, singular values 0.6, 0.8 after scaling;
    # each goes through the quintic alone.  m = 0.05 g; nesterov: u = 0.05·0.95 g + 0.05 g
    # has the same direction, so O = diag(p(0.6), p(0.8)).  s(2, 3) = sqrt(max(1, 2/3)) = 1.
    w = np.ones((2, 3))
    g = np.zeros((2, 3))
    g[0, 0], g[1, 1] = 3.0, 4.0
    numopt.Muon(learning_rate=0.1, weight_decay=0.5).step(w, g)
    want = np.full((2, 3), 1 - 0.1 * 0.5)
    want[0, 0] -= 0.1 * quintic(0.6)
    want[1, 1] -= 0.1 * quintic(0.8)
    np.testing.assert_allclose(w, want, rtol=1e-14)


def test_tall_matrices_scale_the_step_by_the_root_of_their_aspect():
    # a 8×2 matrix: s = sqrt(8/2) = 2 ("original"), 0.2·sqrt(8) ("match_rms_adamw")
    g = np.zeros((8, 2))
    g[0, 0] = g[1, 1] = 1.0  # singular values 1, 1: scaled to 1/√2 each
    for fn, scale in [(None, 2.0), ("match_rms_adamw", 0.2 * math.sqrt(8))]:
        w = np.zeros((8, 2))
        numopt.Muon(learning_rate=0.1, weight_decay=0.0, adjust_lr_fn=fn).step(w, g)
        assert w[0, 0] == pytest.approx(-0.1 * scale * quintic(1 / math.sqrt(2)), rel=1e-14)
        assert w[2:].max() == 0.0 and w[0, 1] == 0.0


# -- Newton–Schulz acts on singular values only -----------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 7),
    cols=st.integers(1, 7),
    seed=st.integers(0, 2**32 - 1),
    steps=st.integers(0, 6),
)
def test_newton_schulz_keeps_the_singular_vectors(rows, cols, seed, steps):
    """NS(U diag(σ) Vᵀ) = U diag(p(σ/‖σ‖)) Vᵀ, p the quintic iterated ``steps`` times."""
    rng = np.random.default_rng(seed)
    k = min(rows, cols)
    u, _ = np.linalg.qr(rng.standard_normal((rows, k)))
    v, _ = np.linalg.qr(rng.standard_normal((cols, k)))
    sigma = rng.uniform(0.1, 3.0, k)
    x = (u * sigma) @ v.T
    scaled = sigma / np.linalg.norm(sigma)
    want = (u * np.array([quintic(s, steps) for s in scaled])) @ v.T
    got = newton_schulz(x, NS_COEFFICIENTS, steps, 1e-7)
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_a_zero_gradient_leaves_only_the_decay():
    w = np.full((3, 3), 2.0)
    numopt.Muon(learning_rate=0.1, weight_decay=0.1).step(w, np.zeros((3, 3)))
    np.testing.assert_array_equal(w, np.full((3, 3), 2.0 * (1 - 0.1 * 0.1)))


# -- arrays, structures, float32 -------------------------------------------------------------
def test_fortran_order_steps_like_c_order():
    w0, grad = quadratic((5, 3))
    f = np.asfortranarray(w0)
    got = numopt_trajectory({"learning_rate": 0.02}, f, lambda w, t: np.asfortranarray(grad(w, t)))
    want = numopt_trajectory({"learning_rate": 0.02}, w0, grad)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_higher_dimensional_arrays_are_their_first_axis_by_the_rest():
    w0, grad = quadratic((4, 2, 3))
    flat = numopt_trajectory(
        {"learning_rate": 0.02},
        w0.reshape(4, 6),
        lambda w, t: grad(w.reshape(4, 2, 3), t).reshape(4, 6),
    )
    got = numopt_trajectory({"learning_rate": 0.02}, w0, grad)
    np.testing.assert_array_equal(got.reshape(4, 6), flat)


def test_a_list_steps_each_matrix_as_its_own_optimizer_would():
    rng = np.random.default_rng(2)
    shapes = [(3, 5), (4, 2), (2, 2, 2)]
    xs = [rng.standard_normal(s) for s in shapes]
    mine = [x.copy() for x in xs]
    opt = numopt.Muon(learning_rate=0.05)
    alone = [numopt.Muon(learning_rate=0.05) for _ in shapes]
    for _ in range(4):
        gs = [rng.standard_normal(s) for s in shapes]
        opt.step(xs, gs)
        for o, x, g in zip(alone, mine, gs, strict=True):
            o.step(x, g)
    for got, want in zip(xs, mine, strict=True):
        np.testing.assert_array_equal(got, want)
    assert opt.shapes is None  # set for each step only


def test_float32_stays_float32_and_near_float64():
    w0, grad = quadratic((6, 4))
    w32 = numopt_trajectory(
        {"learning_rate": 0.02},
        w0.astype(np.float32),
        lambda w, t: grad(w, t).astype(np.float32),
        steps=20,
    )
    w64 = numopt_trajectory({"learning_rate": 0.02}, w0, grad, steps=20)
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, w64, rtol=1e-4, atol=1e-4)


def test_bounds_and_maximize():
    w0, grad = quadratic((4, 4))
    opt = numopt.Muon(learning_rate=0.1)
    opt.bounds = (-0.5, 0.5)
    w = np.clip(w0, -0.5, 0.5)
    for t in range(20):
        opt.step(w, grad(w, t))
        assert w.min() >= -0.5 and w.max() <= 0.5
    up, down = np.zeros((2, 2)), np.zeros((2, 2))
    g = np.array([[1.0, 0.0], [0.0, 2.0]])
    numopt.Muon(maximize=True).step(up, g)
    numopt.Muon().step(down, -g)
    np.testing.assert_array_equal(up, down)


# -- minimize ------------------------------------------------------------------------------
def linear_fit():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((40, 6))
    y = a @ rng.standard_normal((6, 3)) + 0.5

    def fg(p):
        r = a @ p["w"] + p["b"] - y
        return 0.5 * float(np.sum(r * r)) / len(a), {"w": a.T @ r / len(a), "b": r.sum(0) / len(a)}

    return fg, {"w": np.zeros((6, 3)), "b": np.zeros(3)}


def test_minimize_refuses_a_vector_and_names_the_way_out():
    fg, x0 = linear_fit()
    with pytest.raises(ValueError, match=r"'b': \(3,\).*Muon orthogonalises matrices.*'optimizer'"):
        numopt.minimize(fg, x0, jac=True, method="muon")
    with pytest.raises(ValueError, match=r"x0 has the shape \(3,\)"):
        numopt.minimize(lambda x: (float(x @ x), 2 * x), np.ones(3), jac=True, method="muon")


def test_minimize_with_adamw_for_the_bias_equals_two_optimizers_by_hand(tmp_path):
    fg, x0 = linear_fit()
    adamw = numopt.AdamW(learning_rate=0.05, weight_decay=0.0)
    groups = [{"params": ["b"], "optimizer": adamw}]
    options = {"learning_rate": 0.05, "maxiter": 30, "gtol": 0.0, "param_groups": groups}
    res = numopt.minimize(fg, x0, jac=True, method="muon", options=options)
    muon, bias = numopt.Muon(learning_rate=0.05), numopt.AdamW(learning_rate=0.05, weight_decay=0.0)
    p = {k: v.copy() for k, v in x0.items()}
    for _ in range(30):
        _, g = fg(p)
        muon.step(p["w"], g["w"])
        bias.step(p["b"], g["b"])
    for k in p:
        np.testing.assert_array_equal(res.x[k], p[k])
    # checkpoint and resume, bit for bit
    path = tmp_path / "run.npz"
    numopt.minimize(
        fg, x0, jac=True, method="muon", options={**options, "maxiter": 12, "checkpoint": path}
    )
    resumed = numopt.minimize(fg, x0, jac=True, method="muon", options={**options, "resume": path})
    for k in p:
        np.testing.assert_array_equal(resumed.x[k], res.x[k])
    other = [{"params": ["b"], "optimizer": numopt.Adam(learning_rate=0.05)}]
    with pytest.raises(ValueError, match="checkpoint was made with transforms"):
        numopt.minimize(
            fg,
            x0,
            jac=True,
            method="muon",
            options={**options, "param_groups": other, "resume": path},
        )


def test_minimize_one_matrix_checkpoints_and_resumes_bit_for_bit(tmp_path):
    w0, _ = quadratic((5, 4))
    target = np.random.default_rng(1).standard_normal((5, 4))

    def fg(w):
        return 0.5 * float(np.sum((w - target) ** 2)), w - target

    options = {"learning_rate": 0.02, "maxiter": 40, "gtol": 0.0}
    whole = numopt.minimize(fg, w0, jac=True, method="muon", options=options)
    path = tmp_path / "m.npz"
    numopt.minimize(
        fg, w0, jac=True, method="muon", options={**options, "maxiter": 15, "checkpoint": path}
    )
    resumed = numopt.minimize(fg, w0, jac=True, method="muon", options={**options, "resume": path})
    np.testing.assert_array_equal(resumed.x, whole.x)
    assert whole.x.shape == (5, 4) and whole.fun < fg(w0)[0]


# -- the contract ------------------------------------------------------------------------
def test_a_vector_is_refused_with_the_way_out():
    with pytest.raises(ValueError, match=r"x has shape \(4,\).*numopt.AdamW"):
        numopt.Muon().step(np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match=r"shapes\[1\] has shape \(3,\)"):
        numopt.Muon(shapes=[(2, 2), (3,)])
    with pytest.raises(ValueError, match=r"shapes \[\[2, 2\]\] hold 4 elements but x has 6"):
        numopt.Muon(shapes=[(2, 2)]).step(np.zeros(6), np.ones(6))


def test_state_dict_round_trip_resumes_bit_for_bit():
    w0, grad = quadratic((4, 3))
    opt, w = numopt.Muon(learning_rate=0.03), w0.copy()
    for t in range(5):
        opt.step(w, grad(w, t))
    saved, at = opt.state_dict(), w.copy()
    for t in range(5, 10):
        opt.step(w, grad(w, t))
    other = numopt.Muon(learning_rate=0.03)
    other.load_state_dict(saved)
    assert saved["state"]["m"].shape == (4, 3)
    for t in range(5, 10):
        other.step(at, grad(at, t))
    np.testing.assert_array_equal(at, w)
