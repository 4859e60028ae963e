"""A closure per data set in ``compiled="auto"``: time and memory against the alternatives.

The pattern of issue 24: a helper that fits one data set defines its Numba objective
as a closure over that data set's values and calls ``minimize`` (Adam, ``jac=
"inplace"``, ``--iterations`` iterations), once per data set.  Each mode runs in a
fresh interpreter (the first call of ``auto`` compiles the loop; the process's memory
is the measure):

``closures``
    ``--calls`` calls with ``compiled="auto"`` and with ``compiled=False``, in
    ``--rounds`` interleaved rounds of fresh processes: seconds per call (a fresh
    process's first call apart, and the mean of the rest), and the growth of the
    resident set (``VmRSS``) from after each process's first call to its end, per
    1000 calls.  Two more rows
    for scale: ``numba alone`` compiles each closure and calls it once, without
    numopt (Numba's own cost of the pattern: its time, and the memory it keeps per
    compiled function); ``args, auto`` is the fix the warning names, one function
    defined once with each data set passed through ``args``.
``long run``
    one more closure after two (the first compiles the loop, the second runs the
    Python loop: what a process fitting closures has paid already), ``--long``
    iterations, ``auto`` against ``compiled=True``: whole-call seconds (``auto``
    starts in the Python loop and moves to the compiled loop mid-run, see
    ``numopt/loop/switch.py``).

Usage::

    python benchmarks/closures.py                      # 100 calls of 500 iterations, 10**6
    python benchmarks/closures.py --calls 1000 --out benchmarks/results/closures-DATE.txt

Every call compiles the user's own closure (Numba, ~0.2 s): that cost is in both modes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from numba import njit


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@njit
def _loss_args(x, g, c):
    """The closure's objective with its data as an argument (defined once)."""
    r = x - c
    g[:] = 2.0 * r
    return float(np.sum(r * r))


def _options(compiled, iterations):
    return {"maxiter": iterations, "gtol": 0.0, "ftol": 0.0, "learning_rate": 0.01,
            "compiled": compiled}  # fmt: skip


def _closure(c):
    """The objective as the pattern defines it: a closure over one data set's values."""

    @njit
    def loss(x, g):
        r = x - c
        g[:] = 2.0 * r
        return float(np.sum(r * r))

    return loss


def _numba_alone(c, compiled, iterations):
    return _closure(c)(np.zeros(c.size), np.zeros(c.size))


def _fit_args(c, compiled, iterations):
    import numopt

    return numopt.minimize(_loss_args, np.zeros(c.size), args=(c,), jac="inplace",
                           method="adam", options=_options(compiled, iterations))  # fmt: skip


def _fit(c, compiled, iterations):
    import numopt

    options = _options(compiled, iterations)
    return numopt.minimize(_closure(c), np.zeros(c.size), jac="inplace", method="adam",
                           options=options)  # fmt: skip


def child(job: dict) -> dict:
    """Run one mode in this process; what it measured."""
    import numopt

    warnings.simplefilter("ignore", numopt.RecompileWarning)
    rng = np.random.default_rng(0)
    compiled = {"auto": "auto", "false": False, "true": True, "numba": None, "args": "auto"}
    compiled = compiled[job["mode"]]
    fit = {"numba": _numba_alone, "args": _fit_args}.get(job["mode"], _fit)
    if job["kind"] == "closures":
        times = []
        for k in range(job["calls"]):
            start = time.perf_counter()
            fit(rng.standard_normal(5), compiled, job["iterations"])
            times.append(time.perf_counter() - start)
            if k == 0:
                rss0 = _rss_mb()
        return {"first": times[0], "rest": sum(times[1:]) / max(len(times) - 1, 1),
                "rss_growth_mb": _rss_mb() - rss0, "calls": len(times)}  # fmt: skip
    _fit(rng.standard_normal(5), "auto", 10)  # the first object of this code compiles
    _fit(rng.standard_normal(5), "auto", 10)  # a second runs in Python: its one-time start
    start = time.perf_counter()
    res = _fit(rng.standard_normal(5), compiled, job["iterations"])
    return {"seconds": time.perf_counter() - start, "compiled": bool(res.compiled),
            "reason": res.compiled_reason}  # fmt: skip


def run_child(job: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(job)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--long", type=int, default=10**6)
    parser.add_argument("--out", help="also write the table to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return []
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.machine import header

    command = "python benchmarks/closures.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    lines = [*header("benchmarks/closures.py", None, command.strip()), ""]
    lines += [f"### {args.calls} closures, Adam, {args.iterations} iterations each", ""]
    lines += [f"({args.rounds} interleaved rounds of fresh processes, {args.calls // args.rounds} "
              "calls each; the first call: a fresh process's, median over rounds)", ""]  # fmt: skip
    lines += ["| compiled | first call s | later calls s (mean) | RSS growth MB per 1000 calls |"]
    lines += ["|---|---|---|---|"]
    modes = ("auto", "false", "numba", "args")
    runs: dict = {mode: [] for mode in modes}
    for _ in range(args.rounds):  # interleaved: a load change hits every mode alike
        for mode in modes:
            job = {"kind": "closures", "mode": mode, "calls": args.calls // args.rounds}
            runs[mode].append(run_child({**job, "iterations": args.iterations}))
    got = {}
    for mode, rs in runs.items():
        later = sum(r["rest"] * (r["calls"] - 1) for r in rs) / sum(r["calls"] - 1 for r in rs)
        per_1000 = 1000 * sum(r["rss_growth_mb"] for r in rs) / sum(r["calls"] - 1 for r in rs)
        first = statistics.median(r["first"] for r in rs)
        got[mode] = {"first": first, "rest": later, "rss_per_1000": per_1000}
        name = {"numba": "numba alone", "args": "args, auto"}.get(mode, mode)
        lines.append(f"| {name} | {first:.3f} | {later:.3f} | {per_1000:.1f} |")
    total = {m: got[m]["first"] + (args.calls - 1) * got[m]["rest"] for m in got}
    lines += ["", f"auto / False, {args.calls} calls: {total['auto'] / total['false']:.3f}"]
    added = got["auto"]["rss_per_1000"] - got["numba"]["rss_per_1000"]
    lines += [
        "",
        f"RSS growth of auto beyond Numba's own (numba alone): {added:.1f} MB per 1000 calls",
    ]
    lines += ["", f"### one closure after two others, {args.long} iterations", ""]
    lines += ["| compiled | seconds | compiled loop ran | reason |", "|---|---|---|---|"]
    longs = {}
    for mode in ("auto", "true"):
        longs[mode] = r = run_child({"kind": "long", "mode": mode, "iterations": args.long})
        lines.append(f"| {mode} | {r['seconds']:.3f} | {r['compiled']} | {r['reason']} |")
    speed = longs["true"]["seconds"] / longs["auto"]["seconds"]
    lines += ["", f"auto's speed as a fraction of compiled=True's: {speed:.3f}"]
    print("\n".join(lines))
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    return lines


if __name__ == "__main__":
    main()
