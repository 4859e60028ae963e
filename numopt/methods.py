"""Each numopt method as a callable for ``scipy.optimize.minimize(method=...)``.

SciPy accepts a callable as ``method`` and calls it as ``method(fun, x0,
args=..., jac=..., hess=..., hessp=..., bounds=..., constraints=...,
callback=..., **options)``.  These callables run :func:`numopt.minimize`, which
takes all of them: ``bounds`` are used (every rule projects onto the box, see
``docs/bounds.md``); a Hessian is ignored with a ``RuntimeWarning``, as SciPy's
gradient methods do, and constraints are a ``ValueError`` (SciPy does not check
them for a callable method).

Examples
--------
>>> import numpy as np, scipy.optimize
>>> from scipy.optimize import rosen, rosen_der
>>> import numopt.methods
>>> res = scipy.optimize.minimize(rosen, [-1.2, 1.0], jac=rosen_der, method=numopt.methods.adam,
...                               options={"learning_rate": 0.02, "maxiter": 20000})
>>> res.success, np.round(res.x, 3)
(True, array([1., 1.]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scipy.optimize import OptimizeResult

from numopt.front.minimize import minimize
from numopt.quasi_newton import METHODS
from numopt.rules import RULES


def _scipy_method(name: str) -> Callable[..., OptimizeResult]:
    def method(
        fun: Callable,
        x0: Any,
        args: tuple = (),
        jac: Any = None,
        hess: Any = None,
        hessp: Any = None,
        bounds: Any = None,
        constraints: Any = (),
        callback: Any = None,
        tol: float | None = None,
        **options: Any,
    ) -> OptimizeResult:
        return minimize(
            fun,
            x0,
            args,
            method=name,
            jac=jac,
            hess=hess,
            hessp=hessp,
            bounds=bounds,
            constraints=constraints,
            tol=tol,
            callback=callback,
            options=options,
        )

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (
        f"numopt's {name!r} rule for ``scipy.optimize.minimize(method=numopt.methods.{name})``; "
        "options are those of :func:`numopt.minimize`."
    )
    return method


# One callable per entry of the method tables: a new rule appears here by itself
# (a name that is not an identifier loses its dashes: "l-bfgs-b" is ``lbfgsb``).
for _name in (*RULES, *METHODS):
    globals()[_name.replace("-", "")] = _scipy_method(_name)

__all__ = sorted(name.replace("-", "") for name in (*RULES, *METHODS))
