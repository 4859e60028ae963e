"""SciPy's L-BFGS-B on a test problem: the reference the L-BFGS(-B) tests compare with."""

from __future__ import annotations

from typing import Any

import numpy as np
from mgh import Problem
from scipy.optimize import minimize

SCIPY_DEFAULTS: dict[str, Any] = {
    "maxcor": 10,
    "ftol": 2.220446049250313e-09,
    "gtol": 1e-5,
    "maxfun": 15000,
    "maxiter": 15000,
    "maxls": 20,
}
"""SciPy's own defaults for ``method="L-BFGS-B"``, written out so that a change of them
in SciPy does not silently change the reference."""


def scipy_lbfgsb(problem: Problem, **options: Any) -> dict[str, Any]:
    """Run SciPy's L-BFGS-B on ``problem``.

    The objective is ``problem.fun`` with ``jac=problem.jac`` (NumPy; SciPy evaluates
    both at every point it tries, so ``nfev`` counts (f, g) evaluations), the bounds
    are ``problem.bounds`` and the extra arguments ``problem.args``.

    Parameters
    ----------
    problem : Problem
        The test problem.
    **options
        L-BFGS-B options overriding :data:`SCIPY_DEFAULTS` (``gtol``, ``ftol``,
        ``maxcor``, ``maxls``, ``maxiter``, ``maxfun``).

    Returns
    -------
    dict
        ``x`` (ndarray, the final point), ``fun`` (float), ``nit`` (int, iterations),
        ``nfev`` (int, function-and-gradient evaluations) and ``status`` (int, SciPy's:
        0 converged, 1 iteration or evaluation limit, 2 other, e.g. an abnormal line
        search).

    Raises
    ------
    TypeError
        If an option is not one of SciPy's L-BFGS-B options listed above.
    """
    unknown = set(options) - set(SCIPY_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown L-BFGS-B option(s): {sorted(unknown)}")
    res = minimize(
        problem.fun,
        np.array(problem.x0, dtype=np.float64),
        args=problem.args,
        jac=problem.jac,
        method="L-BFGS-B",
        bounds=problem.bounds,
        options={**SCIPY_DEFAULTS, **options},
    )
    return {
        "x": np.asarray(res.x),
        "fun": float(res.fun),
        "nit": int(res.nit),
        "nfev": int(res.nfev),
        "status": int(res.status),
    }
