"""Adam and AdamW fold their per-step constants; a step stays within 4 ulps of the formula.

The kernels compute ``θ - s_t m / (sqrt(v r_t) + ε)`` with ``s_t = η/(1 - β1^t)`` and
``r_t = 1/(1 - β2^t)`` folded on the host in float64 (as torch's fused Adam does),
where the formula reads ``θ - η (m/(1 - β1^t)) / (sqrt(v/(1 - β2^t)) + ε)``.  Here
the formula is written out literally and evaluated in extended precision
(``np.longdouble``) on the step's own moments (their update is unchanged), and each
step of every backend must land within 4 ulps (of θ's dtype, at the scale of the last
subtraction's operands) of it; 4.5 in float32, where the formula itself, evaluated
in float32, lands up to 4.3 ulps off (see ``test_folded_constants_more.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numopt

X = np.longdouble  # the formula's arithmetic


def literal(theta, m, v, t, lr, b1, b2, eps, wd, decoupled):
    """The formula's new θ, in float64 from the step's moments ``m``, ``v`` (``v_max``
    with AMSGrad), and the scale of its last subtraction's operands."""
    theta, m, v = (a.astype(X) for a in (theta, m, v))
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    step = lr * m_hat / (np.sqrt(v_hat) + eps)
    base = theta * (1 - lr * wd) if decoupled else theta
    return base - step, np.maximum(np.abs(base), np.abs(step))


def ulps(dtype, scale):
    """The spacing of ``dtype`` at ``scale`` (elementwise)."""
    return np.spacing(scale.astype(dtype)).astype(X)


finite = st.floats(-10.0, 10.0, allow_nan=False, width=32)


@settings(max_examples=150, deadline=None)
@given(
    decoupled=st.booleans(),
    amsgrad=st.booleans(),
    backend=st.sampled_from(["numpy", "serial", "parallel"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    t=st.integers(0, 40_000),
    lr=st.floats(1e-5, 1.0),
    b1=st.floats(0.0, 0.99),
    b2=st.floats(0.5, 0.9999),
    eps=st.sampled_from([1e-8, 1e-6, 1e-3]),
    wd=st.sampled_from([0.0, 1e-2, 0.5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_folded_step_is_within_4_ulps_of_the_formula(
    decoupled, amsgrad, backend, dtype, t, lr, b1, b2, eps, wd, seed
):
    rng = np.random.default_rng(seed)
    n = 64
    theta = rng.uniform(-3, 3, n).astype(dtype)
    g = (rng.standard_normal(n) * 10.0 ** rng.uniform(-4, 2, n)).astype(dtype)
    m = (rng.standard_normal(n) * 0.1).astype(dtype)
    v = (rng.uniform(0, 1, n) * 10.0 ** rng.uniform(-8, 1, n)).astype(dtype)
    vmax = np.maximum(v, rng.uniform(0, 1, n).astype(dtype))
    cls = numopt.AdamW if decoupled else numopt.Adam
    opt = cls(learning_rate=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd,
              amsgrad=amsgrad, backend=backend)  # fmt: skip
    state = {"m": m.copy(), "v": v.copy()}
    if amsgrad:
        state["v_max"] = vmax.copy()
    x = theta.copy()
    opt.load_state_dict({**opt.state_dict(), "step": t, "state": state})
    opt.step(x, g)
    after = opt.state_dict()["state"]  # the moments: the same arithmetic as ever
    second = after["v_max"] if amsgrad else after["v"]
    want, scale = literal(theta, after["m"], second, t + 1, lr, b1, b2, eps, wd, decoupled)
    err = np.abs(x.astype(X) - want) / ulps(dtype, scale)
    assert err.max() <= (4.5 if dtype == np.float32 else 4.0), (err.max(), int(err.argmax()))


@pytest.mark.parametrize("cls", [numopt.Adam, numopt.AdamW])
def test_the_folded_constants_are_s_and_r(cls):
    """``s_t = η/(1 - β1^t)`` and ``r_t = 1/(1 - β2^t)``, in float64, at steps 1 and 10."""
    from numopt.rules import adam

    h = adam.factor_args(cls().hyperparameters)
    for t in (1, 10):
        c = adam.factors(t, 0.1, h)
        assert c[adam.F.step_size] == 0.1 / (1 - math.pow(0.9, t))
        assert c[adam.F.inv_bias2] == 1 / (1 - math.pow(0.999, t))
