"""What ``minimize`` costs over a hand-written loop at large N: time per iteration, peak memory.

Objective: ``weighted_sphere_inplace`` (``½ Σ aᵢxᵢ²``, a Numba ``prange`` function
with ``jac="inplace"``: one parallel pass, so that ``minimize``'s own passes show).
Contenders, per rule and size, interleaved in one process:

* ``hand``: ``x = x0.copy(); g = np.empty_like(x); opt = numopt.<Rule>(lr)``, then
  ``fun(x, g, a); opt.step(x, g)`` per iteration — the loop users write themselves;
* ``python``: ``numopt.minimize(..., options={"compiled": False, ...})``;
* ``compiled``: the same with ``"compiled": True``.

Options are the defaults except ``gtol=1e-12`` (so that every run makes its
``maxiter`` updates) and the learning rate.  **Time per iteration** is the
difference between a long and a short run of the same contender, divided by the
difference in iterations, each the fastest of the rounds (this machine is shared:
the fastest is the least disturbed): what each call costs once (copying
``x0``, allocating buffers, the result) cancels out and is reported apart
(``fixed ms``: the short run less its iterations).

**Peak memory** (``--memory``): each contender runs in a fresh process; the growth
of the process's peak resident set during the run, against the arrays a
hand-written loop needs (``x``, ``g`` and the rule's state) — ``x0`` and ``a``
exist before and are not counted.

Usage::

    python benchmarks/large_n.py [--sizes 1e5,1e6,1e7,1e8] [--rules adam,gd] [--rounds 5]
    python benchmarks/large_n.py --memory [--sizes 1e7,1e8]
    python benchmarks/large_n.py --parts [--sizes 1e6,1e7] [--rules adam,gd]

**Where the time goes** (``--parts``): each pass an iteration makes, timed alone on
the same arrays, interleaved, median of the rounds: the objective, the rule's step
(the hand-written loop is these two; the step is timed without ``step()``'s own
checks, which cost a few µs, as the other step is), ``minimize``'s stopping measure
``max|g|`` (one more read of ``g``) and the step that also writes the best point
(``x`` as it was, one more write stream, on every iteration that improves the
loss).  The two extras, as fractions of the hand-written iteration, add up to what
``minimize`` costs over it.

It prints the table and writes it, after the date, machine and versions, to
``benchmarks/results/large-n-<date>.txt`` (``large-n-memory-<date>.txt``,
``large-n-parts-<date>.txt``).
"""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import numopt
from numopt.kernels import norms
from numopt.kernels.arrays import flat_pair

if __package__:
    from ._numba_objectives import weighted_sphere_inplace as fun
    from .common import rule_names
    from .machine import header, write_results
else:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks._numba_objectives import weighted_sphere_inplace as fun
    from benchmarks.common import rule_names
    from benchmarks.machine import header, write_results

LEARNING_RATE = 1e-3
#: Iterations of the short and the long run, by size (about 0.5 s for Adam here).
ITERATIONS = {10**5: (20, 220), 10**6: (4, 44), 10**7: (2, 10), 10**8: (2, 10)}


def element_wise_rules() -> list[str]:
    """Every rule whose step is one element-wise pass that the compiled loop runs (not
    LAMB, whose layer norms come first; not NAdam, whose factors are computed in
    Python: its Python loop is the hand-written loop's)."""
    specs = {r: numopt.RULES[r](LEARNING_RATE).spec for r in rule_names()}
    return [r for r, spec in specs.items() if spec.passes is None and spec.factor_fn is not None]


def hand(rule: str, x0: np.ndarray, a: np.ndarray, n: int) -> None:
    x = x0.copy()
    g = np.empty_like(x)
    opt = numopt.RULES[rule](LEARNING_RATE)
    for _ in range(n):
        fun(x, g, a)
        opt.step(x, g)


def front(compiled: bool):
    def run(rule: str, x0: np.ndarray, a: np.ndarray, n: int) -> None:
        res = numopt.minimize(
            fun, x0, args=(a,), jac="inplace", method=rule,
            options={"learning_rate": LEARNING_RATE, "maxiter": n, "gtol": 1e-12,
                     "compiled": compiled},
        )  # fmt: skip
        if res.nit != n or res.compiled != compiled:
            raise RuntimeError(f"{rule}: {res.nit} updates, compiled={res.compiled}: {res.message}")

    return run


CONTENDERS = {"hand": hand, "python": front(False), "compiled": front(True)}


def problem(n: int, dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """``x0`` and the weights ``a`` in [0.5, 2), drawn in ``dtype`` without a temporary
    (a float64 draw cast afterwards would raise the peak that ``--memory`` starts from)."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(n, dtype=dtype)
    a = rng.random(n, dtype=dtype)
    a *= 1.5
    a += 0.5
    return x0, a


def interleaved(calls: dict, rounds: int, reps: int = 1) -> dict:
    """Seconds per call of each of ``calls`` (callables of no argument) in each round:
    every call once first (compiling, faulting the pages in), then ``rounds`` rounds
    that time each in turn, ``reps`` calls in a row."""
    for call in calls.values():
        call()
    times: dict = {key: [] for key in calls}
    for _ in range(rounds):
        for key, call in calls.items():
            start = time.perf_counter()
            for _ in range(reps):
                call()
            times[key].append((time.perf_counter() - start) / reps)
    return times


def timings(sizes: list[int], rules: list[str], rounds: int) -> list[str]:
    lines = [
        f"# µs per iteration (long run less short run, fastest of {rounds} rounds each); "
        "ratio to the hand-written loop",
        f"{'N':>6} {'rule':>9} {'hand µs':>10} {'python':>7} {'compiled':>9} "
        f"{'fixed ms h/p/c':>16}",
    ]
    print("\n".join(lines), flush=True)
    for n in sizes:
        short, long = ITERATIONS.get(n, (2, 10))
        x0, a = problem(n)
        for rule in rules:
            calls = {
                (name, iters): functools.partial(run, rule, x0, a, iters)
                for name, run in CONTENDERS.items()
                for iters in (short, long)
            }
            times = interleaved(calls, rounds)
            m, fixed = {}, []
            for name in CONTENDERS:  # the fastest of the rounds: the least disturbed
                t_short, t_long = min(times[name, short]), min(times[name, long])
                it = (t_long - t_short) / (long - short)
                m[name] = it * 1e6
                fixed.append(f"{(t_short - short * it) * 1e3:.1f}")
            f = "/".join(fixed)
            lines.append(
                f"{n:>6.0e} {rule:>9} {m['hand']:>10.1f} {m['python'] / m['hand']:>6.2f}x "
                f"{m['compiled'] / m['hand']:>8.2f}x {f:>16}"
            )
            print(lines[-1], flush=True)
    return lines


# -- where the time goes: each pass alone ---------------------------------------------------
def _passes(rule: str, x0: np.ndarray, a: np.ndarray) -> dict:
    """The passes of one iteration over fresh arrays, each a call of no argument."""
    x, g, best = x0.copy(), np.empty_like(x0), np.empty_like(x0)
    opt = numopt.RULES[rule](LEARNING_RATE)
    pair = flat_pair(x, g)
    # both steps through the same entry, so that they differ by the best point's stream
    # alone (minimize runs the keeping one on the iterations that improve)
    return {
        "objective": lambda: fun(x, g, a),
        "step": lambda: opt._apply(pair),
        "max|g|": lambda: norms.inf_norm(g),
        "step+best": lambda: opt._apply(pair, None, best),
    }


def parts(sizes: list[int], rules: list[str], rounds: int, reps: int = 5) -> list[str]:
    lines = [
        f"# µs per pass (median of {rounds} interleaved rounds of {reps} calls); the extras "
        "as fractions of the hand-written iteration (objective + step)",
        f"{'N':>6} {'rule':>9} {'objective':>10} {'step':>9} {'max|g|':>9} {'step+best':>10} "
        f"{'max|g|/hand':>12} {'best/hand':>10}",
    ]
    print("\n".join(lines), flush=True)
    for n in sizes:
        x0, a = problem(n)
        for rule in rules:
            times = interleaved(_passes(rule, x0, a), rounds, reps)
            m = {name: float(np.median(t)) * 1e6 for name, t in times.items()}
            hand_us = m["objective"] + m["step"]
            lines.append(
                f"{n:>6.0e} {rule:>9} {m['objective']:>10.0f} {m['step']:>9.0f} "
                f"{m['max|g|']:>9.0f} {m['step+best']:>10.0f} {m['max|g|'] / hand_us:>12.2f} "
                f"{(m['step+best'] - m['step']) / hand_us:>10.2f}"
            )
            print(lines[-1], flush=True)
    return lines


# -- peak memory: one fresh process per contender ------------------------------------------
def _child(name: str, rule: str, n: int) -> None:
    x0, a = problem(n)
    CONTENDERS[name](rule, x0[:1000].copy(), a[:1000].copy(), 1)  # compile on a small copy
    before = _peak_kib()
    CONTENDERS[name](rule, x0, a, 3)
    print(json.dumps({"grown_mib": (_peak_kib() - before) / 1024}))


def _peak_kib() -> int:
    """The process's peak resident set so far (VmHWM), KiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def memory(sizes: list[int], rules: list[str]) -> list[str]:
    lines = [
        "# growth of the peak resident set during a 3-iteration run (fresh process each), MiB;"
        " 'arrays': x, g and the rule's state",
        f"{'N':>6} {'rule':>9} {'arrays':>8} {'hand':>8} {'python':>8} {'compiled':>9} "
        f"{'python/hand':>12} {'compiled/hand':>14}",
    ]
    print("\n".join(lines), flush=True)
    for n in sizes:
        for rule in rules:
            opt = numopt.RULES[rule](LEARNING_RATE)
            arrays = (2 + len(opt.spec.state(opt.hyperparameters))) * n * 8 / 2**20
            grown = {}
            for name in CONTENDERS:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", name, rule, str(n)],
                    check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                grown[name] = json.loads(out.strip().splitlines()[-1])["grown_mib"]
            hand_mib = max(grown["hand"], 1e-9)  # (small sizes may not move the peak)
            lines.append(
                f"{n:>6.0e} {rule:>9} {arrays:>8.0f} {grown['hand']:>8.0f} {grown['python']:>8.0f} "
                f"{grown['compiled']:>9.0f} {grown['python'] / hand_mib:>12.2f} "
                f"{grown['compiled'] / hand_mib:>14.2f}"
            )
            print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=None, help="comma-separated sizes (1e5,1e6,...)")
    parser.add_argument("--rules", default=None, help="comma-separated rules (all element-wise)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory", action="store_true", help="peak memory instead of time")
    parser.add_argument("--parts", action="store_true", help="each pass of an iteration alone")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]))
        return []
    default = "1e7,1e8" if args.memory else "1e5,1e6,1e7,1e8"
    sizes = [int(float(s)) for s in (args.sizes or default).split(",")]
    rules = args.rules.split(",") if args.rules else element_wise_rules()
    command = shlex.join(["python", "benchmarks/large_n.py", *(argv or sys.argv[1:])])
    lines = header("benchmarks/large_n.py", None, command)
    lines.append(
        "# weighted_sphere_inplace (Numba prange, jac='inplace'), float64, "
        f"learning rate {LEARNING_RATE}, gtol 1e-12"
    )
    print("\n".join(lines), flush=True)
    if args.memory:
        lines += memory(sizes, rules)
    elif args.parts:
        lines += parts(sizes, rules, args.rounds)
    else:
        lines += timings(sizes, rules, args.rounds)
    kind = "-memory" if args.memory else "-parts" if args.parts else ""
    write_results(lines, f"large-n{kind}", args.out)
    return lines


if __name__ == "__main__":
    main()
