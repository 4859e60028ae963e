"""Adam + L2 (coupled) vs AdamW (decoupled): who actually gets decayed?
====================================================================

The rules (see ``numopt.rules.adam``): with L2 regularisation in Adam the decay
term ``λθ`` is added to the gradient, flows into ``m`` and ``v``, and is divided by
``sqrt(v̂)``: parameters whose gradient is noisy are barely decayed.  AdamW
subtracts ``ηλθ`` outside the adaptive step, so every parameter decays at the
same rate ``ηλ`` per step, whatever its gradient.

The problem that exposes it: 3 groups of 100 parameters, all starting at 1.  The
loss carries no signal at all, only noise: each step sees the random linear loss
``f(θ) = Σ_j σ_j ξ_j θ_j`` with fresh ``ξ ~ N(0, 1)``, so the expected gradient is
zero everywhere and weight decay alone should pull every parameter to 0.  The
groups differ only in their gradient noise ``σ``: 0.01 ("quiet"), 1 and 100
("noisy").  ``numopt.minimize`` runs Adam with ``weight_decay=λ`` (L2) and AdamW
with the same ``λ``, on the same noise (the same seeded generator).

Expected, and printed at the end (the fraction of ``|θ|`` left per group and the
ratio of the decays, in e-folds, of the noisy and the quiet groups):

* AdamW: the three groups decay alike, as ``(1 - ηλ)^t`` (the ratio is ~1);
* Adam + L2: the quiet group is decayed hard (its gradient is mostly λθ, which
  Adam normalises to a step of up to η, more than AdamW's ηλθ), the noisy one
  hardly at all (its decay is about ηλθ/σ per step): the ratio is ~0.

Written: ``decay.png`` (mean ``|θ|`` per group over the iterations, for both rules, and
the fraction left at the end).  Noise makes each ``|θ|`` jitter (Adam's normalised
steps random-walk at ~η per step); the bands show the 10–90 % range of each group.

Run: ``python examples/adam_l2_vs_adamw.py [--out DIR] [--smoke]`` (figures go to
``examples/out/adam_l2_vs_adamw/`` by default).  Needs matplotlib
(``pip install -e '.[examples]'``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import _cli  # examples/_cli.py: the scripts' shared command line
import numpy as np

import numopt

# %%
# The problem
# -----------
#
# Three groups of ``PER_GROUP`` parameters that differ only in their gradient noise
# σ; η = 1e-3 (Adam's default) and λ = 1, so that AdamW shrinks every parameter by
# a fraction ηλ = 1e-3 per step.  ``noisy_linear_loss`` draws one noisy loss and its
# gradient per call.


GROUPS = {"quiet (σ = 0.01)": 0.01, "medium (σ = 1)": 1.0, "noisy (σ = 100)": 100.0}
PER_GROUP = 100
LEARNING_RATE = 1e-3  # Adam's default
WEIGHT_DECAY = 1.0  # ηλ = 1e-3 per step: e^-3 of |θ| left after 3000 steps
SEED = 0


def noisy_linear_loss(theta, sigma, rng):
    """One draw of f(θ) = Σ σ_j ξ_j θ_j, ξ ~ N(0, 1): zero-mean gradient σ ξ."""
    g = sigma * rng.standard_normal(theta.shape)
    return float(g @ theta), g


# %%
# Running each rule
# -----------------
#
# ``run`` minimises with ``method="adam"`` (L2 decay) or ``"adamw"`` (decoupled),
# with the same λ and the same seeded noise; the callback keeps the 10th percentile,
# the mean and the 90th percentile of ``|θ|`` per group after every step, and
# ``gtol=0`` lets no run stop early.  ``report`` prints what is left of each group
# and the ratio of the decays (in e-folds) of the noisy and the quiet group.


def run(method: str, steps: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """|θ| statistics per group and iteration: {group: (steps + 1, 3) [p10, mean, p90]}."""
    sigma = np.repeat(list(GROUPS.values()), PER_GROUP)
    stats = []

    def summarise(theta):
        a = np.abs(theta).reshape(len(GROUPS), PER_GROUP)  # one row per group
        p10, p90 = np.percentile(a, [10, 90], axis=1)
        stats.append(np.stack([p10, a.mean(axis=1), p90], axis=1))

    def record(intermediate_result):
        summarise(intermediate_result.x)

    x0 = np.ones(sigma.size)
    summarise(x0)
    res = numopt.minimize(
        noisy_linear_loss,
        x0,
        args=(sigma, np.random.default_rng(SEED)),  # no batch_size: args pass through
        jac=True,
        method=method,
        callback=record,
        options={
            "learning_rate": LEARNING_RATE,
            "weight_decay": WEIGHT_DECAY,
            "maxiter": steps,
            "gtol": 0.0,  # the gradient is pure noise: never "converged"
        },
    )
    assert res.nit == steps, res.message
    s = np.array(stats)  # (steps + 1, groups, 3)
    return {name: s[:, k, :] for k, name in enumerate(GROUPS)}, res.x


def report(results: dict) -> dict[str, float]:
    """Print the fraction of mean |θ| left per group and the decay ratios; return them."""
    names = list(GROUPS)
    ratios = {}
    for label, curves in results.items():
        left = {g: curves[g][-1, 1] / curves[g][0, 1] for g in names}
        cells = "  ".join(f"{g}: {left[g]:.3g}" for g in names)
        efolds = {g: -np.log(left[g]) for g in names}
        ratios[label] = efolds[names[-1]] / efolds[names[0]]
        print(f"{label:>22}: fraction of |θ| left  {cells}")
        print(
            f"{'':>22}  decay of the noisy group / decay of the quiet group "
            f"(e-folds {efolds[names[-1]]:.3f} / {efolds[names[0]]:.3f}) = {ratios[label]:.3f}"
        )
    return ratios


# %%
# The figure
# ----------
#
# ``decay.png``, written into ``--out`` by ``_cli.save``.


def plot(results: dict, steps: int, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained")
    t = np.arange(steps + 1)
    colors = ["tab:blue", "tab:orange", "tab:red"]
    for ax, (label, curves) in zip(axes[:2], results.items(), strict=True):
        for (name, c), color in zip(curves.items(), colors, strict=True):
            ax.fill_between(t, c[:, 0], c[:, 2], color=color, alpha=0.2, lw=0)
            ax.plot(t, c[:, 1], color=color, lw=1.8, label=name)
        ax.plot(
            t,
            (1 - LEARNING_RATE * WEIGHT_DECAY) ** t,
            "k--",
            lw=1.2,
            label="(1 - ηλ)^t: decay ηλ per step",
        )
        ax.set(yscale="log", ylim=(1e-4, 2), xlabel="iteration", ylabel="mean |θ| in the group")
        ax.set_title(label)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small", loc="lower left")
    ax = axes[2]
    width = 0.38
    x = np.arange(len(GROUPS))
    for k, (label, curves) in enumerate(results.items()):
        left = [c[-1, 1] / c[0, 1] for c in curves.values()]
        bars = ax.bar(x + (k - 0.5) * width, left, width, label=label, color=f"C{k + 4}")
        ax.bar_label(bars, fmt="%.2g", fontsize="small")
    ax.set_xticks(x, list(GROUPS))
    ax.set(yscale="log", ylim=(1e-4, 3), ylabel=f"mean |θ| left after {steps} steps")
    ax.set_title("What the decay left, per group")
    ax.legend(fontsize="small", loc="upper left")
    fig.suptitle(
        f"Zero-mean noisy gradients, weight decay λ = {WEIGHT_DECAY}, η = {LEARNING_RATE}: "
        "Adam's L2 decay is divided by sqrt(v̂), AdamW's is not"
    )
    return _cli.save(fig, out / "decay.png")


# %%
# Running the script
# ------------------
#
# 3000 steps per rule (300 with ``--smoke``).  A full run fails (exit status 1)
# unless the ratio is below 0.05 for Adam + L2 and between 0.7 and 1.4 for AdamW.


def main(argv: list[str] | None = None) -> int:
    parser = _cli.parser(__doc__, "adam_l2_vs_adamw", "a quick run (300 steps)")
    args = parser.parse_args(argv)
    if not _cli.has_matplotlib():
        return 1
    steps = 300 if args.smoke else 3000
    results, finals = {}, {}
    for label, method in [("Adam + L2 (coupled)", "adam"), ("AdamW (decoupled)", "adamw")]:
        results[label], finals[label] = run(method, steps)
    ratios = report(results)
    args.out.mkdir(parents=True, exist_ok=True)
    print("wrote", plot(results, steps, args.out))

    errors = [f"{k}: non-finite parameters" for k, v in finals.items() if not np.isfinite(v).all()]
    adam, adamw = ratios["Adam + L2 (coupled)"], ratios["AdamW (decoupled)"]
    if not args.smoke and not (adam < 0.05 and 0.7 < adamw < 1.4):
        errors.append(f"the effect did not show: ratios {adam:.3f} (Adam+L2), {adamw:.3f} (AdamW)")
    for error in errors:
        print("FAILED:", error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    _cli.finish(main())
