"""Yogi, AdaBelief, NAdam and Schedule-Free fold their per-step constants; a step stays
within 4 ulps of the formula (4.5 in float32).

The kernels divide once and take one root per element at most: the bias corrections,
``1/β1`` and the like are folded on the host in float64 (``η/(1 - β1^t)``,
``1/(1 - β2^t)``, ...), where the formulas of the module docstrings divide.  Here
each formula is written out literally, with its divisions, on the step's own state
(the moments, whose update is unchanged; Schedule-Free's ``z`` is recomputed too, its
direction being folded), and each step of every backend, in float32 and float64, must
land within :func:`tol` ulps of it, of θ's dtype, at the scale of the last sum: the
largest of its operands and its result (the result is rounded at its own size, up to
twice its operands' when they add up).

The formula's scalars (``1 - β^t``, ``1 - ηλ``, NAdam's μ_t and Π_t, Schedule-Free's
c_t) are float64, as every implementation has them; the element arithmetic is carried
out in ``np.longdouble`` (x86's 80-bit extended), so that the formula's own rounding
in float64 (up to ~2.5 ulps, which with the kernel's own can pass 4) is not counted.
Where the formula adds two terms that may cancel (NAdam's and Nesterov's ``m̂``), each
term has a rounding error of its own size: their sum of magnitudes is the scale.
Without extended precision (``np.longdouble`` is float64 on some platforms) float64
is not drawn.

The bound is 4 ulps; in float32, 4.5: the formula itself, evaluated term by term in
float32 on the same inputs, lands up to 4.3 ulps from its exact value (the folded
constants, like the formula's corrections, are rounded to float64 and then to θ's
dtype).  The roots take ``sqrt(v r_t)`` with ``r_t = 1/(1 - β2^t)`` rather than
``sqrt(v) / sqrt(1 - β2^t)``: one rounding fewer, which keeps float64 within 4.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import numopt

N = 64
X = np.longdouble  # the formula's element arithmetic
EXTENDED = np.finfo(X).nmant > np.finfo(np.float64).nmant
backends = st.sampled_from(["numpy", "serial", "parallel"])
dtypes = st.sampled_from([np.float32, np.float64] if EXTENDED else [np.float32])
lrs = st.floats(1e-5, 1.0)
beta1s = st.floats(0.0, 0.99)
beta2s = st.floats(0.5, 0.9999)
epss = st.sampled_from([1e-8, 1e-6, 1e-3])
wds = st.sampled_from([0.0, 1e-2, 0.5])
seeds = st.integers(0, 2**32 - 1)
eps_roots = st.sampled_from([0.0, 1e-16, 1e-8])
psis = st.sampled_from([0.0, 4e-3, 1e-2])  # NAdam's momentum_decay
powers = st.sampled_from([0.0, 1.0, 2.0])  # Schedule-Free's weight_lr_power


def tol(dtype) -> float:
    """The bound, in ulps: 4, and 4.5 in float32 (see the module docstring)."""
    return 4.5 if np.dtype(dtype) == np.float32 else 4.0


def ulps_off(actual, want, scale):
    """``|actual - want|`` in ulps of ``actual``'s dtype at ``max(scale, |want|)``."""
    scale = np.maximum(scale, np.abs(want)).astype(np.float64)
    spacing = np.spacing(scale.astype(actual.dtype)).astype(X)
    return float((np.abs(actual.astype(X) - want) / spacing).max())


def draw(seed, dtype):
    """θ, g, and a first moment and a positive second moment, in ``dtype``."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-3, 3, N).astype(dtype)
    g = (rng.standard_normal(N) * 10.0 ** rng.uniform(-4, 2, N)).astype(dtype)
    m = (rng.standard_normal(N) * 0.1).astype(dtype)
    v = (rng.uniform(0, 1, N) * 10.0 ** rng.uniform(-8, 1, N)).astype(dtype)
    return rng, theta, g, m, v


def step(opt, t, theta, g, state, **extra):
    """Load ``state`` at step ``t`` and take one step from ``theta``: (θ, state after)."""
    x = theta.copy()
    copies = {k: a.copy() for k, a in state.items()}
    opt.load_state_dict({**opt.state_dict(), "step": t, "state": copies, **extra})
    opt.step(x, g)
    return x, opt.state_dict()["state"]


def ext(*arrays):
    return (np.asarray(a).astype(X) for a in arrays)


def yogi(backend, dtype, t, lr, b1, b2, eps, seed):
    """How many ulps a Yogi step is off the formula."""
    _, theta, g, m, v = draw(seed, dtype)
    opt = numopt.Yogi(learning_rate=lr, beta1=b1, beta2=b2, eps=eps, backend=backend)
    x, after = step(opt, t, theta, g, {"m": m, "v": v})
    theta, m, v = ext(theta, after["m"], after["v"])
    t += 1
    m_hat = m / X(1 - b1**t)
    v_hat = v / X(1 - b2**t)
    update = X(lr) * m_hat / (np.sqrt(v_hat) + X(eps))
    return ulps_off(x, theta - update, np.maximum(np.abs(theta), np.abs(update)))


def adabelief(nesterov, backend, dtype, t, lr, b1, b2, eps, eps_root, seed):
    """How many ulps an AdaBelief step is off the formula."""
    _, theta, g, m, s = draw(seed, dtype)
    opt = numopt.AdaBelief(
        learning_rate=lr, beta1=b1, beta2=b2, eps=eps, eps_root=eps_root, nesterov=nesterov,
        backend=backend,
    )  # fmt: skip
    x, after = step(opt, t, theta, g, {"m": m, "s": s})
    theta, g, m, s = ext(theta, g, after["m"], after["s"])
    t += 1
    s_hat = s / X(1 - b2**t)
    den = np.sqrt(s_hat) + X(eps)
    if nesterov:  # m̂ = β1 m/(1 - β1^{t+1}) + (1 - β1) g/(1 - β1^t)
        ahead, now = X(b1) * m / X(1 - b1 ** (t + 1)), X(1 - b1) * g / X(1 - b1**t)
        update = X(lr) * (ahead + now) / den
        terms = np.abs(X(lr) * ahead / den) + np.abs(X(lr) * now / den)
    else:
        update = X(lr) * (m / X(1 - b1**t)) / den
        terms = np.abs(update)
    return ulps_off(x, theta - update, np.abs(theta) + terms if nesterov else
                    np.maximum(np.abs(theta), terms))  # fmt: skip


def nadam(decoupled, backend, dtype, t, lr, b1, b2, eps, wd, psi, seed):
    """How many ulps a NAdam step is off the formula."""
    _, theta, g, m, v = draw(seed, dtype)
    opt = numopt.NAdam(
        learning_rate=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd, momentum_decay=psi,
        decoupled_weight_decay=decoupled, backend=backend,
    )  # fmt: skip
    x, after = step(opt, t, theta, g, {"m": m, "v": v})
    gd = g if decoupled else g + dtype(wd) * theta  # the coupled L2, as the step sums it
    theta, gd, m, v = ext(theta, gd, after["m"], after["v"])
    t += 1
    # μ_i = β1 (1 - ½ 0.96^(iψ)) and Π_t = μ_1 ⋯ μ_t, in float64, multiplied in order
    mus = [b1 * (1 - 0.5 * 0.96 ** (i * psi)) for i in range(1, t + 2)]
    prods = np.cumprod(mus)
    ahead = X(mus[t]) * m / X(1 - prods[t])
    now = X(1 - mus[t - 1]) * gd / X(1 - prods[t - 1])
    den = np.sqrt(v / X(1 - b2**t)) + X(eps)
    update = X(lr) * (ahead + now) / den
    base = theta * X(1 - lr * wd) if decoupled else theta
    terms = np.abs(X(lr) * ahead / den) + np.abs(X(lr) * now / den)
    return ulps_off(x, base - update, np.abs(base) + terms)


def schedule_free(adam, backend, dtype, t, lr, b1, b2, eps, wd, power, seed):
    """How many ulps a Schedule-Free step is off the formula, in ``z`` and in θ = y."""
    rng, theta, g, _, v = draw(seed, dtype)
    z = (theta + rng.standard_normal(N) * 10.0 ** rng.uniform(-3, 0, N)).astype(dtype)
    if adam:
        opt = numopt.ScheduleFreeAdamW(
            learning_rate=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd,
            weight_lr_power=power, backend=backend,
        )  # fmt: skip
        state = {"z": z, "v": v}
    else:
        opt = numopt.ScheduleFreeSGD(
            learning_rate=lr, beta1=b1, weight_decay=wd, weight_lr_power=power, backend=backend
        )
        state = {"z": z}
    top = 0.0 if t == 0 else float(rng.uniform(0, 1))
    total = 0.0 if t == 0 else top**power * float(rng.uniform(1, t + 1))
    averaging = {"max_learning_rate": top, "weight_sum": total}
    x, after = step(opt, t, theta, g, state, averaging=averaging)
    y, g = ext(theta, g)
    z_old = y if t == 0 else z.astype(X)
    t += 1
    # c_t = w_t / Σ w, w_t = (max η so far)^p, in float64
    w = max(top, lr) ** power
    c = w / (total + w) if total + w > 0 else 0.0
    if adam:  # d = g / (sqrt(v/(1 - β2^t)) + ε) + λ y, v from the step
        v = after["v"].astype(X)
        direction = g / (np.sqrt(v / X(1 - b2**t)) + X(eps))
    else:
        direction = g
    z_new = z_old - X(lr) * (direction + X(wd) * y)
    x_prev = (y - X(1 - b1) * z_old) / X(b1)
    x_new = X(1 - c) * x_prev + X(c) * z_new
    y_new = X(b1) * x_new + X(1 - b1) * z_new
    z_scale = np.maximum.reduce(
        [np.abs(z_old), np.abs(X(lr) * direction), np.abs(X(lr) * X(wd) * y)]
    )
    y_scale = np.maximum.reduce([np.abs(y), z_scale, np.abs(X(b1) * x_prev), np.abs(z_new)])
    return ulps_off(after["z"], z_new, z_scale), ulps_off(x, y_new, y_scale)


@settings(max_examples=120, deadline=None)
@given(backends, dtypes, st.integers(0, 40_000), lrs, beta1s, beta2s, epss, seeds)
def test_yogi_is_within_6_ulps_of_the_formula(backend, dtype, t, lr, b1, b2, eps, seed):
    assert yogi(backend, dtype, t, lr, b1, b2, eps, seed) <= tol(dtype)


@settings(max_examples=150, deadline=None)
@given(
    st.booleans(),
    backends,
    dtypes,
    st.tuples(st.integers(0, 40_000), lrs, beta1s, beta2s, epss, eps_roots),
    seeds,
)
def test_adabelief_is_within_6_ulps_of_the_formula(nesterov, backend, dtype, hp, seed):
    assert adabelief(nesterov, backend, dtype, *hp, seed) <= tol(dtype)


@settings(max_examples=150, deadline=None)
@given(
    st.booleans(),
    backends,
    dtypes,
    st.tuples(st.integers(0, 3_000), lrs, beta1s, beta2s, epss, wds, psis),
    seeds,
)
def test_nadam_is_within_6_ulps_of_the_formula(decoupled, backend, dtype, hp, seed):
    assert nadam(decoupled, backend, dtype, *hp, seed) <= tol(dtype)


@settings(max_examples=150, deadline=None)
@given(
    st.booleans(),
    backends,
    dtypes,
    st.tuples(st.integers(0, 40_000), lrs, st.floats(0.05, 1.0), beta2s, epss, wds, powers),
    seeds,
)
def test_schedule_free_is_within_6_ulps_of_the_formula(adam, backend, dtype, hp, seed):
    z_off, y_off = schedule_free(adam, backend, dtype, *hp, seed)
    assert z_off <= tol(dtype) and y_off <= tol(dtype), (z_off, y_off)
