"""Cold-start costs in fresh interpreters, side by side, written to a results file.

The same snippets as the asv suite's ``bench_import.py`` (its ``timeraw_``
functions), each run ``--repeat`` times in a fresh ``python`` process, the clock
inside the process around the timed statements (so interpreter start-up is not
counted):

* ``import numba, scipy.optimize``: the baseline (numopt imports both anyway);
* ``import numopt``: compiles nothing, so it should stay near the baseline;
* the first ``minimize`` call after the imports (Adam on a 10-element quadratic):
  loads the serial Adam kernel from Numba's cache on disk;
* the first ``Adam(backend="parallel").step`` after the imports: loads a
  ``parallel=True`` kernel and starts Numba's threading layer.

The two first calls are timed with a warm cache (numopt's own ``__pycache__``,
filled by an untimed run first) and with a cold one (``NUMBA_CACHE_DIR`` pointing at
a new empty folder for each run: everything compiles).  The table gives the median
and the range over the runs.

Usage::

    python benchmarks/startup.py              # 7 runs each; writes results/startup-<date>.txt
    python benchmarks/startup.py --repeat 3 --out /tmp/startup.txt
    python benchmarks/startup.py --smoke      # 1 run each, warm only (the tests' run)
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

if __package__:
    from . import bench_import
    from .machine import header, write_results
else:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import bench_import
    from benchmarks.machine import header, write_results

#: name -> (statement, setup), from the asv suite.
SNIPPETS = {
    "import numba, scipy.optimize": (bench_import.timeraw_import_numba_scipy(), ""),
    "import numopt": (bench_import.timeraw_import_numopt(), ""),
    "first minimize call": bench_import.timeraw_first_call(),
    "first parallel step": bench_import.timeraw_first_parallel_step(),
}
#: The snippets that load compiled kernels (timed with a warm and a cold cache).
COMPILING = ("first minimize call", "first parallel step")


def run_once(stmt: str, setup: str, cache_dir: str | None = None) -> float:
    """Seconds of ``stmt`` after ``setup`` in a fresh interpreter."""
    code = "\n".join(
        [
            "import time",
            textwrap.dedent(setup),
            "_t = time.perf_counter()",
            textwrap.dedent(stmt),
            "print(repr(time.perf_counter() - _t))",
        ]
    )
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(repeat: int, cold: bool) -> dict[str, list[float]]:
    """``name -> seconds of each run`` (``name (cold cache)`` too when ``cold``)."""
    for stmt, setup in SNIPPETS.values():  # fills numopt's cache: the warm runs load it
        run_once(stmt, setup)
    times: dict[str, list[float]] = {name: [] for name in SNIPPETS}
    if cold:
        times.update({f"{name} (cold cache)": [] for name in COMPILING})
    for _ in range(repeat):  # interleaved: a drift of the machine hits every row alike
        for name, (stmt, setup) in SNIPPETS.items():
            times[name].append(run_once(stmt, setup))
        if cold:
            for name in COMPILING:
                with tempfile.TemporaryDirectory() as empty:
                    times[f"{name} (cold cache)"].append(run_once(*SNIPPETS[name], empty))
    return times


def table(times: dict[str, list[float]]) -> list[str]:
    lines = ["| what | median ms | min–max ms | runs |", "|---|---|---|---|"]
    for name, ts in times.items():
        ms = np.array(ts) * 1e3
        lines.append(
            f"| {name} | {np.median(ms):.0f} | {ms.min():.0f}–{ms.max():.0f} | {len(ms)} |"
        )
    return lines


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each snippet (7)")
    parser.add_argument("--out", type=Path, help="results file (results/startup-<date>.txt)")
    parser.add_argument("--smoke", action="store_true", help="1 run each, warm cache only")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    repeat = 1 if args.smoke else args.repeat
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "benchmarks/startup.py", *given])
    lines = header("benchmarks/startup.py", None, command)
    times = measure(repeat, cold=not args.smoke)
    lines += ["", *table(times)]
    print("\n".join(lines))
    write_results(lines, "startup", args.out, args.smoke)
    return times


if __name__ == "__main__":
    main()
