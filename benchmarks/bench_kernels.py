"""Kernel throughput: one update step of every rule × backend × dtype × N."""

from __future__ import annotations

import numpy as np

import numopt

from .common import cuda_available, rules


class Step:
    """``opt.step(x, g)`` once (asv repeats it); CUDA times include a synchronize."""

    params = (
        rules(),
        ["serial", "parallel", "cuda"],
        ["float32", "float64"],
        [10**3, 10**5, 10**7],
    )
    param_names = ["rule", "backend", "dtype", "n"]
    timeout = 300

    def setup(self, rule, backend, dtype, n):
        if backend == "cuda" and not cuda_available():
            raise NotImplementedError("no CUDA GPU")
        rng = np.random.default_rng(0)
        x = rng.standard_normal(n).astype(dtype)
        g = (rng.standard_normal(n) * 1e-3).astype(dtype)
        self.sync = lambda: None
        if backend == "cuda":
            from numba import cuda

            x, g = cuda.to_device(x), cuda.to_device(g)
            self.sync = cuda.synchronize
        self.opt = numopt.RULES[rule](backend=backend)
        self.x, self.g = x, g
        self.opt.step(x, g)  # compile or load from the cache; allocate the state
        self.sync()

    def time_step(self, rule, backend, dtype, n):
        self.opt.step(self.x, self.g)
        self.sync()
