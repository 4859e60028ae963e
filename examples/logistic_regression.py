"""Mini-batch logistic regression, checked against scikit-learn
============================================================

A real data set: the Wisconsin breast-cancer data (569 tumours, 30 features, shipped
inside scikit-learn as ``sklearn.datasets.load_breast_cancer``), split 75/25 with a
seeded permutation and standardised with the training set's statistics.  The model is
``p(malignant | x) = sigmoid(x·w + b)``; the objective is scikit-learn's own for
``LogisticRegression(C=1.0)``, written as a mean::

    f(w, b) = mean_i [log(1 + exp(z_i)) - y_i z_i] + ||w||² / (2 C N),   z = Xw + b

(the L2 term matters: without it these training data are linearly separable and
the loss has no minimum, only an infimum of 0 at ||w|| → ∞).  The parameters are a
dict ``{"w": ..., "b": ...}``; ``numopt.minimize`` gives them back as one.

Three optimisers, the same number of epochs (passes over the data):

* full-batch GD (``batch_size = N``: one update per epoch);
* mini-batch SGD (batches of 32, shuffled each epoch by a seeded generator);
* mini-batch Adam (batches of 32).

A ``callback(intermediate_result)`` keeps the parameters at the end of every epoch;
the training loss and the test accuracy are computed from them.  Both are drawn
per epoch in ``training.png`` beside scikit-learn's ``lbfgs`` optimum of the same
objective (a horizontal line), with the optimality gap f - f* on a log scale.

Run: ``python examples/logistic_regression.py [--out DIR] [--smoke]`` (figures go to
``examples/out/logistic_regression/`` by default).  Needs scikit-learn and
matplotlib: ``pip install scikit-learn matplotlib`` (the ``examples`` extra).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import _cli  # examples/_cli.py: the scripts' shared command line
import numpy as np

import numopt

C = 1.0  # scikit-learn's default inverse regularisation strength
BATCH = 32
#: name -> (method, batch size (None: the whole training set), learning rate)
RUNS = {
    "full-batch GD": ("gd", None, 0.5),
    f"mini-batch SGD (B={BATCH})": ("sgd", BATCH, 0.3),
    f"mini-batch Adam (B={BATCH})": ("adam", BATCH, 0.01),
}
MISSING = (
    "this example needs scikit-learn (for the breast-cancer data and the reference fit) "
    "and matplotlib: pip install scikit-learn matplotlib, or the 'examples' extra: "
    "pip install -e '.[examples]'"
)


# %%
# The objective
# -------------
#
# ``loss`` takes the parameters as a dict ``{"w": ..., "b": ...}`` and returns the
# gradient as one too; ``alpha`` is ``1 / (C N)``.


def loss(params: dict, X: np.ndarray, y: np.ndarray, alpha: float) -> tuple[float, dict]:
    """Mean logistic loss + (alpha/2)||w||² and its gradient, both as dicts like params."""
    w, b = params["w"], params["b"]
    z = X @ w + b[0]
    f = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * alpha * (w @ w)
    r = (1.0 / (1.0 + np.exp(-z)) - y) / len(y)  # d f / d z_i
    return float(f), {"w": X.T @ r + alpha * w, "b": np.array([r.sum()])}


def accuracy(params: dict, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((X @ params["w"] + params["b"][0] > 0) == (y > 0.5)))


# %%
# Data and reference
# ------------------
#
# ``data`` loads, splits and standardises the data; ``reference`` fits
# scikit-learn's ``LogisticRegression`` (lbfgs, ``tol=1e-12``) for the optimum f*.


def data(seed: int = 0) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    idx = np.random.default_rng(seed).permutation(len(y))
    n_train = int(0.75 * len(y))
    train, test = idx[:n_train], idx[n_train:]
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    X = (X - mean) / std
    y = y.astype(np.float64)
    return X[train], y[train], X[test], y[test]


def reference(Xtr, ytr, alpha) -> dict:
    """scikit-learn's optimum of the same objective (lbfgs, tight tolerance)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, solver="lbfgs", tol=1e-12, max_iter=10_000)
    model.fit(Xtr, ytr)
    return {"w": model.coef_[0].copy(), "b": model.intercept_.copy()}


# %%
# Training
# --------
#
# ``train`` runs ``numopt.minimize`` with ``batch_size`` and ``epochs``: the arrays
# in ``args`` are split into batches, ``alpha`` passes through.  The callback keeps
# the parameters at the end of every epoch.


def train(method, batch_size, lr, epochs, Xtr, ytr, alpha) -> tuple[dict, list[dict]]:
    """Run minimize; return the result and the parameters at the end of each epoch."""
    n = len(ytr)
    batch_size = batch_size or n
    per_epoch = math.ceil(n / batch_size)
    x0 = {"w": np.zeros(Xtr.shape[1]), "b": np.zeros(1)}
    snapshots = {0: x0}

    def at_epoch_end(intermediate_result):
        if intermediate_result.nit % per_epoch == 0:
            snapshots[intermediate_result.nit // per_epoch] = intermediate_result.x

    res = numopt.minimize(
        loss,
        x0,
        args=(Xtr, ytr, alpha),  # the arrays X and y are batched; alpha passes through
        jac=True,
        method=method,
        callback=at_epoch_end,
        options={
            "learning_rate": lr,
            "batch_size": batch_size,
            "epochs": epochs,
            "seed": 0,
            "history": True,
        },
    )
    # the callback runs before the next batch's update, so the end of the last epoch
    # is res.x itself
    snapshots[res.epochs] = res.x
    return res, [snapshots[e] for e in range(res.epochs + 1)]


# %%
# The figure
# ----------
#
# ``training.png``, written into ``--out`` by ``_cli.save``.


def plot(curves, ref, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_f, ax_gap, ax_acc) = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained")
    for name, (f, acc) in curves.items():
        epochs = np.arange(len(f))
        ax_f.plot(epochs, f, lw=1.6, label=name)
        ax_gap.plot(epochs, np.maximum(f - ref["f"], 1e-16), lw=1.6, label=name)
        ax_acc.plot(epochs, acc, lw=1.6, label=name)
    ax_f.axhline(ref["f"], color="black", ls="--", lw=1, label=f"scikit-learn: {ref['f']:.4f}")
    ax_acc.axhline(
        ref["acc"], color="black", ls="--", lw=1, label=f"scikit-learn: {ref['acc']:.3f}"
    )
    ax_f.set(yscale="log", xlabel="epoch", ylabel="training loss f(w, b)")
    ax_f.set_title("Training objective per epoch")
    ax_gap.set(yscale="log", xlabel="epoch", ylabel="f - f*  (f*: scikit-learn's optimum)")
    ax_gap.set_title("Optimality gap")
    ax_acc.set(xlabel="epoch", ylabel=f"accuracy on the held-out {ref['n_test']} samples")
    ax_acc.set_ylim(0.85, 1.0)
    ax_acc.set_title("Test accuracy per epoch")
    for a in (ax_f, ax_gap, ax_acc):
        a.grid(True, alpha=0.3)
        a.legend(fontsize="small")
    fig.suptitle(
        f"Logistic regression on breast-cancer data (N = {ref['n']} training samples, "
        f"30 features, L2 with C = {C})"
    )
    return _cli.save(fig, out / "training.png")


# %%
# Running the script
# ------------------
#
# 100 epochs per run (3 with ``--smoke``, or ``--epochs N``).  Without scikit-learn
# or matplotlib it says what to install and fails, except in a ``--smoke`` run,
# which then ends successfully.


def main(argv: list[str] | None = None) -> int:
    parser = _cli.parser(__doc__, "logistic_regression", "a quick run (3 epochs)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default 100)")
    args = parser.parse_args(argv)
    try:
        import matplotlib  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError:
        print(MISSING, file=sys.stderr)
        return 0 if args.smoke else 1  # a smoke run skips, a real run fails
    epochs = args.epochs or (3 if args.smoke else 100)

    Xtr, ytr, Xte, yte = data()
    alpha = 1.0 / (C * len(ytr))  # C Σ loss_i + ||w||²/2, divided by C N
    best = reference(Xtr, ytr, alpha)
    ref = {
        "f": loss(best, Xtr, ytr, alpha)[0],
        "acc": accuracy(best, Xte, yte),
        "n": len(ytr),
        "n_test": len(yte),
    }
    print(
        f"scikit-learn LogisticRegression(C={C}, solver='lbfgs'): f* = {ref['f']:.6f}, "
        f"train accuracy {accuracy(best, Xtr, ytr):.4f}, test accuracy {ref['acc']:.4f}"
    )

    errors, curves = [], {}
    for name, (method, batch_size, lr) in RUNS.items():
        res, snapshots = train(method, batch_size, lr, epochs, Xtr, ytr, alpha)
        f = np.array([loss(p, Xtr, ytr, alpha)[0] for p in snapshots])
        acc = np.array([accuracy(p, Xte, yte) for p in snapshots])
        curves[name] = (f, acc)
        print(
            f"{name:>27}: {res.epochs} epochs, {res.nit:>4} updates, lr {lr}: "
            f"f = {res.fun:.6f} (f - f* = {res.fun - ref['f']:.1e}), "
            f"train accuracy {accuracy(res.x, Xtr, ytr):.4f}, test accuracy {acc[-1]:.4f}"
        )
        if len(snapshots) != epochs + 1 or not np.isclose(f[-1], res.fun, rtol=1e-12):
            errors.append(f"{name}: {len(snapshots)} snapshots, f = {f[-1]} vs res.fun {res.fun}")
        if res.fun < ref["f"] - 1e-9:
            errors.append(f"{name}: below scikit-learn's optimum: {res.fun} < {ref['f']}")
        if not args.smoke and not (res.success and res.fun - ref["f"] < 0.02 and acc[-1] > 0.9):
            errors.append(f"{name}: did not fit ({res.message}, f = {res.fun}, acc {acc[-1]})")

    args.out.mkdir(parents=True, exist_ok=True)
    print("wrote", plot(curves, ref, args.out))
    for error in errors:
        print("FAILED:", error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    _cli.finish(main())
