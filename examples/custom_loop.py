"""Custom training loop: stateful optimizer, checkpoints, exact resume
===================================================================

A 2-layer network (1 → 32 tanh → 1) with hand-written backpropagation fits
``y = sin(3x) + noise`` by mini-batch AdamW, PyTorch style::

    opt = numopt.AdamW(learning_rate=schedule, weight_decay=1e-4)
    for step in range(steps):
        loss = forward_backward(params, batch, grads)   # fills the gradient buffer
        opt.step(theta, grad)                           # updates theta in place

All parameters live in one flat buffer ``theta`` (``W1``, ``b1``, ``W2``, ``b2`` are
reshaped views of it) and all gradients in one flat ``grad``: one fused kernel
pass updates the whole network, and the optimizer keeps one state.

Every ``every`` steps (250; 50 with ``--smoke``) the loop saves a checkpoint with
``np.savez``: the parameters, ``opt.state_dict()`` (step count, hyperparameters,
the moment arrays) and the state of the ``numpy.random.Generator`` that draws the
batches.  It is written atomically: to a temporary file in the same folder,
flushed to disk, then ``os.replace``-d over the old checkpoint, so a crash while
saving leaves the previous checkpoint whole.  (The learning-rate schedule is code,
not data: the fresh optimizer is built with the same schedule, and the restored
step count puts it at the right point.)

The script then trains three times:

1. uninterrupted, for reference;
2. with a simulated crash between two checkpoints;
3. resumed from the last checkpoint, into a fresh optimizer, fresh parameters
   and a fresh generator, up to the same final step,

and checks that the resumed run's final parameters equal the uninterrupted
run's bit for bit (exit status 1 if not).  Written: ``training.png``.

Run: ``python examples/custom_loop.py [--out DIR] [--smoke]`` (figures and the
checkpoint go to ``examples/out/custom_loop/`` by default).  Needs matplotlib for
the figure (``pip install -e '.[examples]'``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import _cli  # examples/_cli.py: the scripts' shared command line
import numpy as np

import numopt
from numopt import schedules

HIDDEN = 32
BATCH = 32
SHAPES = {"W1": (1, HIDDEN), "b1": (HIDDEN,), "W2": (HIDDEN, 1), "b2": (1,)}


class Interrupted(Exception):
    """The simulated crash; carries the losses computed before it."""

    def __init__(self, message: str, losses: list[float]) -> None:
        super().__init__(message)
        self.losses = losses


# %%
# The model
# ---------
#
# ``views`` names reshaped views into one flat buffer: ``theta`` holds every
# parameter and ``grad`` every gradient, and ``forward_backward`` writes the
# gradient into the views of ``grad``.  ``make_optimizer`` builds AdamW with 100
# warm-up steps, then cosine annealing.


def views(flat: np.ndarray) -> dict[str, np.ndarray]:
    """Named, reshaped views into one flat buffer (writes go through to it)."""
    out, start = {}, 0
    for name, shape in SHAPES.items():
        size = int(np.prod(shape))
        out[name] = flat[start : start + size].reshape(shape)
        start += size
    return out


N_PARAMS = sum(int(np.prod(s)) for s in SHAPES.values())


def init_theta(seed: int) -> np.ndarray:
    theta = np.zeros(N_PARAMS)
    p, rng = views(theta), np.random.default_rng(seed)
    p["W1"][...] = rng.normal(0.0, 1.0, SHAPES["W1"])
    p["W2"][...] = rng.normal(0.0, 1.0 / np.sqrt(HIDDEN), SHAPES["W2"])
    return theta


def forward(p: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = np.tanh(x @ p["W1"] + p["b1"])
    return h @ p["W2"] + p["b2"], h


def forward_backward(p: dict, x: np.ndarray, y: np.ndarray, g: dict) -> float:
    """Mean squared error of the batch; writes its gradient into the views ``g``."""
    out, h = forward(p, x)
    r = (out - y) / len(y)  # d loss / d out, with loss = sum(r_i²)/2 * len(y)
    g["W2"][...] = h.T @ r
    g["b2"][...] = r.sum(axis=0)
    dz = (r @ p["W2"].T) * (1.0 - h**2)
    g["W1"][...] = x.T @ dz
    g["b1"][...] = dz.sum(axis=0)
    return float(0.5 * np.mean((out - y) ** 2))


def dataset(n: int = 256, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (n, 1))
    return x, np.sin(3.0 * x) + 0.1 * rng.standard_normal((n, 1))


def make_optimizer(total_steps: int) -> numopt.AdamW:
    schedule = schedules.warmup(
        schedules.cosine_annealing(0.02, decay_steps=total_steps - 100, alpha=0.05),
        warmup_steps=100,
    )
    return numopt.AdamW(learning_rate=schedule, weight_decay=1e-4)


# %%
# Checkpoints
# -----------
#
# ``save_checkpoint`` writes the parameters, the optimizer's state and the
# generator's state atomically; ``load_checkpoint`` restores them into a fresh
# optimizer, fresh parameters and a fresh generator.


def save_checkpoint(path: Path, step: int, theta, opt, rng, losses) -> None:
    """Write everything the loop needs to continue exactly, atomically."""
    state = opt.state_dict()
    arrays = state.pop("state", {})  # the moment arrays; the rest is plain data
    meta = {"step": step, "optimizer": state, "rng": rng.bit_generator.state}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                theta=theta,
                losses=np.asarray(losses),
                meta=np.array(json.dumps(meta)),  # JSON: the generator's 128-bit ints fit
                **{f"opt_state.{name}": a for name, a in arrays.items()},
            )
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX and Windows: old file or new, never half
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: Path, total_steps: int):
    """A fresh optimizer, parameters and generator, restored from ``path``."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        theta = z["theta"].copy()
        losses = z["losses"].tolist()
        arrays = {k.split(".", 1)[1]: z[k] for k in z.files if k.startswith("opt_state.")}
    opt = make_optimizer(total_steps)  # same hyperparameters and schedule (code)
    state = meta["optimizer"]
    if arrays:
        state["state"] = arrays
    opt.load_state_dict(state)
    rng = np.random.default_rng()
    rng.bit_generator.state = meta["rng"]
    return meta["step"], theta, opt, rng, losses


# %%
# The loop
# --------
#
# Each step draws a batch, computes its loss and gradient, and calls ``opt.step``;
# a checkpoint is saved every ``every`` steps, and ``crash_at`` raises
# ``Interrupted``, the simulated crash.


def train(
    total_steps: int,
    *,
    checkpoint: Path | None = None,
    every: int = 0,
    crash_at: int | None = None,
    resume: bool = False,
) -> tuple[np.ndarray, list[float]]:
    """Train to ``total_steps``; return the parameters and the loss of every step."""
    x, y = dataset()
    if resume:
        start, theta, opt, rng, losses = load_checkpoint(checkpoint, total_steps)
        print(f"  resumed at step {start} (opt.step_count = {opt.step_count})")
    else:
        start, theta, opt = 0, init_theta(seed=0), make_optimizer(total_steps)
        rng, losses = np.random.default_rng(2), []
    grad = np.zeros_like(theta)
    p, g = views(theta), views(grad)
    for step in range(start, total_steps):
        batch = rng.integers(0, len(x), BATCH)
        losses.append(forward_backward(p, x[batch], y[batch], g))
        opt.step(theta, grad)
        done = step + 1
        if checkpoint is not None and every and done % every == 0:
            save_checkpoint(checkpoint, done, theta, opt, rng, losses)
        if crash_at is not None and done == crash_at:
            raise Interrupted(f"simulated crash after step {done}", losses)
    return theta, losses


# %%
# The figure
# ----------
#
# ``training.png``, written into ``--out`` by ``_cli.save`` (the checkpoint,
# ``checkpoint.npz``, goes there too).


def plot(ref_losses, crashed, resumed_losses, resume_at, crash_at, every, theta, out: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_fit) = plt.subplots(1, 2, figsize=(14, 4.8), layout="constrained")
    window = max(1, len(ref_losses) // 60)

    def smooth(values):  # running mean over the last `window` steps
        c = np.cumsum(np.r_[0.0, values])
        return (c[window:] - c[:-window]) / window

    steps = np.arange(window, len(ref_losses) + 1)
    ax.plot(
        steps, smooth(ref_losses), color="tab:gray", lw=5, alpha=0.45, label="uninterrupted run"
    )
    ax.plot(
        steps[: len(crashed) - window + 1],
        smooth(crashed),
        color="tab:blue",
        lw=1.3,
        label="run that crashed",
    )
    ax.plot(
        steps[resume_at - window + 1 :],
        smooth(resumed_losses)[resume_at - window + 1 :],
        color="tab:orange",
        lw=1.3,
        ls="--",
        label=f"resumed from the checkpoint of step {resume_at}",
    )
    ax.axvspan(resume_at, crash_at, color="tab:orange", alpha=0.12, label="steps done twice")
    for k in range(every, len(ref_losses) + 1, every):
        ax.axvline(k, color="tab:green", lw=0.6, alpha=0.6)
    ax.plot([], [], color="tab:green", lw=0.6, label=f"checkpoint (every {every} steps)")
    ax.axvline(crash_at, color="tab:red", lw=2, label=f"crash after step {crash_at}")
    ax.set(yscale="log", xlabel="step", ylabel=f"mini-batch loss, mean of {window} steps")
    ax.set_title("Training loss: the resumed run retraces the uninterrupted one")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)

    x, y = dataset()
    grid = np.linspace(-1, 1, 200)[:, None]
    ax_fit.plot(x, y, ".", color="tab:gray", ms=4, label="data: sin(3x) + noise")
    ax_fit.plot(grid, np.sin(3 * grid), "k--", lw=1, label="sin(3x)")
    ax_fit.plot(grid, forward(views(theta), grid)[0], color="tab:orange", lw=2, label="network")
    ax_fit.set(xlabel="x", ylabel="y")
    ax_fit.set_title(f"The resumed run's network (1 → {HIDDEN} tanh → 1)")
    ax_fit.legend(fontsize="small")
    ax_fit.grid(True, alpha=0.3)
    return _cli.save(fig, out / "training.png")


# %%
# Running the script
# ------------------
#
# 3000 steps, a checkpoint every 250 and the crash after step 1730 (300, 50 and 230
# with ``--smoke``).  The run fails (exit status 1) if the resumed run differs from
# the uninterrupted one, if a temporary file was left behind, or, in a full run, if
# the network did not fit.


def main(argv: list[str] | None = None) -> int:
    parser = _cli.parser(__doc__, "custom_loop", "a quick run (300 steps)")
    args = parser.parse_args(argv)
    total, every, crash_at = (300, 50, 230) if args.smoke else (3000, 250, 1730)
    args.out.mkdir(parents=True, exist_ok=True)
    ckpt = args.out / "checkpoint.npz"
    ckpt.unlink(missing_ok=True)

    print(f"1. uninterrupted: {total} steps")
    ref_theta, ref_losses = train(total)
    print(f"   final loss {ref_losses[-1]:.5f}")

    print(f"2. checkpoint every {every} steps; crash after step {crash_at}")
    try:
        train(total, checkpoint=ckpt, every=every, crash_at=crash_at)
        return 1  # not reached: the run crashes
    except Interrupted as exc:
        crashed = exc.losses
        print(f"   {exc}; on disk: {ckpt.name}, {ckpt.stat().st_size} bytes")
    with np.load(ckpt) as z:
        resume_at = len(z["losses"])
    leftovers = [p.name for p in args.out.glob(ckpt.name + ".*.tmp")]

    print("3. resume into a fresh optimizer, parameters and generator")
    theta, losses = train(total, checkpoint=ckpt, every=every, resume=True)

    same = theta.tobytes() == ref_theta.tobytes() and losses == ref_losses
    print(
        f"   resumed final parameters == uninterrupted final parameters, bit for bit: {same} "
        f"(max |difference| = {np.max(np.abs(theta - ref_theta)):.1e}, {theta.size} parameters)"
    )
    errors = [] if same else ["the resumed run differs from the uninterrupted one"]
    if leftovers:
        errors.append(f"temporary checkpoint files left behind: {leftovers}")
    if not args.smoke and not ref_losses[-1] < 0.01:
        errors.append(f"the network did not fit: final loss {ref_losses[-1]}")
    if _cli.has_matplotlib():  # the figure is optional here: the check above is the point
        path = plot(ref_losses, crashed, losses, resume_at, crash_at, every, theta, args.out)
        print("wrote", path)
    for error in errors:
        print("FAILED:", error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    _cli.finish(main())
