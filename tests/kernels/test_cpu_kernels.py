"""Every CPU kernel against the NumPy reference, and serial against parallel.

Hypothesis draws the rule variant, the dtype, the size (including 0, 1, odd sizes
and sizes past the serial/parallel switch-over) and the hyperparameters.
"""

from __future__ import annotations

import subprocess
import sys

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rule_table import VARIANTS, make

from numopt.kernels.cpu import SERIAL_BELOW, cpu_loops

sizes = st.one_of(
    st.sampled_from([0, 1, 2, 3, 7, 33, SERIAL_BELOW - 1, SERIAL_BELOW + 5]),
    st.integers(0, 300),
)
dtypes = st.sampled_from([np.float32, np.float64])


def run(variant, backend, hp, x0, grads):
    """Run a fresh optimizer over ``grads``; return its final x and state rows."""
    opt = make(variant, backend, **hp)
    x = x0.copy()
    for g in grads:
        opt.step(x, g)
    return x, [a.copy() for a in opt.state.values()]


def problem(seed, n, dtype, steps=6):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(n).astype(dtype)
    grads = [
        (rng.standard_normal(n) * 10.0 ** rng.integers(-3, 3)).astype(dtype) for _ in range(steps)
    ]
    return x0, grads


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variant=st.sampled_from(sorted(VARIANTS)),
    dtype=dtypes,
    n=sizes,
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_kernels_match_reference(variant, dtype, n, seed, data):
    hp = data.draw(VARIANTS[variant][2])
    x0, grads = problem(seed, n, dtype)
    want, want_state = run(variant, "numpy", hp, x0, grads)
    for backend in ("serial", "parallel"):
        got, got_state = run(variant, backend, hp, x0, grads)
        assert got.dtype == dtype
        np.testing.assert_array_max_ulp(got, want, maxulp=4)
        for a, b in zip(got_state, want_state, strict=True):
            np.testing.assert_array_max_ulp(a, b, maxulp=4)


@settings(max_examples=25, deadline=None)
@given(
    variant=st.sampled_from(sorted(VARIANTS)),
    dtype=dtypes,
    n=sizes,
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_serial_and_parallel_are_bit_identical(variant, dtype, n, seed, data):
    hp = data.draw(VARIANTS[variant][2])
    x0, grads = problem(seed, n, dtype)
    serial, serial_state = run(variant, "serial", hp, x0, grads)
    parallel, parallel_state = run(variant, "parallel", hp, x0, grads)
    np.testing.assert_array_equal(serial, parallel)
    for a, b in zip(serial_state, parallel_state, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_thread_count_does_not_change_bits(variant):
    hp = {}
    x0, grads = problem(7, 3 * SERIAL_BELOW + 1, np.float64)
    runs = []
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            runs.append(run(variant, "parallel", hp, x0, grads)[0])
    finally:
        numba.set_num_threads(before)
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0], other)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_one_compiled_signature_per_dtype(variant):
    """Contiguous float32 and float64 arrays compile one signature each, and stepping again
    compiles nothing (rules that share a body, Adam and AdamW, share its loops: other
    tests may have added signatures for other layouts before)."""
    opt = make(variant, "auto")
    # a rule of several passes (LAMB) lists its loops; the others run their element body
    every = opt._loops() if opt.spec.passes is not None else [cpu_loops(opt._element())]

    def contiguous(loop):
        return [s for s in loop.signatures if all(getattr(a, "layout", "C") == "C" for a in s)]

    seen = None
    for _ in range(2):
        for dtype in (np.float32, np.float64):
            for n in (5, SERIAL_BELOW):
                x = np.ones(n, dtype)
                make(variant, "auto").step(x, x.copy())
        counts = [(len(loops.serial.signatures), len(loops.parallel.signatures)) for loops in every]
        assert seen is None or counts == seen  # the second round compiled nothing
        seen = counts
    for loops in every:
        assert len(contiguous(loops.serial)) == 2
        assert len(contiguous(loops.parallel)) == 2


def test_import_compiles_nothing_and_loads_no_cuda():
    code = (
        "import sys, numopt\n"
        "from numopt.kernels import cpu\n"
        "assert cpu._cpu_loops.cache_info().currsize == 0, 'kernels built at import'\n"
        "assert not any(m == 'numba.cuda' or m.startswith('numba_cuda') for m in sys.modules), "
        "sorted(m for m in sys.modules if 'cuda' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    variant=st.sampled_from(sorted(VARIANTS)),
    backend=st.sampled_from(["numpy", "serial", "parallel"]),
    dtype=dtypes,
    n=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_maximize_is_minimizing_the_negated_gradient(variant, backend, dtype, n, seed, data):
    """``maximize=True`` fed g takes exactly the steps of ``maximize=False`` fed -g."""
    hp = data.draw(VARIANTS[variant][2])
    x0, grads = problem(seed, n, dtype)
    up, _ = run(variant, backend, {**hp, "maximize": True}, x0, grads)
    down, _ = run(variant, backend, hp, x0, [-g for g in grads])
    np.testing.assert_array_equal(up, down)
