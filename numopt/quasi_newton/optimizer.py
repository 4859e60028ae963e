"""The L-BFGS-B method object: ``method="l-bfgs-b"`` of ``minimize``, and a stateful
optimizer for custom loops with torch's calling convention.

Unlike the element-wise rules (:class:`numopt.Optimizer`, ``step(x, g)``), a
quasi-Newton step evaluates the objective several times (its line search), so
:meth:`LBFGS.step` takes a *closure*: ``step(x, closure)`` with ``closure(x) -> (f,
g)``, as ``torch.optim.LBFGS.step(closure)``.  One call is one iteration (torch's
default runs up to ``max_iter=20`` per call).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np

from numopt import _checks, _spelling
from numopt.kernels.arrays import FLOAT_DTYPES, Layout
from numopt.loop.state import STATE
from numopt.quasi_newton import lbfgsb, workspace
from numopt.quasi_newton.method import context, python_update
from numopt.quasi_newton.workspace import I
from numopt.rules.spec import Hyper

#: L-BFGS-B's hyperparameters (SciPy's names and defaults).
HYPERPARAMETERS = (
    Hyper(
        "maxcor",
        10,
        lambda name, value: _checks.integer(name, value, 1),
        "int",
        "The memory: the pairs ``(s, y)`` of the last ``maxcor`` iterations define the "
        "quasi-Newton matrix (SciPy's ``maxcor``; torch's ``history_size``, optax's "
        "``memory_size``).",
    ),
    Hyper(
        "maxls",
        20,
        lambda name, value: _checks.integer(name, value, 1),
        "int",
        "Evaluations per line search at most; past them the memory is emptied and "
        "the iteration restarts along steepest descent.",
    ),
    Hyper(
        "eps",
        1e-8,
        _checks.positive,
        "float",
        "The absolute step of ``minimize``'s finite-difference gradient with ``jac=None``, "
        "as SciPy's L-BFGS-B ``eps`` (``jac='2-point'``, ``'3-point'`` take SciPy's "
        "relative steps, as SciPy does); unused when the gradient is given.",
    ),
)

#: The loop's options whose default differs for this method (SciPy's L-BFGS-B).
LOOP_DEFAULTS = MappingProxyType({"maxiter": 15000, "maxfun": 15000, "ftol": 2.220446049250313e-09})

_STATE_ARRAYS = workspace.Work._fields


class LBFGS:
    """L-BFGS-B: limited-memory BFGS with box bounds (Byrd, Lu, Nocedal & Zhu).

    Each iteration builds a quasi-Newton model from the last ``maxcor`` steps and
    gradient changes, minimises it over the box (the generalized Cauchy point, then
    a subspace step over the free variables; without bounds the two-loop recursion's
    direction ``-Hg``), and searches along the direction for a step satisfying the
    strong Wolfe conditions (Moré–Thuente, ``ftol = 1e-3``, ``gtol = 0.9``).  See
    ``docs/lbfgs.md`` for the algorithm, the options and how they map to SciPy,
    torch and optax.

    Used by ``minimize(method="l-bfgs-b")`` (also ``"l-bfgs"``, ``"lbfgs"``; SciPy's
    spelling ``"L-BFGS-B"``), or directly for a custom loop: ``opt.step(x, closure)``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> from scipy.optimize import rosen, rosen_der
    >>> opt = numopt.LBFGS()
    >>> x = np.array([-1.2, 1.0])
    >>> for _ in range(40):
    ...     f = opt.step(x, lambda x: (rosen(x), rosen_der(x)))
    >>> np.round(x, 6), f < 1e-10
    (array([1., 1.]), True)
    """

    name = "l-bfgs-b"
    #: It needs the whole gradient: ``minimize`` refuses ``batch_size``.
    full_batch_only = True
    #: Its update evaluates the objective (the loop runs :mod:`numopt.quasi_newton.method`).
    evaluates = True
    declarations = MappingProxyType({h.name: h for h in HYPERPARAMETERS})
    loop_defaults = LOOP_DEFAULTS

    def __init__(
        self,
        *,
        maxcor: int = 10,
        maxls: int = 20,
        eps: float = 1e-8,
        backend: str = "auto",
        **unknown: Any,
    ) -> None:
        if unknown:  # torch's history_size, optax's memory_size: suggest maxcor
            keywords = ["maxcor", "maxls", "eps", "backend"]
            raise _spelling.unexpected_keywords("LBFGS", unknown, keywords)
        if backend not in ("auto", "serial"):
            raise ValueError(f"backend must be 'auto' or 'serial' for L-BFGS-B, got {backend!r}")
        self.backend = backend
        self._hyperparameters = {
            "maxcor": self.check("maxcor", maxcor),
            "maxls": self.check("maxls", maxls),
            "eps": self.check("eps", eps),
        }
        self._bounds: tuple[Any, Any] | None = None
        self.reset()

    @classmethod
    def check(cls, name: str, value: Any) -> Any:
        """``value`` checked as the hyperparameter ``name``."""
        if name not in cls.declarations:
            raise ValueError(
                f"{cls.__name__} has no hyperparameter {name!r}; its hyperparameters are "
                f"{sorted(cls.declarations)}"
            )
        return cls.declarations[name].check(name, value)

    @classmethod
    def option_names(cls) -> list[str]:
        """The ``minimize`` options this method takes besides the loop's."""
        return list(cls.declarations)

    @property
    def hyperparameters(self) -> MappingProxyType:
        """Read-only view of the hyperparameters (fixed: build a new object to change them)."""
        return MappingProxyType(self._hyperparameters)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters.items())
        return f"{type(self).__name__}({args})"

    @property
    def bounds(self) -> tuple[Any, Any] | None:
        """Box bounds ``(lo, hi)`` for :meth:`step` (as :attr:`numopt.Optimizer.bounds`).

        Set before the first step (they shape the method's state); ``minimize`` takes
        its own ``bounds=`` instead.
        """
        return self._bounds

    @bounds.setter
    def bounds(self, value: Any) -> None:
        from numopt.kernels import box

        if self._work is not None:
            raise ValueError("set LBFGS bounds before the first step (or call reset())")
        self._bounds = box.checked_pair(value)

    @property
    def step_count(self) -> int:
        """Iterations done (line searches accepted)."""
        return 0 if self._work is None else int(self._work.ints[I.iter])

    def reset(self) -> None:
        """Forget the memory and the point: the next step starts afresh."""
        self._work: workspace.Work | None = None
        self._layout: Layout | None = None
        self._f = 0.0
        self._g: np.ndarray | None = None
        self._x: np.ndarray | None = None
        self._box: Any = None
        self.failed = False

    # -- the loop's side -----------------------------------------------------------------
    def work_for(self, x: np.ndarray, box: Any) -> workspace.Work:
        """The working arrays for the flat ``x`` and bounds ``box`` (new, or as loaded)."""
        n = x.size
        work = self._work
        if work is not None and work.S.shape[1] == n:
            return work
        if work is not None:
            raise ValueError(
                f"this L-BFGS-B state was built for {work.S.shape[1]} variables, x has {n}; "
                "call reset() to start over"
            )
        hp = self._hyperparameters
        work = workspace.new(n, hp["maxcor"], hp["maxls"])  # (set up for no bounds)
        if box is not None:
            lbfgsb.initialize(work, x, box.lo, box.hi)
        self._work = work
        return work

    # -- custom loops ----------------------------------------------------------------------
    def step(self, x: np.ndarray, closure: Callable[[np.ndarray], Any]) -> float:
        """One iteration: update ``x`` in place; the loss at the new ``x``.

        Parameters
        ----------
        x : numpy.ndarray
            float32 or float64 parameters, contiguous and writeable (any shape).
        closure : callable
            ``closure(x) -> (f, g)``: the loss and its gradient (shaped like ``x``).
            Called once at the first step, then by the line search (its evaluations).

        Returns
        -------
        float
            The loss at the new ``x``.  When the line search fails along steepest
            descent, ``x`` is left where it was, ``opt.failed`` is True and the loss
            there is returned.
        """
        flat = self._flat(x)
        box = self._box_for(flat, x.shape)
        work = self._work
        if work is None or self._x is None or not np.array_equal(flat, self._x):
            work = self.work_for(flat, box)  # (new: projects x into the box)
            self._f, self._g = self._evaluate(x, closure, flat)
        s = STATE.new(fx=self._f)
        g = self._g
        evaluate = self._evaluator(x, closure, g)
        update = python_update(evaluate, lambda: False)
        ctx = context(work, flat, box)
        self.failed = update(ctx, s, flat, g) != 0
        self._f = self._f if self.failed else s.fx
        self._x = flat.copy()
        return float(self._f)

    def _flat(self, x: Any) -> np.ndarray:
        if not isinstance(x, np.ndarray):
            raise TypeError(f"x must be a NumPy array, got {type(x).__name__}")
        if x.dtype not in FLOAT_DTYPES:
            raise TypeError(f"x must have dtype float32 or float64, got {x.dtype}")
        if not x.flags.c_contiguous or not x.flags.writeable:
            raise ValueError("x must be C-contiguous and writeable (it is updated in place)")
        layout = Layout(x.shape, x.dtype, "C", False)
        if self._layout is not None and layout != self._layout:
            raise ValueError(
                f"x has shape {x.shape}, dtype {x.dtype}, but this optimizer's state was "
                f"built for shape {self._layout.shape}, dtype {self._layout.dtype}; call "
                "reset() to start over"
            )
        self._layout = layout
        return x.reshape(-1)

    def _box_for(self, flat: np.ndarray, shape: tuple[int, ...]) -> Any:
        if self._bounds is None:
            return None
        if self._box is None:
            from numopt.kernels import box

            self._box = box.for_layout(self._bounds, Layout(shape, flat.dtype, "C", False))
        return self._box

    @staticmethod
    def _evaluate(x: np.ndarray, closure: Callable, flat: np.ndarray) -> tuple[float, np.ndarray]:
        out = closure(x)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError("closure(x) must return a pair (f, g)")
        f, g = out
        g = np.asarray(g)
        if g.shape != x.shape:
            raise ValueError(f"closure(x) returned a gradient of shape {g.shape}; x has {x.shape}")
        return float(f), np.array(g.reshape(-1), flat.dtype)

    def _evaluator(self, x: np.ndarray, closure: Callable, g_flat: np.ndarray) -> Callable:
        def evaluate(ctx: Any, s: Any, flat: Any, g: Any, order: Any) -> float:
            f, grad = self._evaluate(x, closure, flat)
            g_flat[:] = grad
            s.nfev += 1
            return f

        return evaluate

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain data (host copies) that :meth:`load_state_dict` restores exactly."""
        out: dict[str, Any] = {
            "rule": self.name,
            "step": self.step_count,
            "hyperparameters": dict(self._hyperparameters),
        }
        work = self._work
        if work is not None:
            state = {name: a.copy() for name, a in zip(_STATE_ARRAYS, work, strict=True)}
            if self._g is not None:  # a custom loop's point: its loss and gradient
                state["g"] = self._g.copy()
                state["x"] = self._x.copy()
                out["fun"] = self._f
            out["state"] = state
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (checked before anything changes)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        if state_dict.get("rule") != self.name:
            raise ValueError(f"state_dict is for {state_dict.get('rule')!r}, not {self.name!r}")
        hp = {k: self.check(k, v) for k, v in state_dict.get("hyperparameters", {}).items()}
        if hp != self._hyperparameters:
            raise ValueError(
                f"state_dict has hyperparameters {hp}, this optimizer {self._hyperparameters}"
            )
        state = state_dict.get("state")
        self.reset()
        if state is None:
            return
        missing = set(_STATE_ARRAYS) - set(state)
        if missing:
            raise ValueError(f"state_dict['state'] lacks {sorted(missing)}")
        new = workspace.new(np.asarray(state["S"]).shape[1], hp["maxcor"], hp["maxls"])
        for name, target in zip(_STATE_ARRAYS, new, strict=True):
            a = np.asarray(state[name])
            if a.shape != target.shape:
                raise ValueError(
                    f"state_dict['state'][{name!r}] has shape {a.shape}, expected {target.shape}"
                )
            target[...] = a
        self._work = new
        if "g" in state:
            self._g = np.array(state["g"])
            self._x = np.array(state["x"])
            self._f = float(state_dict["fun"])


def _document() -> None:
    params = "\n".join(h.documented() for h in HYPERPARAMETERS)
    backend = 'backend : {"auto", "serial"}\n    Where it runs: the CPU (serial loops).'
    doc = inspect.cleandoc(LBFGS.__doc__)
    head, _, tail = doc.partition("\nExamples\n")
    LBFGS.__doc__ = f"{head}\nParameters\n----------\n{params}\n{backend}\n\nExamples\n{tail}"


_document()


def _hyperparameter(name: str, doc: str) -> property:
    def get(self: LBFGS) -> Any:
        return self._hyperparameters[name]

    return property(get, doc=doc)


# ``opt.maxcor`` and the others, read only: properties rather than a ``__getattr__``,
# so that asking for an attribute it lacks (as minimize does for a Schedule-Free
# average) is Python's own quick miss, not an AttributeError raised from Python code
for _h in HYPERPARAMETERS:
    setattr(LBFGS, _h.name, _hyperparameter(_h.name, _h.doc))
