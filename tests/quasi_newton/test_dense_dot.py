"""``dense.dot``, L-BFGS's inner product: its documented order of additions, bit for bit.

The order is what makes L-BFGS's results the same on every machine, so it is checked
against a plain-Python sum written from the docstring's description, for contiguous
and strided arrays, float64 and float32, lengths around the lane count.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from numopt.quasi_newton.dense import LANES, dot


def by_hand(a: np.ndarray, b: np.ndarray) -> float:
    """The docstring's order: lane ``i % LANES`` per whole block, lanes pairwise, then
    the tail one by one (products in the arrays' dtype, sums in float64)."""
    n = a.size
    whole = n - n % LANES
    lanes = [0.0] * LANES
    for i in range(whole):
        lanes[i % LANES] += float(a[i] * b[i])
    while len(lanes) > 1:
        lanes = [lanes[k] + lanes[k + 1] for k in range(0, len(lanes), 2)]
    total = lanes[0]
    for i in range(whole, n):
        total += float(a[i] * b[i])
    return total


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [0, 1, 2, 3, LANES - 1, LANES, LANES + 1, 100, 1001])
def test_dot_adds_in_the_documented_order(n, dtype):
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    got = dot(a, b)
    assert isinstance(got, float)
    assert got == by_hand(a, b)
    assert got == pytest.approx(float(np.dot(a.astype(np.float64), b.astype(np.float64))),
                                rel=1e-5 if dtype == np.float32 else 1e-12, abs=1e-5)  # fmt: skip


def test_mixed_dtypes_multiply_in_float64():
    rng = np.random.default_rng(3)
    a = rng.standard_normal(41).astype(np.float32)
    b = rng.standard_normal(41)
    assert dot(a, b) == dot(b, a) == by_hand(a, b) == by_hand(a.astype(np.float64), b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [5, 37])
def test_strided_arrays_add_in_the_same_order_as_contiguous_ones(n, dtype):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((3, 2 * n)).astype(dtype)[1, ::2]  # every other item of a row
    b = rng.standard_normal(n).astype(dtype)[::-1]  # (a negative stride)
    assert not a.flags.c_contiguous
    assert dot(a, b) == dot(np.ascontiguousarray(a), np.ascontiguousarray(b)) == by_hand(a, b)


def test_the_same_bits_for_every_cpu_target(tmp_path):
    """Compiled for a CPU without vector units beyond SSE2 (a fresh process and cache),
    the products sum to the same bits as here."""
    script = (
        "import numpy as np\n"
        "from numopt.quasi_newton.dense import dot\n"
        "rng = np.random.default_rng(11)\n"
        "pairs = [(rng.standard_normal(n), rng.standard_normal(n)) for n in (7, 100, 1001)]\n"
        "print(*[dot(a, b).hex() for a, b in pairs])"
    )
    env = {**os.environ, "NUMBA_CPU_NAME": "generic", "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    rng = np.random.default_rng(11)
    pairs = [(rng.standard_normal(n), rng.standard_normal(n)) for n in (7, 100, 1001)]
    here = [dot(a, b).hex() for a, b in pairs]
    assert out == here


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, st.integers(0, 70), elements=st.floats(-1e6, 1e6, width=64)),
)
def test_dot_of_any_values_is_the_hand_sum(a):
    b = a[::-1].copy()
    assert dot(a, b) == by_hand(a, b)
    assert dot(a, a) >= 0.0
