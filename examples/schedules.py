"""Every learning-rate schedule in numopt.schedules
================================================

A schedule maps the 0-based update count to a learning rate; ``minimize`` calls it
once per update.  This script builds one of each (with the PyTorch / optax /
Keras name it mirrors in the panel's title), draws their curves over 300 steps in a
grid of small panels, and checks that ``numopt.minimize`` really used those rates:
each schedule drives a short run with ``options={"history": True}`` and the recorded
``history["learning_rate"]`` must equal ``[schedule(s) for s in range(steps)]``.

The last panel is :class:`~numopt.schedules.ReduceLROnPlateau`, which watches a
loss instead of the step: it is fed, once per epoch, a synthetic training loss
that (as SGD's does) stalls at a noise floor proportional to the learning rate,
so each reduction lets the loss drop to a lower floor.

Written: ``schedules.png``.

Run: ``python examples/schedules.py [--out DIR] [--smoke]`` (figures go to
``examples/out/schedules/`` by default; ``--smoke`` checks 40 steps per schedule).
Needs matplotlib (``pip install -e '.[examples]'``).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import _cli  # examples/_cli.py: the scripts' shared command line
import numpy as np

import numopt
from numopt import schedules as S

# %%
# The schedules
# -------------
#
# One panel per schedule function, a second or third curve showing other
# settings; ``triangular`` shows that any function of the step can be made a
# schedule with ``from_callable``.


STEPS = 300
LR = 0.1


def triangular(step: int) -> float:
    """A triangular cyclical rate (Smith, 2017) between 0.01 and 0.1, period 100."""
    phase = (step % 100) / 100
    return 0.01 + 0.09 * (1 - abs(2 * phase - 1))


#: title -> {label: schedule}; the first label of a panel is its main curve.
PANELS: dict[str, dict[str, S.Schedule]] = {
    "constant": {"constant(0.1)": S.constant(LR)},
    "step_decay  (torch StepLR)": {"step_size=75, gamma=0.5": S.step_decay(LR, 75, 0.5)},
    "multi_step  (torch MultiStepLR)": {
        "milestones=[100, 200, 250], gamma=0.3": S.multi_step(LR, [100, 200, 250], 0.3)
    },
    "exponential  (optax exponential_decay)": {
        "rate 0.5 per 60 steps": S.exponential(LR, 0.5, 60),
        "staircase=True": S.exponential(LR, 0.5, 60, staircase=True),
    },
    "inverse_time  (Keras InverseTimeDecay)": {
        "rate 1 per 30 steps": S.inverse_time(LR, 1.0, 30),
        "staircase=True": S.inverse_time(LR, 1.0, 30, staircase=True),
    },
    "polynomial  (optax polynomial_schedule)": {
        f"power={p}": S.polynomial(LR, 0.001, p, 250) for p in (2.0, 1.0, 0.5)
    },
    "cosine_annealing  (optax cosine_decay)": {
        "decay_steps=300, alpha=0.05": S.cosine_annealing(LR, 300, alpha=0.05)
    },
    "cosine_warm_restarts  (torch SGDR)": {
        "first_period=40, period_mult=2": S.cosine_warm_restarts(LR, 40, 2, eta_min=0.005),
        "period_mult=1": S.cosine_warm_restarts(LR, 40, 1, eta_min=0.005),
    },
    "warmup(cosine_annealing)": {
        "30 warm-up steps from 0": S.warmup(S.cosine_annealing(LR, 270), warmup_steps=30),
        "from start_value=0.05": S.warmup(S.cosine_annealing(LR, 270), 30, start_value=0.05),
    },
    "one_cycle  (torch OneCycleLR)": {
        "anneal='cos'": S.one_cycle(LR, total_steps=300),
        "anneal='linear'": S.one_cycle(LR, total_steps=300, anneal="linear"),
    },
    "piecewise_constant": {
        "[50, 150, 250] → [.02, .1, .03, .005]": S.piecewise_constant(
            [50, 150, 250], [0.02, 0.1, 0.03, 0.005]
        )
    },
    "join  (optax join_schedules)": {
        "linear ramp, constant, exponential": S.join(
            [S.polynomial(0.01, LR, 1.0, 50), LR, S.exponential(LR, 0.5, 40)], [50, 150]
        )
    },
    "from_callable  (any fn(step))": {"triangular cycle": S.from_callable(triangular)},
}


# %%
# Checking the rates minimize used
# --------------------------------
#
# Each schedule drives ``method="momentum"`` on ``0.5 * x @ x`` for ``steps``
# updates with ``gtol=0``: the learning rates recorded in
# ``res.history["learning_rate"]`` must be exactly the schedule's.


def check_with_minimize(steps: int) -> list[str]:
    """Run minimize with every schedule; the rates it used must be the schedule's."""
    errors = []
    for panel in PANELS.values():
        for label, schedule in panel.items():
            res = numopt.minimize(
                lambda x: (0.5 * float(x @ x), x.copy()),
                np.ones(3),
                jac=True,
                method="momentum",
                options={"learning_rate": schedule, "maxiter": steps, "gtol": 0.0, "history": True},
            )
            used = res.history["learning_rate"]
            want = np.array([schedule(s) for s in range(steps)])
            if res.nit != steps or not np.array_equal(used, want):
                errors.append(f"{schedule!r} ({label}): minimize used other rates")
    n = sum(len(p) for p in PANELS.values())
    print(f"minimize used exactly the schedule's rate at each of {steps} steps: {n} schedules")
    return errors


# %%
# ReduceLROnPlateau
# -----------------
#
# Fed a synthetic loss once per epoch, which closes 30 % of its gap to a floor of
# ``0.02 + 3 * lr`` per epoch, with 2 % multiplicative noise.


def plateau_run(epochs: int, seed: int = 0) -> dict[str, np.ndarray]:
    """ReduceLROnPlateau fed a synthetic epoch loss whose floor is proportional to lr."""
    schedule = S.ReduceLROnPlateau(LR, factor=0.5, patience=5, threshold=0.01, cooldown=2)
    rng = np.random.default_rng(seed)
    loss, losses, lrs = 2.0, [], []
    for _ in range(epochs):
        lr = schedule(0)  # the rate this epoch trains with (the step does not matter)
        floor = 0.02 + 3.0 * lr  # SGD's noise floor grows with the rate
        loss = floor + (loss - floor) * 0.7
        observed = loss * math.exp(0.02 * rng.standard_normal())
        schedule.update(observed)
        losses.append(observed)
        lrs.append(lr)
    return {"loss": np.array(losses), "lr": np.array(lrs), "state": schedule.state_dict()}


# %%
# The figure
# ----------
#
# ``schedules.png``, written into ``--out`` by ``_cli.save``.


def plot(plateau: dict, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(16, 13), layout="constrained")
    grid = fig.add_gridspec(4, 4)
    steps = np.arange(STEPS)
    for k, (title, curves) in enumerate(PANELS.items()):
        ax = fig.add_subplot(grid[k // 4, k % 4])
        for i, (label, schedule) in enumerate(curves.items()):
            style = {"lw": 2.0} if i == 0 else {"lw": 1.2, "ls": "--"}
            ax.plot(steps, [schedule(int(s)) for s in steps], label=label, **style)
        ax.set_title(title, fontsize="medium")
        ax.set_ylim(0, LR * 1.12)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small", loc="upper right", framealpha=0.95)
        if k % 4 == 0:
            ax.set_ylabel("learning rate")
        ax.set_xlabel("step (0-based update count)", fontsize="small")

    ax = fig.add_subplot(grid[3, 1:])
    epochs = np.arange(1, len(plateau["loss"]) + 1)
    ax.plot(epochs, plateau["loss"], color="tab:gray", lw=1.5, label="synthetic epoch loss")
    ax.set(yscale="log", xlabel="epoch", ylabel="loss (log scale)")
    cuts = epochs[1:][np.diff(plateau["lr"]) < 0]
    for i, e in enumerate(cuts):
        ax.axvline(e, color="tab:red", lw=0.8, ls=":", label="reduction" if i == 0 else None)
    lr_ax = ax.twinx()
    lr_ax.step(epochs, plateau["lr"], where="post", color="tab:blue", lw=2, label="learning rate")
    lr_ax.set(yscale="log", ylabel="learning rate (log scale)")
    lr_ax.yaxis.label.set_color("tab:blue")
    lines = ax.get_legend_handles_labels()
    more = lr_ax.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize="small", loc="lower left")
    ax.set_title(
        "ReduceLROnPlateau(0.1, factor=0.5, patience=5, threshold=0.01, cooldown=2), "
        "updated once per epoch with a loss whose floor is ∝ lr",
        fontsize="medium",
    )
    ax.grid(True, alpha=0.3)
    fig.suptitle("numopt.schedules: learning rate against the step", fontsize="x-large")
    return _cli.save(fig, out / "schedules.png", dpi=100)


# %%
# Running the script
# ------------------
#
# Prints each panel's main schedule with its rates at steps 0, 50, 150 and 299,
# checks 300 steps per schedule (40 with ``--smoke``) and runs ReduceLROnPlateau
# for 100 epochs; it fails (exit status 1) if ``minimize`` used other rates or the
# rate was not reduced at least twice.


def main(argv: list[str] | None = None) -> int:
    parser = _cli.parser(__doc__, "schedules", "check 40 steps per schedule")
    args = parser.parse_args(argv)
    if not _cli.has_matplotlib():
        return 1
    for panel in PANELS.values():
        schedule = next(iter(panel.values()))
        values = ", ".join(f"{schedule(s):.4g}" for s in (0, 50, 150, 299))
        print(f"{schedule!r}\n    steps 0, 50, 150, 299: {values}")
    errors = check_with_minimize(40 if args.smoke else STEPS)
    plateau = plateau_run(100)
    cuts = np.flatnonzero(np.diff(plateau["lr"]) < 0) + 2  # 1-based epochs
    print(
        f"ReduceLROnPlateau: reduced the rate before epochs {cuts.tolist()}, down to "
        f"{plateau['lr'][-1]:.3g}; final state {plateau['state']}"
    )
    if len(cuts) < 2:
        errors.append("ReduceLROnPlateau never reduced the rate twice")
    args.out.mkdir(parents=True, exist_ok=True)
    print("wrote", plot(plateau, args.out))
    for error in errors:
        print("FAILED:", error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    _cli.finish(main())
