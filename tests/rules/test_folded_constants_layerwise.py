"""Adan, AdEMAMix and LAMB fold their per-step constants; a step stays near the formula.

The kernels multiply by constants folded on the host in float64 (``1/(1-β^t)``,
``(1-β2)/(1-β2^t)``, ``1/sqrt(1-β2^t)``) where the formulas divide.  Here each formula
is written out literally, with its divisions, from the module docstrings, and
evaluated on the moments the step left in the state (their update is unchanged): in
float64 for float32 θ, in long double for float64 θ (more precise than what it
checks, where the platform's long double is wider).  The bias corrections ``1 - β^t``
are computed in float64 in both (the hyperparameters' precision: when β^t is near 1
they lose bits to cancellation, the same bits in the formula and on the host).

The bound.  Unlike Adam's step, these steps add terms that may cancel (``m̂ +
(1-β2) v̂`` in Adan, ``m̂1 + α m2`` in AdEMAMix, ``u + λθ`` in all three), so the
error is measured in ulps (of θ's dtype) at the scale ``S`` of the operands of the
last subtraction *with the step's terms taken in absolute value*: ``S = max(|θ|,
η Σ|terms|)``.  At the plain ``max(|θ|, |step|)`` a step that cancels is off by many
ulps of its small result, with the old divisions as with the folded constants.  The
allowance is the step's first-order rounding count: each rounding is one unit ``u``
(of θ's dtype) of its operand's magnitude, and ``u·S <= ulp(S)``.  A folded constant
is off by 1u (2u for ``(1-β2)/(1-β2^t)`` and ``1/sqrt(1-β2^t)``: two float64 roundings
when θ is float64).  Adan: 4u in ``m a + v b``, 3.5u in ``sqrt(n c + ε_root) + ε``,
1u the division, 1u the sum with ``λθ`` (itself 2u), 2u the product by η, the final
rounding 1 ulp of S at most: 12.5 ulps (AdEMAMix, whose α m2 is 2u: 12).  LAMB's
``u``: 2u ``a m``, 5u the denominator, 1u the division, 1u the sum with ``λθ``: 9u of
``T = |a m/(...)| + λ|θ|``, then 1u the product by ``fl(η r)`` and 1 ulp the final
rounding: 10 ulps, plus the trust ratio's own error times ``|step|``: the kernel's
``‖u‖`` is off by at most ``9u ‖T‖`` (relative ``9u‖T‖/‖u‖``), its float64 sums, the
roots, the division and the product by η by at most ``20·2⁻⁵³`` relative (blocked
pairwise sums of at most 2048 terms: about 17), and ``fl(η r)`` is cast (1u).
Observed errors are far below these worst cases; a wrong or misplaced constant is off
by orders more.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numopt
from numopt.rules import adam, adan, ademamix, lamb

N = 64
BACKENDS = st.sampled_from(["numpy", "serial", "parallel"])
DTYPES = st.sampled_from([np.float32, np.float64])
STEPS = st.one_of(st.integers(0, 10), st.integers(0, 40_000))  # early: large corrections
LR = st.floats(1e-5, 1.0)
EPS = st.sampled_from([1e-8, 1e-6, 1e-3])
EPS_ROOT = st.sampled_from([0.0, 1e-8, 1e-3])
DECAY = st.sampled_from([0.0, 1e-2, 0.5])
SEED = st.integers(0, 2**32 - 1)


def work(dtype):
    """The literal formula's precision: float64 for float32 θ, long double for float64."""
    return np.float64 if dtype == np.float32 else np.longdouble


def bias(beta, k, w):
    """``1 - β^k``, computed in float64 (the hyperparameters' precision) and held in ``w``."""
    return w(1 - beta**k)


def unit(dtype):
    """The unit roundoff of ``dtype``."""
    return float(np.finfo(dtype).eps) / 2


def ulps(dtype, scale):
    """The spacing of ``dtype`` at ``scale`` (elementwise), as float64."""
    return np.spacing(np.asarray(scale, np.float64).astype(dtype)).astype(np.float64)


def draw(seed, dtype, moments, squares, grads=()):
    """θ, g and a state: ``moments`` ~ N(0, 0.1²), ``squares`` >= 0 over 9 decades,
    ``grads`` (and g) normal over 6 decades."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-3, 3, N).astype(dtype)

    def gradient():
        return (rng.standard_normal(N) * 10.0 ** rng.uniform(-4, 2, N)).astype(dtype)

    state = {name: (rng.standard_normal(N) * 0.1).astype(dtype) for name in moments}
    for name in squares:
        state[name] = (rng.uniform(0, 1, N) * 10.0 ** rng.uniform(-8, 1, N)).astype(dtype)
    state.update({name: gradient() for name in grads})
    return theta, gradient(), state


def one_step(opt, theta, g, state, t, dtype):
    """The new θ and the state after step ``t + 1``, the moments in the formula's precision."""
    x = theta.copy()
    opt.load_state_dict({**opt.state_dict(), "step": t, "state": state})
    opt.step(x, g)
    after = {k: v.astype(work(dtype)) for k, v in opt.state_dict()["state"].items()}
    return x, after


def check(x, want, scale, allowed, dtype):
    """``|x - want| <= allowed`` ulps of ``dtype`` at ``scale`` (elementwise)."""
    err = np.abs(x.astype(want.dtype) - want).astype(np.float64) / ulps(dtype, scale)
    assert np.all(err <= allowed), (err.max(), int(np.argmax(err - allowed)))


def own_error(dtype):
    """The formula's own rounding, relative to θ's ulps (nil where ``work`` is wider)."""
    return unit(work(dtype)) / unit(dtype)


@settings(max_examples=100, deadline=None)
@given(backend=BACKENDS, dtype=DTYPES, t=STEPS, lr=LR, b1=st.floats(0.0, 0.99),
       b2=st.floats(0.0, 0.99), b3=st.floats(0.5, 0.9999), eps=EPS, eps_root=EPS_ROOT,
       wd=DECAY, seed=SEED)  # fmt: skip
def test_an_adan_step_is_within_12_5_ulps_of_the_formula(
    backend, dtype, t, lr, b1, b2, b3, eps, eps_root, wd, seed
):
    theta, g, state = draw(seed, dtype, ("m", "v"), ("n",), ("g_prev",))
    opt = numopt.Adan(learning_rate=lr, beta1=b1, beta2=b2, beta3=b3, eps=eps,
                      eps_root=eps_root, weight_decay=wd, backend=backend)  # fmt: skip
    x, s = one_step(opt, theta, g, state, t, dtype)
    w, k = work(dtype), t + 1
    th = theta.astype(w)
    one = w(1)
    m_hat = s["m"] / bias(b1, k, w)
    v_hat = s["v"] / bias(b2, k, w)
    den = np.sqrt(s["n"] / bias(b3, k, w) + w(eps_root)) + w(eps)
    u = (m_hat + (one - w(b2)) * v_hat) / den
    step = w(lr) * (u + w(wd) * th)
    terms = w(lr) * ((np.abs(m_hat) + (one - w(b2)) * np.abs(v_hat)) / den + w(wd) * np.abs(th))
    check(x, th - step, np.maximum(np.abs(th), terms), 12.5 * (1 + own_error(dtype)), dtype)


@settings(max_examples=100, deadline=None)
@given(backend=BACKENDS, dtype=DTYPES, t=STEPS, lr=LR, b1=st.floats(0.0, 0.99),
       b2=st.floats(0.5, 0.9999), b3=st.floats(0.9, 0.9999), alpha=st.floats(0.0, 10.0),
       eps=EPS, eps_root=EPS_ROOT, wd=DECAY, seed=SEED)  # fmt: skip
def test_an_ademamix_step_is_within_12_ulps_of_the_formula(
    backend, dtype, t, lr, b1, b2, b3, alpha, eps, eps_root, wd, seed
):
    theta, g, state = draw(seed, dtype, ("m1", "m2"), ("nu",))
    opt = numopt.AdEMAMix(learning_rate=lr, beta1=b1, beta2=b2, beta3=b3, alpha=alpha,
                          eps=eps, eps_root=eps_root, weight_decay=wd, backend=backend)  # fmt: skip
    x, s = one_step(opt, theta, g, state, t, dtype)
    w, k = work(dtype), t + 1
    th = theta.astype(w)
    m1_hat = s["m1"] / bias(b1, k, w)
    den = np.sqrt(s["nu"] / bias(b2, k, w) + w(eps_root)) + w(eps)
    u = (m1_hat + w(alpha) * s["m2"]) / den
    step = w(lr) * (u + w(wd) * th)
    terms = w(lr) * ((np.abs(m1_hat) + w(alpha) * np.abs(s["m2"])) / den + w(wd) * np.abs(th))
    check(x, th - step, np.maximum(np.abs(th), terms), 12 * (1 + own_error(dtype)), dtype)


@settings(max_examples=100, deadline=None)
@given(backend=BACKENDS, dtype=DTYPES, t=STEPS, lr=LR, b1=st.floats(0.0, 0.99),
       b2=st.floats(0.5, 0.9999), eps=EPS, wd=DECAY, cuts=st.sampled_from([(), (40,), (1, 30)]),
       seed=SEED)  # fmt: skip
def test_a_lamb_step_is_within_10_ulps_and_the_ratio_s_error_of_the_formula(
    backend, dtype, t, lr, b1, b2, eps, wd, cuts, seed
):
    """One layer or several (``cuts``: where the layers start), each with its own ratio."""
    theta, g, state = draw(seed, dtype, ("m",), ("v",))
    bounds = (0, *cuts, N)
    sizes = [b - a for a, b in itertools.pairwise(bounds)]
    opt = numopt.Lamb(learning_rate=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd,
                      layers=sizes if cuts else None, backend=backend)  # fmt: skip
    x, s = one_step(opt, theta, g, state, t, dtype)
    w, k = work(dtype), t + 1
    th = theta.astype(w)
    one = w(1)
    m_hat = s["m"] / bias(b1, k, w)
    v_hat = s["v"] / bias(b2, k, w)
    d = m_hat / (np.sqrt(v_hat) + w(eps))  # the Adam direction
    u = d + w(wd) * th
    size = np.abs(d) + w(wd) * np.abs(th)  # u's terms, in absolute value
    want, scale, allowed = (np.empty(N, w) for _ in range(3))
    ud, uw = unit(dtype), unit(work(dtype))
    for a, b in itertools.pairwise(bounds):
        norm_theta, norm_u = np.sqrt(np.sum(th[a:b] ** 2)), np.sqrt(np.sum(u[a:b] ** 2))
        r = one if norm_theta == 0 or norm_u == 0 else norm_theta / norm_u
        step = w(lr) * r * u[a:b]
        want[a:b] = th[a:b] - step
        scale[a:b] = np.maximum(np.abs(th[a:b]), w(lr) * r * size[a:b])
        cond = np.sqrt(np.sum(size[a:b] ** 2)) / norm_u if norm_u != 0 else one
        ratio = ud * (2 + 9 * cond) + 20 * 2.0**-53 + uw * (10 + 9 * cond)
        allowed[a:b] = np.abs(step) * w(ratio) / ulps(dtype, scale[a:b])
    check(x, want, scale, 10 * (1 + own_error(dtype)) + allowed.astype(np.float64), dtype)


# -- the folded constants themselves ----------------------------------------------------------
RULES = [(adan, numopt.Adan), (ademamix, numopt.AdEMAMix), (adam, numopt.Lamb)]  # LAMB: Adam's


@pytest.mark.parametrize(("module", "cls"), RULES)
def test_the_folded_constants_are_the_reciprocals_and_numba_computes_the_same(module, cls):
    opt = cls(beta1=0.8, beta2=0.9)
    h = tuple(opt.spec.factor_args(opt.hyperparameters))
    jit = numba.njit(module.factors)
    F = module.F
    for t in (1, 2, 10, 5000):
        c = module.factors(t, 0.1, h)
        assert jit(t, 0.1, h) == c and len(c) == len(F.rule)
        assert c[F.inv_bias1] == 1 / c[F.bias1]
        if module is adan:
            assert c[F.diff_scale] == (1 - 0.9) / c[F.bias2]
            assert c[F.inv_bias3] == 1 / c[F.bias3]
        elif module is ademamix:
            assert c[F.inv_bias2] == 1 / c[F.bias2]
        else:  # LAMB reads Adam's factors
            assert cls.spec.factor_fn is adam.factors and lamb.F is adam.F
            assert c[F.inv_bias2] == 1 / c[F.bias2]


def operations(fn):
    """The divisions and square roots in ``fn``'s source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    divisions = sum(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div) for n in ast.walk(tree))
    roots = sum(
        isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "sqrt" for n in ast.walk(tree)
    )
    return divisions, roots


@pytest.mark.parametrize(
    "body",
    [adam.body, adam.amsgrad_body, adam.decoupled_body, adam.decoupled_amsgrad_body, adan.body,
     ademamix.body, lamb.moments, lamb.apply],
)  # fmt: skip
def test_an_element_costs_one_division_and_one_root(body):
    assert operations(body) == (1, 1)
