"""``numopt.minimize``: the SciPy-style door to every rule.

``minimize`` normalises ``x0``, looks ``method`` up in :data:`numopt.rules.RULES`,
checks ``options`` (an unknown key is an error), and runs one loop::

    objective (fun/jac on the batch) → gradient → rule (kernel) → state

The loop knows nothing of kernels; the rules know nothing of callbacks,
schedules or batches.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult, OptimizeWarning

from numopt import _bounds, _compiled, _device, checkpoint
from numopt._arrays import FlatPair, Layout
from numopt._checks import (
    HYPERPARAMETERS,
    boolean,
    choice,
    hyperparameter,
    integer,
    nonnegative,
)
from numopt._history import Record
from numopt._objective import Objective
from numopt._structure import Structure
from numopt.batching import Batches
from numopt.optimizer import Optimizer
from numopt.rules import RULES
from numopt.transforms import Wrapper
from numopt.transforms import options as transform_options
from numopt.transforms.accumulate import MicroBatches, grouped

#: ``status`` codes and their messages (``{}`` filled with details).
STATUS = {
    0: "Optimization terminated successfully: the gradient's largest entry is below gtol.",
    1: "Maximum number of iterations has been exceeded.",
    2: "Maximum number of function evaluations has been exceeded.",
    3: "Stopped: {}",  # non-finite loss or gradient
    4: "Optimization terminated successfully: the relative change of f is below ftol.",
    5: "Optimization terminated successfully: the step is below xtol.",
    6: "Maximum time (max_time) has been exceeded.",
    7: "Completed the requested number of epochs.",
    8: "Interrupted (Ctrl-C or KeyboardInterrupt); returning the point reached so far.",
    99: "{}",  # a callback asked to stop
}
SUCCESS = {0, 4, 5, 7}

#: Options of the loop itself, with their defaults (None: see the docstring).
LOOP_OPTIONS: dict[str, Any] = {
    "maxiter": None,
    "maxfev": None,
    "gtol": None,
    "ftol": 0.0,
    "xtol": 0.0,
    "max_time": None,
    "disp": False,
    "progress": False,
    "history": False,
    "batch_size": None,
    "epochs": None,
    "seed": None,
    "drop_last": False,
    "shuffle": True,
    "data_args": None,
    "backend": "auto",
    "checkpoint": None,
    "checkpoint_every": None,
    "checkpoint_seconds": None,
    "resume": None,
    "on_nonfinite": "stop",
    "device": "auto",
    "return_device": False,
    "callback_every": 1,
    "compiled": "auto",
    # gradient/parameter transforms (numopt.transforms.options.OPTIONS; None: off)
    "accumulate": None,
    "average": None,
    "ema_decay": None,
    "ema_debias": None,
    "average_start": None,
    "lookahead": None,
    "lookahead_alpha": None,
    "param_groups": None,
}
DEFAULT_MAXITER = 1000
DEFAULT_GTOL = 1e-5


def rule_options(cls: type[Optimizer]) -> list[str]:
    """The hyperparameter names a rule's constructor takes."""
    params = inspect.signature(cls.__init__).parameters
    return [name for name in params if name not in ("self", "backend")]


def minimize(
    fun: Callable,
    x0: Any,
    args: tuple = (),
    method: str | Optimizer = "adam",
    jac: Callable | bool | str | None = None,
    callback: Callable | Sequence[Callable] | None = None,
    options: dict[str, Any] | None = None,
    tol: float | None = None,
    *,
    bounds: Any = None,
) -> OptimizeResult:
    """Minimise ``fun(x, *args)`` with a first-order rule, SciPy style.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float``; with ``jac=True``, ``-> (float, gradient)``.
        ``x`` is a read-only view of the current point, structured like ``x0``
        (copy it if you keep it).
    x0 : array_like, or list/tuple/dict of array_like
        Starting point, any shape, float32 or float64 (the dtype is kept
        throughout; integers are converted to float64).  A list/tuple/dict of
        arrays is optimised as one flat buffer and given back in that structure.
    args : tuple
        Extra arguments of ``fun``/``jac``.  With ``batch_size`` the data arrays
        among them are sampled per batch.
    method : str or Optimizer
        ``"gd"``, ``"sgd"``, ``"momentum"``, ``"rmsprop"``, ``"adam"``,
        ``"adamw"``, ``"adagrad"``, ``"adadelta"``, ``"adamax"``, ``"nadam"``,
        ``"radam"``, ``"rprop"`` (full-batch only: no ``batch_size``), ``"lion"``,
        ``"lamb"`` (a list/dict ``x0``'s arrays are its layers) — the keys of
        :data:`numopt.RULES`, case-insensitive —, or a stateful optimizer object
        (used as is, with its state).
    jac : callable, True, "2-point", "3-point" or None
        The gradient: ``jac(x, *args)`` returning an array (or structure) like
        ``x0``; ``True`` if ``fun`` returns ``(f, g)``; otherwise finite
        differences by SciPy's ``approx_derivative`` (``None`` means
        ``"2-point"``), each evaluation counted in ``nfev``.
    callback : callable or list of callables
        Called after each update: ``callback(intermediate_result)`` (SciPy ≥ 1.11
        style, chosen when the parameter is named ``intermediate_result``; it gets
        ``x``, ``fun``, ``nit``) or ``callback(xk)``.  Raising ``StopIteration``
        or returning ``True`` stops the run (status 99).
    options : dict
        The rule's hyperparameters (``learning_rate`` — a float or a schedule
        from :mod:`numopt.schedules` or any callable of the 0-based step —,
        ``beta``, ``beta1``, ``beta2``, ``eps``, ``weight_decay``, ``nesterov``,
        ``eps_placement``), gradient clipping, which every method takes:

        ``clip_value``
            Clamp each gradient entry to ``[-clip_value, clip_value]`` before the
            update (default None: off).
        ``clip_norm``
            Scale the gradient by ``min(1, clip_norm/‖g‖)``, ``‖g‖`` its Euclidean
            norm over all of ``x0``'s arrays (default None: off); with
            ``clip_value`` too, of the clamped gradient.  ``res.jac`` and
            ``history`` show the gradient before clipping; see
            ``docs/clipping-and-lamb.md``.

        and the loop's:

        ``maxiter``
            Maximum number of updates (default 1000, or unbounded when
            ``epochs`` is given).
        ``maxfev``
            Maximum number of ``fun`` evaluations.
        ``gtol``
            Stop when ``max|g| <= gtol`` (default 1e-5 full-batch, off with
            mini-batches, where it would test one batch's gradient).
        ``ftol``
            Stop when ``|f_k - f_{k-1}| <= ftol * max(|f_k|, |f_{k-1}|, 1)``
            (default 0: off).
        ``xtol``
            Stop when ``max|x_k - x_{k-1}| <= xtol`` (default 0: off; costs a
            copy of x per update).
        ``max_time``
            Seconds of wall time after which to stop.
        ``disp``
            Print a compact iteration table and the final message.
        ``progress``
            Show a tqdm progress bar (needs the ``progress`` extra).
        ``history``
            Record ``fun``, ``grad_norm`` (max|g|) and ``learning_rate`` per
            update (and ``epoch_fun`` per epoch) in ``result.history``.
        ``batch_size``, ``epochs``, ``seed``, ``drop_last``, ``shuffle``, ``data_args``
            Mini-batches (see :class:`numopt.batching.Batches`); ``epochs``
            bounds the run.
        ``backend``
            The kernels' backend (see :class:`numopt.Optimizer`).
        ``device``
            Where ``x``, the gradient, the best point and the optimizer's state
            live: ``"cpu"``, ``"cuda"`` (one GPU, through numba-cuda) or
            ``"auto"`` (default: ``"cuda"`` when ``x0`` holds a CUDA device array —
            Numba, CuPy, PyTorch — or ``backend="cuda"``, else ``"cpu"``).  On the
            GPU, ``fun``/``jac`` get device views of ``x`` (CuPy arrays or torch
            tensors when ``x0`` is one, Numba device arrays otherwise; do not write
            into them); a device gradient is copied device-to-device, a NumPy one
            from the host (a transfer per evaluation), ``jac="inplace"`` copies
            nothing; the loss may be a 1-element device array; callbacks get device
            copies; finite differences are refused.  ``res.x`` is NumPy.  See
            ``docs/gpu.md``.
        ``return_device``
            With ``device="cuda"``: also return the final point as device arrays
            structured like ``x0``, ``res.x_device`` (the run's own buffer, no copy).
        ``checkpoint``, ``checkpoint_every``, ``checkpoint_seconds``
            A file to save the run's state to (see :mod:`numopt.checkpoint`): every
            ``checkpoint_every`` updates and/or ``checkpoint_seconds`` seconds, and
            always when the run ends (Ctrl-C included), written atomically.
        ``on_nonfinite``
            ``"stop"`` (default): a non-finite loss or gradient ends the run (status
            3) with the best point.  ``"skip"`` (mini-batches only): drop that batch,
            make no update, count it in ``result.skipped`` (and towards ``maxiter``).
        ``resume``
            A checkpoint file to continue from (same method, shape and dtype; the
            other options as before, or a larger ``maxiter``/``epochs``).  A run
            stopped by ``maxiter``, ``max_time``, Ctrl-C, a ``KeyboardInterrupt``
            from the objective or a callback, and resumed, ends with the same ``x``
            bit for bit as a run never stopped.  ``nfev`` may differ by the
            evaluation that was interrupted.  The transforms below must match the
            checkpoint's; their state is in it.
        ``accumulate``
            Gradient accumulation (needs ``batch_size``): each update evaluates
            this many consecutive mini-batches of an epoch at the same point and
            steps with their mean gradient (the last group of an epoch may hold
            fewer).  ``nit``, ``maxiter``, callbacks, ``history`` (the group's mean
            loss and ``max|mean g|``), ``gtol``/``ftol``, ``on_nonfinite="skip"``
            (a whole group) and checkpoints count updates, not batches; ``nfev``
            counts evaluations.
        ``average``, ``ema_decay``, ``ema_debias``, ``average_start``
            Average x after each update: ``"ema"`` (decay 0.999, debiased by
            default; see :class:`numopt.EMA`) or ``"polyak"`` (the running mean),
            skipping the first ``average_start`` updates.  ``res.x_average`` is the
            average (structured like x0; x itself when nothing was averaged);
            ``res.x`` stays the last point.
        ``lookahead``, ``lookahead_alpha``
            Lookahead around the rule (:class:`numopt.Lookahead`): every
            ``lookahead`` updates, ``slow += lookahead_alpha * (x - slow)`` (α
            default 0.5) and ``x = slow``.
        ``param_groups``
            For a list/tuple/dict ``x0``: ``[{"params": [keys or indices], name:
            value, ...}, ...]``, the rule's hyperparameters for those arrays (e.g.
            ``{"params": ["b"], "weight_decay": 0.0}``); the other arrays take the
            method's options.  See :class:`numopt.ParamGroups`.

        Runs with any of these use the Python loop (``compiled`` does not apply);
        see ``docs/transforms.md``.
    tol : float, optional
        Sets ``gtol`` unless options give it (as SciPy's gradient methods do).
    bounds : scipy.optimize.Bounds, sequence of (lo, hi) pairs, or dict, optional
        Box bounds ``lo <= x <= hi`` (keyword only), as SciPy's: a ``Bounds`` whose
        ``lb``/``ub`` are scalars or arrays with one entry per element of the
        flattened ``x0``, or one ``(lo, hi)`` pair per element (``None``:
        unbounded); for a dict ``x0`` also ``{key: (lo, hi)}`` per array (each side
        broadcast to that array; missing keys unbounded).  Every method projects
        ``x`` onto the box after each update, inside its kernel; an ``x0`` outside
        is clipped with an ``OptimizeWarning``; ``gtol`` then tests the projected
        gradient ``max|P(x - g) - x|``.  See ``docs/bounds.md``.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x`` (structured like ``x0``), ``fun``, ``jac``, ``nit`` (updates),
        ``nfev``, ``njev``, ``status``, ``success``, ``message``, ``x_best`` and
        ``fun_best`` (the lowest loss seen and its point), ``epochs`` (completed,
        with mini-batches), ``history``, ``x_device`` and ``x_average`` when asked
        for.  With mini-batches, ``fun`` and ``jac`` are evaluated once more on the
        whole data at the end.  A run stopped by a non-finite loss or gradient
        returns its best point as ``x`` (never NaNs).

    Examples
    --------
    >>> import numpy as np, numopt
    >>> from scipy.optimize import rosen, rosen_der
    >>> res = numopt.minimize(rosen, np.array([-1.2, 1.0]), method="adam", jac=rosen_der,
    ...                       options={"learning_rate": 0.02, "maxiter": 20000, "gtol": 1e-6})
    >>> res.success, np.round(res.x, 4)
    (True, array([1., 1.]))
    """
    run = _Run(fun, x0, args, method, jac, callback, options, tol, bounds)
    return run.solve()


class _Run:
    """One call of :func:`minimize`: checked inputs, buffers, counters."""

    def __init__(self, fun, x0, args, method, jac, callback, options, tol, bounds=None) -> None:
        if not callable(fun):
            raise TypeError(f"fun must be callable, got {type(fun).__name__}")
        if not isinstance(args, tuple):
            args = (args,)
        self.args = args
        options = _checked_options_dict(options)
        # where the run's arrays live (numopt._device): "cpu" or "cuda"
        self.device = "cuda" if _device.on_gpu(x0, options, method) else "cpu"
        gpu = self.device == "cuda"
        self.structure = _device.DeviceStructure(x0) if gpu else Structure(x0)
        self.opt = _optimizer(method, options)
        self.method = method.lower() if isinstance(method, str) else self.opt.name
        loop = {**LOOP_OPTIONS, **{k: v for k, v in options.items() if k in LOOP_OPTIONS}}
        if tol is not None and options.get("gtol") is None:
            loop["gtol"] = tol
        self.callbacks = _callbacks(callback)
        self._loop_options(loop)
        if self.batch_size is not None and self.opt.full_batch_only:
            raise ValueError(
                f"method {self.method!r} is full-batch only (its steps follow the sign "
                "changes of the whole gradient, which mini-batch noise would trigger): "
                "remove batch_size or choose another method"
            )
        if self.structure.kind != "array":  # a layer-wise rule (LAMB): one layer per array
            _layers_from(self.opt, self.structure.sizes)
        # transforms (numopt.transforms): param groups, Lookahead, averages wrap the rule;
        # accumulate > 1 makes each update evaluate that many mini-batches
        self.opt, self.accumulate = transform_options.wrap(
            self.opt, loop, self.structure, self.batch_size is not None
        )
        s = self.structure
        self.ops = _device.DeviceOps() if gpu else _device.HostOps  # the buffers' operations
        self.x = s.flatten(s.x0)
        # box bounds (numopt._bounds): flat, in x's dtype and place; x0 clipped into them
        self.box = self._box(bounds, clip_x0=loop["resume"] is None)
        self._bounds_digest: str | None = None
        self.g = self.ops.zeros(s.size, s.dtype)
        self.view = s.views(self.x)
        make = Objective if self._dask is None else self._dask.objective
        if gpu:
            if self._dask is not None:
                raise ValueError("Dask data in args need a run on the host (device='cpu')")
            make = _device.DeviceObjective
        self.objective = make(fun, jac, s, self.x, self.g)
        if self.accumulate > 1:  # the mean loss and gradient of each group of micro-batches
            self.objective = MicroBatches(self.objective, self.opt.backend)
        # the stopping test's gradient measure: max|g|, or the projected one under bounds
        self.grad_norm = self.ops.norm
        if self.box is not None:
            self.grad_norm = _bounds.grad_norm(self.x, self.box, self._sign)
            if self.objective.mode in ("2-point", "3-point"):  # differences stay inside
                self.objective.bounds = tuple(a.astype(np.float64) for a in self.box)
        layout = Layout((s.size,), s.dtype, "C", gpu)
        self.pair = FlatPair(self.x, self.g, layout)
        self.best_x = self.ops.copy_of(self.x)
        self.best_f = math.inf
        self.best_nit = -1
        self.history: dict[str, Record] | None = (
            {k: Record() for k in ("fun", "grad_norm", "learning_rate", "epoch_fun")}
            if loop["history"]
            else None
        )
        # the loop's position: updates done, last loss, epochs done, next batch, its order
        self.nit, self.f_prev = 0, None
        self.epochs_done, self.batch_index, self.order = 0, 0, False
        self._epoch_losses: list[float] = []
        self.x_prev = self.ops.copy_of(self.x) if self.xtol else None
        self._saved_nit = -1
        # the whole loop in nopython mode when fun/jac are Numba functions (numopt._compiled)
        reason = "compiled=False" if loop["compiled"] is False else _compiled.plan(self, fun, jac)
        if loop["compiled"] is True and reason is not None:
            raise ValueError(f"compiled=True, but this run cannot be compiled: {reason}")
        self.compiled, self.compiled_reason = reason is None, reason
        if self.compiled:
            # the final evaluation (in _result) then calls fun/jac with the writeable
            # array type the compiled loop compiled them for: no second compilation
            self.view = s.views(self.x, writeable=True)
        if loop["resume"] is not None:
            self._resume(loop["resume"])

    # -- bounds ----------------------------------------------------------------------
    def _box(self, bounds: Any, clip_x0: bool) -> _bounds.Box | None:
        """``minimize``'s ``bounds`` laid out flat; clip ``x`` into them (with a warning)."""
        if self.opt.bounds is not None:
            raise ValueError(
                "the optimizer object passed as method has bounds (opt.bounds), which apply "
                "to opt.step; give minimize's bounds as minimize(..., bounds=...) instead"
            )
        if bounds is None:
            return None
        box = _bounds.for_structure(bounds, self.structure)
        if self.device == "cuda":
            box = _bounds.to_device(box)
        if clip_x0 and _bounds.clip(self.x, box):
            warnings.warn(
                "Initial guess is not within the specified bounds; x0 was clipped into them",
                OptimizeWarning,
                stacklevel=4,
            )
        return box

    def _sign(self) -> float:
        """The step's direction for the projected gradient: -1.0 with ``maximize``."""
        return -1.0 if self.opt.hyperparameters.get("maximize") else 1.0

    def _bounds_key(self) -> str | None:
        """The bounds' fingerprint saved in checkpoints (computed once)."""
        if self.box is not None and self._bounds_digest is None:
            self._bounds_digest = _bounds.digest(self.box)
        return self._bounds_digest

    # -- options ---------------------------------------------------------------------
    def _loop_options(self, o: dict) -> None:
        def count(name, value):
            return None if value is None else integer(name, value, 0)

        def tolerance(name, value):
            return None if value is None else nonnegative(name, value)

        self.batch_size = o["batch_size"]
        self.epochs = count("epochs", o["epochs"])
        if self.epochs is not None and self.batch_size is None:
            raise ValueError("epochs needs batch_size (an epoch is one pass over the batches)")
        maxiter = count("maxiter", o["maxiter"])
        if maxiter is None:
            maxiter = DEFAULT_MAXITER if self.epochs is None else None
        self.maxiter = maxiter
        self.maxfev = count("maxfev", o["maxfev"])
        gtol = tolerance("gtol", o["gtol"])
        self.gtol = (
            gtol if gtol is not None else (DEFAULT_GTOL if self.batch_size is None else None)
        )
        self.ftol = tolerance("ftol", o["ftol"])
        self.xtol = tolerance("xtol", o["xtol"])
        self.max_time = tolerance("max_time", o["max_time"])
        self.checkpoint = _path("checkpoint", o["checkpoint"])
        self.checkpoint_every = None
        if o["checkpoint_every"] is not None:
            self.checkpoint_every = integer("checkpoint_every", o["checkpoint_every"], 1)
        self.checkpoint_seconds = tolerance("checkpoint_seconds", o["checkpoint_seconds"])
        if self.checkpoint is None and (self.checkpoint_every or self.checkpoint_seconds):
            raise ValueError("checkpoint_every and checkpoint_seconds need options['checkpoint']")
        _path("resume", o["resume"])
        self.skip_nonfinite = choice("on_nonfinite", o["on_nonfinite"], ("stop", "skip")) == "skip"
        if self.skip_nonfinite and self.batch_size is None:
            raise ValueError(
                "on_nonfinite='skip' needs batch_size: full-batch would evaluate the same "
                "point again"
            )
        self.skipped = 0
        self.callback_every = integer("callback_every", o["callback_every"], 1)
        if o["compiled"] not in _compiled.CHOICES or not isinstance(o["compiled"], (bool, str)):
            raise ValueError(f"compiled must be 'auto', True or False, got {o['compiled']!r}")
        for flag in ("disp", "progress", "history", "drop_last", "shuffle", "return_device"):
            boolean(flag, o[flag])
        self.disp, self.progress = bool(o["disp"]), bool(o["progress"])
        self.return_device = bool(o["return_device"])
        if self.return_device and self.device != "cuda":
            raise ValueError("return_device=True needs a run on the GPU (device='cuda')")
        # Dask arrays in args: numopt.distributed (imported only then) takes the data
        self._dask = _dask_data(self.args, o["data_args"])
        self.batches = None
        if self.batch_size is not None:
            self.batches = (Batches if self._dask is None else self._dask.batches)(
                self.args,
                self.batch_size,
                seed=o["seed"],
                drop_last=o["drop_last"],
                shuffle=o["shuffle"],
                data_args=o["data_args"],
            )
        else:
            given = [k for k in ("data_args", "seed") if o[k] is not None]
            if self._dask is not None:  # with Dask data, data_args also picks the chunked args
                given = [k for k in given if k != "data_args"]
            given += [
                k for k, default in (("drop_last", False), ("shuffle", True)) if o[k] != default
            ]
            if given:
                raise ValueError(f"{', '.join(given)} apply to mini-batches: set batch_size too")

    # -- the loop --------------------------------------------------------------------
    def solve(self) -> OptimizeResult:
        start = time.perf_counter()
        self._last_save = start
        bar = _progress_bar(self) if self.progress else None
        if self.disp:
            print(f"{'iter':>8} {'f':>14} {'max|g|':>11} {'lr':>10}")
        planned = self.maxiter
        if self.batches is not None and self.epochs is not None:
            per_run = self.epochs * -(-self.batches.per_epoch // self.accumulate)
            planned = per_run if planned is None else min(planned, per_run)
        every = max(1, (planned or DEFAULT_MAXITER) // 10)
        status, detail = 1, ""
        self.fx = None  # the full-data loss at the current x, when known
        # the whole loop in nopython mode (numopt._compiled), or this module's Python loop
        loop = _compiled.solve if self.compiled else _Run._python_loop
        with _deferred_sigint() as interrupted:
            try:
                status, detail = loop(self, start, bar, interrupted, every)
            except KeyboardInterrupt:  # raised by the user's code: before this update
                status = 8
            finally:
                if bar is not None:
                    bar.close()
        if self.checkpoint is not None:
            self._save()
        return self._result(status, detail, self.nit, self.epochs_done)

    def _python_loop(
        self, start: float, bar: Any, interrupted: Callable[[], bool], every: int
    ) -> tuple[int, str]:
        """One update per iteration, in Python; ``(status, detail)`` when the run stops."""
        opt, obj, hist = self.opt, self.objective, self.history
        norm, copy = self.grad_norm, self.ops.copy
        schedule = opt.hyperparameters.get("learning_rate")
        plateau = schedule if getattr(schedule, "needs_loss", False) else None
        status, detail = 1, ""
        for batch_args in self._stream():
            if batch_args is None:  # an epoch ended
                self._end_epoch()
                continue
            # a consistent point: nothing of this iteration has happened yet, so
            # stopping or saving here resumes exactly
            nit = self.nit
            if interrupted():
                status = 8
                break
            if self.maxiter is not None and nit + self.skipped >= self.maxiter:
                status = 1
                break
            if self.max_time is not None and time.perf_counter() - start > self.max_time:
                status = 6
                break
            if self.checkpoint is not None and self._save_due(nit, time.perf_counter()):
                self._save()
            f = obj(self.view, batch_args)
            gnorm = norm(self.g)
            if self.batches is None:
                self.fx = f
            if nit > 0 and self.callbacks and nit % self.callback_every == 0:
                stop = self._call_back(nit, f)
                if stop:
                    status, detail = 99, stop
                    break
            if interrupted():  # Ctrl-C during the evaluation: no update after it
                status = 8
                break
            if not (math.isfinite(f) and math.isfinite(gnorm)) and self.skip_nonfinite:
                self.skipped += 1  # drop this batch: no update
                continue
            if not (math.isfinite(f) and math.isfinite(gnorm)):
                what = f"loss ({f})" if not math.isfinite(f) else "gradient (NaN or inf entries)"
                status, detail = 3, f"non-finite {what} at iteration {nit}"
                break
            if self.batches is not None:
                self._epoch_losses.append(f)
            if f < self.best_f:
                self.best_f, self.best_nit = f, nit
                copy(self.best_x, self.x)
            if plateau is not None and self.batches is None:
                plateau.update(f)
            if hist is not None:
                hist["fun"].append(f)
                hist["grad_norm"].append(gnorm)
            if self.disp and nit % every == 0:
                lr = opt.learning_rate_at(nit + 1)
                print(f"{nit:>8} {f:>14.6e} {gnorm:>11.3e} {lr:>10.3e}")
            if self.gtol is not None and gnorm <= self.gtol:
                status = 0
                break
            f_prev = self.f_prev
            if self.ftol and f_prev is not None:
                if abs(f_prev - f) <= self.ftol * max(abs(f_prev), abs(f), 1.0):
                    status = 4
                    break
            if self.x_prev is not None:
                if nit > 0 and self.ops.diff_norm(self.x_prev, self.x) <= self.xtol:
                    status = 5
                    break
                copy(self.x_prev, self.x)
            if self.maxfev is not None and obj.nfev >= self.maxfev:
                status = 2
                break
            if hist is not None:
                hist["learning_rate"].append(opt.learning_rate_at(nit + 1))
            opt._apply(self.pair, self.box)
            self.fx = None
            self.nit = nit + 1
            self.f_prev = f
            if bar is not None:
                bar.update(1)
        else:
            status = 7
        return status, detail

    def _end_epoch(self) -> None:
        """An epoch of mini-batches ended: its mean batch loss feeds a plateau and history."""
        if self._epoch_losses:
            mean = float(np.mean(self._epoch_losses))
            schedule = self.opt.hyperparameters.get("learning_rate")
            if getattr(schedule, "needs_loss", False):
                schedule.update(mean)
            if self.history is not None:
                self.history["epoch_fun"].append(mean)
        self._epoch_losses = []

    def _stream(self):
        """Batch args per update; ``None`` at the end of each epoch (resumable)."""
        if self.batches is None:
            while True:
                yield self.args
        epoch, start, order = self.epochs_done, self.batch_index, self.order
        while self.epochs is None or epoch < self.epochs:
            if order is False:
                order = self.batches.new_order()
            batches = enumerate(self.batches.epoch(order, start), start)
            if self.accumulate > 1:  # one update per group of micro-batches (within the epoch)
                batches = grouped(batches, self.accumulate)
            for b, batch in batches:
                self.batch_index, self.order = b, order
                yield batch
            epoch, start, order = epoch + 1, 0, False
            self.epochs_done, self.batch_index, self.order = epoch, 0, False
            yield None

    # -- checkpoints -------------------------------------------------------------------
    def _save_due(self, nit: int, now: float) -> bool:
        if nit == self._saved_nit or nit == 0:
            return False
        if self.checkpoint_every and nit % self.checkpoint_every == 0:
            return True
        return bool(self.checkpoint_seconds and now - self._last_save >= self.checkpoint_seconds)

    def _save(self) -> None:
        """Write the state at the current consistent point (see :mod:`numopt.checkpoint`)."""
        sd = self.opt.state_dict()
        host = self.ops.host  # checkpoints hold host arrays, wherever the run is
        arrays = {"x": host(self.x), "best_x": host(self.best_x)}
        arrays.update({f"opt_{k}": v for k, v in sd.pop("state", {}).items()})
        if self.x_prev is not None:
            arrays["x_prev"] = host(self.x_prev)
        order = getattr(self, "order", False)
        if order is not False and order is not None:
            arrays["order"] = order
        if self.history is not None:
            arrays.update({f"history_{k}": np.asarray(v) for k, v in self.history.items()})
        s = self.structure
        meta = {
            "method": self.method,
            "dtype": s.dtype.name,
            "shapes": [list(shape) for shape in s.shapes],
            "nit": self.nit,
            "nfev": self.objective.nfev,
            "njev": self.objective.njev,
            "best_f": self.best_f,
            "best_nit": self.best_nit,
            "f_prev": self.f_prev,
            "epochs_done": self.epochs_done,
            "batch_index": self.batch_index,
            "order": "none" if order is None else ("array" if order is not False else "new"),
            "epoch_losses": self._epoch_losses,
            "skipped": self.skipped,
            "rng": self.batches.rng.bit_generator.state if self.batches is not None else None,
            "optimizer": sd,
            "transforms": transform_options.describe(self.opt, self.accumulate),
            "bounds": self._bounds_key(),
        }
        checkpoint.save(self.checkpoint, meta, arrays)
        self._saved_nit, self._last_save = self.nit, time.perf_counter()

    def _resume(self, path: Any) -> None:
        meta, arrays = checkpoint.load(path)
        s = self.structure
        want = {
            "method": self.method,
            "dtype": s.dtype.name,
            "shapes": [list(x) for x in s.shapes],
            "transforms": transform_options.describe(self.opt, self.accumulate),
        }
        for key, value in want.items():
            if meta.get(key) != value:
                raise ValueError(
                    f"resume: the checkpoint was made with {key} {meta.get(key)!r}, this run "
                    f"has {value!r}"
                )
        if meta.get("bounds") != self._bounds_key():
            have = "no bounds" if self.box is None else "bounds"
            made = "without bounds" if meta.get("bounds") is None else "with other bounds"
            raise ValueError(
                f"resume: the checkpoint was made {made}, this run has {have}; resume with "
                "the same bounds (bounds are not stored in the checkpoint: give them again)"
            )
        if (meta["rng"] is None) != (self.batches is None):
            raise ValueError("resume: the checkpoint and this run differ in using batch_size")
        sd = meta["optimizer"]
        # checked as on load: JSON gives lists where tuples were saved (Rprop's etas)
        saved = {
            k: hyperparameter(k, v) if k in HYPERPARAMETERS else v
            for k, v in sd["hyperparameters"].items()
        }
        current = {k: v for k, v in self.opt.hyperparameters.items() if not callable(v)}
        for key in sorted(set(saved) | set(current)):
            if saved.get(key, "a schedule") != current.get(key, "a schedule"):
                raise ValueError(
                    f"resume: the checkpoint was made with {key}="
                    f"{saved.get(key, 'a schedule')!r}, this run has "
                    f"{current.get(key, 'a schedule')!r}; resume with the same options"
                )
        state = {k[4:]: v for k, v in arrays.items() if k.startswith("opt_")}
        if state:
            sd["state"] = state
        self.opt.load_state_dict(sd)
        self.ops.load(self.x, arrays["x"])
        self.ops.load(self.best_x, arrays["best_x"])
        if self.x_prev is not None and "x_prev" in arrays:
            self.ops.load(self.x_prev, arrays["x_prev"])
        self.nit, self.f_prev = meta["nit"], meta["f_prev"]
        self.best_f, self.best_nit = meta["best_f"], meta["best_nit"]
        self.objective.nfev, self.objective.njev = meta["nfev"], meta["njev"]
        self.epochs_done, self.batch_index = meta["epochs_done"], meta["batch_index"]
        self.order = {"none": None, "new": False}.get(meta["order"], arrays.get("order"))
        self._epoch_losses = list(meta["epoch_losses"])
        self.skipped = meta["skipped"]
        if self.batches is not None:
            self.batches.rng.bit_generator.state = meta["rng"]
        if self.history is not None:
            for k in self.history:
                self.history[k] = Record(arrays.get(f"history_{k}", ()))
        self._saved_nit = self.nit

    def _call_back(self, nit: int, f: float) -> str | None:
        x = self.structure.unflatten(self.x)
        for cb, new_style in self.callbacks:
            try:
                if new_style:
                    out = cb(intermediate_result=OptimizeResult(x=x, fun=f, nit=nit))
                else:
                    out = cb(x)
            except StopIteration:
                return "`callback` raised `StopIteration`."
            if out is True or (isinstance(out, np.bool_) and out):
                return "`callback` returned True."
        return None

    def _result(self, status: int, detail: str, nit: int, epoch: int) -> OptimizeResult:
        s, obj = self.structure, self.objective
        fun, evaluated = self.fx, False
        if fun is None and status not in (3, 8):
            # the loss at the final point is not known yet (mini-batches: only batch
            # losses are; or the run stopped before evaluating its last update): evaluate
            # it on the whole data, counted in nfev
            try:
                fun, evaluated = obj(self.view, self.args), True
            except KeyboardInterrupt:
                status = 8
        if fun is None and status == 8:
            # interrupted: return the point reached without evaluating it again
            fun = math.nan
            finite = math.isfinite(self.ops.norm(self.x))
        else:
            finite = fun is not None and math.isfinite(fun) and math.isfinite(self.ops.norm(self.x))
        if evaluated and finite and nit > 0:
            if self.history is not None and self.batches is None:
                self.history["fun"].append(fun)
                self.history["grad_norm"].append(self.grad_norm(self.g))
            if self.callbacks and status not in (8, 99):
                # the last update's callback (a request to stop changes nothing now)
                self._call_back(nit, fun)
        if finite and math.isfinite(fun) and fun < self.best_f:
            self.best_f, self.best_nit = fun, nit
            self.ops.copy(self.best_x, self.x)
        x, jac = self.x, self.g
        if not finite:
            if status not in (3, 8):
                status, detail = 3, f"non-finite loss ({fun}) at the final point (iteration {nit})"
            x, fun = self.best_x, self.best_f if self.best_nit >= 0 else math.nan
            jac = np.full(s.size, np.nan, s.dtype)
            if self.best_nit >= 0:
                detail += (
                    f"; returning the best point seen (iteration {self.best_nit}, "
                    f"f = {self.best_f:.6g})"
                )
        message = STATUS[status].format(detail) if "{}" in STATUS[status] else STATUS[status]
        # the run is over: its buffers become the result (no copies of N-sized arrays)
        x_device = x
        x, jac, best = self.ops.host(x), self.ops.host(jac), self.ops.host(self.best_x)
        if best is x:
            best = best.copy()
        result = OptimizeResult(
            x=s.views(x, writeable=True),
            fun=float(fun),
            jac=s.views(jac, writeable=True),
            nit=nit,
            nfev=obj.nfev,
            njev=obj.njev,
            status=status,
            success=status in SUCCESS,
            message=message,
            x_best=s.views(best, writeable=True),
            fun_best=float(self.best_f) if self.best_nit >= 0 else math.nan,
            method=self.method,
            compiled=self.compiled,
        )
        if self.return_device:  # the run's own device buffer, structured like x0
            result["x_device"] = s.views(x_device, writeable=True)
        average = transform_options.average_of(self.opt, x)
        if average is not None:  # options["average"]: the averaged point, structured like x0
            result["x_average"] = s.views(average, writeable=True)
        if self.batches is not None:
            result["epochs"] = epoch
        if self.skip_nonfinite:
            result["skipped"] = self.skipped
        if self.history is not None:
            result["history"] = {k: np.asarray(v, dtype=float) for k, v in self.history.items()}
        if self.disp:
            print(message)
            print(f"         Current function value: {result.fun:.6g}")
            print(f"         Iterations: {nit}")
            print(f"         Function evaluations: {obj.nfev}")
            print(f"         Gradient evaluations: {obj.njev}")
        return result


def _checked_options_dict(options: Any) -> dict:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    for key in options:
        if not isinstance(key, str):
            raise TypeError(f"options keys must be strings, got {key!r}")
    return options


def _optimizer(method: Any, options: dict) -> Optimizer:
    if isinstance(method, (Optimizer, Wrapper)):  # a rule, or a rule wrapped by transforms
        valid = sorted(LOOP_OPTIONS)
        extra = sorted(set(options) - set(LOOP_OPTIONS))
        if extra:
            raise ValueError(
                f"unknown option(s) {extra} for an optimizer object (set hyperparameters on "
                f"the object itself); valid options: {valid}"
            )
        if "backend" in options:
            raise ValueError("backend is set on the optimizer object, not in options")
        return method
    if isinstance(method, type) and issubclass(method, Optimizer):
        raise TypeError(
            f"method is the class {method.__name__}; pass an instance, e.g. "
            f"method=numopt.{method.__name__}(learning_rate=...), or the name "
            f"{method.name!r}"
        )
    if not isinstance(method, str):
        raise TypeError(
            f"method must be a name {sorted(RULES)} or a numopt optimizer object, got "
            f"{type(method).__name__}"
        )
    cls = RULES.get(method.lower())
    if cls is None:
        raise ValueError(f"unknown method {method!r}; valid methods: {sorted(RULES)}")
    hp_names = rule_options(cls)
    unknown = sorted(set(options) - set(hp_names) - set(LOOP_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for method {method.lower()!r}; valid options: "
            f"{sorted(hp_names + list(LOOP_OPTIONS))}"
        )
    hp = {k: v for k, v in options.items() if k in hp_names}
    return cls(**hp, backend=options.get("backend", "auto"))  # checks each, by name


def _layers_from(opt: Any, sizes: list[int]) -> None:
    """Give a layer-wise rule in ``opt``'s chain (LAMB's ``layers``) x0's arrays as layers.

    Only where ``layers`` is None: sizes the user set on an optimizer object are kept
    (and checked against x at the first step).
    """
    link = opt
    while True:
        if getattr(link, "layers", False) is None:
            link.layers = list(sizes)
        if not isinstance(link, Wrapper):
            return
        link = link.inner


def _callbacks(callback: Any) -> list[tuple[Callable, bool]]:
    if callback is None:
        return []
    items = list(callback) if isinstance(callback, (list, tuple)) else [callback]
    out = []
    for cb in items:
        if not callable(cb):
            raise TypeError(f"callback must be callable or a list of callables, got {cb!r}")
        try:
            params = inspect.signature(cb).parameters
        except (TypeError, ValueError):  # builtins without a signature: legacy form
            params = {}
        out.append((cb, "intermediate_result" in params))
    return out


def _progress_bar(run: _Run):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(
            "options['progress']=True needs tqdm: pip install 'numopt[progress]'"
        ) from None
    if run.batches is not None and run.epochs is not None:
        total = run.epochs * -(-run.batches.per_epoch // run.accumulate)
        if run.maxiter is not None:
            total = min(total, run.maxiter)
    else:
        total = run.maxiter
    return tqdm(total=total, unit="it", leave=False)


def _dask_data(args: tuple, data_args: Any) -> Any:
    """The Dask data in ``args`` (a ``numopt.distributed.DaskData``), or None: no Dask import."""
    if not any(type(a).__module__.partition(".")[0] == "dask" for a in args):
        return None
    from numopt.distributed import DaskData

    return DaskData(args, data_args)


def _path(name: str, value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), got {value!r}")
    return value


@contextlib.contextmanager
def _deferred_sigint():
    """Turn a first Ctrl-C into a request to stop at the next consistent point.

    The run then ends with status 8 between two updates (where a checkpoint resumes
    exactly); a second Ctrl-C raises KeyboardInterrupt at once.  Only in the main
    thread, and only where Python's default handler is installed.
    """
    pressed = [False]

    def handler(signum, frame):
        if pressed[0]:
            raise KeyboardInterrupt
        pressed[0] = True

    install = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )
    old = signal.signal(signal.SIGINT, handler) if install else None
    try:
        yield lambda: pressed[0]
    finally:
        if install:
            signal.signal(signal.SIGINT, old)
