"""Two checkouts of numopt side by side: the same measurements, interleaved, in one run.

For a change that must not make anything slower (a restructuring): each measurement
runs in a fresh interpreter with one checkout or the other first on ``PYTHONPATH``,
alternating checkouts round after round, and the table gives the median of each and
their ratio (new / base; below 1 is faster).  Every child warms up first (compiles,
or loads Numba's cache), then times a steady state.

Measurements: the Python loop's cost per iteration (2-D Rosenbrock, Numba
``fun``/``jac``, ``compiled=False``) and a bare loop over the same kernels; the
compiled loop's cost per iteration (2-D and 100-D, ``jac="inplace"``); ``step()`` at
N = 10³; the fused Adam kernel at N = 10⁶ and 10⁷ in both dtypes.

Usage: ``python benchmarks/versions.py BASE [NEW] [--rounds 5] [--out FILE]`` where
BASE and NEW are checkouts (NEW defaults to this one); e.g. ``git worktree add
/tmp/base HEAD~1`` first.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]

# Each child prints one JSON number: the measured quantity.
COMMON = """
import time, json, numpy as np, numba, numopt
@numba.njit(cache=True)
def rosen(x):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2
@numba.njit(cache=True)
def rosen_der(x):
    g = np.empty(2)
    g[0] = -400.0 * x[0] * (x[1] - x[0] ** 2) - 2.0 * (1.0 - x[0])
    g[1] = 200.0 * (x[1] - x[0] ** 2)
    return g
@numba.njit(cache=True)
def rosen_inplace(x, grad):
    f = 0.0
    for i in range(x.size - 1):
        grad[i] = 0.0
    grad[x.size - 1] = 0.0
    for i in range(x.size - 1):
        a = x[i + 1] - x[i] * x[i]
        f += 100.0 * a * a + (1.0 - x[i]) ** 2
        grad[i] += -400.0 * x[i] * a - 2.0 * (1.0 - x[i])
        grad[i + 1] += 200.0 * a
    return f
def best(fn, reps=5):
    fn()
    out = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return min(out)
"""

MEASUREMENTS = {
    "python loop, minimize µs/it (adam)": """
n = 20000
def run():
    numopt.minimize(rosen, np.array([-1.2, 1.0]), jac=rosen_der, method="adam",
                    options={"learning_rate": 1e-4, "maxiter": n, "gtol": 0.0, "compiled": False})
print(json.dumps(best(run) / n * 1e6))
""",
    "python loop, bare µs/it (adam)": """
n = 20000
def run():
    opt = numopt.Adam(1e-4); x = np.array([-1.2, 1.0])
    for _ in range(n):
        rosen(x); opt.step(x, rosen_der(x))
print(json.dumps(best(run) / n * 1e6))
""",
    "compiled loop ns/it (2-D, inplace)": """
n = 100000
def run():
    numopt.minimize(rosen_inplace, np.array([-1.2, 1.0]), jac="inplace", method="adam",
                    options={"learning_rate": 1e-4, "maxiter": n, "gtol": 0.0, "compiled": True})
print(json.dumps(best(run) / n * 1e9))
""",
    "compiled loop ns/it (100-D, inplace)": """
n = 20000
x0 = np.full(100, -1.0)
def run():
    numopt.minimize(rosen_inplace, x0.copy(), jac="inplace", method="adam",
                    options={"learning_rate": 1e-4, "maxiter": n, "gtol": 0.0, "compiled": True})
print(json.dumps(best(run) / n * 1e9))
""",
    "step() µs (adam, N=1e3)": """
x = np.ones(1000); g = np.full(1000, 0.1); opt = numopt.Adam(1e-3)
def run():
    for _ in range(2000):
        opt.step(x, g)
print(json.dumps(best(run) / 2000 * 1e6))
""",
}
for _dtype in ("float32", "float64"):
    for _n in ("10**6", "10**7"):
        MEASUREMENTS[f"step() ms (adam, N={_n.replace('10**', '1e')}, {_dtype})"] = f"""
x = np.ones({_n}, np.{_dtype}); g = np.full({_n}, 0.1, np.{_dtype}); opt = numopt.Adam(1e-3)
def run():
    for _ in range(10):
        opt.step(x, g)
print(json.dumps(best(run) / 10 * 1e3))
"""


def measure(checkout: Path, snippet: str, scripts: Path) -> float:
    """Run one measurement in a fresh interpreter with ``checkout`` first on the path.

    The script is a file (Numba caches the functions of files only), written once and
    shared by both checkouts.
    """
    script = scripts / f"m{abs(hash(snippet)) % 10**12}.py"
    if not script.exists():
        script.write_text(COMMON + snippet)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=checkout,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path)
    parser.add_argument("new", type=Path, nargs="?", default=HERE)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args()
    results: dict[str, dict[str, list[float]]] = {k: {"base": [], "new": []} for k in MEASUREMENTS}
    scripts = Path(tempfile.mkdtemp(prefix="numopt-versions-"))
    for r in range(args.rounds):
        for name, snippet in MEASUREMENTS.items():
            order = ("base", "new") if r % 2 == 0 else ("new", "base")
            for which in order:
                checkout = args.base if which == "base" else args.new
                results[name][which].append(measure(checkout.resolve(), snippet, scripts))
    lines = [
        f"# numopt {args.new} against {args.base}: median of {args.rounds} interleaved rounds",
        f"# {datetime.date.today()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"{'measurement':<42} {'base':>10} {'new':>10} {'new/base':>9}",
    ]
    for name, runs in results.items():
        b, n = np.median(runs["base"]), np.median(runs["new"])
        lines.append(f"{name:<42} {b:>10.3f} {n:>10.3f} {n / b:>9.3f}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n" + json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
