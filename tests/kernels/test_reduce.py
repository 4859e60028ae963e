"""The deterministic sums of squares (numopt.kernels.reduce): bits, order, accuracy.

Every sum follows one order fixed by the data's length (blocks of BLOCK elements,
a halving tree per block, partials in block order), so the serial
loop, the parallel loop at any thread count and the NumPy transcription give the
same bits; the error stays within a few ulps of the exact sum (math.fsum).
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numopt.kernels import reduce
from numopt.kernels.cpu import SERIAL_BELOW
from numopt.kernels.reduce import BLOCK

SIZES = [0, 1, 31, 33, BLOCK // 2 + 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17]
DTYPES = [np.float32, np.float64]


def data(n, dtype, seed=0, spread=3):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * 10.0 ** rng.integers(-spread, spread + 1, n)).astype(dtype)


def exact(a) -> float:
    """The sum of squares, correctly rounded (each square exact in float64 for float32)."""
    return math.fsum(float(v) * float(v) for v in np.asarray(a, np.float64))


def split(n: int, cuts: list[int]) -> tuple[int, ...]:
    points = sorted({0, n, *(c % (n + 1) for c in cuts)})
    return tuple(b - a for a, b in itertools.pairwise(points)) or (0,)


# -- the order is the same everywhere ------------------------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.one_of(st.sampled_from(SIZES), st.integers(0, 3 * BLOCK)),
    dtype=st.sampled_from(DTYPES),
    cuts=st.lists(st.integers(0, 10**6), max_size=4),
    bound=st.sampled_from([math.inf, 0.5, 3.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_serial_parallel_and_numpy_give_the_same_bits(n, dtype, cuts, bound, seed):
    a = data(n, dtype, seed)
    sizes = split(n, cuts)
    serial = reduce.segment_sum_squares(a, sizes, bound=bound, parallel=False)
    parallel = reduce.segment_sum_squares(a, sizes, bound=bound, parallel=True)
    clipped = np.clip(a, dtype(-bound), dtype(bound))
    transcription = reduce.sum_squares_numpy(clipped, sizes)
    np.testing.assert_array_equal(serial, parallel)
    np.testing.assert_array_equal(serial, transcription)
    assert serial.dtype == np.float64 and serial.shape == (len(sizes),)


@pytest.mark.parametrize("dtype", DTYPES)
def test_thread_count_changes_no_bit_in_process(dtype):
    a = data(9 * BLOCK + 5, dtype, seed=3)
    sizes = (5 * BLOCK + 1, 0, 4 * BLOCK + 4)
    before = numba.get_num_threads()
    results = []
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            results.append(reduce.segment_sum_squares(a, sizes, parallel=True))
    finally:
        numba.set_num_threads(before)
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)


def test_thread_count_changes_no_bit_across_processes():
    """NUMBA_NUM_THREADS=1 and =2, each in a fresh interpreter: the same hex digits."""
    code = textwrap.dedent(
        """
        import numpy as np
        from numopt.kernels import reduce
        rng = np.random.default_rng(11)
        for dtype in (np.float32, np.float64):
            a = (rng.standard_normal(200_003) * 1e3).astype(dtype)
            sums = reduce.segment_sum_squares(a, (100_000, 3, 100_000), parallel=True)
            print(*(float(s).hex() for s in sums), reduce.sum_squares(a, parallel=True).hex())
        """
    )
    outputs = []
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        proc = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count("0x") == 8


# -- accuracy -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 1000, BLOCK + 3, 100_003])
def test_close_to_the_exact_sum(dtype, n):
    a = data(n, dtype, seed=n, spread=6)
    got = reduce.sum_squares(a)
    want = exact(a)
    # the module docstring's bound: (log2(BLOCK) + blocks) roundings
    assert abs(got - want) <= (math.log2(BLOCK) + 1 + n / BLOCK) * 2.0**-53 * want


def test_clamp_bound_equals_clipping_first():
    a = np.array([-5.0, 0.25, 3.0, -0.5], np.float32)
    # clamp to ±1: 1 + 1/16 + 1 + 1/4
    assert reduce.sum_squares(a, bound=1.0) == 2.3125
    assert reduce.sum_squares(a) == 25 + 0.0625 + 9 + 0.25


@pytest.mark.parametrize("parallel", [False, True])
def test_non_finite_entries(parallel):
    a = np.ones(3 * BLOCK)
    a[BLOCK + 7] = np.nan
    assert math.isnan(reduce.sum_squares(a, parallel=parallel))
    assert math.isnan(reduce.sum_squares(a, bound=1.0, parallel=parallel))  # NaN stays NaN
    a[BLOCK + 7] = -np.inf
    assert reduce.sum_squares(a, parallel=parallel) == math.inf
    assert reduce.sum_squares(a, bound=2.0, parallel=parallel) == 3 * BLOCK - 1 + 4.0


def test_float64_squares_overflow_to_inf_float32_never_does():
    assert reduce.sum_squares(np.array([1e200, 1.0])) == math.inf
    big = np.full(10, np.finfo(np.float32).max, np.float32)
    assert math.isfinite(reduce.sum_squares(big))


# -- the block table --------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 3 * BLOCK), min_size=1, max_size=5))
def test_blocks_tile_each_segment(sizes):
    table = reduce.blocks(tuple(sizes))
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    assert table.first[0] == 0 and table.first[-1] == table.start.size
    for s, size in enumerate(sizes):
        mine = slice(table.first[s], table.first[s + 1])
        starts, stops = table.start[mine], table.stop[mine]
        assert (table.segment[mine] == s).all()
        assert len(starts) == -(-size // BLOCK)
        if size:
            assert starts[0] == offsets[s] and stops[-1] == offsets[s + 1]
            np.testing.assert_array_equal(starts[1:], stops[:-1])
            assert ((stops - starts) <= BLOCK).all() and ((stops - starts) > 0).all()
    assert not table.start.flags.writeable


def test_sizes_must_add_up():
    with pytest.raises(ValueError, match="sum to 5, but the array has 6"):
        reduce.segment_sum_squares(np.ones(6), (2, 3))


def test_one_signature_per_dtype():
    for _ in range(2):
        for dtype in DTYPES:
            for n in (5, SERIAL_BELOW + 1):
                reduce.sum_squares(np.ones(n, dtype))
    loops = reduce._sum_squares_loops(reduce.square)
    assert len(loops.serial.signatures) == 2
    assert len(loops.parallel.signatures) == 2
