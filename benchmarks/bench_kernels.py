"""Kernel throughput: one ``opt.step(x, g)`` of every rule × backend × dtype × N.

Every rule class in ``numopt.RULES`` that steps vectors (``"sgd"`` is ``"gd"``'s class,
timed once) with its default hyperparameters, on the serial and parallel CPU loops
and on the CUDA kernel (skipped unless numba-cuda sees a GPU; the time then includes
a ``cuda.synchronize()``), float32 and float64, N = 10³, 10⁵, 10⁷; Muon, which steps
matrices, on n×n matrices (:class:`MuonStep`).  ``setup`` takes one
step first: it compiles the kernel or loads it from Numba's on-disk cache, and
allocates the rule's state, so the timed step is the steady state.

Bandwidth (GB/s) and comparisons with NumPy and torch are ``compare.py``'s job: asv's
per-benchmark timings are not the place for derived figures.
"""

from __future__ import annotations

import numpy as np

import numopt

from .common import cuda_available, rule_names


class Step:
    """One update step in place (asv repeats the call and reports the median)."""

    params = (
        rule_names(),
        ["serial", "parallel", "cuda"],
        ["float32", "float64"],
        [10**3, 10**5, 10**7],
    )
    param_names = ["rule", "backend", "dtype", "n"]
    timeout = 300

    def setup(self, rule, backend, dtype, n):
        if backend == "cuda" and not cuda_available():
            raise NotImplementedError("no CUDA GPU (or numba-cuda is not installed)")
        rng = np.random.default_rng(0)
        x = rng.standard_normal(n).astype(dtype)
        g = (1e-3 * rng.standard_normal(n)).astype(dtype)
        self.sync = _no_sync
        if backend == "cuda":
            from numba import cuda

            x, g = cuda.to_device(x), cuda.to_device(g)
            self.sync = cuda.synchronize
        self.opt = numopt.RULES[rule](backend=backend)
        self.x, self.g = x, g
        self.opt.step(x, g)  # compile or load the kernel; allocate the state
        self.sync()

    def time_step(self, rule, backend, dtype, n):
        self.opt.step(self.x, self.g)
        self.sync()


def _no_sync():
    pass


class MuonStep:
    """One Muon step on an n×n matrix (its cost is Newton–Schulz's matrix products, in
    NumPy's BLAS; ``benchmarks/muon.py`` sets it beside torch.optim.Muon)."""

    params = (["float32", "float64"], [256, 1024])
    param_names = ["dtype", "n"]
    timeout = 300

    def setup(self, dtype, n):
        rng = np.random.default_rng(0)
        self.w = rng.standard_normal((n, n)).astype(dtype)
        self.g = (1e-3 * rng.standard_normal((n, n))).astype(dtype)
        self.opt = numopt.Muon()
        self.opt.step(self.w, self.g)  # allocate the state

    def time_step(self, dtype, n):
        self.opt.step(self.w, self.g)
