"""Device arrays from other libraries, the launch configuration, and the device reductions.

The CUDA Array Interface path is tested with a small exporter (:class:`Exported`)
that describes a NumPy buffer through ``__cuda_array_interface__``: in the
simulator, device memory is host memory, so numopt's view of it must update the
NumPy array in place (which proves there is no copy).  CuPy and PyTorch arrays
are tested only on a real GPU (``NUMOPT_TEST_GPU=1``), when installed.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import config, cuda

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rule_table import VARIANTS, make

import numopt
from numopt.kernels import cuda as ncuda
from numopt.kernels import cuda_arrays, norms

SIMULATOR = bool(config.ENABLE_CUDASIM)
MAXULP = 4 if SIMULATOR else 64
only_simulator = pytest.mark.skipif(
    not SIMULATOR, reason="reads a host buffer through the interface: simulator only"
)
only_gpu = pytest.mark.skipif(SIMULATOR, reason="needs a real GPU")


class Exported:
    """A host buffer exported through ``__cuda_array_interface__`` (simulator only)."""

    def __init__(self, a: np.ndarray, readonly: bool = False, **extra) -> None:
        self.a, self.readonly, self.extra = a, readonly, extra

    @property
    def __cuda_array_interface__(self) -> dict:
        a = self.a
        desc = {
            "shape": a.shape,
            "typestr": a.dtype.str,
            "data": (a.ctypes.data, self.readonly),
            "strides": None if a.flags.c_contiguous else a.strides,
            "version": 3,
        }
        return {**desc, **self.extra}


# -- stateful optimizers: foreign device arrays, in place -------------------------------
@only_simulator
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_interface_arrays_are_updated_in_place(variant, dtype):
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((3, 5)).astype(dtype)
    grads = [rng.standard_normal((3, 5)).astype(dtype) for _ in range(3)]
    ref, x_ref = make(variant, "numpy", learning_rate=0.05), x0.copy()
    opt, x = make(variant, "auto", learning_rate=0.05), x0.copy()
    exported = Exported(x)
    for g in grads:
        ref.step(x_ref.reshape(-1), g.reshape(-1))
        assert opt.step(exported, Exported(g)) is exported
    np.testing.assert_array_max_ulp(x, x_ref, maxulp=MAXULP)  # the host buffer itself moved
    assert not isinstance(opt.state[opt.state_names[0]], np.ndarray) if opt.state_names else True


@only_simulator
def test_fortran_ordered_device_arrays_are_viewed_in_their_order():
    x = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    g = np.asfortranarray(np.arange(6.0).reshape(2, 3) / 10)
    numopt.GD(1.0).step(Exported(x), Exported(g))
    np.testing.assert_array_equal(x, np.arange(6.0).reshape(2, 3) * 0.9)


@only_simulator
@pytest.mark.parametrize(
    ("x", "g", "error", "match"),
    [
        (Exported(np.ones(3), readonly=True), Exported(np.ones(3)), ValueError, "x is a read-only"),
        (Exported(np.ones(6)[::2]), Exported(np.ones(3)), ValueError, "x is a non-contiguous"),
        (
            Exported(np.asfortranarray(np.ones((2, 3)))),
            Exported(np.ones((2, 3))),
            ValueError,
            "g is not laid out like x",
        ),
        (Exported(np.ones(3), mask=object()), Exported(np.ones(3)), ValueError, "masked"),
        (Exported(np.ones(3), typestr="nonsense"), Exported(np.ones(3)), TypeError, "element type"),
        (Exported(np.ones(3, np.int64)), Exported(np.ones(3)), TypeError, "float32 or float64"),
        (Exported(np.ones(3)), Exported(np.ones(3, np.float32)), TypeError, "g has dtype"),
        (Exported(np.ones(3)), Exported(np.ones(4)), ValueError, "g has shape"),
        (
            Exported(np.ones(3)),
            np.ones(3),
            TypeError,
            r"x is a CUDA device array \(test_cuda_interop.Exported\) but g is a host array "
            r"\(numpy.ndarray\)",
        ),
        (
            np.ones(3),
            Exported(np.ones(3)),
            TypeError,
            r"x is a host array \(numpy.ndarray\) but g is a CUDA device array",
        ),
    ],
)
def test_interface_arrays_are_checked(x, g, error, match):
    before = x.a.copy() if isinstance(x, Exported) else x.copy()
    opt = numopt.Adam(0.1)
    with pytest.raises(error, match=match):
        opt.step(x, g)
    assert opt.step_count == 0
    np.testing.assert_array_equal(x.a if isinstance(x, Exported) else x, before)


def test_read_only_gradient_is_fine_and_not_written():
    if SIMULATOR:
        g = np.full(3, 2.0)
        x = np.ones(3)
        numopt.GD(0.5).step(Exported(x), Exported(g, readonly=True))
        np.testing.assert_array_equal(x, 0.0)
        np.testing.assert_array_equal(g, 2.0)
    else:  # pragma: no cover - real GPU
        d_x = cuda.to_device(np.ones(3))
        numopt.GD(0.5).step(d_x, cuda.to_device(np.full(3, 2.0)))
        np.testing.assert_array_equal(d_x.copy_to_host(), 0.0)


@only_gpu
@pytest.mark.parametrize("library", ["cupy", "torch"])
def test_cupy_and_torch_arrays_in_place(library):  # pragma: no cover - real GPU
    if library == "cupy":
        cp = pytest.importorskip("cupy")
        x, g = cp.ones((4, 3), cp.float32), cp.full((4, 3), 2.0, cp.float32)
        host = cp.asnumpy
    else:
        torch = pytest.importorskip("torch")
        if not torch.cuda.is_available():
            pytest.skip("torch without CUDA")
        x = torch.ones((4, 3), dtype=torch.float32, device="cuda")
        g = torch.full((4, 3), 2.0, dtype=torch.float32, device="cuda")

        def host(t):
            return t.cpu().numpy()

    opt = numopt.Adam(0.1)
    assert opt.step(x, g) is x
    np.testing.assert_allclose(host(x), 0.9, rtol=1e-6)
    with pytest.raises(TypeError, match="but g is a host array"):
        opt.step(x, np.ones((4, 3), np.float32))


# -- launch configuration ----------------------------------------------------------------
def _mark(i, theta, g, state, c):  # an element body: count the visits of each element
    theta[i] = theta[i] + g[i]


def test_max_blocks_follows_the_device():
    if SIMULATOR:
        assert ncuda.max_blocks() == 4
    else:  # pragma: no cover - real GPU
        sms = cuda.get_current_device().MULTIPROCESSOR_COUNT
        assert ncuda.max_blocks() == sms * ncuda.BLOCKS_PER_SM


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grid_stride_launch_visits_every_element_once(dtype):
    cap = ncuda.max_blocks() * ncuda.THREADS_PER_BLOCK
    sizes = [0, 1, 7, ncuda.THREADS_PER_BLOCK + 1, cap, cap + 5]
    if not SIMULATOR:  # pragma: no cover - real GPU: several strides per thread
        sizes.append(3 * cap + 1)
    for n in sizes:
        blocks, threads = ncuda.launch_config(n)
        assert threads == ncuda.THREADS_PER_BLOCK
        assert blocks == (0 if n == 0 else min(math.ceil(n / threads), ncuda.max_blocks()))
        theta = cuda.to_device(np.zeros(n, dtype))
        ncuda.launch(
            _mark,
            theta,
            cuda.to_device(np.ones(n, dtype)),
            cuda.to_device(np.zeros((1, n), dtype)),
            (dtype(0),),
        )
        np.testing.assert_array_equal(theta.copy_to_host(), np.ones(n, dtype))


# -- the device reductions (gtol, xtol, non-finite detection) ---------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 8, 9, 40])  # 40 > 4 blocks of 8 in the simulator
def test_absmax_equals_the_cpu_inf_norm(n, dtype):
    device = cuda_arrays.Norms()
    rng = np.random.default_rng(n)
    a = (rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    d_a, d_b = cuda.to_device(a), cuda.to_device(b)
    assert device.absmax(d_a) == norms.inf_norm(a)
    assert device.absdiffmax(d_a, d_b) == norms.inf_norm(a - b)
    if n:
        for bad in (np.nan, np.inf, -np.inf):
            c = a.copy()
            c[n // 2] = bad
            assert math.isnan(device.absmax(cuda.to_device(c)))
            assert math.isnan(device.absdiffmax(cuda.to_device(c), d_b))


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=20),
    st.sampled_from([np.float32, np.float64]),
)
def test_absmax_property(values, dtype):
    a = np.array(values, dtype)
    got = cuda_arrays.Norms().absmax(cuda.to_device(a))
    want = norms.inf_norm(a)
    assert (math.isnan(got) and math.isnan(want)) or got == want


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_difference_overflowing_to_inf_counts_as_non_finite():
    big = np.finfo(np.float32).max
    a, b = np.array([big], np.float32), np.array([-big], np.float32)
    assert math.isnan(cuda_arrays.Norms().absdiffmax(cuda.to_device(a), cuda.to_device(b)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fill_and_cast(dtype):
    np.testing.assert_array_equal(cuda_arrays.full(5, dtype, 0).copy_to_host(), np.zeros(5, dtype))
    dst = cuda_arrays.empty(3, dtype)
    cuda_arrays.cast(dst, cuda.to_device(np.array([1.5, -2.0, 3.25], np.float64)))
    np.testing.assert_array_equal(dst.copy_to_host(), np.array([1.5, -2.0, 3.25], dtype))
