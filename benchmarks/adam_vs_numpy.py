"""Fused Adam CPU kernel vs Adam written the obvious way in NumPy, side by side.

One process, the same arrays, runs interleaved (round-robin) so machine noise
hits every contender alike; prints the median time per step and the ratio to the
naive NumPy step.  Bytes moved per element: Adam reads θ, g, m, v and writes θ,
m, v (7 arrays), which gives the effective bandwidth column.

Usage: ``python benchmarks/adam_vs_numpy.py [n] [rounds]`` (default 10**7, 15)
"""

from __future__ import annotations

import sys
import time

import numba
import numpy as np

import numopt


def naive_adam(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam as most people write it in NumPy: allocating temporaries."""
    m[:] = beta1 * m + (1 - beta1) * g
    v[:] = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    theta -= lr * m_hat / (np.sqrt(v_hat) + eps)


def main(n: int = 10**7, rounds: int = 15) -> None:
    print(
        f"# Adam step, n = {n:.0e}, median of {rounds} interleaved rounds, "
        f"{numba.config.NUMBA_NUM_THREADS} threads, numba {numba.__version__}, "
        f"numpy {np.__version__}"
    )
    print(f"{'dtype':>8} {'contender':>26} {'ms/step':>9} {'GB/s':>7} {'× naive':>8}")
    for dtype in (np.float32, np.float64):
        rng = np.random.default_rng(0)
        theta = rng.standard_normal(n).astype(dtype)
        g = rng.standard_normal(n).astype(dtype)
        m, v = np.zeros(n, dtype), np.zeros(n, dtype)
        parallel, serial = numopt.Adam(backend="parallel"), numopt.Adam(backend="serial")
        contenders = {
            "numpy naive": (naive_adam, (theta, g, m, v, 1)),
            "numopt.Adam parallel": (parallel.step, (theta, g)),
            "numopt.Adam serial": (serial.step, (theta, g)),
        }
        for fn, args in contenders.values():  # compile / load from cache, warm the pages
            fn(*args)
        times = {name: [] for name in contenders}
        for _ in range(rounds):
            for name, (fn, args) in contenders.items():
                start = time.perf_counter()
                fn(*args)
                times[name].append(time.perf_counter() - start)
        base = np.median(times["numpy naive"])
        for name, ts in times.items():
            med = np.median(ts)
            gbs = 7 * n * np.dtype(dtype).itemsize / med / 1e9
            row = f"{np.dtype(dtype).name:>8} {name:>26} {med * 1e3:>9.2f} {gbs:>7.1f}"
            print(f"{row} {base / med:>8.1f}")


if __name__ == "__main__":
    args = [int(float(a)) for a in sys.argv[1:]]
    main(*args)
