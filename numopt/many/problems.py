"""``minimize_many``'s inputs laid out per problem: ``x0``'s rows, the split arguments, the bounds.

:class:`Problems` stacks the ``M`` starting points as the rows of ``X`` (flat, C
order, x0's dtype), decides which arrays in ``args`` are split one row per problem
(:func:`split_positions`) and lays the bounds out as ``(M, n)`` arrays, shared by
every problem or one box per problem.  Problem ``i`` alone is what ``minimize``
would get: :meth:`Problems.x0_of`, :meth:`Problems.args_of`, :meth:`Problems.bounds_of`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy.optimize import Bounds, OptimizeWarning

from numopt.kernels import arrays
from numopt.kernels import box as kernel_box
from numopt.problem import bounds as problem_bounds
from numopt.problem.structure import Structure


def split_positions(
    args: tuple, m: int, problem_args: Any, on_device: bool = False
) -> tuple[int, ...]:
    """The positions in ``args`` of the arrays split one row per problem.

    ``problem_args=None``: every NumPy array (and, for a run ``on_device``, every CUDA
    device array) whose first axis has length ``m``; otherwise the positions given
    (each must be such an array).

    Examples
    --------
    >>> import numpy as np
    >>> t, y = np.linspace(0, 1, 5), np.zeros((3, 5))
    >>> split_positions((t, y), 3, None)
    (1,)
    >>> split_positions((t, y, 2.0), 5, [1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: problem_args[0]: args[1] must be an array whose first axis has one row ...
    """

    def splittable(a: Any) -> bool:
        array = isinstance(a, np.ndarray) or (on_device and arrays.on_device(a))
        return array and len(a.shape) > 0 and a.shape[0] == m

    if problem_args is None:
        return tuple(j for j, a in enumerate(args) if splittable(a))
    if isinstance(problem_args, (int, np.integer)) or not hasattr(problem_args, "__iter__"):
        raise TypeError(
            f"problem_args must be a sequence of positions in args, got {problem_args!r}"
        )
    out = []
    for k, j in enumerate(problem_args):
        position = isinstance(j, (int, np.integer)) and not isinstance(j, bool)
        if not (position and -len(args) <= j < len(args)):
            raise ValueError(
                f"problem_args[{k}] must be a position in args (0 to {len(args) - 1}), got {j!r}"
            )
        j = int(j) % len(args)
        a = args[j]
        if not splittable(a):
            shape = getattr(a, "shape", type(a).__name__)
            raise ValueError(
                f"problem_args[{k}]: args[{j}] must be an array whose first axis has one row "
                f"per problem ({m}), got shape {shape}"
            )
        out.append(j)
    return tuple(sorted(set(out)))


class Problems:
    """``M`` problems: their starting points, arguments and bounds (see the module docstring)."""

    def __init__(
        self, x0: Any, args: tuple, bounds: Any, problem_args: Any, on_device: bool = False
    ) -> None:
        x0 = np.asarray(x0)
        if x0.ndim < 2 or x0.shape[0] == 0 or math.prod(x0.shape[1:]) == 0:
            raise ValueError(
                "x0 must have shape (M, n) or (M, ...): one row per problem, M >= 1 problems "
                f"of at least one variable, got shape {x0.shape}"
            )
        first = Structure(x0[0])  # the dtype rules of minimize (integers become float64)
        self.M = x0.shape[0]
        self.shape: tuple[int, ...] = tuple(x0.shape[1:])
        self.n = first.size
        self.X = np.array(x0, first.dtype, order="C").reshape(self.M, self.n)
        self.args = tuple(
            np.ascontiguousarray(a) if isinstance(a, np.ndarray) and not a.flags.c_contiguous else a
            for a in args
        )
        self.split = split_positions(self.args, self.M, problem_args, on_device)
        self.bounds = bounds
        self.per_problem_bounds = _per_problem(bounds, x0.ndim)
        if self.per_problem_bounds:
            lo, hi = kernel_box.pair_of("bounds", bounds)
            try:
                lo = np.broadcast_to(lo, x0.shape).reshape(self.M, self.n)
                hi = np.broadcast_to(hi, x0.shape).reshape(self.M, self.n)
            except ValueError:
                raise ValueError(
                    f"bounds: per-problem bounds (lb, ub of {x0.ndim} dimensions) must "
                    f"broadcast to x0's shape {x0.shape}, got {np.shape(lo)} and {np.shape(hi)}"
                ) from None
            kernel_box.check_order(lo, hi, "bounds")
            box = kernel_box.cast(lo, hi, first.dtype, "bounds")
            self.LO, self.HI = box.lo, box.hi
        elif bounds is not None:
            box = problem_bounds.for_structure(bounds, first)
            self.LO = np.repeat(box.lo[None], self.M, axis=0)
            self.HI = np.repeat(box.hi[None], self.M, axis=0)
        else:
            self.LO = self.HI = self.X[:, :0]

    # -- problem i alone: what minimize would get ---------------------------------------
    def x0_of(self, i: int) -> np.ndarray:
        """Problem ``i``'s starting point, shaped like one of x0's rows (a copy)."""
        return self.X[i].reshape(self.shape).copy()

    def args_of(self, i: int) -> tuple:
        """Problem ``i``'s arguments: its row of each split array, the others shared."""
        return tuple(a[i] if j in self.split else a for j, a in enumerate(self.args))

    def layout(self) -> str:
        """How ``args`` are laid out per problem, for error messages."""
        parts = []
        for j, a in enumerate(self.args):
            if j in self.split:
                parts.append(f"args[{j}] {np.shape(a)}: split, problem i gets args[{j}][i]")
            else:
                parts.append(f"args[{j}] {np.shape(a)}: shared")
        return "; ".join(parts) or "no args"

    def bounds_of(self, i: int) -> Any:
        """Problem ``i``'s bounds, as ``minimize`` takes them."""
        if self.per_problem_bounds:
            return Bounds(self.LO[i], self.HI[i])
        return self.bounds

    # -- the start ----------------------------------------------------------------------
    def clip(self) -> None:
        """Clamp every starting point into its box, with minimize's warning if one moved."""
        if self.LO.shape[1] == 0:
            return
        if np.any(self.X < self.LO) or np.any(self.X > self.HI):
            np.clip(self.X, self.LO, self.HI, out=self.X)
            warnings.warn(
                "Initial guess is not within the specified bounds; x0 was clipped into them",
                OptimizeWarning,
                stacklevel=3,
            )


def _per_problem(bounds: Any, ndim: int) -> bool:
    """Whether ``bounds`` gives one box per problem: a ``Bounds`` with x0's dimensions."""
    if not isinstance(bounds, Bounds):
        return False
    return max(np.ndim(bounds.lb), np.ndim(bounds.ub)) == ndim
