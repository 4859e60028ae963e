"""Per-iteration overhead of ``numopt.minimize`` over a bare loop on the same kernels.

Objective: the 2-D Rosenbrock function with Numba-compiled ``fun`` and ``jac``
(so the objective itself costs well under a microsecond).  Contenders, measured
interleaved in one process, median of rounds:

* ``bare loop``: ``f = fun(x); g = jac(x); opt.step(x, g)`` — the same kernels, no
  checks, no bookkeeping (what a hand-written loop costs);
* ``minimize``: ``numopt.minimize(fun, x0, jac=jac, method=..., options={"maxiter":
  n, "gtol": 0})``.

The difference per iteration is the front end's overhead.

Usage: ``python benchmarks/loop_overhead.py [iterations] [rounds]``; it prints the
table and writes it, after the date, machine and versions, to
``benchmarks/results/loop-overhead-<date>.txt``.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import numba
import numpy as np

import numopt

if __package__:
    from .machine import header, write_results
else:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.machine import header, write_results


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
        options={"learning_rate": 1e-4, "maxiter": iterations, "gtol": 0.0, "compiled": False},
    )


def main(iterations: int = 20000, rounds: int = 7, out: Path | None = None) -> list[str]:
    command = shlex.join(["python", "benchmarks/loop_overhead.py", str(iterations), str(rounds)])
    lines = [
        *header("benchmarks/loop_overhead.py", None, command),
        f"# 2-D Rosenbrock, Numba fun/jac, {iterations} iterations, median of {rounds} rounds",
        f"{'method':>9} {'bare µs/it':>11} {'minimize µs/it':>15} {'overhead µs/it':>15}",
    ]
    print("\n".join(lines), flush=True)
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
        lines.append(f"{method:>9} {b:>11.2f} {m:>15.2f} {m - b:>15.2f}")
        print(lines[-1], flush=True)
    write_results(lines, "loop-overhead", out)
    return lines


if __name__ == "__main__":
    main(*[int(float(a)) for a in sys.argv[1:]])
