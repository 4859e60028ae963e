"""Per-iteration overhead of ``numopt.minimize`` over a bare loop on the same kernels.

Objective: the 2-D Rosenbrock function with Numba-compiled ``fun`` and ``jac``
(so the objective itself costs well under a microsecond).  Contenders, measured
interleaved in one process, median of rounds:

* ``bare loop``: ``f = fun(x); g = jac(x); opt.step(x, g)`` — the same kernels, no
  checks, no bookkeeping (what a hand-written loop costs);
* ``minimize``: ``numopt.minimize(fun, x0, jac=jac, method=..., options={"maxiter":
  n, "gtol": 0})``.

The difference per iteration is the front end's overhead.

Usage: ``python benchmarks/loop_overhead.py [iterations] [rounds]``
"""

from __future__ import annotations

import sys
import time

import numba
import numpy as np

import numopt


@numba.njit(cache=True)
def rosen(x):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


@numba.njit(cache=True)
def rosen_der(x):
    g = np.empty(2)
    g[0] = -400.0 * x[0] * (x[1] - x[0] ** 2) - 2.0 * (1.0 - x[0])
    g[1] = 200.0 * (x[1] - x[0] ** 2)
    return g


def bare(method: str, iterations: int) -> None:
    opt = numopt.RULES[method](1e-4)
    x = np.array([-1.2, 1.0])
    for _ in range(iterations):
        rosen(x)
        opt.step(x, rosen_der(x))


def front_end(method: str, iterations: int) -> None:
    numopt.minimize(
        rosen,
        np.array([-1.2, 1.0]),
        jac=rosen_der,
        method=method,
        options={"learning_rate": 1e-4, "maxiter": iterations, "gtol": 0.0},
    )


def main(iterations: int = 20000, rounds: int = 7) -> None:
    print(f"# 2-D Rosenbrock, Numba fun/jac, {iterations} iterations, median of {rounds} rounds")
    print(f"{'method':>9} {'bare µs/it':>11} {'minimize µs/it':>15} {'overhead µs/it':>15}")
    for method in ("gd", "momentum", "rmsprop", "adam", "adamw"):
        bare(method, 10)
        front_end(method, 10)
        times: dict[str, list[float]] = {"bare": [], "minimize": []}
        for _ in range(rounds):
            for name, fn in (("bare", bare), ("minimize", front_end)):
                start = time.perf_counter()
                fn(method, iterations)
                times[name].append((time.perf_counter() - start) / iterations * 1e6)
        b, m = np.median(times["bare"]), np.median(times["minimize"])
        print(f"{method:>9} {b:>11.2f} {m:>15.2f} {m - b:>15.2f}")


if __name__ == "__main__":
    main(*[int(float(a)) for a in sys.argv[1:]])
