"""L-BFGS(-B) side by side on the extended Rosenbrock function: numopt, SciPy, optax, torch.

Every contender minimises the extended Rosenbrock function (Moré, Garbow & Hillstrom
problem 21: ``n/2`` independent 2-D Rosenbrock functions) from ``(-1.2, 1, -1.2, 1,
...)`` in float64 at n = 2, 100 and 1000, with a memory of 10 pairs, until the
gradient's largest entry is at most ``gtol = 1e-5``:

``numopt compiled``
    ``numopt.minimize(xrosen_fg_inplace, x0, method="l-bfgs-b", jac="inplace",
    options={"gtol": 1e-5, "compiled": True})``: the whole loop (line search
    included) compiled, calling the ``@njit`` objective of
    ``benchmarks/_numba_objectives.py`` from compiled code.
``numopt python``
    the same call with ``"compiled": False``: numopt's loop in Python, calling the
    same Numba objective from Python.
``scipy``
    ``scipy.optimize.minimize(xrosen_fg, x0, jac=True, method="L-BFGS-B",
    options={"gtol": 1e-5, "maxcor": 10})``, the same Numba objective returning
    ``(f, g)`` (SciPy takes no in-place gradient).  numopt's ``gtol`` is SciPy's
    (``max|proj g| <= gtol``) and both stop on SciPy's default ``ftol`` (2.2e-9)
    too.
``optax``
    ``optax.lbfgs()`` (memory 10, its default zoom line search, at most 20 steps)
    in ``jax.lax.while_loop`` — optax's documented L-BFGS loop with
    ``optax.value_and_grad_from_state`` — stopping when the gradient's max-norm is
    at most ``gtol`` (optax's example uses the 2-norm; the max-norm is the others'
    test), the objective in ``jax.numpy`` with ``jax.value_and_grad``; the whole
    solve jitted once (64-bit types on).  Its evaluations are counted in the loop
    (1 + the line searches' steps).  A call includes turning ``x`` into NumPy.
``torch``
    ``torch.optim.LBFGS(line_search_fn="strong_wolfe", history_size=10,
    tolerance_grad=1e-5, tolerance_change=0, max_iter=15000)``, one
    ``step(closure)`` (which runs the whole loop), float64 tensors, autograd in the
    closure.  ``tolerance_change=0`` turns off its absolute test on the change of
    f and of the step, so it stops on ``gtol`` alone.

Every contender is built and run once first (Numba's cache load or compilation,
JAX's trace and compile; that first call is reported as "first call").  The same
rounds time a 1-iteration run of each contender (``maxiter=1``: the per-call cost
— argument checks, allocations, dispatch, the result — plus one iteration), and
the objectives called from Python ``nfev`` times in a loop.  Each round runs every
one of these jobs in turn: one untimed run, then its timed runs back to back (one
in the first round; from then on as many as fit in about ``REPEAT_S`` seconds, at
most ``MAX_REPEATS``), and the table gives the median wall time over all rounds'
runs.  Runs of a few hundred µs are sensitive to what ran just before: the 100-D
compiled run took 300 µs back to back but 390 µs right after an optax call and
570 µs after a 5 ms sleep (caches and branch predictors cold; no thread of JAX's
was spinning, CPU time = wall time).  ``--interleave runs`` interleaves every
single run with the other jobs' instead (as ``loop_peers.py`` does): the cold
figures.

Columns: ``µs/iter`` is wall / nit; ``marginal µs/iter`` is (wall − 1-iteration
wall) / (nit − 1), the cost of one more iteration once the call is set up.  "own
µs/iter" of the Python-driven loops (numopt's Python loop, SciPy) is (wall −
nfev × one objective call) / nit: the loop's own cost per iteration with the time
spent in the objective taken out, one call of the objective timed as the mean of
``nfev`` calls from a Python ``for`` loop (numopt's Python loop calls
``xrosen_fg_inplace(x, g)``, SciPy ``xrosen_fg(x)``).

SciPy's BLAS (which its L-BFGS-B calls) is limited to one thread with threadpoolctl
(``--blas-threads``): on this 2-core machine a second OpenBLAS thread only adds
noise (see ``tests/quasi_newton/test_problem_set.py``).  numopt calls no BLAS; JAX
and torch keep their own thread pools.

The issue's targets are reported against the table (not asserted): the compiled
loop ≥ 20× faster than SciPy's L-BFGS-B on 100-D to the same gtol (wall), no
slower per iteration than optax's jitted while_loop, and numopt's Python loop's
own cost per iteration at most SciPy's wrapper's.

Usage::

    python benchmarks/lbfgs.py                  # n = 2, 100, 1000; 7 rounds (~40 s)
    python benchmarks/lbfgs.py --dims 100 --rounds 15 --only "numopt compiled" scipy
    python benchmarks/lbfgs.py --smoke          # seconds: n = 2, 1 round (the tests' run)

It prints the tables and writes them, with the date, machine and versions, to
``benchmarks/results/lbfgs-<date>.txt`` (``--out FILE`` elsewhere; ``--smoke``
writes only with ``--out``).  Peers come with the ``peers`` extra (``pip install
-e ".[peers]"``: torch, jax, optax); a contender whose package is missing is
reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

import numopt

if __package__:
    from ._numba_objectives import xrosen_fg, xrosen_fg_inplace
    from .machine import Unavailable, blas_limit, header, jax_x64, write_results
else:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks._numba_objectives import xrosen_fg, xrosen_fg_inplace
    from benchmarks.machine import Unavailable, blas_limit, header, jax_x64, write_results

#: Stopping test of every contender: max|g| <= GTOL.
GTOL = 1e-5
#: The memory (SciPy's maxcor, torch's history_size, optax's memory_size).
MAXCOR = 10
#: Iteration and evaluation limits (SciPy's defaults; none is reached here).
MAXITER = 15000
MAXFUN = 15000
DIMS = (2, 100, 1000)
CONTENDERS = ("numopt compiled", "numopt python", "scipy", "optax", "torch")
REFERENCE = "numopt compiled"
#: The loops driven from Python whose own cost per iteration is compared.
PYTHON_LOOPS = {"numopt python": "inplace", "scipy": "fg"}
#: After the first round a contender's run repeats for about this long per round...
REPEAT_S = 0.2
#: ...at most this many times.
MAX_REPEATS = 200


class Outcome(NamedTuple):
    """What a run returns: the final point, its value, iterations, evaluations."""

    x: np.ndarray
    fun: float
    nit: int
    nfev: int


#: ``run(maxiter) -> Outcome``: one whole minimisation from x0.
Runner = Callable[[int], Outcome]


def xrosen_x0(n: int) -> np.ndarray:
    """The standard start ``(-1.2, 1, -1.2, 1, ...)``."""
    x0 = np.full(n, -1.2)
    x0[1::2] = 1.0
    return x0


def xrosen_grad(x: np.ndarray) -> np.ndarray:
    """The gradient (NumPy), to check where each contender stopped."""
    return xrosen_fg(np.ascontiguousarray(x, dtype=np.float64))[1]


# -- contenders ----------------------------------------------------------------------
def numopt_runner(x0: np.ndarray, compiled: bool) -> Runner:
    """``numopt.minimize(method="l-bfgs-b")`` on the in-place Numba objective."""

    def run(maxiter: int = MAXITER) -> Outcome:
        res = numopt.minimize(
            xrosen_fg_inplace,
            x0,
            method="l-bfgs-b",
            jac="inplace",
            options={
                "maxcor": MAXCOR,
                "gtol": GTOL,
                "maxiter": maxiter,
                "maxfun": MAXFUN,
                "compiled": compiled,
            },
        )
        if res.compiled != compiled:
            raise RuntimeError(f"asked for compiled={compiled}, ran compiled={res.compiled}")
        return Outcome(res.x, float(res.fun), int(res.nit), int(res.nfev))

    return run


def scipy_runner(x0: np.ndarray) -> Runner:
    """``scipy.optimize.minimize(method="L-BFGS-B")``, the Numba objective with jac=True."""
    from scipy.optimize import minimize

    def run(maxiter: int = MAXITER) -> Outcome:
        res = minimize(
            xrosen_fg,
            x0,
            jac=True,
            method="L-BFGS-B",
            options={"maxcor": MAXCOR, "gtol": GTOL, "maxiter": maxiter, "maxfun": MAXFUN},
        )
        return Outcome(res.x, float(res.fun), int(res.nit), int(res.nfev))

    return run


def optax_runner(x0: np.ndarray) -> Runner:
    """``optax.lbfgs`` in a jitted ``jax.lax.while_loop`` (optax's documented loop)."""
    jax, jnp, optax, otu = jax_x64()

    def fun(x):
        xo, xe = x[0::2], x[1::2]
        t = xe - xo * xo
        return jnp.sum(100.0 * t * t + (1.0 - xo) ** 2)

    opt = optax.lbfgs(memory_size=MAXCOR)
    value_and_grad = optax.value_and_grad_from_state(fun)

    def solve(x, maxiter):
        def step(carry):
            x, state, nfev = carry
            f, g = value_and_grad(x, state=state)
            updates, state = opt.update(g, state, x, value=f, grad=g, value_fn=fun)
            nfev = nfev + otu.tree_get(state, "num_linesearch_steps")
            return optax.apply_updates(x, updates), state, nfev

        def running(carry):
            _, state, _ = carry
            k = otu.tree_get(state, "count")
            g = otu.tree_get(state, "grad")  # the gradient at x (zeros before the first step)
            return (k == 0) | ((k < maxiter) & (jnp.max(jnp.abs(g)) > GTOL))

        x, state, nfev = jax.lax.while_loop(running, step, (x, opt.init(x), jnp.asarray(1)))
        return x, otu.tree_get(state, "value"), otu.tree_get(state, "count"), nfev

    solve = jax.jit(solve)
    xj = jax.device_put(jnp.asarray(x0))

    def run(maxiter: int = MAXITER) -> Outcome:
        x, f, nit, nfev = jax.block_until_ready(solve(xj, maxiter))
        return Outcome(np.asarray(x), float(f), int(nit), int(nfev))

    return run


def torch_runner(x0: np.ndarray) -> Runner:
    """``torch.optim.LBFGS`` with the strong-Wolfe line search, autograd, float64."""
    try:
        import torch
    except ImportError as exc:
        raise Unavailable(f"torch is not installed ({exc})") from None

    def fun(x):
        xo, xe = x[0::2], x[1::2]
        t = xe - xo * xo
        return torch.sum(100.0 * t * t + (1.0 - xo) ** 2)

    def run(maxiter: int = MAXITER) -> Outcome:
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS(
            [x],
            lr=1.0,
            max_iter=maxiter,
            max_eval=MAXFUN,
            tolerance_grad=GTOL,
            tolerance_change=0.0,
            history_size=MAXCOR,
            line_search_fn="strong_wolfe",
        )

        def closure():
            opt.zero_grad()
            f = fun(x)
            f.backward()
            return f

        opt.step(closure)
        state = opt.state[x]
        with torch.no_grad():
            f = float(fun(x))
        return Outcome(x.detach().numpy().copy(), f, int(state["n_iter"]), int(state["func_evals"]))

    return run


def build(name: str, x0: np.ndarray) -> Runner:
    """The runner of contender ``name``; raises :class:`Unavailable` when it cannot run."""
    if name == "numopt compiled":
        return numopt_runner(x0, True)
    if name == "numopt python":
        return numopt_runner(x0, False)
    if name == "scipy":
        return scipy_runner(x0)
    if name == "optax":
        return optax_runner(x0)
    if name == "torch":
        return torch_runner(x0)
    raise ValueError(f"unknown contender {name!r}; valid: {CONTENDERS}")


def objective_calls(kind: str, x0: np.ndarray) -> Callable[[int], None]:
    """``calls(k)``: the objective called ``k`` times from a Python loop."""
    x = x0.copy()
    g = np.empty_like(x)
    if kind == "inplace":

        def calls(k: int) -> None:
            for _ in range(k):
                xrosen_fg_inplace(x, g)

    else:

        def calls(k: int) -> None:
            for _ in range(k):
                xrosen_fg(x)

    calls(10)
    return calls


# -- measurement ---------------------------------------------------------------------
def measure(
    n: int, rounds: int, names, repeat_s: float = REPEAT_S, interleave: str = "blocks"
) -> dict:
    """Median times of each contender's whole run and 1-iteration run on the n-D problem."""
    x0 = xrosen_x0(n)
    runners: dict[str, Runner] = {}
    skipped: dict[str, str] = {}
    first: dict[str, float] = {}
    outcomes: dict[str, Outcome] = {}
    for name in names:
        start = time.perf_counter()
        try:
            runners[name] = build(name, x0)
            outcomes[name] = runners[name](MAXITER)  # compiles (or loads) and warms
            first[name] = time.perf_counter() - start
            runners[name](1)  # a 1-iteration run too (JAX: the same executable)
        except Unavailable as exc:
            runners.pop(name, None)
            skipped[name] = str(exc)
        except Exception as exc:  # a broken contender is reported, the others still run
            runners.pop(name, None)
            skipped[name] = f"FAILED: {type(exc).__name__}: {exc}"
    # timed jobs: (contender, "full" | "one"), and each Python loop's objective, nfev calls
    jobs: dict[tuple[str, str], Callable[[], object]] = {}
    for name, run in runners.items():
        jobs[name, "full"] = lambda run=run: run(MAXITER)
        jobs[name, "one"] = lambda run=run: run(1)
    for name, kind in PYTHON_LOOPS.items():
        if name in runners:
            calls, k = objective_calls(kind, x0), outcomes[name].nfev
            jobs[name, "objective"] = lambda calls=calls, k=k: calls(k)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in jobs}

    def timed(key: tuple[str, str]) -> None:
        start = time.perf_counter()
        out = jobs[key]()
        times[key].append(time.perf_counter() - start)
        if key[1] == "full":
            outcomes[key[0]] = out

    reps = dict.fromkeys(jobs, 1)
    for r in range(rounds):
        if interleave == "blocks":  # each job's runs back to back, after one untimed run
            for key, job in jobs.items():
                job()
                for _ in range(reps[key]):
                    timed(key)
        else:  # every run interleaved with the other jobs' runs
            for j in range(max(reps.values(), default=0)):
                for key in jobs:
                    if j < reps[key]:
                        timed(key)
        if r == 0:  # from the first round on, short runs repeat in each round
            reps = {
                key: int(np.clip(repeat_s / ts[0], 1, MAX_REPEATS)) for key, ts in times.items()
            }
    rows = {}
    for name, out in outcomes.items():
        if name not in runners:
            continue
        wall = float(np.median(times[name, "full"]))
        one = float(np.median(times[name, "one"]))
        row = {
            "fun": out.fun,
            "nit": out.nit,
            "nfev": out.nfev,
            "max_abs_g": float(np.max(np.abs(xrosen_grad(out.x)))),
            "max_abs_dx": float(np.max(np.abs(out.x - 1.0))),
            "runs": len(times[name, "full"]),
            "wall_s": wall,
            "wall_min_s": float(np.min(times[name, "full"])),
            "one_iteration_s": one,
            "per_iter_s": wall / max(out.nit, 1),
            "marginal_s": (wall - one) / (out.nit - 1) if out.nit > 1 else math.nan,
            "first_call_s": first[name],
            "wall_all_s": times[name, "full"],
        }
        if (name, "objective") in times:
            call = float(np.median(times[name, "objective"])) / out.nfev
            row["objective_call_s"] = call
            row["own_per_iter_s"] = (wall - out.nfev * call) / out.nit
        rows[name] = row
    return {"n": n, "rounds": rounds, "interleave": interleave, "rows": rows, "skipped": skipped}


# -- report --------------------------------------------------------------------------
def _ratio(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def _us(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "—"
    us = seconds * 1e6
    return f"{us:.3g}" if us < 1000 else f"{us:.0f}"


def table(result: dict) -> list[str]:
    """The Markdown table of one problem size, and the Python loops' own costs."""
    rows, n = result["rows"], result["n"]
    ref = rows.get(REFERENCE, {})
    ref_wall = ref.get("wall_s", math.nan)
    ref_iter = ref.get("per_iter_s", math.nan)
    lines = [
        f"### {n}-D extended Rosenbrock, gtol {GTOL:g}, memory {MAXCOR}, {result['rounds']} rounds",
        "",
        "| contender | f | max abs g | nit | nfev | runs | wall µs (median) | (min) "
        "| µs/iter | wall × compiled | µs/iter × compiled | 1-iteration run µs "
        "| marginal µs/iter | first call s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in CONTENDERS:
        if name not in rows:
            continue
        r = rows[name]
        lines.append(
            f"| {name} | {r['fun']:.3e} | {r['max_abs_g']:.1e} | {r['nit']} | {r['nfev']} "
            f"| {r['runs']} | {_us(r['wall_s'])} | {_us(r['wall_min_s'])} "
            f"| {_us(r['per_iter_s'])} | {_ratio(r['wall_s'] / ref_wall)} "
            f"| {_ratio(r['per_iter_s'] / ref_iter)} | {_us(r['one_iteration_s'])} "
            f"| {_us(r['marginal_s'])} | {r['first_call_s']:.3f} |"
        )
    own = [name for name in PYTHON_LOOPS if "own_per_iter_s" in rows.get(name, {})]
    if own:
        lines += [
            "",
            "Loops driven from Python: own cost per iteration = "
            "(wall − nfev × one objective call) / nit",
            "",
            "| loop | objective | one call µs | nfev × call µs | wall µs | own µs/iter |",
            "|---|---|---|---|---|---|",
        ]
        for name in own:
            r = rows[name]
            sig = "xrosen_fg_inplace(x, g)" if PYTHON_LOOPS[name] == "inplace" else "xrosen_fg(x)"
            lines.append(
                f"| {name} | {sig} | {r['objective_call_s'] * 1e6:.3f} "
                f"| {_us(r['nfev'] * r['objective_call_s'])} | {_us(r['wall_s'])} "
                f"| {_us(r['own_per_iter_s'])} |"
            )
    for name, why in result["skipped"].items():
        lines += ["", f"{name}: {why}"]
    bad = [k for k, r in rows.items() if not (r["max_abs_g"] <= 10 * GTOL or r["fun"] < 1e-10)]
    if bad:
        lines += ["", f"WARNING: these did not reach the minimum: {bad}"]
    return lines


def targets(results: list[dict]) -> list[str]:
    """The issue's targets against the measurements (reported, not asserted)."""
    lines = ["### Targets", ""]
    by_n = {res["n"]: res["rows"] for res in results}

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    rows = by_n.get(100, {})
    if REFERENCE in rows and "scipy" in rows:
        speedup = rows["scipy"]["wall_s"] / rows[REFERENCE]["wall_s"]
        lines.append(
            f"* compiled ≥ 20× faster than SciPy's L-BFGS-B, 100-D, wall: {speedup:.2f}× "
            f"({_us(rows['scipy']['wall_s'])} µs against {_us(rows[REFERENCE]['wall_s'])} µs) "
            f"— {verdict(speedup >= 20)}"
        )
    for n, rows in by_n.items():
        if REFERENCE in rows and "optax" in rows:
            c, o = rows[REFERENCE], rows["optax"]
            ratio = c["per_iter_s"] / o["per_iter_s"]
            marginal = c["marginal_s"] / o["marginal_s"]
            lines.append(
                f"* compiled no slower per iteration than optax.lbfgs (jitted while_loop), "
                f"{n}-D: {_us(c['per_iter_s'])} against {_us(o['per_iter_s'])} µs/iter "
                f"(× {ratio:.2f}) — {verdict(ratio <= 1)}; marginal {_us(c['marginal_s'])} "
                f"against {_us(o['marginal_s'])} µs/iter (× {marginal:.2f})"
            )
    for n, rows in by_n.items():
        if all("own_per_iter_s" in rows.get(k, {}) for k in PYTHON_LOOPS):
            p, s = rows["numopt python"]["own_per_iter_s"], rows["scipy"]["own_per_iter_s"]
            lines.append(
                f"* Python loop's own cost per iteration ≤ SciPy's wrapper's, {n}-D: "
                f"{_us(p)} against {_us(s)} µs/iter (× {p / s:.2f}) — {verdict(p <= s)}"
            )
    if len(lines) == 2:
        lines.append("(no contenders to compare)")
    return lines


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dims", type=int, nargs="+", default=list(DIMS), help="n (2 100 1000)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (7)")
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, help="a subset of contenders")
    parser.add_argument("--blas-threads", type=int, default=1, help="0: do not limit (1)")
    parser.add_argument("--out", type=Path, help="results file (default results/lbfgs-<date>.txt)")
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument(
        "--interleave",
        choices=("blocks", "runs"),
        default="blocks",
        help="rounds of back-to-back runs per job (blocks, default) or every run interleaved",
    )
    parser.add_argument("--smoke", "--quick", action="store_true", help="n = 2, 1 round")
    args = parser.parse_args(argv)
    dims, rounds, repeat_s = args.dims, args.rounds, REPEAT_S
    if args.smoke:
        dims, rounds, repeat_s = [2], 1, 0.0
    if rounds < 1 or min(dims) < 2 or any(n % 2 for n in dims):
        parser.error("--rounds must be >= 1 and every n even and >= 2")
    blas_threads = args.blas_threads or None
    names = args.only or CONTENDERS
    args_given = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "benchmarks/lbfgs.py", *args_given])
    lines = header("benchmarks/lbfgs.py", blas_threads, command)
    print("\n".join(lines), flush=True)
    results = []
    with blas_limit(blas_threads):
        for n in dims:
            result = measure(n, rounds, names, repeat_s, args.interleave)
            results.append(result)
            part = ["", *table(result)]
            print("\n".join(part), flush=True)
            lines += part
    part = ["", *targets(results)]
    print("\n".join(part))
    lines += part
    write_results(lines, "lbfgs", args.out, args.smoke)
    record = {"header": lines[:3], "results": results}
    if args.json is not None:
        args.json.write_text(json.dumps(record, indent=1))
    return record


if __name__ == "__main__":
    main()
