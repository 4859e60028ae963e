"""The stateful optimizer: one object per rule, for custom training loops.

A rule subclass supplies three things (see ``numopt/rules/adam.py``):

* ``reference`` — the NumPy reference, readable line by line against the spec;
* ``_element()`` — the element body that the CPU and CUDA loops run;
* ``_factors(t, lr)`` — the per-step scalar factors of that body, in float64
  (the base class appends the gradient's sign, ``c[-1]``, for ``maximize``).

This class does the rest: it validates hyperparameters and arrays, keeps the step
count and the state, evaluates a learning-rate schedule once per step, casts the
factors to the parameters' dtype and runs the backend.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from numopt import _checks, _clip
from numopt._arrays import FLOAT_DTYPES, FlatPair, Layout, flat_pair
from numopt.backends.cpu import SERIAL_BELOW, cpu_loops
from numopt.backends.cpu_bounds import bounded_loops

#: ``backend=`` choices.  ``"auto"`` runs the CUDA kernel for device arrays, the
#: serial CPU loop below :data:`numopt.backends.cpu.SERIAL_BELOW` elements and the
#: parallel one above; the others force one implementation.
BACKENDS = ("auto", "serial", "parallel", "numpy", "cuda")


class Optimizer:
    """Base class of the stateful optimizers (see the subclasses for each rule).

    Parameters
    ----------
    backend : {"auto", "serial", "parallel", "numpy", "cuda"}
        Which implementation runs :meth:`step`.  ``"numpy"`` is the reference
        (slow, allocating), useful to check the kernels; ``"cuda"`` requires device
        arrays, which ``"auto"`` also sends to the CUDA kernel.
    **hyperparameters
        The rule's hyperparameters, validated by name.
    """

    #: The rule's ``method=`` name.
    name: ClassVar[str]
    #: Names of the state arrays, in the order of the rows of the state buffer, with
    #: the default options; ``opt.state_names`` is the optimizer's own list, which
    #: options such as ``amsgrad`` lengthen (see :meth:`_state_names_for`).
    state_names: ClassVar[tuple[str, ...]] = ()
    #: True for rules that need the full gradient (Rprop): ``minimize`` refuses
    #: ``batch_size`` for them.
    full_batch_only: ClassVar[bool] = False

    def __init__(self, *, backend: str = "auto", **hyperparameters: Any) -> None:
        self.backend = backend  # checked by __setattr__
        self._hyperparameters = {
            key: _checks.hyperparameter(key, value) for key, value in hyperparameters.items()
        }
        for name in _clip.NAMES:  # every rule takes gradient clipping (numopt._clip)
            self._hyperparameters.setdefault(name, None)
        object.__setattr__(self, "state_names", self._state_names_for(self._hyperparameters))
        self._bounds: tuple[Any, Any] | None = None  # opt.bounds, checked (numopt._bounds)
        self._box: tuple[Layout, Any] | None = None  # the bounds laid out for the last x
        self.reset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _clip.add_constructor_arguments(cls)  # clip_norm=, clip_value= for every rule

    @property
    def hyperparameters(self) -> MappingProxyType:
        """Read-only view of the hyperparameters; change one as ``opt.learning_rate = 0.01``.

        ``clip_norm`` and ``clip_value`` (every rule's) are listed when set.
        """
        hp = self._hyperparameters
        if hp.get("clip_norm") is None and hp.get("clip_value") is None:
            hp = {k: v for k, v in hp.items() if k not in _clip.NAMES}
        elif hp.get("clip_norm") is None or hp.get("clip_value") is None:
            hp = {k: v for k, v in hp.items() if not (k in _clip.NAMES and v is None)}
        return MappingProxyType(hp)

    def __getattr__(self, name: str) -> Any:
        hp = self.__dict__.get("_hyperparameters", {})
        if name in hp:
            return hp[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name[0] == "_":  # internal state: the hot path of every step
            object.__setattr__(self, name, value)
            return
        hp = self.__dict__.get("_hyperparameters")
        if hp is not None and name in hp:  # a checked change, used from the next step on
            value = _checks.hyperparameter(name, value)
            names = self._state_names_for({**hp, name: value})
            if names != self.state_names and self._state is not None:
                raise ValueError(
                    f"{name}={value!r} would change the state arrays from "
                    f"{list(self.state_names)} to {list(names)}, which cannot happen once "
                    "they exist: call reset() first (it forgets the state), or build a new "
                    "optimizer"
                )
            hp[name] = value
            object.__setattr__(self, "state_names", names)
        elif name == "bounds":
            object.__setattr__(self, name, value)  # the property checks it
        elif name == "backend" or hp is None:
            if name == "backend" and value not in BACKENDS:
                raise ValueError(f"backend must be one of {BACKENDS}, got {value!r}")
            object.__setattr__(self, name, value)
        else:
            raise AttributeError(
                f"{type(self).__name__} has no hyperparameter {name!r}; its hyperparameters "
                f"are {sorted(hp)}"
            )

    # -- what a rule provides ------------------------------------------------------
    @staticmethod
    def reference(theta: np.ndarray, g: np.ndarray, *state: np.ndarray, t: int, **hp: Any) -> None:
        """The NumPy reference: one step on flat arrays, in place."""
        raise NotImplementedError

    def _element(self) -> Callable:
        """The element body ``body(i, theta, g, state, c)`` for these hyperparameters."""
        raise NotImplementedError

    #: The rule's per-step factors as a plain function ``factors(t, lr, h)`` of the
    #: step, the learning rate and ``h = self._factor_args()`` (a tuple of floats),
    #: written so that Numba compiles it too: then the compiled loop of
    #: :mod:`numopt._compiled` can run the rule.  A rule may instead override
    #: :meth:`_factors` (it then runs in the Python loop only).
    factors: ClassVar[Callable | None] = None

    def _factor_args(self) -> tuple[float, ...]:
        """The hyperparameters that :attr:`factors` reads, as floats."""
        raise NotImplementedError

    def _factors(self, t: int, lr: float) -> tuple[float, ...]:
        """The rule's scalar factors of step ``t`` with learning rate ``lr`` (float64)."""
        if self.factors is None:
            raise NotImplementedError
        return self.factors(t, lr, self._factor_args())

    def _state_names_for(self, hp: dict[str, Any]) -> tuple[str, ...]:
        """The state arrays' names under the hyperparameters ``hp``.

        The class's :attr:`state_names` by default.  A rule whose options add arrays
        (Adam's ``amsgrad``) overrides this; such an option cannot change once the
        state exists (until :meth:`reset`).
        """
        return type(self).state_names

    def _initial_state(self, rows: np.ndarray) -> None:
        """Fill the new state buffer (host, zeros) in place; rules whose state does
        not start at zero override this (Adagrad's accumulator, Rprop's step sizes)."""

    def _kernel_factors(self, t: int, lr: float) -> tuple[float, ...]:
        """All factors ``c`` the body reads: the rule's, then the gradient's sign.

        The sign (``c[-1]``: -1.0 with ``maximize=True``, else 1.0) is appended here
        for every rule; each body reads the gradient as ``g[i] * c[-1]`` (exact).
        """
        sign = -1.0 if self._hyperparameters.get("maximize") else 1.0
        return (*self._factors(t, lr), sign)

    def _step_factors(self, t: int, lr: float, g: Any, backend: str) -> tuple[float, ...]:
        """:meth:`_kernel_factors`, with gradient clipping's (:func:`numopt._clip.kernel_factors`:
        ``clip_norm`` reads ``g`` once for its norm and scales ``c[-1]``; ``clip_value``
        inserts its bound as ``c[-2]``)."""
        factors = self._kernel_factors(t, lr)
        hp = self._hyperparameters
        if hp["clip_norm"] is None and hp["clip_value"] is None:
            return factors
        return _clip.kernel_factors(factors, hp, g, backend)

    def _step_body(self) -> Callable:
        """The element body a step runs: the rule's, or its ``clip_value`` variant."""
        body = self._element()
        if self._hyperparameters["clip_value"] is None:
            return body
        return _clip.clip_value_body(body)

    # -- public API ----------------------------------------------------------------
    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        if self.backend != "auto":
            args += f", backend={self.backend!r}"
        return f"{type(self).__name__}({args})"

    @property
    def bounds(self) -> tuple[Any, Any] | None:
        """Box bounds ``(lo, hi)`` that every step projects ``x`` onto, or None.

        Set ``opt.bounds = (lo, hi)`` (each side None, a number, or an array — host
        or device — that broadcasts to ``x``'s shape) or a
        :class:`scipy.optimize.Bounds`; ``None`` removes them.  Checked when set
        (real numbers, no NaN, ``lo <= hi``) and copied; laid out in ``x``'s dtype
        and memory order at the next step.  Each step then clamps ``x`` into
        ``[lo, hi]`` inside the update kernel (no extra pass); ``x`` should start
        inside the box.  Bounds are not part of :meth:`state_dict`.

        Examples
        --------
        >>> import numpy as np, numopt
        >>> opt = numopt.GD(learning_rate=1.0)
        >>> opt.bounds = (0.0, None)
        >>> opt.step(np.array([0.5, 2.0]), np.array([1.0, 1.0]))
        array([0., 1.])
        """
        return self._bounds

    @bounds.setter
    def bounds(self, value: Any) -> None:
        from numopt import _bounds

        self._bounds = _bounds.checked_pair(value)
        self._box = None

    def _box_for(self, layout: Layout) -> Any:
        """``opt.bounds`` as a flat :class:`numopt._bounds.Box` for ``x``'s layout."""
        cached = self._box
        if cached is not None and cached[0] == layout:
            return cached[1]
        from numopt import _bounds

        box = _bounds.for_layout(self._bounds, layout)
        self._box = (layout, box)
        return box

    @property
    def step_count(self) -> int:
        """Number of steps taken (the spec's ``t`` of the last step)."""
        return self._t

    @property
    def state(self) -> dict[str, Any]:
        """The state arrays by name (flat views, live: do not modify)."""
        if self._state is None:
            return {}
        return {name: self._state[k] for k, name in enumerate(self.state_names)}

    def reset(self) -> None:
        """Forget the state and the step count; the next step is step 1 again."""
        self._t = 0
        self._state: Any = None
        self._layout: Layout | None = None
        self._loaded_on_host = False  # state from load_state_dict may move to the GPU
        self._c: np.ndarray | None = None

    def learning_rate_at(self, t: int) -> float:
        """The learning rate of step ``t`` (1-based); a schedule is called with ``t - 1``."""
        if t < 1:
            raise ValueError(f"steps count from 1, got t={t!r}")
        lr = self._hyperparameters["learning_rate"]
        if callable(lr):
            return _checks.evaluated_learning_rate(lr(t - 1), t - 1)
        return lr

    def step(self, x: Any, g: Any) -> Any:
        """Take one step: update ``x`` in place from its gradient ``g``.

        Parameters
        ----------
        x : numpy.ndarray or CUDA device array
            float32 or float64 parameters of any shape, C- or Fortran-contiguous
            and writeable; updated in place (viewed flat, never copied).
        g : same kind as x
            The gradient, same shape and dtype as ``x``.

        Returns
        -------
        x
            The same object, updated.
        """
        pair = flat_pair(x, g)
        self._apply(pair, None if self._bounds is None else self._box_for(pair.layout))
        return x

    def _apply(self, pair: FlatPair, box: Any = None) -> None:
        """One step on already validated flat arrays (``minimize`` calls this directly).

        ``box``: flat bounds ``(lo, hi)`` in x's dtype and place (a
        :class:`numopt._bounds.Box`), applied inside the kernel; None for none.
        """
        t = self._t + 1
        lr = self.learning_rate_at(t)  # checks first: a failed step changes nothing
        backend = self._backend_for(pair.layout.device, pair.x.size)
        state = self._state_for(pair.layout, pair.x.size)
        if backend == "numpy":
            hp = self._hyperparameters
            g = _clip.reference_gradient(pair.g, hp)  # pair.g itself when not clipping
            hp = {k: v for k, v in hp.items() if k != "learning_rate" and k not in _clip.NAMES}
            self.reference(pair.x, g, *state, t=t, learning_rate=lr, **hp)
            if box is not None:
                np.clip(pair.x, box.lo, box.hi, out=pair.x)
        elif backend == "cuda":
            from numopt.backends import cuda

            dtype = pair.layout.dtype.type
            c = tuple(dtype(f) for f in self._step_factors(t, lr, pair.g, backend))
            if box is None:
                cuda.launch(self._step_body(), pair.x, pair.g, state, c)
            else:
                from numopt.backends import cuda_bounds

                cuda_bounds.launch_bounded(self._step_body(), pair.x, pair.g, state, c, *box)
        else:
            factors = self._step_factors(t, lr, pair.g, backend)
            c = self._c
            if c is None or c.size != len(factors):  # the factors' buffer, in x's dtype
                c = self._c = np.empty(len(factors), pair.layout.dtype)
            c[:] = factors
            if box is None:
                getattr(cpu_loops(self._step_body()), backend)(pair.x, pair.g, state, c)
            else:
                loop = getattr(bounded_loops(self._step_body()), backend)
                loop(pair.x, pair.g, state, c, box.lo, box.hi)
        self._t = t
        self._loaded_on_host = False

    def state_dict(self) -> dict[str, Any]:
        """Plain data (host copies) that :meth:`load_state_dict` restores exactly.

        A learning-rate schedule is not data; its own ``state_dict()`` (if any) is
        stored under ``"schedule"`` and the schedule object itself is kept by
        :meth:`load_state_dict`.
        """
        hp = {k: v for k, v in self.hyperparameters.items() if not callable(v)}
        lr = self.hyperparameters["learning_rate"]
        out: dict[str, Any] = {"rule": self.name, "step": self._t, "hyperparameters": hp}
        if callable(lr) and hasattr(lr, "state_dict"):
            out["schedule"] = lr.state_dict()
        if self._state is not None:
            layout = self._layout
            host = self._state.copy_to_host() if layout.device else self._state.copy()
            out["order"] = layout.order  # how x was viewed flat (C or Fortran order)
            out["state"] = {
                name: host[k].reshape(layout.shape, order=layout.order)
                for k, name in enumerate(self.state_names)
            }
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (checked before anything changes)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        missing = {"rule", "step", "hyperparameters"} - state_dict.keys()
        if missing:
            raise ValueError(f"state_dict lacks the keys {sorted(missing)}")
        if state_dict["rule"] != self.name:
            raise ValueError(f"state_dict is for rule {state_dict['rule']!r}, not {self.name!r}")
        step = state_dict["step"]
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"state_dict['step'] must be an integer >= 0, got {step!r}")
        hp = dict(self._hyperparameters)
        for key, value in state_dict["hyperparameters"].items():
            if key not in hp:
                raise ValueError(f"state_dict has hyperparameter {key!r}, unknown to {self.name}")
            hp[key] = _checks.hyperparameter(key, value)
        names = self._state_names_for(hp)
        rows, layout = self._loaded_state(state_dict.get("state"), state_dict.get("order"), names)
        if rows is None and step > 0 and names:
            raise ValueError("state_dict has step > 0 but no 'state'")
        schedule = hp["learning_rate"]
        if "schedule" in state_dict and hasattr(schedule, "load_state_dict"):
            schedule.load_state_dict(state_dict["schedule"])
        self._hyperparameters = hp
        object.__setattr__(self, "state_names", names)
        self._t = int(step)
        self._state, self._layout, self._c = rows, layout, None
        self._loaded_on_host = rows is not None

    # -- internals -------------------------------------------------------------------
    def _backend_for(self, device: bool, n: int) -> str:
        backend = self.backend
        if device:
            if backend not in ("auto", "cuda"):
                raise ValueError(
                    f"backend={backend!r} runs on the CPU but x is a device array; "
                    "use backend='auto' or 'cuda'"
                )
            return "cuda"
        if backend == "cuda":
            raise TypeError("backend='cuda' needs CUDA device arrays, got host arrays")
        if backend == "auto":
            return "serial" if n < SERIAL_BELOW else "parallel"
        return backend

    def _state_for(self, layout: Layout, n: int) -> Any:
        """The state buffer, shape ``(k, n)``, allocated at the first step."""
        if layout == self._layout:  # the common case: the same x as the last step
            return self._state
        if self._state is None:
            rows = np.zeros((len(self.state_names), n), layout.dtype)
            self._initial_state(rows)
            if layout.device:
                from numopt.backends import cuda

                rows = cuda.to_device(rows)
            self._state = rows
            self._layout = layout
            return self._state
        have = self._layout
        if layout.device != have.device:
            if layout.device and self._loaded_on_host:
                from numopt.backends import cuda

                self._state = cuda.to_device(self._state)
                self._layout = have = have._replace(device=True)
            else:
                where = "on the GPU" if have.device else "on the host"
                raise ValueError(
                    f"this optimizer's state lives {where} but x does not; keep x where it "
                    "was, or call reset()"
                )
        if (have.shape, have.dtype, have.order) != (layout.shape, layout.dtype, layout.order):
            raise ValueError(
                f"x has shape {layout.shape}, dtype {layout.dtype} (order {layout.order}) "
                f"but this optimizer's state was built for shape {have.shape}, dtype "
                f"{have.dtype} (order {have.order}); call reset() to start over"
            )
        return self._state

    def _loaded_state(
        self, state: Any, order: str | None, names: tuple[str, ...]
    ) -> tuple[Any, Layout | None]:
        if state is None:
            return None, None
        if not isinstance(state, dict) or set(state) != set(names):
            raise ValueError(
                f"state_dict['state'] must have the arrays {list(names)}, got "
                f"{list(state) if isinstance(state, dict) else type(state).__name__}"
            )
        arrays = [np.asarray(state[name]) for name in names]
        if not arrays:
            return None, None
        first = arrays[0]
        for name, a in zip(names, arrays, strict=True):
            if a.shape != first.shape or a.dtype != first.dtype or a.dtype not in FLOAT_DTYPES:
                raise ValueError(
                    f"state_dict['state'][{name!r}] has shape {a.shape}, dtype {a.dtype}; "
                    f"expected float32/float64 arrays all of one shape"
                )
        if order is None:  # a dict from elsewhere: go by the arrays' own memory order
            order = "F" if first.flags.f_contiguous and not first.flags.c_contiguous else "C"
        elif order not in ("C", "F"):
            raise ValueError(f"state_dict['order'] must be 'C' or 'F', got {order!r}")
        rows = np.stack([a.reshape(-1, order=order) for a in arrays])
        return rows, Layout(first.shape, first.dtype, order, False)
