"""The CUDA reductions (numopt.kernels.cuda_reduce), clipping and LAMB on the device.

The reductions must give the CPU's bits (the same blocks, lanes, tree and partial
order) whatever the grid; clipping and LAMB on device arrays must match the NumPy
reference like every CUDA kernel (4 ulps in the simulator, 64 on a real GPU, which
may contract a*b + c into an FMA inside a rule's arithmetic).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from numba import config, cuda

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numopt
from numopt.kernels import cuda_reduce, reduce
from numopt.kernels.cuda import THREADS_PER_BLOCK
from numopt.kernels.reduce import BLOCK

MAXULP = 4 if config.ENABLE_CUDASIM else 64
SIZES = [0, 1, 33, BLOCK + 5]


def data(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * 10.0 ** rng.integers(-2, 3, n)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES)
def test_sums_have_the_cpu_bits(n, dtype):
    a = data(n, dtype, seed=n)
    d_a = cuda.to_device(a)
    assert cuda_reduce.sum_squares(d_a) == reduce.sum_squares(a)
    assert cuda_reduce.sum_squares(d_a, 0.5) == reduce.sum_squares(a, bound=0.5)
    sizes = (n // 3, 0, n - n // 3)
    np.testing.assert_array_equal(
        cuda_reduce.segment_sum_squares(d_a, sizes), reduce.segment_sum_squares(a, sizes)
    )


def test_the_grid_and_block_size_change_no_bit():
    a = data(3 * BLOCK + 7, np.float64, seed=1)
    d_a = cuda.to_device(a)
    table = reduce.blocks((a.size,))
    d_start, d_stop = cuda.to_device(table.start), cuda.to_device(table.stop)
    partials = []
    for grid, threads in ((1, THREADS_PER_BLOCK), (2, 8), (table.start.size, THREADS_PER_BLOCK)):
        out = cuda.device_array(table.start.size, np.float64)
        cuda_reduce._sum_squares_blocks[grid, threads](d_a, np.inf, d_start, d_stop, out)
        partials.append(out.copy_to_host())
    for other in partials[1:]:
        np.testing.assert_array_equal(partials[0], other)


def _on_device(opt, x0, grads):
    d_x = cuda.to_device(x0)
    for g in grads:
        d_g = cuda.to_device(g)
        opt.step(d_x, d_g)
        np.testing.assert_array_equal(d_g.copy_to_host(), g)  # the gradient is not modified
    return d_x.copy_to_host()


def _on_host(opt, x0, grads):
    x = x0.copy()
    for g in grads:
        opt.step(x, g)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "clip", [{"clip_norm": 0.5}, {"clip_value": 0.3}, {"clip_value": 0.3, "clip_norm": 0.5}]
)
@pytest.mark.parametrize("method", ["gd", "adam", "lion", "rmsprop"])
def test_clipping_on_the_device(method, clip, dtype):
    x0 = data(300, dtype, seed=2)
    grads = [data(300, dtype, seed=s) for s in (3, 4)]
    cls = numopt.RULES[method]
    want = _on_host(cls(learning_rate=0.01, backend="numpy", **clip), x0, grads)
    got = _on_device(cls(learning_rate=0.01, **clip), x0, grads)
    np.testing.assert_array_max_ulp(got, want, maxulp=MAXULP)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layers", [None, [100, 0, 200], [BLOCK + 5, 40]])
def test_lamb_on_the_device(layers, dtype):
    n = 300 if layers is None else sum(layers)
    x0 = data(n, dtype, seed=5)
    grads = [data(n, dtype, seed=s) for s in (6, 7, 8)]
    hp = {"learning_rate": 0.01, "weight_decay": 0.1, "layers": layers}
    ref = numopt.Lamb(**hp, backend="numpy")
    want = _on_host(ref, x0, grads)
    opt = numopt.Lamb(**hp)
    got = _on_device(opt, x0, grads)
    np.testing.assert_array_max_ulp(got, want, maxulp=MAXULP)
    for name, a in ref.state.items():
        np.testing.assert_array_max_ulp(opt.state[name].copy_to_host(), a, maxulp=MAXULP)


def test_lamb_with_bounds_and_clipping_on_the_device():
    n = 200
    x0, g = data(n, np.float64, seed=9), data(n, np.float64, seed=10)
    lo, hi = np.full(n, -0.5), np.full(n, 0.5)
    x0 = np.clip(x0, lo, hi)
    ref = numopt.Lamb(0.1, layers=[50, 150], clip_norm=1.0, backend="numpy")
    ref.bounds = (lo, hi)
    opt = numopt.Lamb(0.1, layers=[50, 150], clip_norm=1.0)
    opt.bounds = (cuda.to_device(lo), cuda.to_device(hi))
    want = _on_host(ref, x0, [g, g])
    got = _on_device(opt, x0, [g, g])
    np.testing.assert_array_max_ulp(got, want, maxulp=MAXULP)
    assert (got >= lo).all() and (got <= hi).all()
