"""Five update rules on the Rosenbrock function
============================================

Runs GD, Momentum, RMSprop, Adam and AdamW on the 2-D Rosenbrock function, from the
classic start (-1.2, 1), through ``numopt.minimize`` (SciPy's ``rosen``/``rosen_der``),
records each path with a ``callback(intermediate_result)`` and each loss curve with
``options={"history": True}``, and draws:

* ``paths.png``: the paths over the log-scaled contours of the function, beside
  the loss per iteration (log scale);
* ``history.png``: loss, gradient norm and learning rate of every run, drawn by
  :func:`numopt.plotting.plot_histories`.

What to look at: every rule first drops into the curved valley, then walks along
it; the diamonds mark where each one is after 1000 iterations.  GD and Momentum
crawl (tens of thousands of steps to reach max|g| <= 1e-6); RMSprop needs a
decaying learning rate (its steps are about η long whatever the gradient, so with a
constant η it keeps hopping around the minimum); Adam converges in about 4000
steps.  AdamW's decoupled weight decay (λ = 0.01) pulls x towards the origin: it
settles at (0.9987, 0.9974), short of (1, 1) by an amount proportional to λ, at a
small non-zero loss.  That is what weight decay does, not a failure to converge.

Run: ``python examples/rosenbrock.py [--out DIR] [--smoke]`` (figures go to
``examples/out/rosenbrock/`` by default; ``--smoke`` runs 200 iterations per rule).
Needs matplotlib (``pip install -e '.[examples]'``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import _cli  # examples/_cli.py: the scripts' shared command line
import numpy as np
from scipy.optimize import OptimizeResult, rosen, rosen_der

import numopt
from numopt import schedules

# %%
# The five runs
# -------------
#
# One ``(method, options)`` pair per update rule, each learning rate chosen to
# converge from ``X0``.  ``run_all`` adds ``gtol=1e-6`` and ``history=True`` to each
# and records the path with the callback.


X0 = (-1.2, 1.0)
OPTIMUM = np.array([1.0, 1.0])

#: name -> (method, options).  Learning rates chosen to converge from X0.
RUNS = {
    "GD": ("gd", {"learning_rate": 1.5e-3, "maxiter": 40_000}),
    "Momentum": ("momentum", {"learning_rate": 2e-4, "beta": 0.9, "maxiter": 40_000}),
    "RMSprop": (
        "rmsprop",
        {
            # halve the rate every 1000 steps: RMSprop's steps are ~η whatever |g|
            "learning_rate": schedules.exponential(1e-2, decay_rate=0.5, transition_steps=1000),
            "maxiter": 40_000,
        },
    ),
    "Adam": ("adam", {"learning_rate": 0.02, "maxiter": 40_000}),
    "AdamW": (
        "adamw",
        {
            # cosine annealing: with a constant η AdamW keeps jumping around its end point
            "learning_rate": schedules.cosine_annealing(0.02, decay_steps=10_000),
            "weight_decay": 0.01,
            "maxiter": 10_000,
        },
    ),
}


def run_all(maxiter: int | None) -> dict[str, tuple[OptimizeResult, np.ndarray]]:
    """Minimise from X0 with each rule; return {name: (result, path)}."""
    out = {}
    for name, (method, options) in RUNS.items():
        options = {**options, "gtol": 1e-6, "history": True}
        if maxiter is not None:
            options["maxiter"] = maxiter
        path = [np.array(X0)]

        def record(intermediate_result, path=path):
            path.append(intermediate_result.x)  # x is a fresh copy: no need to copy it

        res = numopt.minimize(
            rosen, X0, jac=rosen_der, method=method, callback=record, options=options
        )
        out[name] = (res, np.array(path))
        dist = np.max(np.abs(res.x - OPTIMUM))
        print(
            f"{name:>8}: x = [{res.x[0]:.6f}, {res.x[1]:.6f}]  nit = {res.nit:>6}  "
            f"f = {res.fun:.3e}  max|x - x*| = {dist:.1e}  status {res.status}"
        )
    return out


# %%
# What is checked
# ---------------
#
# Every run: finite values, and one callback call and one recorded loss per update.
# A full run also checks that each rule converged as the introduction says (AdamW
# near the minimum, not at it); a ``--smoke`` run of 200 iterations does not.


def check(runs: dict, smoke: bool) -> list[str]:
    """The claims of the docstring; an empty list when they all hold."""
    errors = []
    for name, (res, path) in runs.items():
        if not (np.all(np.isfinite(path)) and np.isfinite(res.fun)):
            errors.append(f"{name}: non-finite values")
        if len(path) != res.nit + 1:
            errors.append(f"{name}: the callback saw {len(path) - 1} updates, nit = {res.nit}")
        if len(res.history["fun"]) != res.nit + 1:
            errors.append(f"{name}: history has {len(res.history['fun'])} losses")
    if smoke:
        return errors
    for name, (res, _) in runs.items():
        dist = np.max(np.abs(res.x - OPTIMUM))
        if name == "AdamW":  # biased towards 0 by the decay, but close
            if not (dist < 0.02 and res.fun < 1e-3):
                errors.append(f"AdamW ended at {res.x}, f = {res.fun}")
        elif not (res.success and dist < 1e-4):
            errors.append(f"{name} did not converge: {res.message} x = {res.x}")
    return errors


# %%
# The figures
# -----------
#
# ``paths.png`` (the paths over the contours, the loss per iteration) and
# ``history.png`` (:func:`numopt.plotting.plot_histories`), both written into
# ``--out`` by ``_cli.save``.


def plot(runs: dict, out: Path, smoke: bool) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    from numopt.plotting import plot_histories

    paths = np.concatenate([p for _, p in runs.values()])
    lo = np.minimum(paths.min(axis=0), [-1.5, -0.5]) - 0.1
    hi = np.maximum(paths.max(axis=0), [1.5, 1.5]) + 0.1
    n = 200 if smoke else 500
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    gz = rosen(np.stack([gx, gy])) + 1e-3  # rosen is vectorised over the leading axis

    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(13, 5.6), layout="constrained")
    levels = np.logspace(-3, np.log10(gz.max()), 30)
    cs = ax.contourf(gx, gy, gz, levels=levels, norm=LogNorm(), cmap="Greys_r", alpha=0.85)
    fig.colorbar(cs, ax=ax, label="f(x, y) + 1e-3 (log scale)", format="%.0e")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    mark = min(1000, min(len(p) for _, p in runs.values()) - 1)
    for k, ((name, (res, path)), color) in enumerate(zip(runs.items(), colors, strict=False)):
        lw = 4.0 - 0.6 * k  # the first runs drawn widest, so that overlaps stay visible
        ax.plot(path[:, 0], path[:, 1], "-", color=color, lw=lw, label=f"{name} ({res.nit} it)")
        ax.plot(*path[mark], "D", color=color, mec="black", ms=10 - k)
        f = res.history["fun"]
        ax_loss.plot(np.arange(len(f)), f, color=color, lw=1.4, label=name)
    ax.plot(*X0, "s", color="white", mec="black", ms=8, label="start (-1.2, 1)")
    ax.plot(*OPTIMUM, "*", color="gold", mec="black", ms=15, label="minimum (1, 1)")
    ax.set(xlabel="x", ylabel="y", xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    ax.plot([], [], "D", color="white", mec="black", label=f"after {mark} iterations")
    ax.set_title("Paths over Rosenbrock's contours")
    ax.legend(loc="lower right", fontsize="small", framealpha=0.9)
    ax_loss.set(xscale="log", yscale="log", xlabel="iteration (log scale)", ylabel="f(x)")
    ax_loss.set_title("Loss per iteration")
    ax_loss.grid(True, which="major", alpha=0.3)
    ax_loss.legend(fontsize="small")
    fig.suptitle("numopt.minimize on the Rosenbrock function from (-1.2, 1)")
    written = [_cli.save(fig, out / "paths.png")]

    fig, axes = plot_histories(
        {name: res for name, (res, _) in runs.items()},
        title="Rosenbrock: every run's history (numopt.plotting.plot_histories)",
        figsize=(15, 4.2),
        lw=1.2,
    )
    for a in axes:
        a.set_xscale("log")
        a.set_xlabel("iteration (log scale)")
    written.append(_cli.save(fig, out / "history.png"))
    return written


# %%
# Running the script
# ------------------
#
# ``main`` reads ``--out`` and ``--smoke``, prints one line per run, writes the
# figures and reports every failed check (the exit status is then 1).


def main(argv: list[str] | None = None) -> int:
    parser = _cli.parser(__doc__, "rosenbrock", "a quick run (200 iterations)")
    args = parser.parse_args(argv)
    if not _cli.has_matplotlib():
        return 1
    runs = run_all(200 if args.smoke else None)
    errors = check(runs, args.smoke)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in plot(runs, args.out, args.smoke):
        print("wrote", path)
    for error in errors:
        print("FAILED:", error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    _cli.finish(main())
