"""What box bounds cost: the bounded Adam step against the unbounded one, side by side.

One process, the same arrays, contenders run interleaved (round-robin) so machine
noise hits each alike; prints the median time per step, the effective bandwidth and
the ratio to the unbounded step of the same loop.  Traffic per element: Adam reads
θ, g, m, v and writes θ, m, v (7 arrays); the bounded step also reads lo and hi (9).
"step then np.clip" is the unfused alternative (a second pass over θ, lo, hi).  The
last rows time the stopping test's reduction: ``max|g|`` (unbounded) against the
projected gradient's ``max|P(x - g) - x|`` (bounded; reads x, g, lo, hi).

Usage: ``python benchmarks/bounds.py [n] [rounds]`` (default 10**7, 15)
"""

from __future__ import annotations

import sys
import time

import numba
import numpy as np

import numopt
from numopt.kernels.norms import inf_norm, projected_grad_norm


def main(n: int = 10**7, rounds: int = 15) -> None:
    print(
        f"# Adam step with and without bounds, n = {n:.0e}, median of {rounds} interleaved "
        f"rounds, {numba.config.NUMBA_NUM_THREADS} threads, numba {numba.__version__}, "
        f"numpy {np.__version__}"
    )
    print(f"{'dtype':>8} {'contender':>34} {'ms':>8} {'GB/s':>7} {'× unbounded':>12}")
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(0)
        theta = rng.standard_normal(n).astype(dtype)
        g = (rng.standard_normal(n) * 1e-3).astype(dtype)
        lo, hi = np.full(n, -10.0, dtype), np.full(n, 10.0, dtype)
        contenders = {}
        for backend in ("parallel", "serial"):
            plain = numopt.Adam(backend=backend)
            bounded = numopt.Adam(backend=backend)
            bounded.bounds = (lo, hi)
            clipped = numopt.Adam(backend=backend)

            def step_then_clip(x, grad, opt=clipped, lo=lo, hi=hi):
                opt.step(x, grad)
                np.clip(x, lo, hi, out=x)

            contenders[f"Adam {backend}"] = (plain.step, 7)
            contenders[f"Adam {backend} bounded (fused)"] = (bounded.step, 9)
            contenders[f"Adam {backend} then np.clip"] = (step_then_clip, 10)
        reductions = {
            "max|g| (inf_norm)": (lambda x, grad: inf_norm(grad), 1),
            "projected_grad_norm": (
                lambda x, grad, lo=lo, hi=hi: projected_grad_norm(x, grad, lo, hi),
                4,
            ),
        }
        for fn, _ in contenders.values():  # compile / load from cache, warm the pages
            fn(theta, g)
        for fn, _ in reductions.values():
            fn(theta, g)
        times = {name: [] for name in [*contenders, *reductions]}
        for _ in range(rounds):
            for name, (fn, _) in contenders.items():
                start = time.perf_counter()
                fn(theta, g)
                times[name].append(time.perf_counter() - start)
            for name, (fn, _) in reductions.items():
                start = time.perf_counter()
                fn(theta, g)
                times[name].append(time.perf_counter() - start)
        size = np.dtype(dtype).itemsize
        for name, (_, arrays_moved) in [*contenders.items(), *reductions.items()]:
            med = float(np.median(times[name]))
            base_name = (
                f"Adam {name.split()[1]}" if name.startswith("Adam") else "max|g| (inf_norm)"
            )
            ratio = med / float(np.median(times[base_name]))
            gbs = arrays_moved * n * size / med / 1e9
            print(f"{np.dtype(dtype).name:>8} {name:>34} {med * 1e3:8.2f} {gbs:7.1f} {ratio:12.2f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
