"""Shared pieces of the asv suite: the contenders, the problems, optional imports.

Every benchmark module must import without the optional extras: asv reports a bare
"Failed to build the project and import the benchmark suite" otherwise
(airspeed-velocity/asv#1453).  So nothing optional (numba-cuda, torch) is imported
at module level; a benchmark's ``setup`` calls :func:`require` or
:func:`cuda_available` and raises ``NotImplementedError``, which asv records as
"skipped" for that parameter combination.

The contenders come from :data:`numopt.RULES` (:func:`rule_names`), so a new rule
is benchmarked as soon as it is in the table; the convergence benchmarks also need
its tuned settings in :data:`SETTINGS` (``tests/project/test_benchmarks.py`` checks that
every rule has them).
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np
import scipy.fft

import numopt
from numopt import schedules

# -- contenders ---------------------------------------------------------------------


def rule_names(batched: bool = False) -> list[str]:
    """One ``method=`` name per distinct rule class in :data:`numopt.RULES` whose step is
    one element-wise kernel (or LAMB's and LARS's two passes), measured per element.
    The rules whose step has a shape of its own (matrices, rows, block sums) have their
    own scripts beside torch: ``benchmarks/muon.py`` (and ``bench_kernels.MuonStep``),
    ``sparse_adam.py``, ``adafactor.py`` and ``prodigy.py``.

    ``"gd"`` and ``"sgd"`` are one class; the first name is kept (``"gd"``), or the
    last one (``"sgd"``) where the rule is fed mini-batches (``batched=True``, which
    also leaves out full-batch-only rules such as Rprop).
    """
    names: dict[type, str] = {}
    for name, cls in numopt.RULES.items():
        if batched and cls.full_batch_only:  # Rprop: minimize refuses batch_size
            continue
        if getattr(cls.spec.passes, "runs_reference", False):  # a step of its own shape
            continue
        if batched or cls not in names:
            names[cls] = name
    return list(names.values())


def require(module: str) -> ModuleType:
    """Import an optional module, or skip the benchmark (``NotImplementedError``)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise NotImplementedError(f"{module} is not installed ({exc})") from None


def cuda_available() -> bool:
    """Whether numba-cuda is installed and sees a GPU (call it in ``setup`` only)."""
    try:
        from numba import cuda
    except ImportError:
        return False
    return bool(cuda.is_available())


# -- problems -----------------------------------------------------------------------


def quadratic(n: int, kappa: float = 10.0, seed: int = 0):
    """A dense SPD quadratic ``f(x) = x'Ax/2 - b'x``: ``(fun, jac, x_star)``.

    ``A = Q diag(λ) Q'`` with ``Q`` the orthonormal DCT-II matrix (dense, built in
    O(n² log n), no factorisation) and ``λ`` spaced geometrically over ``[1, kappa]``
    in a seeded random order, so the condition number is exactly ``kappa``.
    """
    rng = np.random.default_rng(seed)
    q = scipy.fft.dct(np.eye(n), norm="ortho", axis=0)
    lam = rng.permutation(np.geomspace(1.0, kappa, n))
    a = (q * lam) @ q.T
    b = rng.standard_normal(n)

    def fun(x):
        return 0.5 * float(x @ (a @ x)) - float(b @ x)

    def jac(x):
        return a @ x - b

    return fun, jac, np.linalg.solve(a, b)


def rosenbrock_x0(n: int) -> np.ndarray:
    """The classic start ``(-1.2, 1, -1.2, 1, ...)`` of the n-D Rosenbrock function."""
    x0 = np.full(n, -1.2)
    x0[1::2] = 1.0
    return x0


def logistic_data(n: int = 20000, d: int = 20, seed: int = 0):
    """Synthetic logistic-regression data ``(X, y)``: ``n`` samples × ``d`` features."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X @ w))).astype(float)
    return X, y


def logistic(w, X, y):
    """Mean logistic loss and its gradient (for ``jac=True``); no overflow warnings."""
    z = X @ w
    f = float(np.mean(np.logaddexp(0.0, z) - y * z))
    p = 0.5 * (1.0 + np.tanh(0.5 * z))  # the sigmoid, stable for any z
    return f, X.T @ (p - y) / len(y)


def minimize_logistic(X, y, rule: str, options: dict):
    """``numopt.minimize`` of the logistic loss on ``(X, y)`` from zeros."""
    import numopt

    return numopt.minimize(
        logistic, np.zeros(X.shape[1]), args=(X, y), jac=True, method=rule, options=options
    )


def logistic_optimum(X, y) -> float:
    """The lowest mean logistic loss on ``(X, y)``, by SciPy's L-BFGS-B."""
    from scipy.optimize import minimize

    res = minimize(
        logistic, np.zeros(X.shape[1]), args=(X, y), jac=True, method="L-BFGS-B", tol=1e-12
    )
    return float(res.fun)


def shifted_sphere(x):
    """``f = |x - 1|²/2`` and its gradient; allocates one N-sized array per call."""
    d = x - 1.0
    return 0.5 * float(d @ d), d


# -- settings per rule and problem ---------------------------------------------------

_rmsprop_decay = schedules.exponential  # RMSprop at a constant rate hovers (see below)
_halving = schedules.exponential  # the same for NAdam, Lion, Adadelta (see below)

#: ``options`` per problem and rule, found by trying (2026-11-25).  Both the timing
#: and the convergence benchmarks use them, so a timed run of a fixed number of
#: updates never stops early on a non-finite loss.  Each converges with a margin:
#: a 1.5× larger rate (RMSprop: a 2× shorter or 2.5× longer decay) converges too.
#:
#: * RMSprop at a constant rate hovers at a distance ∝ η from the minimum (its
#:   step is about η·sign(g)), so it never reaches a small gtol: it gets a
#:   learning rate halving every ``transition_steps`` updates.
#: * AdamW's decoupled decay moves its fixed point off ∇f = 0, so for gtol it runs
#:   with ``weight_decay=0`` (then its trajectory is Adam's: a check of its kernel).
#: * GD diverges on the quadratic at η = 2/L = 0.2, and on Rosenbrock at η = 1e-2
#:   (at 2e-3 it does not converge in 100 000 updates).
#: * NAdam hovers too at a constant rate on both (torch's NAdam as well: max|g| ≈
#:   0.3 after 5000 updates on the quadratic at η = 0.1; no η tried from 1e-3 to 1
#:   converged), and so does Lion (every step is ±η): both get a halving rate.  On
#:   Rosenbrock the margin of NAdam's and Adadelta's decay is narrower: a 25%
#:   shorter (NAdam) or 2.5× longer decay converges, half as long stops short.
#: * Adadelta diverges on the quadratic at η ≥ 0.3 and hovers on Rosenbrock at any
#:   constant η from 1e-2 to 1 (1e-3 needs ~99 000 updates): a halving rate there.
#: * RAdam's first 5 updates are momentum SGD (unrectified): from Rosenbrock's
#:   start (|g| ≈ 216) η ≥ 1e-2 throws it off, so it runs at η = 3e-3.
#: * Rprop's smallest step (Γ_min = 1e-6 by default) stops it short of gtol = 1e-6
#:   (max|g| stalls at 9e-6 on the quadratic): it runs with Γ_min = 1e-12.  Rprop
#:   is full-batch only, so it has no "logistic" (mini-batch) entry.
#: * LAMB moves each layer by about η‖θ‖ per update, so at a constant rate it hovers
#:   too: a halving rate (quadratic 3380 updates, Rosenbrock 22 364; a 2× longer
#:   half-life converges too, a 2× shorter one stops short on Rosenbrock).
#: * Issue 19's rules (tried 2026-12-05): ASGD runs with ``lambd=0`` (its shrink
#:   ``1 - λη`` puts the fixed point at ∇f = -λθ, off gtol); sign SGD and Signum move
#:   every parameter by η, so they hover like Lion: a halving rate.  AdEMAMix (α = 5,
#:   β3 = 0.9999) hovers on the quadratic at every constant η from 1e-3 to 0.3 and
#:   Adan at every η ≥ 3e-3: a halving rate there.  ADOPT on Rosenbrock wants a large
#:   η (0.3: 9 493 updates; 0.03: 39 330).  LARS moves each layer by about ητ‖θ‖ per
#:   update, so it hovers at every constant η too (tried 0.1 to 30 at τ = 0.01): a
#:   halving rate (3 245 updates on the quadratic, 3 233 on Rosenbrock).
#:   Schedule-Free AdamW hovers at every constant η from 1e-3 to 0.3 on both
#:   (its step is normalised, like RMSprop's): a halving rate, against its point;
#:   Schedule-Free SGD converges at a constant η (its gtol reads the iterate y).
SETTINGS: dict[str, dict[str, dict]] = {
    "quadratic": {  # quadratic(100), κ = 10, from x = 0
        "gd": {"learning_rate": 0.1},
        "momentum": {"learning_rate": 0.01},
        "rmsprop": {"learning_rate": _rmsprop_decay(1e-2, decay_rate=0.5, transition_steps=200)},
        "adam": {"learning_rate": 0.1},
        "adamw": {"learning_rate": 0.1, "weight_decay": 0.0},
        "adagrad": {"learning_rate": 0.3},
        "adadelta": {"learning_rate": 0.1},
        "adamax": {"learning_rate": 0.1},
        "nadam": {"learning_rate": _halving(0.1, decay_rate=0.5, transition_steps=200)},
        "radam": {"learning_rate": 0.1},
        "rprop": {"learning_rate": 0.1, "step_sizes": (1e-12, 50.0)},
        "lion": {"learning_rate": _halving(0.02, decay_rate=0.5, transition_steps=200)},
        "lamb": {"learning_rate": _halving(0.1, decay_rate=0.5, transition_steps=200)},
        "asgd": {"learning_rate": 0.1, "lambd": 0.0},
        "adabelief": {"learning_rate": 0.1},
        "yogi": {"learning_rate": 0.1},
        "adan": {"learning_rate": _halving(0.02, decay_rate=0.5, transition_steps=200)},
        "adopt": {"learning_rate": 0.03},
        "ademamix": {"learning_rate": _halving(0.1, decay_rate=0.5, transition_steps=1000)},
        "sign_sgd": {"learning_rate": _halving(0.01, decay_rate=0.5, transition_steps=200)},
        "signum": {"learning_rate": _halving(0.01, decay_rate=0.5, transition_steps=200)},
        "lars": {
            "learning_rate": _halving(3.0, decay_rate=0.5, transition_steps=200),
            "trust_coefficient": 0.01,
        },
        "schedule_free_sgd": {"learning_rate": 0.3},
        "schedule_free_adamw": {
            "learning_rate": _halving(0.1, decay_rate=0.5, transition_steps=1000)
        },
    },
    "rosenbrock": {  # 2-D, from (-1.2, 1)
        "gd": {"learning_rate": 1e-3},
        "momentum": {"learning_rate": 1e-3},
        "rmsprop": {"learning_rate": _rmsprop_decay(3e-3, decay_rate=0.5, transition_steps=2000)},
        "adam": {"learning_rate": 0.02},
        "adamw": {"learning_rate": 0.02, "weight_decay": 0.0},
        "adagrad": {"learning_rate": 1.0},
        "adadelta": {"learning_rate": _halving(1.0, decay_rate=0.5, transition_steps=2000)},
        "adamax": {"learning_rate": 0.02},
        "nadam": {"learning_rate": _halving(0.02, decay_rate=0.5, transition_steps=2000)},
        "radam": {"learning_rate": 3e-3},
        "rprop": {"learning_rate": 1e-2, "step_sizes": (1e-12, 50.0)},
        "lion": {"learning_rate": _halving(1e-2, decay_rate=0.5, transition_steps=1000)},
        "lamb": {"learning_rate": _halving(0.05, decay_rate=0.5, transition_steps=1000)},
        "asgd": {"learning_rate": 1e-3, "lambd": 0.0},
        "adabelief": {"learning_rate": 0.1},
        "yogi": {"learning_rate": 0.1},
        "adan": {"learning_rate": 0.03},
        "adopt": {"learning_rate": 0.3},
        "ademamix": {"learning_rate": 0.01},
        "sign_sgd": {"learning_rate": _halving(0.01, decay_rate=0.5, transition_steps=1000)},
        "signum": {"learning_rate": _halving(0.01, decay_rate=0.5, transition_steps=1000)},
        "lars": {
            "learning_rate": _halving(3.0, decay_rate=0.5, transition_steps=200),
            "trust_coefficient": 0.01,
        },
        "schedule_free_sgd": {"learning_rate": 3e-3},
        "schedule_free_adamw": {
            "learning_rate": _halving(0.1, decay_rate=0.5, transition_steps=2000)
        },
    },
    "logistic": {  # logistic_data(), batches of 256, 2 epochs, seed 0
        "gd": {"learning_rate": 1.0},
        "momentum": {"learning_rate": 0.1},
        "rmsprop": {"learning_rate": 0.03},
        "adam": {"learning_rate": 0.03},
        "adamw": {"learning_rate": 0.03},
        "adagrad": {"learning_rate": 0.3},
        "adadelta": {"learning_rate": 3.0},
        "adamax": {"learning_rate": 0.1},
        "nadam": {"learning_rate": 0.03},
        "radam": {"learning_rate": 0.1},
        "lion": {"learning_rate": 0.01},
        "lamb": {"learning_rate": 0.03},
        "asgd": {"learning_rate": 1.0},
        "adabelief": {"learning_rate": 0.03},
        "yogi": {"learning_rate": 0.03},
        "adan": {"learning_rate": 0.03},
        "adopt": {"learning_rate": 0.03},
        "ademamix": {"learning_rate": 0.01},
        "sign_sgd": {"learning_rate": 0.01},
        "signum": {"learning_rate": 0.01},
        "lars": {"learning_rate": 1.0, "trust_coefficient": 0.01},
        "schedule_free_sgd": {"learning_rate": 1.0},
        "schedule_free_adamw": {"learning_rate": 0.1},
    },
}


def settings(problem: str, rule: str) -> dict:
    """A fresh copy of ``SETTINGS[problem][rule]`` (``"sgd"`` is ``"gd"``'s class).

    Raises ``NotImplementedError`` (asv: skipped) for a rule with no tuned settings.
    """
    table = SETTINGS[problem]
    for name in (rule, *(n for n, c in numopt.RULES.items() if c is numopt.RULES[rule])):
        if name in table:
            return dict(table[name])
    raise NotImplementedError(f"no tuned settings for rule {rule!r} in SETTINGS[{problem!r}]")
