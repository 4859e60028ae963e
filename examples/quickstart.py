"""Quickstart: swap scipy.optimize.minimize for numopt.minimize
============================================================

Fits a logistic-regression model on synthetic data three ways: full batch with the
default method (L-BFGS-B, as SciPy's), full-batch Adam, then mini-batch Adam
(batches of 64, 20 epochs, a cosine learning-rate schedule), and prints what SciPy
users expect from an ``OptimizeResult``.

Run: ``python examples/quickstart.py``
"""

import numpy as np

import numopt

# %%
# The problem
# -----------
#
# ``loss`` returns the mean logistic loss and its gradient together, hence
# ``jac=True`` in every call below.  The data: 2000 samples of 10 features, their
# labels drawn from a logistic model with random true weights.


def loss(w, X, y):
    """Mean logistic loss (labels in {0, 1}) and its gradient."""
    z = X @ w
    f = np.mean(np.logaddexp(0.0, z) - y * z)
    g = X.T @ (1.0 / (1.0 + np.exp(-z)) - y) / len(y)
    return f, g


rng = np.random.default_rng(0)
X = rng.standard_normal((2000, 10))
w_true = rng.standard_normal(10)
y = (rng.random(2000) < 1.0 / (1.0 + np.exp(-X @ w_true))).astype(float)

# %%
# Full batch, the default method
# ------------------------------
#
# With no ``method``, ``numopt.minimize`` runs L-BFGS-B on the whole data set.

full = numopt.minimize(loss, np.zeros(10), args=(X, y), jac=True)  # L-BFGS-B
print("L-BFGS-B   :", full.message)
print(f"             f = {full.fun:.6f} after {full.nit} iterations, {full.nfev} evaluations")

# %%
# Full-batch Adam
# ---------------
#
# ``method="adam"`` with a learning rate of 0.05, until ``gtol=1e-6`` is met or
# after 2000 updates.

adam = numopt.minimize(
    loss,
    np.zeros(10),
    args=(X, y),
    jac=True,
    method="adam",
    options={"learning_rate": 0.05, "maxiter": 2000, "gtol": 1e-6},
)
print("Adam       :", adam.message)
print(f"             f = {adam.fun:.6f} after {adam.nit} updates, {adam.nfev} evaluations")

# %%
# Mini-batch Adam
# ---------------
#
# ``batch_size`` splits the arrays passed in ``args`` into batches of 64 rows (32
# batches per epoch, shuffled with ``seed=0``), for 20 epochs, with a cosine
# learning-rate schedule over those 20 × 32 updates; ``history=True`` records,
# among others, the loss of every epoch.

batched = numopt.minimize(
    loss,
    np.zeros(10),
    args=(X, y),
    jac=True,
    method="adam",
    options={
        "learning_rate": numopt.schedules.cosine_annealing(0.05, decay_steps=20 * 32),
        "batch_size": 64,
        "epochs": 20,
        "seed": 0,
        "history": True,
    },
)
print("mini-batch :", batched.message)
print(f"             f = {batched.fun:.6f} after {batched.nit} updates ({batched.epochs} epochs)")
print("epoch losses:", np.round(batched.history["epoch_fun"][:5], 4), "...")
print("max |w_full - w_batched| =", float(np.max(np.abs(full.x - batched.x))))
