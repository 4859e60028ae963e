"""One call of ``minimize``, assembled: the problem, the optimizer, the loop's state.

:class:`Run` takes the parsed configuration (:class:`numopt.front.config.Config`)
and the arrays, and builds what the loop works on, from the problem side up:
``x0``'s structure and the flat buffers ``x`` and ``g`` (on the host or the GPU,
:mod:`numopt.problem.placement`), the objective (:mod:`numopt.problem.objective`;
Dask's, the device's, or micro-batches around it), the mini-batches, the bounds, the
optimizer (the rule, wrapped by the transforms), and the loop's state and settings
records (:mod:`numopt.loop.state`).  The driver (:mod:`numopt.loop.driver`) runs it;
:mod:`numopt.front.result` turns it into the result.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeWarning

from numopt.front.config import DEFAULT_MAXITER, METHOD_OBJECTS, canonical, method_class
from numopt.kernels.arrays import FlatPair, Layout
from numopt.loop import hooks
from numopt.loop.history import Record
from numopt.loop.state import SETTINGS, STATE
from numopt.problem import bounds as problem_bounds
from numopt.problem import placement
from numopt.problem.batching import Batches
from numopt.problem.objective import Objective
from numopt.problem.structure import Structure
from numopt.rules.structured import per_array
from numopt.transforms import Wrapper
from numopt.transforms import options as transform_options
from numopt.transforms._wrapper import chain
from numopt.transforms.accumulate import MicroBatches

#: The history's series.
SERIES = ("fun", "grad_norm", "learning_rate", "epoch_fun")


class Run:
    """The arrays, objective, optimizer and state of one ``minimize`` call.

    Attributes (the main ones)
    --------------------------
    config : numopt.front.config.Config
        The options, parsed.
    structure : numopt.problem.structure.Structure
        ``x0``'s shape; ``x``, ``g`` its flat buffers, ``view`` what ``fun`` sees.
    objective : callable
        ``objective(view, args) -> f``, the gradient left in ``g``.
    opt : numopt.Optimizer or transform
        What steps ``x``.
    state, settings
        The loop's records (:data:`numopt.loop.state.STATE`, ``SETTINGS``).
        ``settings`` and ``settings_array`` (the compiled loop's) are shared by the runs
        with the same settings (:meth:`numopt.loop.record.RecordType.shared`): read only.
    """

    def __init__(
        self,
        fun: Callable,
        x0: Any,
        args: tuple,
        method: Any,
        jac: Any,
        callback: Any,
        config: Any,
        bounds: Any = None,
    ) -> None:
        self.config = config
        self.args = args
        placed = config.placement
        backend = method.backend if isinstance(method, METHOD_OBJECTS) else placed.backend
        self.device = "cuda" if placement.on_gpu(x0, placed.device, backend) else "cpu"
        gpu = self.device == "cuda"
        if gpu and method_evaluates(method):
            raise ValueError("l-bfgs-b runs on the CPU: give x0 as a NumPy array (device='cpu')")
        if gpu:
            from numopt.problem.device import DeviceObjective, DeviceStructure

            self.structure = DeviceStructure(x0)
        else:
            self.structure = Structure(x0)
        self.opt = _optimizer(method, config.hyperparameters, placed.backend)
        evaluates = getattr(self.opt, "evaluates", False)  # L-BFGS-B (a line search)
        self.method = canonical(method) if isinstance(method, str) else self.opt.name
        self.callbacks = hooks.callbacks(callback)
        if placed.return_device and not gpu:
            raise ValueError("return_device=True needs a run on the GPU (device='cuda')")
        self.dask = _dask_data(args, config.batching.data_args)
        self.batches = self._batches()
        if self.batches is not None and self.opt.full_batch_only:
            why = (
                "its line search needs a deterministic objective"
                if evaluates
                else "its steps follow the sign changes of the whole gradient, which "
                "mini-batch noise would trigger"
            )
            raise ValueError(
                f"method {self.method!r} is full-batch only ({why}): remove batch_size or "
                "choose another method"
            )
        s = self.structure
        # (L-BFGS-B has no per-array attributes; with groups, each group's rule at binding)
        if config.transforms.param_groups is None and not evaluates:
            _per_array_from(self.opt, s)  # LAMB's layers, Muon's matrices: one per array
        # transforms (numopt.transforms): param groups, Lookahead, averages wrap the rule;
        # accumulate > 1 makes each update evaluate that many mini-batches
        if evaluates and config.transforms.wrapping:
            raise ValueError(
                f"method {self.method!r} takes no transforms (average, lookahead, sam, "
                "param_groups, accumulate): they wrap an element-wise rule's update"
            )
        self.opt = transform_options.wrap(self.opt, config.transforms, s)
        self.accumulate = config.transforms.accumulate
        self.ops = placement.DeviceOps() if gpu else placement.HostOps
        self.x = s.flatten(s.x0)
        self.box = self._box(bounds, clip_x0=config.checkpointing.resume is None)
        self._bounds_digest: str | None = None
        self.g = self.ops.zeros(s.size, s.dtype)
        self.view = s.views(self.x)
        make: Any = Objective if self.dask is None else self.dask.objective
        if gpu:
            if self.dask is not None:
                raise ValueError("Dask data in args need a run on the host (device='cpu')")
            make = DeviceObjective
        self.objective = make(fun, jac, s, self.x, self.g)
        if self.accumulate > 1:  # the mean loss and gradient of each group of micro-batches
            self.objective = MicroBatches(self.objective, self.opt.backend)
        if evaluates and jac is None:
            # L-BFGS-B's default differences take its absolute eps; "2-point" and
            # "3-point" SciPy's relative steps, as SciPy's L-BFGS-B does
            self.objective.step = self.opt.hyperparameters["eps"]
        # the stopping test's gradient measure: max|g|, or the projected one under bounds
        self.grad_norm = self.ops.norm
        if self.box is not None:
            opt = self.opt  # a closure over the optimizer, not the run: no reference cycle

            def sign() -> float:  # the projected gradient's direction: -1.0 to maximise
                return -1.0 if opt.hyperparameters.get("maximize") else 1.0

            self.grad_norm = problem_bounds.grad_norm(self.x, self.box, sign)
            if self.objective.mode in ("2-point", "3-point"):  # differences stay inside
                self.objective.bounds = tuple(a.astype(np.float64) for a in self.box)
        self.pair = FlatPair(self.x, self.g, Layout((s.size,), s.dtype, "C", gpu))
        self.best_x = self.ops.copy_of(self.x)
        self.x_prev = self.ops.copy_of(self.x) if config.stopping.xtol else None
        self.history: dict[str, Record] | None = (
            {k: Record() for k in SERIES} if config.output.history else None
        )
        self.state = STATE.new()
        self.settings, self.settings_array = self._settings()  # (shared: read only)
        #: The current epoch's order of the samples: False (to draw), None (data order)
        #: or an index array.
        self.order: Any = False
        per_epoch = self.batches.per_epoch if self.batches is not None else 1
        self.losses = np.zeros(per_epoch, np.float64)  # this epoch's batch losses
        self.compiled = False
        self.compiled_reason = "not decided"
        self.switchable = False  # may move to the compiled loop mid-run (numopt.loop.switch)
        self.switch_why = ""  # why it did (switch.due)
        self.objective_compiles = False  # its first evaluation compiles fun/jac (switch.count)
        self.last_save = 0.0  # when the last checkpoint was written (perf_counter)
        self.x_iterate: Any = None  # Schedule-Free: the last iterate (x is the average)

    # -- assembly --------------------------------------------------------------------
    def _batches(self) -> Any:
        """Mini-batches over the data in ``args`` (None full-batch); their options checked."""
        b = self.config.batching
        if b.batch_size is not None:
            make = Batches if self.dask is None else self.dask.batches
            return make(
                self.args,
                b.batch_size,
                seed=b.seed,
                drop_last=b.drop_last,
                shuffle=b.shuffle,
                data_args=b.data_args,
            )
        given = [k for k in ("data_args", "seed") if getattr(b, k) is not None]
        if self.dask is not None:  # with Dask data, data_args also picks the chunked args
            given = [k for k in given if k != "data_args"]
        given += [
            k
            for k, default in (("drop_last", False), ("shuffle", True))
            if getattr(b, k) != default
        ]
        if given:
            raise ValueError(f"{', '.join(given)} apply to mini-batches: set batch_size too")
        return None

    def _settings(self) -> tuple[Any, np.ndarray]:
        """The loop's settings, and as the compiled loop takes them (shared by the runs
        with the same settings: nobody writes them)."""
        c = self.config
        stop, out = c.stopping, c.output
        schedule = self.opt.hyperparameters.get("learning_rate")
        return SETTINGS.shared(
            maxiter=-1 if stop.maxiter is None else stop.maxiter,
            maxfev=-1 if stop.maxfev is None else stop.maxfev,
            gtol=-1.0 if stop.gtol is None else stop.gtol,
            # ftol = 0 turns the test off, but for L-BFGS(-B), where it stops, as in
            # SciPy, when f did not decrease at all (a run stalled by rounding)
            ftol=stop.ftol if stop.ftol > 0 or getattr(self.opt, "evaluates", False) else -1.0,
            xtol=stop.xtol,
            xtol_on=self.x_prev is not None,
            hook_every=out.callback_every if self.callbacks else 0,
            disp_every=self.disp_every if out.disp else 0,
            save_every=(c.checkpointing.every or 0) if c.checkpointing.path is not None else 0,
            save_timed=bool(c.checkpointing.seconds),
            timed=stop.max_time is not None,
            record=self.history is not None,
            batched=self.batches is not None,
            per_epoch=self.batches.per_epoch if self.batches is not None else 0,
            stride=self.accumulate,
            skip_nonfinite=c.batching.skip_nonfinite,
            observe=bool(getattr(schedule, "needs_loss", False)),
        )

    @property
    def planned(self) -> int | None:
        """The updates the run will make at most (None: unbounded)."""
        planned = self.config.stopping.maxiter
        if self.batches is not None and self.config.batching.epochs is not None:
            per_run = self.config.batching.epochs * -(-self.batches.per_epoch // self.accumulate)
            planned = per_run if planned is None else min(planned, per_run)
        return planned

    @property
    def disp_every(self) -> int:
        """Updates between two ``disp`` rows (ten rows over the planned run)."""
        return max(1, (self.planned or DEFAULT_MAXITER) // 10)

    def _box(self, bounds: Any, clip_x0: bool) -> Any:
        """``minimize``'s ``bounds`` laid out flat; clip ``x`` into them (with a warning)."""
        from numopt.kernels import box as kernel_box

        if self.opt.bounds is not None:
            raise ValueError(
                "the optimizer object passed as method has bounds (opt.bounds), which apply "
                "to opt.step; give minimize's bounds as minimize(..., bounds=...) instead"
            )
        if bounds is None:
            return None
        from numopt.rules.optimizer import Optimizer, bounds_refused

        rule = chain(self.opt)[-1]
        if isinstance(rule, Optimizer) and not rule.spec.allows_bounds:
            raise ValueError(f"bounds: {bounds_refused(rule)}")
        box = problem_bounds.for_structure(bounds, self.structure)
        if self.device == "cuda":
            box = kernel_box.to_device(box)
        if clip_x0 and kernel_box.clip(self.x, box):
            warnings.warn(
                "Initial guess is not within the specified bounds; x0 was clipped into them",
                OptimizeWarning,
                stacklevel=4,
            )
        return box

    # -- what the loop and the result read -------------------------------------------
    def to_evaluation_point(self, finished: bool) -> None:
        """A Schedule-Free rule's run: ``x`` becomes the averaged point, the one to use,
        whose loss the result then evaluates; the last iterate is kept as ``x_iterate``.

        ``finished``: the run stopped normally (not interrupted, nothing non-finite);
        otherwise, and before any update, ``x`` stays the iterate.
        """
        averaged = getattr(self.opt, "averaged", None)
        if averaged is None or not finished or self.state.nit == 0:
            return
        self.x_iterate = self.ops.copy_of(self.x)
        self.ops.load(self.x, self.ops.host(averaged(self.x)))
        self.state.fx_known = 0

    def bounds_key(self) -> str | None:
        """The bounds' fingerprint saved in checkpoints (computed once)."""
        if self.box is not None and self._bounds_digest is None:
            self._bounds_digest = problem_bounds.digest(self.box)
        return self._bounds_digest

    @property
    def schedule(self) -> Any:
        """The rule's learning rate: a float, or a schedule."""
        return self.opt.hyperparameters["learning_rate"]

    def epoch_losses(self) -> list[float]:
        """The batch losses of the current epoch so far."""
        return self.losses[: self.state.n_losses].tolist()

    def end_epoch(self) -> None:
        """An epoch of mini-batches ended: its mean batch loss feeds a plateau and history."""
        s = self.state
        if s.n_losses:
            mean = float(np.mean(self.losses[: s.n_losses]))
            schedule = self.schedule
            if getattr(schedule, "needs_loss", False):
                schedule.update(mean)
            if self.history is not None:
                self.history["epoch_fun"].append(mean)
        s.n_losses = 0
        s.epochs_done += 1
        s.batch_index = 0
        self.order = False

    def call_back(self, nit: int, f: float) -> str | None:
        """Call the callbacks at ``x``; the reason to stop, or None."""
        return hooks.call(self.callbacks, self.structure.unflatten(self.x), f, nit)

    def loss_is_known(self) -> bool:
        """Whether the full-data loss at the current ``x`` is known (``state.fx``)."""
        return self.state.fx_known != 0


def method_evaluates(method: Any) -> bool:
    """Whether ``method`` (a name or an object) evaluates the objective in its update."""
    cls = type(method) if isinstance(method, METHOD_OBJECTS) else method_class(method)
    return bool(getattr(cls, "evaluates", False))


def _optimizer(method: Any, hyperparameters: dict, backend: Any) -> Any:
    """The method to run: ``method`` itself (an optimizer object), or built from its name."""
    if isinstance(method, METHOD_OBJECTS):
        return method
    cls = method_class(method)
    if getattr(cls, "evaluates", False):
        if backend not in ("auto", "serial"):
            raise ValueError(f"backend={backend!r}: {cls.name} runs on the CPU ('auto', 'serial')")
        return cls(**hyperparameters)
    return cls(**hyperparameters, backend=backend)  # checks each, by name


def _per_array_from(opt: Any, s: Any) -> None:
    """Give a rule in ``opt``'s chain that works per array x0's arrays: LAMB's and LARS's
    ``layers`` (for a list/dict x0), Muon's ``shapes`` (always: the flat buffer has lost
    the shape).

    Only where the attribute is None: what the user set on an optimizer object is kept
    (and checked against x at the first step).
    """
    given = per_array(s.sizes, s.shapes)
    if s.kind == "array":
        del given["layers"]  # one array: one layer, as layers=None says
    link = opt
    while getattr(link, "kind", None) != "param_groups":  # its units get theirs at binding
        attributes = getattr(link, "_attributes", {})
        for name, value in given.items():
            if name in attributes and attributes[name] is None:
                try:
                    setattr(link, name, value)
                except ValueError as exc:  # Muon and a 1-D array: say which
                    shapes = dict(zip(s.keys, s.shapes, strict=True))
                    what = (
                        f"x0 has the shape {s.shapes[0]}"
                        if s.kind == "array"
                        else f"x0's arrays have the shapes {shapes}"
                    )
                    raise ValueError(f"{what}: {exc}") from None
        if not isinstance(link, Wrapper):
            return
        link = link.inner


def _dask_data(args: tuple, data_args: Any) -> Any:
    """The Dask data in ``args`` (a ``DaskData``), or None: no Dask import."""
    if not any(type(a).__module__.partition(".")[0] == "dask" for a in args):
        return None
    from numopt.problem.distributed import DaskData

    return DaskData(args, data_args)
