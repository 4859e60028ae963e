"""Quasi-Newton methods: L-BFGS-B (and L-BFGS, the same method without bounds).

:class:`LBFGS` is the method object (``minimize(method="l-bfgs-b")``, or a stateful
optimizer with ``step(x, closure)``).  The algorithm, one idea per file:
:mod:`~numopt.quasi_newton.lbfgsb` (one iteration, in reverse communication),
:mod:`~numopt.quasi_newton.line_search` (Moré–Thuente),
:mod:`~numopt.quasi_newton.compact` (the memory and its compact representation),
:mod:`~numopt.quasi_newton.cauchy` (the generalized Cauchy point),
:mod:`~numopt.quasi_newton.subspace` (the subspace step),
:mod:`~numopt.quasi_newton.dense` (small factorisations),
:mod:`~numopt.quasi_newton.workspace` (the arrays); and how the loop runs it:
:mod:`~numopt.quasi_newton.method`.
"""

from __future__ import annotations

from numopt.quasi_newton.optimizer import LBFGS

#: ``method=`` name → class.
METHODS = {"l-bfgs-b": LBFGS}
#: Other spellings of the same method (SciPy's is "L-BFGS-B"; names are case-insensitive).
ALIASES = {"l-bfgs": "l-bfgs-b", "lbfgs": "l-bfgs-b", "lbfgsb": "l-bfgs-b"}

__all__ = ["ALIASES", "LBFGS", "METHODS"]
