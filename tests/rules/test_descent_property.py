"""Property: for a small enough learning rate every rule decreases a convex quadratic."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_table import VARIANTS, make


@settings(max_examples=80, deadline=None)
@given(
    variant=st.sampled_from(sorted(VARIANTS)),
    backend=st.sampled_from(["numpy", "serial", "parallel"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    n=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_rule_decreases_a_convex_quadratic(variant, backend, dtype, n, seed):
    rng = np.random.default_rng(seed)
    curvature = rng.uniform(0.1, 10.0, n)  # f(x) = ½ Σ c_i x_i², L = max c
    x = (rng.uniform(0.5, 5.0, n) * rng.choice([-1.0, 1.0], n)).astype(dtype)
    eta = 0.01 / curvature.max()  # small: well inside every rule's stable range

    def f(x):
        return 0.5 * float(np.sum(curvature * x.astype(np.float64) ** 2))

    opt = make(variant, backend, learning_rate=eta)
    start = f(x)
    for _ in range(10):
        opt.step(x, (curvature * x).astype(dtype))
    assert f(x) < start
