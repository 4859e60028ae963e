"""Measure where the parallel CPU loop starts to beat the serial one.

Runs the Adam kernel (the rule with the most arithmetic and memory traffic per
element) serial and parallel over sizes 2**8 .. 2**20, float32 and float64,
interleaving the two so that machine noise hits both alike, and prints the
median time of each and their ratio.  The size where ``parallel/serial`` drops
below 1 is :data:`numopt.kernels.cpu.SERIAL_BELOW`.

Usage: ``python benchmarks/switchover.py [repeats]``
"""

from __future__ import annotations

import platform
import sys
import time

import numba
import numpy as np

import numopt
from numopt.kernels.cpu import SERIAL_BELOW, cpu_loops
from numopt.rules import adam


def median_seconds(fn, args, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(repeats: int = 200) -> None:
    loops = cpu_loops(adam.body)
    opt = numopt.Adam()
    print(
        f"# {platform.processor() or platform.machine()}, "
        f"{numba.config.NUMBA_NUM_THREADS} threads, "
        f"threading layer {numba.config.THREADING_LAYER}, numba {numba.__version__}"
    )
    print(f"# current SERIAL_BELOW = {SERIAL_BELOW}")
    print(f"{'dtype':>8} {'n':>9} {'serial µs':>10} {'parallel µs':>12} {'par/ser':>8}")
    for dtype in (np.float32, np.float64):
        for p in range(8, 21):
            n = 2**p
            theta, g = np.ones(n, dtype), np.full(n, 0.5, dtype)
            state = np.zeros((2, n), dtype)
            c = np.array(opt._kernel_factors(1, 1e-3), dtype)
            args = (theta, g, state, c)
            loops.serial(*args), loops.parallel(*args)  # compile / load, warm caches
            ser, par = [], []
            for _ in range(5):  # interleave so drift affects both
                ser.append(median_seconds(loops.serial, args, repeats // 5))
                par.append(median_seconds(loops.parallel, args, repeats // 5))
            s, q = np.median(ser) * 1e6, np.median(par) * 1e6
            print(f"{np.dtype(dtype).name:>8} {n:>9} {s:>10.2f} {q:>12.2f} {q / s:>8.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
