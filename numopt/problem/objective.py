"""The objective as ``minimize`` calls it: loss and gradient, checked and counted.

The gradient is written into a preallocated flat buffer in the parameters'
dtype (a float64 gradient for float32 parameters is cast there, once per call).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from numopt.kernels.arrays import on_device
from numopt.problem import differences
from numopt.problem.structure import Structure

FD_METHODS = differences.METHODS


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{value!r} ({type(value).__name__})"


def scalar(value: Any, name: str = "fun") -> float:
    """The loss as a Python float; anything but one real number is an error."""
    if type(value) is float:
        return value
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must return a real scalar, got {value!r}")
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "fiu":
        return float(value.reshape(()))
    if on_device(value):  # a loss left on the GPU: a 0-d or 1-element device array
        from numopt.kernels import cuda

        d = cuda.as_device(value, name)
        if d.size == 1 and np.dtype(d.dtype).kind in "fiu":
            return float(d.copy_to_host().reshape(()))
        raise TypeError(
            f"{name} must return a real scalar (the loss), got a device array of shape "
            f"{tuple(d.shape)} and dtype {d.dtype}"
        )
    raise TypeError(f"{name} must return a real scalar (the loss), got {_describe(value)}")


class Objective:
    """``fun``/``jac`` of ``minimize``, counting evaluations into ``nfev``/``njev``."""

    #: Box bounds (flat float64 ``(lo, hi)``) that finite differences stay inside
    #: (:func:`numopt.problem.differences.gradient`); ``minimize(bounds=...)`` sets them.
    bounds: tuple[Any, Any] = (-np.inf, np.inf)
    #: The finite differences' absolute step (L-BFGS-B's ``eps``); None: SciPy's relative.
    step: float | None = None

    def __init__(
        self, fun: Callable, jac: Any, structure: Structure, x: np.ndarray, g: np.ndarray
    ) -> None:
        self.fun, self.jac, self.structure = fun, jac, structure
        self.x, self.g = x, g
        self.nfev = self.njev = 0
        if jac is True:
            self.mode = "combined"
        elif isinstance(jac, str) and jac == "inplace":
            self.mode = "inplace"
        elif callable(jac):
            self.mode = "jac"
        elif jac is None or jac in FD_METHODS:
            self.mode = "2-point" if jac is None else jac
        else:
            raise ValueError(
                f"jac must be a callable, True (fun returns (f, g)), 'inplace' (fun(x, grad) "
                f"fills grad, returns f), '2-point', '3-point' or None, got {jac!r}"
            )
        self._single = structure.kind == "array"
        single_host = self._single and isinstance(g, np.ndarray)  # the fast path of _store
        self._g_shaped = g.reshape(structure.shapes[0]) if single_host else None
        # jac="inplace": fun(x, grad, *args) writes the gradient into these views of g
        self._g_views = structure.views(g, writeable=True) if self.mode == "inplace" else None

    def __call__(self, view: Any, args: tuple) -> float:
        """Loss at the current point; the gradient is left in ``self.g``."""
        if self.mode == "inplace":
            f = scalar(self.fun(view, self._g_views, *args))
            self.nfev += 1
            self.njev += 1
            return f
        if self.mode == "combined":
            out = self.fun(view, *args)
            self.nfev += 1
            self.njev += 1
            if not isinstance(out, tuple) or len(out) != 2:
                raise TypeError(
                    f"with jac=True, fun must return a tuple (f, g), got {_describe(out)}"
                )
            f = scalar(out[0])
            self._store(out[1])
            return f
        f = scalar(self.fun(view, *args))
        self.nfev += 1
        if self.mode == "jac":
            self._store(self.jac(view, *args))
        else:
            self._difference(f, args)
        self.njev += 1
        return f

    def _store(self, g: Any) -> None:
        if self._single and isinstance(g, np.ndarray):
            if g.shape != self._g_shaped.shape:
                raise ValueError(
                    f"jac returned shape {g.shape} but x0 has shape {self._g_shaped.shape}"
                )
            if g.dtype.kind not in "fiu":
                raise TypeError(f"jac must return real numbers, got dtype {g.dtype}")
            np.copyto(self._g_shaped, g, casting="unsafe")
            return
        self.structure.flatten(g, out=self.g, name="jac")

    def _difference(self, f0: float, args: tuple) -> None:
        structure = self.structure

        def flat_fun(z):
            self.nfev += 1
            return scalar(self.fun(structure.views(z.astype(self.x.dtype, copy=False)), *args))

        g = differences.gradient(flat_fun, self.x.copy(), f0, self.mode, self.bounds, self.step)
        np.copyto(self.g, g, casting="unsafe")
