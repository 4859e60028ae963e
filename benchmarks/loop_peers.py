"""Whole optimisation loops on the Rosenbrock function: numopt next to torch.optim and optax.

For cheap objectives the cost of a run is the loop's per-iteration overhead, not
the arithmetic.  This script runs Adam (η = 1e-3, β = (0.9, 0.999), ε = 1e-8) on
SciPy's N-D Rosenbrock function from ``(-1.2, 1, -1.2, 1, ...)`` for a fixed
number of steps (10**5), float64 everywhere (JAX with ``jax_enable_x64``), the loss
recorded at every step, and times, in one process, round-robin:

``torch autograd``
    ``torch.optim.Adam`` in a Python loop: ``zero_grad``, loss, ``backward``,
    ``step``, ``losses[i] = f.item()`` (float64 tensors; torch's default CPU
    implementation, single-tensor).
``torch analytic``
    the same loop with the gradient written out in torch operations (no
    autograd): ``x.grad = rosen_der(x)`` under ``torch.no_grad()``.
``optax scan``
    ``optax.adam`` inside ``jax.lax.scan`` with ``jax.value_and_grad``, jitted
    (compiled ahead of time; the scan returns the per-step losses).  The best
    peer: the whole loop is one XLA program.
``optax jit step``
    one jitted step (``value_and_grad`` + ``update`` + ``apply_updates``) called
    from a Python loop; it writes the loss into a device buffer,
    ``losses.at[i].set(f)``, with parameters, state, buffer and counter donated
    (in place).  The fastest way found to keep the losses: ``float(f)`` per step
    cost ~1.7× and a list of device scalars converted at the end more still.
``numopt compiled``
    ``numopt.minimize(rosen_nb, x0, jac=rosen_der_nb, method="adam",
    options={..., "compiled": True, "history": True})``: the compiled loop for
    Numba objectives (issue 12; reported "not available" until the option
    exists).
``numopt compiled inplace``
    the same with the allocation-free objective: ``numopt.minimize(rosen_fg_inplace,
    x0, jac="inplace", ...)`` (the gradient written into numopt's buffer).
``numopt python``
    the same call with the Python loop (``compiled=False``, or no such option yet).
``numba loop``
    the floor: a hand-written ``@njit`` Adam loop on the in-place objective
    ``rosen_fg_inplace``, arrays preallocated, numopt's arithmetic (the bias
    corrections ``1 - β^t`` by ``pow``, as numopt computes them).
``numba loop folded``
    the same loop with the per-step factors folded out of the element loop, as
    torch does (``η/(1 - β1^t)`` and ``1/sqrt(1 - β2^t)`` once per step, ``β^t`` a
    running product): one division per element instead of three.
``numba 2-D scalars``, ``numba 2-D scalars folded``
    (2-D only) the two loops written out for two variables in scalars: no
    arrays in the loop — what a loop specialised to the size reaches.

Every contender is built and compiled (or warmed) first; then each round times
whole runs of every contender in turn — one each in the first round; from then
on a contender whose run is short repeats, interleaved with the others, for
about 0.25 s per round (at most 20 runs) — and the table shows the median and
the minimum time per iteration in ns over all runs, and ratios of medians to
``optax scan`` (time / its time) and to ``torch autograd`` (its time / time: how
many times faster).

All run the same algorithm from the same point, but rounding differs (optax
computes ``x + (-η)·m̂/(√v̂ + ε)``, numopt ``x − η·m̂/(√v̂ + ε)``) and once Adam
hovers near the minimum the trajectories drift apart.  So the table shows each
final loss, the step up to which a contender's tracked losses equal optax
scan's to 1e-9 relative, and the largest relative difference of the final ``x``
from optax scan's; the script warns when losses differ within the first 1000
steps or when final losses differ by more than 1e-6·f(x0).

JAX's compile time is measured ahead of time (``jit(...).lower(x).compile()``:
tracing and lowering, then XLA's compile) and as a fresh jitted function's
first call minus the steady time.  ``--latency`` measures first calls in fresh
interpreters instead: numopt and the Numba loop with an empty ``NUMBA_CACHE_DIR``
(cold) and again with the cache it filled (warm); the optax scan with an empty
and then a filled JAX persistent compilation cache.

Usage::

    python benchmarks/loop_peers.py                     # 10**5 steps, 2-D and 100-D, 3 rounds
    python benchmarks/loop_peers.py --dims 2 --steps 1e4 --rounds 5 --json out.json
    python benchmarks/loop_peers.py --latency           # first-call times, cold and warm cache
    python benchmarks/loop_peers.py --latency --method l-bfgs-b --dims 2  # L-BFGS-B's
    python benchmarks/loop_peers.py --latency --method l-bfgs-b --dims 2 --box  # with bounds
    python benchmarks/loop_peers.py --smoke             # seconds: the tests' quick run

Peers come with the ``peers`` extra (``pip install -e ".[peers]"``: torch, jax,
optax); a contender whose package is missing is reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numba import njit

import numopt

if __package__:
    from ._numba_objectives import rosen_der_nb, rosen_fg_inplace, rosen_nb
    from .machine import header as machine_header
else:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks._numba_objectives import rosen_der_nb, rosen_fg_inplace, rosen_nb
    from benchmarks.machine import header as machine_header

#: Adam's hyperparameters, the same for every contender.
LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8
#: Contenders in table order; ratios are taken to REFERENCE and (speed-up) to SLOW.
CONTENDERS = (
    "numopt compiled",
    "numopt compiled inplace",
    "numba loop",
    "numba loop folded",
    "numba 2-D scalars",
    "numba 2-D scalars folded",
    "optax scan",
    "optax jit step",
    "numopt python",
    "torch analytic",
    "torch autograd",
)
REFERENCE, SLOW = "optax scan", "torch autograd"
#: After the first round, a contender whose run takes less than REPEAT_S seconds runs
#: (up to MAX_REPEATS times) that long per round, interleaved with the others.
REPEAT_S, MAX_REPEATS = 0.25, 20
#: Tracked losses "agree" with optax scan's while within this relative tolerance.
AGREE_RTOL = 1e-9
#: Final losses "agree" when they differ by less than this fraction of f(x0).
FINAL_ATOL = 1e-6

#: A run: ``() -> (final x, per-step losses)``, both NumPy float64 arrays.
Runner = Callable[[], tuple[np.ndarray, np.ndarray]]


class Unavailable(Exception):
    """A contender cannot run here (package missing, option not implemented)."""


def rosenbrock_x0(n: int) -> np.ndarray:
    """The classic start ``(-1.2, 1, -1.2, 1, ...)``."""
    x0 = np.full(n, -1.2)
    x0[1::2] = 1.0
    return x0


# -- the hand-written floor -----------------------------------------------------------------
@njit(cache=True)
def adam_rosen_loop(x, steps, lr, beta1, beta2, eps, losses, folded):  # pragma: no cover
    """``steps`` Adam updates of ``x`` in place on Rosenbrock; ``losses[t]`` = f before each.

    ``folded=False``: numopt's arithmetic, the same bits as ``numopt.minimize``:
    ``x -= η (m / c1) / (sqrt(v / c2) + ε)`` with ``c = 1 - β^t`` by ``pow`` in
    float64, as numopt's host code computes them.

    ``folded=True``: the per-step factors folded out of the element loop, as
    torch computes them: ``a = η / c1`` and ``s = 1 / sqrt(c2)`` once per step
    (``β^t`` as a running product), then ``x -= a m / (sqrt(v) s + ε)``: one
    division per element instead of three, the same algorithm, other rounding.
    """
    n = x.size
    g = np.empty(n)
    m = np.zeros(n)
    v = np.zeros(n)
    p1 = p2 = 1.0
    for t in range(1, steps + 1):
        losses[t - 1] = rosen_fg_inplace(x, g)
        if folded:
            p1 *= beta1
            p2 *= beta2
            a = lr / (1.0 - p1)
            s = 1.0 / math.sqrt(1.0 - p2)
            for i in range(n):
                gi = g[i]
                mi = beta1 * m[i] + (1.0 - beta1) * gi
                vi = beta2 * v[i] + (1.0 - beta2) * (gi * gi)
                m[i] = mi
                v[i] = vi
                x[i] = x[i] - a * mi / (math.sqrt(vi) * s + eps)
        else:
            c1 = 1.0 - beta1 ** float(t)
            c2 = 1.0 - beta2 ** float(t)
            for i in range(n):
                gi = g[i]
                mi = beta1 * m[i] + (1.0 - beta1) * gi
                vi = beta2 * v[i] + (1.0 - beta2) * (gi * gi)
                m[i] = mi
                v[i] = vi
                x[i] = x[i] - lr * (mi / c1) / (math.sqrt(vi / c2) + eps)


@njit(cache=True)
def adam_rosen2_scalars(x, steps, lr, beta1, beta2, eps, losses, folded):  # pragma: no cover
    """:func:`adam_rosen_loop` written out for 2-D in scalars (``folded`` as there).

    No arrays inside the loop: x, g, m, v live in registers, and the objective is
    inlined.  What a loop specialised to the problem's size reaches.
    """
    x0, x1 = x[0], x[1]
    m0 = m1 = v0 = v1 = 0.0
    p1 = p2 = 1.0
    for t in range(1, steps + 1):
        a = x1 - x0 * x0
        b = 1.0 - x0
        losses[t - 1] = 100.0 * a * a + b * b
        g0 = -400.0 * x0 * a - 2.0 * b
        g1 = 200.0 * a
        m0 = beta1 * m0 + (1.0 - beta1) * g0
        v0 = beta2 * v0 + (1.0 - beta2) * (g0 * g0)
        m1 = beta1 * m1 + (1.0 - beta1) * g1
        v1 = beta2 * v1 + (1.0 - beta2) * (g1 * g1)
        if folded:
            p1 *= beta1
            p2 *= beta2
            f1 = lr / (1.0 - p1)
            s2 = 1.0 / math.sqrt(1.0 - p2)
            x0 = x0 - f1 * m0 / (math.sqrt(v0) * s2 + eps)
            x1 = x1 - f1 * m1 / (math.sqrt(v1) * s2 + eps)
        else:
            c1 = 1.0 - beta1 ** float(t)
            c2 = 1.0 - beta2 ** float(t)
            x0 = x0 - lr * (m0 / c1) / (math.sqrt(v0 / c2) + eps)
            x1 = x1 - lr * (m1 / c1) / (math.sqrt(v1 / c2) + eps)
    x[0], x[1] = x0, x1


def numba_loop(x0: np.ndarray, steps: int, variant: str = "numopt") -> Runner:
    """The hand-written loop: ``variant`` "numopt" or "folded", "scalars[ folded]" (2-D)."""
    folded = variant.endswith("folded")
    if variant.startswith("scalars"):
        if x0.size != 2:
            raise Unavailable("the scalar loop is written for 2-D only")

        def loop(x, n, losses):
            adam_rosen2_scalars(x, n, LR, BETA1, BETA2, EPS, losses, folded)

    else:

        def loop(x, n, losses):
            adam_rosen_loop(x, n, LR, BETA1, BETA2, EPS, losses, folded)

    loop(x0.copy(), 1, np.empty(1))  # compile / load

    def run():
        x, losses = x0.copy(), np.empty(steps)
        loop(x, steps, losses)
        return x, losses

    return run


# -- numopt -----------------------------------------------------------------------------------
def _numopt_options(steps: int, compiled: bool | None) -> dict:
    options = {"learning_rate": LR, "beta1": BETA1, "beta2": BETA2, "eps": EPS}
    options.update({"maxiter": steps, "gtol": 0, "history": True})
    if compiled is not None:
        options["compiled"] = compiled
    return options


def compiled_status() -> str | None:
    """None when ``minimize`` takes ``options={"compiled": True}``, else why not."""
    try:
        numopt.minimize(
            rosen_nb,
            rosenbrock_x0(2),
            jac=rosen_der_nb,
            method="adam",
            options=_numopt_options(2, True),
        )
    except ValueError as exc:
        if "compiled" in str(exc):
            return "not available"
        return f"failed: {type(exc).__name__}: {exc}"
    except Exception as exc:  # an implementation in progress: report, go on
        return f"failed: {type(exc).__name__}: {exc}"
    return None


def numopt_minimize(
    x0: np.ndarray, steps: int, compiled: bool | None, inplace: bool = False
) -> Runner:
    """``minimize``'s run; ``compiled=None``: no ``compiled`` option at all.

    ``inplace``: the allocation-free form ``jac="inplace"`` with ``rosen_fg_inplace``
    (the gradient written into numopt's buffer) instead of ``rosen_der_nb``'s new array.
    """
    options = _numopt_options(steps, compiled)
    fun, jac = (rosen_fg_inplace, "inplace") if inplace else (rosen_nb, rosen_der_nb)

    def run():
        res = numopt.minimize(fun, x0, jac=jac, method="adam", options=options)
        if res.nit != steps:
            raise RuntimeError(f"numopt made {res.nit} updates, not {steps}: {res.message}")
        return np.asarray(res.x), np.asarray(res.history["fun"])[:steps]

    numopt.minimize(fun, x0, jac=jac, method="adam", options=_numopt_options(2, compiled))
    return run


# -- torch ------------------------------------------------------------------------------------
def _torch():
    try:
        import torch
    except ImportError as exc:
        raise Unavailable(f"torch is not installed ({exc})") from None
    return torch


def torch_loop(x0: np.ndarray, steps: int, autograd: bool) -> Runner:
    torch = _torch()

    def rosen(x):
        return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()

    def rosen_der(x):
        xm, xm_m1, xm_p1 = x[1:-1], x[:-2], x[2:]
        der = torch.zeros_like(x)
        der[1:-1] = 200.0 * (xm - xm_m1**2) - 400.0 * (xm_p1 - xm**2) * xm - 2.0 * (1.0 - xm)
        der[0] = -400.0 * x[0] * (x[1] - x[0] ** 2) - 2.0 * (1.0 - x[0])
        der[-1] = 200.0 * (x[-1] - x[-2] ** 2)
        return der

    def run(steps=steps):
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=autograd)
        opt = torch.optim.Adam([x], lr=LR, betas=(BETA1, BETA2), eps=EPS)
        losses = np.empty(steps)
        if autograd:
            for i in range(steps):
                opt.zero_grad()
                f = rosen(x)
                f.backward()
                opt.step()
                losses[i] = f.item()
        else:
            with torch.no_grad():
                for i in range(steps):
                    f = rosen(x)
                    x.grad = rosen_der(x)
                    opt.step()
                    losses[i] = f.item()
        return x.detach().numpy().copy(), losses

    run(10)
    return run


# -- JAX / optax ------------------------------------------------------------------------------
def _jax():
    """jax, jax.numpy and optax, with 64-bit types enabled (before any array is made)."""
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError as exc:
        raise Unavailable(f"jax/optax are not installed ({exc})") from None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp, optax


def _rosen_jax(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def scan_function(steps: int, unroll: int = 1):
    """The jitted whole run ``x0 -> (x, losses)``: optax.adam in ``jax.lax.scan``."""
    jax, _, optax = _jax()
    opt = optax.adam(LR, b1=BETA1, b2=BETA2, eps=EPS)

    def body(carry, _):
        x, state = carry
        f, g = jax.value_and_grad(_rosen_jax)(x)
        updates, state = opt.update(g, state, x)
        return (optax.apply_updates(x, updates), state), f

    def run(x0):
        (x, _), losses = jax.lax.scan(body, (x0, opt.init(x0)), None, length=steps, unroll=unroll)
        return x, losses

    return jax.jit(run)


def optax_scan(x0: np.ndarray, steps: int, info: dict, unroll: int = 1) -> Runner:
    """The scan compiled ahead of time; compile times go into ``info``."""
    jax, jnp, _ = _jax()
    xj = jnp.asarray(x0)
    start = time.perf_counter()
    lowered = scan_function(steps, unroll).lower(xj)
    traced = time.perf_counter()
    compiled = lowered.compile()
    done = time.perf_counter()
    info["trace_lower_s"] = traced - start
    info["compile_s"] = done - traced

    def run():
        x, losses = jax.block_until_ready(compiled(xj))
        return np.asarray(x), np.asarray(losses)

    run()  # the executable's first run is slower than the next ones
    return run


def optax_first_call(x0: np.ndarray, steps: int) -> float:
    """Seconds of a fresh jitted scan's first call (trace, compile, run)."""
    jax, jnp, _ = _jax()
    xj = jnp.asarray(x0)
    fn = scan_function(steps)
    start = time.perf_counter()
    jax.block_until_ready(fn(xj))
    return time.perf_counter() - start


def optax_jit_step(x0: np.ndarray, steps: int) -> Runner:
    """A jitted step in a Python loop; the losses go into a donated device buffer."""
    jax, jnp, optax = _jax()
    opt = optax.adam(LR, b1=BETA1, b2=BETA2, eps=EPS)

    def step(x, state, losses, i):
        f, g = jax.value_and_grad(_rosen_jax)(x)
        updates, state = opt.update(g, state, x)
        return optax.apply_updates(x, updates), state, losses.at[i].set(f), i + 1

    step = jax.jit(step, donate_argnums=(0, 1, 2, 3))

    def run(steps=steps):
        x = jnp.array(x0)  # fresh buffers: they are donated
        state, losses, i = opt.init(x), jnp.zeros(steps), jnp.zeros((), jnp.int32)
        for _ in range(steps):
            x, state, losses, i = step(x, state, losses, i)
        return np.asarray(x), np.asarray(losses)

    run(steps)  # compile for this buffer size
    return run


# -- measurement ------------------------------------------------------------------------------
def build(name: str, x0: np.ndarray, steps: int, compiled: str | None, info: dict) -> Runner:
    """The runner of contender ``name``; raises :class:`Unavailable` when it cannot run."""
    if name == "numopt compiled":
        if compiled is not None:
            raise Unavailable(compiled)
        return numopt_minimize(x0, steps, True)
    if name == "numopt compiled inplace":
        if compiled is not None:
            raise Unavailable(compiled)
        return numopt_minimize(x0, steps, True, inplace=True)
    if name == "numopt python":
        return numopt_minimize(x0, steps, False if compiled is None else None)
    if name == "numba loop":
        return numba_loop(x0, steps)
    if name == "numba loop folded":
        return numba_loop(x0, steps, "folded")
    if name == "numba 2-D scalars":
        return numba_loop(x0, steps, "scalars")
    if name == "numba 2-D scalars folded":
        return numba_loop(x0, steps, "scalars folded")
    if name == "torch autograd":
        return torch_loop(x0, steps, autograd=True)
    if name == "torch analytic":
        return torch_loop(x0, steps, autograd=False)
    if name == "optax scan":
        return optax_scan(x0, steps, info)
    if name == "optax jit step":
        return optax_jit_step(x0, steps)
    raise ValueError(f"unknown contender {name!r}; valid: {CONTENDERS}")


def measure(n: int, steps: int, rounds: int, names, compiled: str | None) -> dict:
    """Median ns per iteration of each contender on the n-D problem, and the agreement checks."""
    x0 = rosenbrock_x0(n)
    runners: dict[str, Runner] = {}
    skipped: dict[str, str] = {}
    jax_info: dict = {}
    for name in names:
        try:
            runners[name] = build(name, x0, steps, compiled, jax_info)
        except Unavailable as exc:
            skipped[name] = str(exc)
        except Exception as exc:  # a broken contender is reported, the others still run
            skipped[name] = f"FAILED: {type(exc).__name__}: {exc}"
    times: dict[str, list[float]] = {name: [] for name in runners}
    outputs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    reps = dict.fromkeys(runners, 1)
    for r in range(rounds):
        for j in range(max(reps.values(), default=0)):
            for name, run in runners.items():
                if j < reps[name]:
                    start = time.perf_counter()
                    outputs[name] = run()
                    times[name].append((time.perf_counter() - start) / steps * 1e9)
        if r == 0:  # from the first round on, short runs repeat (interleaved) in each round
            reps = {
                name: int(np.clip(REPEAT_S / (ts[0] * steps * 1e-9), 1, MAX_REPEATS))
                for name, ts in times.items()
            }
    if "optax scan" in runners:  # a fresh function's first call: trace + compile + run
        steady = float(np.median(times["optax scan"])) * steps * 1e-9
        jax_info["first_call_s"] = optax_first_call(x0, steps)
        jax_info["first_minus_steady_s"] = jax_info["first_call_s"] - steady
    from scipy.optimize import rosen

    f0 = rosen(x0)
    rows = {}
    ref = outputs.get(REFERENCE)
    for name, ts in times.items():
        x, losses = outputs[name]
        row = {
            "ns_per_iter": float(np.median(ts)),
            "ns_per_iter_min": float(np.min(ts)),
            "ns_per_iter_all": ts,
            "final_f": float(rosen(x)),
            "losses_ok": bool(len(losses) == steps and np.isclose(losses[0], f0, rtol=1e-12)),
        }
        if ref is not None and row["losses_ok"]:
            scale = np.maximum(np.abs(ref[0]), 1e-300)
            row["max_rel_dx_vs_scan"] = float(np.max(np.abs(x - ref[0]) / scale))
            apart = np.abs(losses - ref[1]) > AGREE_RTOL * np.abs(ref[1])
            row["agree_steps"] = int(np.argmax(apart)) if apart.any() else steps
        rows[name] = row
    return {
        "n": n,
        "steps": steps,
        "rounds": rounds,
        "f0": float(f0),
        "rows": rows,
        "skipped": skipped,
        **jax_info,
    }


def _fmt_ratio(v: float) -> str:
    if not math.isfinite(v):
        return "—"
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def print_table(result: dict) -> None:
    rows, n, steps = result["rows"], result["n"], result["steps"]
    print(f"\n### {n}-D Rosenbrock, Adam, {steps} steps, {result['rounds']} rounds\n")
    ref = rows.get(REFERENCE, {}).get("ns_per_iter", math.nan)
    slow = rows.get(SLOW, {}).get("ns_per_iter", math.nan)
    print(
        "| contender | runs | ns/iter (median) | (min) | × optax scan (time) "
        "| × faster than torch autograd | final f | losses as scan's to step "
        "| max rel Δx vs scan |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in CONTENDERS:
        if name not in rows:
            continue
        r = rows[name]
        t = r["ns_per_iter"]
        dx = r.get("max_rel_dx_vs_scan", math.nan)
        agree = r.get("agree_steps", "—")
        print(
            f"| {name} | {len(r['ns_per_iter_all'])} | {t:.4g} | {r['ns_per_iter_min']:.4g} "
            f"| {_fmt_ratio(t / ref)} | {_fmt_ratio(slow / t)} "
            f"| {r['final_f']:.3e} | {agree} | {dx:.1e} |"
        )
    for name, why in result["skipped"].items():
        print(f"\n{name}: {why}")
    if "compile_s" in result:
        print(
            f"\noptax scan compile: trace+lower {result['trace_lower_s'] * 1e3:.0f} ms, "
            f"XLA compile {result['compile_s'] * 1e3:.0f} ms; a fresh jit's first call "
            f"{result['first_call_s'] * 1e3:.0f} ms = steady + "
            f"{result['first_minus_steady_s'] * 1e3:.0f} ms"
        )
    bad = [k for k, r in rows.items() if not r["losses_ok"]]
    finals = [r["final_f"] for r in rows.values()]
    f0 = result["f0"]
    spread = (max(finals) - min(finals)) / f0 if finals else 0.0
    print(
        f"\nfinal losses: max difference {spread:.1e} × f(x0) across contenders "
        f"(f(x0) = {f0:.6g}); 'losses as scan's to step': the first step whose tracked loss "
        f"differs from optax scan's by more than {AGREE_RTOL:g} relative"
    )
    if "numopt compiled" in rows and "max_rel_dx_vs_scan" in rows["numopt compiled"]:
        print(
            "numopt compiled vs optax scan: max relative difference of the final x "
            f"{rows['numopt compiled']['max_rel_dx_vs_scan']:.1e}"
        )
    if bad:
        print(f"WARNING: loss histories wrong (length or first value): {bad}")
    if spread > FINAL_ATOL:
        print(f"WARNING: the contenders' final losses differ by more than {FINAL_ATOL:g} × f(x0)")
    early = [k for k, r in rows.items() if r.get("agree_steps", steps) < min(steps, 1000)]
    if early:
        print(f"WARNING: losses differ from optax scan's within the first 1000 steps: {early}")


# -- first-call latency in fresh interpreters -------------------------------------------------
LATENCY_CONTENDERS = ("numopt compiled", "numopt python", "numba loop", "optax scan")


def child(
    name: str, n: int, steps: int, jax_cache: str | None, method: str = "adam", box: bool = False
) -> dict:
    """In a fresh interpreter: import, first call, steady call of one contender."""
    out: dict = {}
    x0 = rosenbrock_x0(n)
    if name.startswith("optax"):
        start = time.perf_counter()
        jax, jnp, _ = _jax()
        if jax_cache:
            jax.config.update("jax_compilation_cache_dir", jax_cache)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
        out["import_peer_s"] = time.perf_counter() - start
        fn, xj = scan_function(steps), jnp.asarray(x0)

        def call():
            jax.block_until_ready(fn(xj))

    elif name == "numba loop":

        def call():
            adam_rosen_loop(x0.copy(), steps, LR, BETA1, BETA2, EPS, np.empty(steps), False)

    else:
        if method == "adam":
            options = _numopt_options(steps, name == "numopt compiled")
        else:  # L-BFGS-B with its defaults, to convergence
            options = {"compiled": name == "numopt compiled"}
        if name == "numopt python" and compiled_status_option_missing():
            del options["compiled"]

        bounds = [BOX] * n if box else None

        def call():
            numopt.minimize(
                rosen_nb, x0, jac=rosen_der_nb, method=method, bounds=bounds, options=options
            )

    for key in ("first_s", "second_s", "third_s"):
        start = time.perf_counter()
        call()
        out[key] = time.perf_counter() - start
    return out


def compiled_status_option_missing() -> bool:
    """Whether ``compiled`` is an unknown option (checked without compiling anything)."""
    try:
        from numopt.front.options import BY_NAME
    except ImportError:  # numopt before the options were declared in numopt.front
        from numopt._minimize import LOOP_OPTIONS as BY_NAME
    return "compiled" not in BY_NAME


#: ``--box``: the bounds on every variable (the minimiser, all ones, is inside).
BOX = (-2.0, 2.0)


def latency(n: int, steps: int, names, method: str = "adam", box: bool = False) -> dict:
    """First-call times of each contender, cold and warm cache, each in a fresh interpreter."""
    results: dict = {}
    script = str(Path(__file__).resolve())
    for name in names:
        if name == "numopt compiled" and compiled_status_option_missing():
            print("numopt compiled: not available")
            continue
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ)
            cmd = [sys.executable, script, "--child", name, "--dims", str(n)]
            cmd += ["--steps", str(steps), "--method", method] + (["--box"] if box else [])
            if name.startswith("optax"):
                cmd += ["--jax-cache", cache]
            else:
                env["NUMBA_CACHE_DIR"] = cache
            for temp in ("cold", "warm"):
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
                if proc.returncode != 0:
                    results[name] = {"error": proc.stderr.strip().splitlines()[-1:]}
                    print(f"{name}: failed: {proc.stderr.strip()[-2000:]}")
                    break
                last_line = proc.stdout.strip().splitlines()[-1]
                results.setdefault(name, {})[temp] = json.loads(last_line)
    run = f"{steps} steps" if method == "adam" else "L-BFGS-B to convergence (its defaults)"
    if box:
        run += f", bounds [{BOX[0]:g}, {BOX[1]:g}] on every variable"
    print(f"\n### First calls in fresh interpreters: {n}-D, {run}\n")
    print(
        "| contender | cache | import jax+optax s | first call s | steady call s "
        "| first − steady s |"
    )
    print("|---|---|---|---|---|---|")
    for name, res in results.items():
        for temp in ("cold", "warm"):
            if temp not in res:
                continue
            r = res[temp]
            steady = min(r["second_s"], r["third_s"])
            imp = f"{r['import_peer_s']:.3f}" if "import_peer_s" in r else "—"
            print(
                f"| {name} | {temp} | {imp} | {r['first_s']:.3f} | {steady:.4f} "
                f"| {r['first_s'] - steady:.3f} |"
            )
    print(
        "\n(cache: numopt and the Numba loop, an empty NUMBA_CACHE_DIR then the one it filled; "
        "optax scan, JAX's persistent compilation cache, empty then filled.)"
    )
    return results


# -- main -------------------------------------------------------------------------------------
def header(argv: list[str] | None = None) -> str:
    """The results' opening lines: script, date, machine, versions and command."""
    args = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "benchmarks/loop_peers.py", *args])
    return "\n".join(machine_header("benchmarks/loop_peers.py", None, command))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=float, default=1e5, help="updates per run (1e5)")
    parser.add_argument("--rounds", type=int, default=3, help="round-robin rounds (3)")
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 100], help="N (2 100)")
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, help="a subset of contenders")
    parser.add_argument("--smoke", action="store_true", help="200 steps, 1 round, 2-D")
    parser.add_argument("--latency", action="store_true", help="first calls, cold/warm cache")
    parser.add_argument(
        "--method",
        choices=("adam", "l-bfgs-b"),
        default="adam",
        help="with --latency: numopt's method (adam; l-bfgs-b: numopt contenders only)",
    )
    parser.add_argument(
        "--box",
        action="store_true",
        help=f"with --latency --method l-bfgs-b: bounds {list(BOX)} on every variable",
    )
    parser.add_argument("--json", help="write the results to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--jax-cache", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    steps, rounds, dims = int(args.steps), args.rounds, args.dims
    if args.smoke:
        steps, rounds, dims = 200, 1, [2]
    if steps < 1 or rounds < 1 or min(dims) < 2:
        parser.error("--steps and --rounds must be >= 1 and every dimension >= 2")
    if args.child:
        result = child(args.child, dims[0], steps, args.jax_cache, args.method, args.box)
        print(json.dumps(result))
        return {}
    names = args.only or CONTENDERS
    print(header(argv))
    out: dict = {"header": header(argv), "steps": steps, "rounds": rounds, "results": []}
    if args.latency:
        chosen = [c for c in LATENCY_CONTENDERS if c in names]
        if args.method != "adam":
            chosen = [c for c in chosen if c.startswith("numopt")]
        out["latency"] = [
            {"n": n, **latency(n, steps, chosen, args.method, args.box)} for n in dims
        ]
    else:
        compiled = compiled_status()
        for n in dims:
            result = measure(n, steps, rounds, names, compiled)
            print_table(result)
            out["results"].append(result)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return out


if __name__ == "__main__":
    main()
