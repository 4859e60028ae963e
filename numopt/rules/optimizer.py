"""The stateful optimizer: one object per rule, for custom training loops.

A rule subclasses :class:`Optimizer` with its :class:`~numopt.rules.spec.RuleSpec`::

    class Adam(Optimizer, spec=SPEC):
        '''Adam with bias correction ...'''

and gets from the spec its constructor (keyword arguments checked by name, with a
real signature), the Parameters section of its docstring, validated attribute
access (``opt.learning_rate = 0.01``), its state, ``state_dict`` and every backend.
This class evaluates a learning-rate schedule once per step, computes the rule's
factors in float64 on the host (with the framework's two: the clip_value bound and
the gradient's sign, scaled for clip_norm), casts them to the parameters' dtype and
runs the element body on the backend (:mod:`numopt.kernels.launch`), or the NumPy
reference.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

import numpy as np

from numopt import _spelling
from numopt.kernels.arrays import FLOAT_DTYPES, FlatPair, Layout, flat_pair
from numopt.kernels.box import clip as box_clip
from numopt.kernels.cpu import cpu_loops
from numopt.kernels.launch import BACKENDS, launch, resolve, typed_factors
from numopt.rules import clipping, fast_step
from numopt.rules.hyperparameters import BACKEND_DOC, FRAMEWORK
from numopt.rules.spec import Hyper, RuleSpec
from numopt.rules.structured import step_structured


class _Plan(NamedTuple):
    """What an optimizer's hyperparameters decide for every step (see ``_planned``)."""

    body: Callable  # the element body
    h: tuple  # the factor function's hyperparameters
    clip_value: bool  # whether the body reads the gradient clamped
    framework: tuple | None  # (clip bound, sign); None: the sign depends on ‖g‖ (clip_norm)
    n: int  # the factors' count, the framework's two included
    loops: dict  # the CPU loops by (bounded, keep), once compiled

    def cpu_loops(self, bounded: bool, keep: bool = False) -> Any:
        """The CPU loops of this body and variant (kept in :attr:`loops`)."""
        loops = self.loops.get((bounded, keep))
        if loops is None:
            loops = self.loops[bounded, keep] = cpu_loops(self.body, self.clip_value, bounded, keep)
        return loops


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

    #: The rule's declaration (see :class:`numopt.rules.spec.RuleSpec`).
    spec: ClassVar[RuleSpec]
    #: The rule's ``method=`` name.
    name: ClassVar[str]
    #: Names of the state arrays with the default options; ``opt.state_names`` is the
    #: optimizer's own, which options such as ``amsgrad`` lengthen.
    state_names: ClassVar[tuple[str, ...]] = ()
    #: True for rules that need the full gradient (Rprop): ``minimize`` refuses
    #: ``batch_size`` for them.
    full_batch_only: ClassVar[bool] = False
    #: False: a rule's update does not evaluate the objective (L-BFGS-B's does).
    evaluates: ClassVar[bool] = False
    #: Every hyperparameter's declaration, by name: the rule's, then the framework's.
    declarations: ClassVar[Mapping[str, Hyper]] = MappingProxyType({})

    def __init_subclass__(cls, spec: RuleSpec | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if spec is None:
            return
        cls.spec = spec
        cls.name = spec.name
        cls.full_batch_only = spec.full_batch_only
        cls.reference = staticmethod(spec.reference)
        cls.declarations = MappingProxyType(
            {h.name: h for h in (*spec.hyperparameters, *FRAMEWORK)}
        )
        defaults = {h.name: h.default for h in cls.declarations.values()}
        cls.state_names = tuple(spec.state(defaults))
        cls.__init__ = _constructor(cls)
        documented = (*cls.declarations.values(), *spec.attributes)
        cls.__doc__ = _with_parameters(cls.__doc__ or "", documented)

    def __init__(self, *, backend: str = "auto", **hyperparameters: Any) -> None:
        self.backend = backend  # checked by __setattr__
        self._plan: _Plan | None = None  # what the hyperparameters decide (_planned)
        self._attributes = {a.name: a.default for a in self.spec.attributes}
        self._hyperparameters = {
            name: self.declarations[name].check(name, value)
            for name, value in hyperparameters.items()
        }
        object.__setattr__(self, "state_names", self._state_names_for(self._hyperparameters))
        self._bounds: tuple[Any, Any] | None = None  # opt.bounds, checked (numopt.kernels.box)
        self._box: tuple[Layout, Any] | None = None  # the bounds laid out for the last x
        self.reset()

    @classmethod
    def check(cls, name: str, value: Any) -> Any:
        """``value`` checked (and normalised) as this rule's hyperparameter ``name``."""
        try:
            declaration = cls.declarations[name]
        except KeyError:
            raise ValueError(
                f"{cls.__name__} has no hyperparameter {name!r}; its hyperparameters are "
                f"{sorted(cls.declarations)}"
            ) from None
        return declaration.check(name, value)

    @classmethod
    def option_names(cls) -> list[str]:
        """The ``minimize`` options this rule takes: its hyperparameters and attributes."""
        return list(cls.declarations) + [a.name for a in cls.spec.attributes]

    @property
    def hyperparameters(self) -> MappingProxyType:
        """Read-only view of the hyperparameters; change one as ``opt.learning_rate = 0.01``.

        ``clip_norm`` and ``clip_value`` (every rule's) are listed when set.
        """
        hp = self._hyperparameters
        if hp["clip_norm"] is None or hp["clip_value"] is None:
            hp = {k: v for k, v in hp.items() if not (k in clipping.NAMES and v is None)}
        return MappingProxyType(hp)

    def __getattr__(self, name: str) -> Any:
        hp = self.__dict__.get("_hyperparameters", {})
        if name in hp:
            return hp[name]
        attributes = self.__dict__.get("_attributes", {})
        if name in attributes:
            return attributes[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name[0] == "_":  # internal state: the hot path of every step
            object.__setattr__(self, name, value)
            return
        object.__setattr__(self, "_fast", None)  # a public change: the slow path checks it
        hp = self.__dict__.get("_hyperparameters")
        if hp is not None and name in hp:  # a checked change, used from the next step on
            value = self.check(name, value)
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
            self._plan = None
        elif hp is None or name in ("backend", "bounds"):
            if name == "backend" and value not in BACKENDS:
                raise ValueError(f"backend must be one of {BACKENDS}, got {value!r}")
            object.__setattr__(self, name, value)
        elif name in self._attributes:  # checked, but not state (LAMB's layers)
            declaration = next(a for a in self.spec.attributes if a.name == name)
            self._attributes[name] = declaration.check(name, value)
        else:
            raise AttributeError(
                f"{type(self).__name__} has no hyperparameter {name!r}"
                f"{_spelling.did_you_mean([name], hp)}; its hyperparameters are {sorted(hp)}"
            )

    # -- what the spec decides ----------------------------------------------------------
    def _state_names_for(self, hp: Mapping[str, Any]) -> tuple[str, ...]:
        """The state arrays' names under the hyperparameters ``hp``."""
        return tuple(self.spec.state(hp))

    def _planned(self) -> _Plan:
        """What the hyperparameters decide for every step, worked out once (until one changes)."""
        plan = self._plan
        if plan is None:
            hp = self._hyperparameters
            plan = self._plan = _Plan(
                body=self.spec.body(hp),
                h=tuple(self.spec.factor_args(hp)),
                clip_value=hp["clip_value"] is not None,
                framework=None
                if hp["clip_norm"] is not None
                else clipping.framework_factors(hp, None, "serial"),
                n=len(self.spec.factors),
                loops={},
            )
        return plan

    def _element(self) -> Callable:
        """The element body these hyperparameters run."""
        return self._planned().body

    def _factor_args(self) -> tuple[float, ...]:
        """``h``: the hyperparameters the rule's ``factor_fn`` reads, as floats."""
        return self._planned().h

    def _factors(self, t: int, lr: float) -> tuple[float, ...]:
        """The rule's own factors of step ``t`` with learning rate ``lr`` (float64)."""
        return self.spec.factor_fn(t, lr, self._planned().h)

    def _reference_extras(self, t: int, lr: float) -> dict[str, Any]:
        """What the NumPy reference of step ``t`` takes besides the hyperparameters (a
        rule whose factors have a history: Schedule-Free's ``c_t``)."""
        return {}

    def _kernel_factors(self, t: int, lr: float, g: Any = None, backend: str = "serial") -> tuple:
        """Every factor ``c`` a body reads: the rule's, the clip_value bound, the sign.

        ``g`` (the flat gradient) is read once for its norm when ``clip_norm`` is set.
        """
        framework = self._planned().framework
        if framework is None:  # clip_norm: the sign scaled by the gradient's norm
            framework = clipping.framework_factors(self._hyperparameters, g, backend)
        return (*self._factors(t, lr), *framework)

    # -- public API ----------------------------------------------------------------
    def __repr__(self) -> str:
        attributes = {
            k: list(v) if isinstance(v, tuple) else v for k, v in self._attributes.items()
        }
        shown = {**self.hyperparameters, **{k: v for k, v in attributes.items() if v}}
        args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
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
        from numopt.kernels import box

        if value is not None and not self.spec.allows_bounds:
            raise ValueError(bounds_refused(self))
        self._bounds = box.checked_pair(value)
        self._box = None

    def _box_for(self, layout: Layout) -> Any:
        """``opt.bounds`` as a flat :class:`numopt.kernels.box.Box` for ``x``'s layout."""
        cached = self._box
        if cached is not None and cached[0] == layout:
            return cached[1]
        from numopt.kernels import box

        flat = box.for_layout(self._bounds, layout)
        self._box = (layout, flat)
        return flat

    @property
    def step_count(self) -> int:
        """Number of steps taken (the ``t`` of the last step)."""
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
        self._fast: fast_step.FastStep | None = None  # see numopt.rules.fast_step
        self._fast_seen: Any = None
        self._layout: Layout | None = None
        self._loaded_on_host = False  # state from load_state_dict may move to the GPU
        self._c: np.ndarray | None = None  # the factors' buffer (CPU)
        self._scratch: Any = None  # a multi-pass step's buffers (spec.passes)
        self._structured: Any = None  # a list/dict x's structure and flat buffers

    def learning_rate_at(self, t: int) -> float:
        """The learning rate of step ``t`` (1-based); a schedule is called with ``t - 1``."""
        if t < 1:
            raise ValueError(f"steps count from 1, got t={t!r}")
        lr = self._hyperparameters["learning_rate"]
        if callable(lr):
            from numopt import _checks

            return _checks.evaluated_learning_rate(lr(t - 1), t - 1)
        return lr

    def step(self, x: Any, g: Any) -> Any:
        """Take one step: update ``x`` in place from its gradient ``g``.

        Parameters
        ----------
        x : numpy.ndarray, CUDA device array, or list/tuple/dict of numpy.ndarray
            float32 or float64 parameters of any shape, C- or Fortran-contiguous
            and writeable; updated in place (viewed flat, never copied).  A list,
            tuple or dict of arrays (torch's list of parameters) is one set of
            parameters: its arrays are gathered into one flat buffer, stepped, and
            written back in place (LAMB takes each array as a layer).
        g : same kind as x
            The gradient, same shape and dtype as ``x`` (the same keys or length).

        Returns
        -------
        x
            The same object, updated.
        """
        fast = self._fast  # the same arrays as the last steps: one compiled call
        if fast is not None:
            plan, state, shape, c, lr, h, run = fast
            if self._plan is plan and self._state is state:
                try:  # (the stepper takes only the types it was compiled for: TypeError)
                    t = self._t + 1
                    if x.shape == shape and run(x, g, state, c, t, lr, h):
                        self.__dict__["_t"] = t  # (skips __setattr__: a hot path)
                        return x
                except (AttributeError, TypeError):  # another kind of x or g: the slow path
                    pass
        if isinstance(x, (list, tuple, dict)):
            return step_structured(self, x, g)
        pair = flat_pair(x, g)
        self._apply(pair, None if self._bounds is None else self._box_for(pair.layout))
        self._fast = fast_step.after_step(self, x, g)
        return x

    def _apply(self, pair: FlatPair, box: Any = None, best: Any = None) -> None:
        """One step on already validated flat arrays (``minimize`` calls this directly).

        ``box``: flat bounds ``(lo, hi)`` in x's dtype and place (a
        :class:`numopt.kernels.box.Box`), applied inside the kernel; None for none.
        ``best``: an array like ``pair.x`` that receives ``x`` as it was before the
        step (``minimize``'s best point), or None.  The parallel CPU loop writes it
        in the step's own pass; the other backends copy it first.
        """
        t = self._t + 1
        lr = self.learning_rate_at(t)  # checks first: a failed step changes nothing
        backend = resolve(self.backend, pair.layout.device, pair.x.size)
        state = self._state_for(pair.layout, pair.x.size)
        hp = self._hyperparameters
        keep = best is not None and backend == "parallel" and self.spec.passes is None
        if best is not None and not keep:  # a copy first (device to device on a GPU)
            best.copy_to_device(pair.x) if pair.layout.device else np.copyto(best, pair.x)
        passes = self.spec.passes
        if backend == "numpy" or getattr(passes, "runs_reference", False):  # Muon: always
            clip = getattr(passes, "clipped_gradient", clipping.reference_gradient)
            g = clip(pair.g, hp)  # pair.g itself when not clipping (SparseAdam's: sparse)
            rest = {k: v for k, v in hp.items() if k != "learning_rate" and k not in clipping.NAMES}
            if passes is not None:
                rest.update(passes.reference_options(self, pair.layout))
            rest.update(self._reference_extras(t, lr))
            self.reference(pair.x, g, *state, t=t, learning_rate=lr, **rest)
            if box is not None and pair.layout.device:  # a rule's GPU path
                box_clip(pair.x, box)
            elif box is not None:
                np.clip(pair.x, box.lo, box.hi, out=pair.x)
        elif passes is not None:  # a layer-wise rule: its own passes
            factors = self._kernel_factors(t, lr, pair.g, backend)
            passes.run(self, pair, state, factors, lr, backend, box)
        else:
            plan = self._planned()
            factors = self._kernel_factors(t, lr, pair.g, backend)
            if backend == "cuda":
                c = typed_factors(factors, pair.layout.dtype, backend)
                launch(plan.body, pair.x, pair.g, state, c, backend, box, plan.clip_value)
            else:  # the host's fast path: the factors' buffer and the loops kept
                c = self._c
                if c is None or c.dtype != pair.layout.dtype:
                    c = self._c = np.empty(plan.n, pair.layout.dtype)
                c[:] = factors
                loop = getattr(plan.cpu_loops(box is not None, keep), backend)
                bounds = () if box is None else (box.lo, box.hi)
                loop(pair.x, pair.g, state, c, *bounds, *((best,) if keep else ()))
        self._t = t
        if self._loaded_on_host:
            self._loaded_on_host = False

    def state_dict(self) -> dict[str, Any]:
        """Plain data (host copies) that :meth:`load_state_dict` restores exactly.

        A learning-rate schedule is not data: its description is stored under
        ``"learning_rate_schedule"`` and its own ``state_dict()`` (if any) under
        ``"schedule"``; :meth:`load_state_dict` keeps the loading optimizer's schedule
        object, and refuses to load into an optimizer without one.
        """
        hp = {k: v for k, v in self.hyperparameters.items() if not callable(v)}
        lr = self.hyperparameters["learning_rate"]
        out: dict[str, Any] = {"rule": self.name, "step": self._t, "hyperparameters": hp}
        if callable(lr):
            out["learning_rate_schedule"] = _describe_schedule(lr)
            if hasattr(lr, "state_dict"):
                out["schedule"] = lr.state_dict()
        if self._state is not None:
            layout = self._layout
            host = self._state.copy_to_host() if layout.device else self._state.copy()
            out["order"] = layout.order  # how x was viewed flat (C or Fortran order)
            if host.shape[1] == math.prod(layout.shape):  # state arrays shaped like x
                out["state"] = {
                    name: host[k].reshape(layout.shape, order=layout.order)
                    for k, name in enumerate(self.state_names)
                }
            else:  # Adafactor's factored state: flat, with x's shape beside it
                out["state"] = dict(zip(self.state_names, host, strict=True))
                out["shape"] = list(layout.shape)
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
            hp[key] = self.check(key, value)
        names = self._state_names_for(hp)
        rows, layout = self._loaded_state(
            state_dict.get("state"), state_dict.get("order"), names, state_dict.get("shape")
        )
        if rows is None and step > 0 and names:
            raise ValueError("state_dict has step > 0 but no 'state'")
        schedule = hp["learning_rate"]
        if "learning_rate" not in state_dict["hyperparameters"]:
            _check_schedule(state_dict.get("learning_rate_schedule"), schedule, self)
        if "schedule" in state_dict and hasattr(schedule, "load_state_dict"):
            schedule.load_state_dict(state_dict["schedule"])
        self._hyperparameters = hp
        object.__setattr__(self, "state_names", names)
        self._plan = None
        self._t = int(step)
        self._state, self._layout, self._c = rows, layout, None
        self._fast = self._fast_seen = None
        self._loaded_on_host = rows is not None
        self._structured = None  # a list/dict x is checked by its size only, from here

    # -- internals -------------------------------------------------------------------
    def _state_for(self, layout: Layout, n: int) -> Any:
        """The state buffer, shape ``(k, n)`` (``(k, length)`` for a rule whose passes
        say the state's ``length``: Adafactor's factors), allocated at the first step."""
        if layout == self._layout:  # the common case: the same x as the last step
            return self._state
        if self._state is None:
            length = getattr(self.spec.passes, "state_length", None)
            n = n if length is None else length(self, layout)
            rows = np.zeros((len(self.state_names), n), layout.dtype)
            if self.spec.initial_state is not None:
                self.spec.initial_state(rows, self._hyperparameters)
            if layout.device:
                from numopt.kernels import cuda

                rows = cuda.to_device(rows)
            self._state = rows
            self._layout = layout
            return self._state
        have = self._layout
        if layout.device != have.device:
            if layout.device and self._loaded_on_host:
                from numopt.kernels import cuda

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
        self, state: Any, order: str | None, names: tuple[str, ...], shape: Any = None
    ) -> tuple[Any, Layout | None]:
        if state is None:
            return None, None
        if shape is not None and not (
            isinstance(shape, (list, tuple))
            and all(isinstance(d, (int, np.integer)) and d >= 0 for d in shape)
        ):
            raise ValueError(f"state_dict['shape'] must be x's shape (integers), got {shape!r}")
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
        if shape is not None:  # a factored state (flat) for an x of this shape
            if first.ndim != 1:
                raise ValueError("state_dict has a 'shape', so its state arrays must be 1-D")
            return rows, Layout(tuple(int(d) for d in shape), first.dtype, order, False)
        return rows, Layout(first.shape, first.dtype, order, False)


def _constructor(cls: type[Optimizer]) -> Callable[..., None]:
    """``__init__`` for a rule class: its hyperparameters as keyword arguments, checked.

    ``learning_rate`` (the first) may also be given by position, as torch.optim allows.
    The signature is real (``inspect.signature`` shows every name and default); an
    unknown keyword is a ``TypeError`` in Python's words that names the class, suggests
    the name meant (torch's ``lr=0.1``: ``learning_rate=0.1``, see
    :data:`numopt._spelling.ALIASES`) and lists the valid ones.
    """
    declarations = list(cls.declarations.values())
    first, *rest = declarations
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params.append(
        inspect.Parameter(
            first.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=first.default
        )
    )
    params += [
        inspect.Parameter(h.name, inspect.Parameter.KEYWORD_ONLY, default=h.default)
        for h in (*rest, *cls.spec.attributes)
    ]
    params.append(inspect.Parameter("backend", inspect.Parameter.KEYWORD_ONLY, default="auto"))
    signature = inspect.Signature(params, return_annotation=None)
    attributes = [a.name for a in cls.spec.attributes]  # kept as attributes, not state
    keywords = [p.name for p in params[1:]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        unknown = {k: v for k, v in kwargs.items() if k not in keywords}
        if unknown:
            raise _spelling.unexpected_keywords(cls.__name__, unknown, keywords)
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        del values["self"]
        backend = values.pop("backend")
        extra = {name: values.pop(name) for name in attributes}
        Optimizer.__init__(self, backend=backend, **values)
        for name, value in extra.items():
            setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = f"Build a {cls.__name__} optimizer (see the class for the parameters)."
    return __init__


_SECTIONS = ("Notes", "Examples", "See Also", "References")


def _with_parameters(doc: str, declarations: Any) -> str:
    """The class docstring with a Parameters section made from the declarations.

    Inserted before the first of Notes / Examples / See Also / References (numpydoc's
    order), or appended.  A docstring that has its own Parameters section is kept.
    """
    text = inspect.cleandoc(doc)
    if "\nParameters\n----------" in text:
        return text
    entries = "\n".join(h.documented() for h in declarations)
    section = f"Parameters\n----------\n{entries}\n{BACKEND_DOC}\n"
    lines = text.splitlines()
    for k, line in enumerate(lines):
        if line.strip() in _SECTIONS and k + 1 < len(lines) and set(lines[k + 1].strip()) == {"-"}:
            return "\n".join([*lines[:k], *section.splitlines(), "", *lines[k:]])
    return f"{text}\n\n{section}"


def bounds_refused(opt: Any) -> str:
    """Why ``opt`` (a rule with ``allows_bounds=False``) takes no bounds."""
    return (
        f"{type(opt).__name__} takes no bounds: only θ would be projected, and its state "
        "(Schedule-Free's z, whose average is the result) would leave the box; use "
        "another rule with bounds, or a penalty in the objective"
    )


def _describe_schedule(lr: Any) -> str:
    """A learning-rate schedule in words: a numopt schedule's repr (its parameters)."""
    from numopt.schedules.base import Schedule

    return repr(lr) if isinstance(lr, Schedule) else f"a {type(lr).__name__} callable"


def _check_schedule(saved: Any, current: Any, opt: Any) -> None:
    """A state dict saved with a schedule loads only into an optimizer with one (the same)."""
    if saved is None:
        return
    name = type(opt).__name__
    if not callable(current):
        raise ValueError(
            f"state_dict was saved with learning_rate = {saved}, a schedule, which a state "
            f"dict does not hold: build {name}(learning_rate=<that schedule>) and load into "
            f"it (this optimizer's learning_rate is {current!r})"
        )
    described = _describe_schedule(current)
    if not saved.startswith("a ") and described != saved:
        raise ValueError(
            f"state_dict was saved with learning_rate = {saved}; this {name}'s is "
            f"{described}: build it with the same schedule"
        )
