"""``numopt.minimize_many``: many independent problems of the same form in one call.

The options are ``minimize``'s, parsed by the same door (:func:`numopt.front.config.parse`).
Problem 0 is assembled as ``minimize`` would assemble it (:class:`numopt.loop.run.Run`):
that template decides the method, the objective's form and whether the loop can be
compiled (:func:`numopt.loop.compiled.plan`).  Compiled, every problem runs in one
call (:mod:`numopt.many.compiled`, :mod:`numopt.many.driver`); with
``vectorized=True`` one NumPy call evaluates every running problem
(:mod:`numopt.many.vectorized`); otherwise ``minimize`` runs on each problem in turn.
Either way problem ``i``'s result is ``minimize``'s on that problem alone.
"""

from __future__ import annotations

import copy
import dataclasses
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from numba.core.errors import TypingError
from scipy.optimize import OptimizeResult, OptimizeWarning

from numopt.front import config as front_config
from numopt.front import options as front_options
from numopt.kernels.arrays import on_device
from numopt.loop import compiled, hooks
from numopt.loop.run import Run
from numopt.loop.status import Status
from numopt.many import result as many_result
from numopt.many.problems import Problems
from numopt.problem import placement

#: Options of ``minimize`` that ``minimize_many`` does not take (yet), and why.
UNSUPPORTED = {
    "batch_size": "mini-batches",
    "epochs": "mini-batches",
    "history": "per-iteration history",
    "disp": "printed progress",
    "progress": "a progress bar",
    "return_device": "results on the GPU (its results are host arrays)",
    "accumulate": "transforms",
    "average": "transforms",
    "lookahead": "transforms",
    "sam": "transforms",
    "sam_adaptive": "transforms",
    "param_groups": "transforms",
}


def minimize_many(
    fun: Callable,
    x0: Any,
    args: tuple = (),
    method: str | None = None,
    jac: Callable | bool | str | None = None,
    hess: Any = None,
    hessp: Callable | None = None,
    bounds: Any = None,
    constraints: Any = (),
    tol: float | None = None,
    callback: Callable | Sequence[Callable] | None = None,
    options: dict | None = None,
    *,
    problem_args: Sequence[int] | None = None,
    vectorized: bool = False,
    block_rows: int | None = None,
) -> OptimizeResult:
    """Minimize ``M`` independent problems ``fun(x_i, *args_i)``, ``i = 0 … M-1``, in one call.

    Each problem is what :func:`numopt.minimize` would solve given row ``i`` of
    ``x0``, its rows of the split arguments and its bounds, and its result is
    ``minimize``'s on that problem alone — bit for bit.  With a Numba ``@njit``
    objective every problem runs in one compiled call, the problems spread over the
    cores (``numba.set_num_threads`` sets how many); otherwise ``minimize`` runs on
    each in turn.

    Parameters
    ----------
    fun : callable
        One problem's objective, ``fun(x_i, *args_i) -> float`` (with ``jac=True``
        ``-> (float, gradient)``; with ``jac="inplace"`` ``fun(x_i, g_i, *args_i)``
        fills ``g_i``), as for :func:`numopt.minimize`.
    x0 : array_like, shape (M, n) or (M, ...)
        One starting point per row.
    args : tuple, optional
        Extra arguments.  An array whose first axis has length ``M`` is split: problem
        ``i`` gets its row ``i`` (``problem_args`` names the split ones when that is
        ambiguous); the other arguments are shared by every problem.
    method : str, optional
        Any method of ``minimize`` by name (default ``"l-bfgs-b"``), with its options.
    jac : callable, True, "inplace", "2-point", "3-point" or None
        As for :func:`numopt.minimize`.
    hess, hessp : callable, optional
        Not used, as for :func:`numopt.minimize`: given, they are ignored with SciPy's
        ``RuntimeWarning`` ("Method l-bfgs-b does not use Hessian information (hess).").
    bounds : optional
        Shared by every problem: anything ``minimize`` takes.  One box per problem: a
        ``scipy.optimize.Bounds`` whose ``lb``/``ub`` have ``x0``'s dimensions (each
        broadcast to ``x0``'s shape).
    constraints : optional
        Not taken, as for :func:`numopt.minimize`: given (not empty), a ``ValueError``
        naming the alternatives (``bounds=`` for a box; SciPy's ``"trust-constr"`` or
        ``"SLSQP"``).
    tol : float, optional
        As :func:`numopt.minimize`'s: sets ``gtol`` unless options give it, and for
        L-BFGS-B ``ftol`` too.
    callback : callable or list of callables, optional
        Called every ``options["callback_every"]`` iterations (default 1) with the
        problems still running: ``callback(intermediate_result)`` gets ``x`` (one row
        per running problem), ``fun``, ``nit`` and ``problems`` (their indices);
        ``callback(xk)`` gets ``x``.  Returning True or raising ``StopIteration``
        stops them all (status 99).  Compiled or vectorised runs only.
    options : dict, optional
        ``minimize``'s options (the stopping tests apply to each problem on its own;
        ``max_time`` to the call), except those of mini-batches, history, ``disp``,
        ``progress``, ``return_device`` and the transforms (``device="cuda"``
        needs ``vectorized=True``).  ``checkpoint`` (with
        ``checkpoint_every``, ``checkpoint_seconds``) saves every problem's state, and
        ``resume`` goes on from it bit for bit (compiled or vectorised runs;
        :mod:`numopt.many.checkpoint`): a problem stopped by its own test stays
        stopped, one stopped by ``maxiter``, ``max_time``, Ctrl-C or a callback goes on.
    problem_args : sequence of int, optional
        The positions in ``args`` of the arrays split one row per problem (default:
        every array whose first axis has length ``M``).
    vectorized : bool, default False
        ``fun`` (and ``jac``) take the problems still running at once: ``fun(X,
        *args) -> (k,)`` losses for ``X`` of shape ``(k, *x0.shape[1:])`` (read-only:
        copy it if you keep it), the split arguments cut to the same rows; ``jac(X,
        *args) -> (k, *x0.shape[1:])``, or ``jac=True`` (``fun`` returns both), or
        finite differences (one call per coordinate for all the problems).  The
        update is one fused kernel over every problem.  The element-wise rules only
        (not L-BFGS-B, ``clip_norm``, Prodigy, Muon, Adafactor, SparseAdam,
        Schedule-Free, plateau schedules).  On the GPU (``options["device"] =
        "cuda"``, or ``x0`` a CUDA device array: Numba, CuPy or PyTorch) the rows
        stay on the device: ``fun`` gets device views of every problem's row (the
        stopped problems' too, ignored), of ``x0``'s kind, and returns the losses and
        gradients on the device or the host (``jac=True`` or a callable: finite
        differences run on the host only); see :mod:`numopt.many.device`.
    block_rows : int, optional
        With ``vectorized=True``, the most problems per call of ``fun`` and ``jac``:
        more running problems are evaluated in blocks of consecutive rows, in order.
        The default takes about 1 MiB of ``x0``'s rows and of the split arguments'
        rows per call: a NumPy objective's temporaries then stay in the caches, and
        small enough that the allocator reuses their memory instead of mapping fresh
        pages at every call (see ``docs/many.md``).  A number at least ``M`` makes
        one call; on the GPU that is the default.

    Returns
    -------
    scipy.optimize.OptimizeResult
        Arrays over the problems: ``x`` and ``jac`` shaped like ``x0``, ``fun``,
        ``nit``, ``nfev``, ``njev``, ``status``, ``success`` (shape ``(M,)``),
        ``x_best``, ``fun_best``; ``message``, a list of ``M`` strings; ``method``,
        ``compiled``.  A problem whose loss or gradient stops being finite gets
        status 3 and its best point while the others go on; Ctrl-C stops every
        problem at the end of its current iteration (status 8).

    Examples
    --------
    >>> import numpy as np, numopt
    >>> def loss(p, t, y):  # one exponential decay a * exp(-k t) fitted to y
    ...     r = p[0] * np.exp(-p[1] * t) - y
    ...     return 0.5 * r @ r
    >>> t = np.linspace(0.0, 4.0, 30)
    >>> k = np.array([0.5, 1.0, 2.0])
    >>> Y = 2.0 * np.exp(-k[:, None] * t)  # three data sets: one per problem
    >>> res = numopt.minimize_many(loss, np.ones((3, 2)), args=(t, Y))
    >>> res.x.shape, bool(res.success.all()), np.round(res.x[:, 1], 3)
    ((3, 2), True, array([0.5, 1. , 2. ]))
    """
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")
    if not isinstance(args, tuple):
        args = (args,)
    if method is not None and not isinstance(method, str):
        raise TypeError(
            f"method must be a method's name (one optimizer state per problem is built "
            f"from it), got {type(method).__name__}"
        )
    _refuse_unsupported(options)
    if not isinstance(vectorized, bool):
        raise TypeError(f"vectorized must be True or False, got {vectorized!r}")
    if block_rows is not None and not vectorized:
        raise ValueError(
            "block_rows sets the rows per call of a vectorised objective: give vectorized=True "
            "too, or no block_rows"
        )
    config = front_config.parse(options, method, tol)
    front_config.scipy_only_arguments(config.method, hess, hessp, constraints)
    library: Any = False  # (on the GPU: the library of fun's views, see many.device)
    if placement.on_gpu(x0, config.placement.device, config.placement.backend):
        if not vectorized:
            raise ValueError(
                "on the GPU minimize_many runs a vectorised objective: give vectorized=True "
                "(fun(X, *args) for the rows X of the problems, on the device), or run on "
                "the host with options['device']='cpu' and host arrays"
            )
        if jac is None or isinstance(jac, str):  # (finite differences, or "inplace")
            raise ValueError(
                f"jac={jac!r}: on the GPU the vectorised form needs the gradients: jac=True "
                "(fun returns (f, G)) or a callable jac(X, *args); finite differences run "
                "on the host (options['device']='cpu' with host arrays)"
            )
        from numopt.many import device

        if placement.holds_device_arrays(x0) and not on_device(x0):
            raise TypeError(
                "x0 must be one array of shape (M, n) or (M, ...), on the device or the "
                f"host, not a {type(x0).__name__} of device arrays"
            )
        library = device.library_of(x0)
        if on_device(x0):
            x0 = device.host_copy(x0)
        config = dataclasses.replace(
            config, placement=dataclasses.replace(config.placement, device="cuda")
        )
    problems = Problems(x0, args, bounds, problem_args, on_device=library is not False)
    try:
        return _minimize_many(
            fun, problems, config, jac, callback, options, tol, vectorized, block_rows, library
        )
    except TypingError as exc:  # the likeliest cause: arguments split by the wrong rule
        raise TypeError(
            f"fun does not compile for one problem's arguments ({problems.layout()}). An "
            f"array whose first axis happens to have M = {problems.M} entries is split; "
            "one with the problems on another axis is not: name the per-problem arguments "
            "with problem_args=[positions in args], each with one row per problem on its "
            f"first axis. Numba's error follows.\n{exc}"
        ) from exc


def _minimize_many(
    fun: Callable, problems: Problems, config: Any, jac: Any, callback: Any, options: Any,
    tol: Any, vectorized: bool, block_rows: Any, library: Any,
) -> OptimizeResult:  # fmt: skip
    callbacks = hooks.callbacks(callback)
    with warnings.catch_warnings():  # problem 0 clipped into its box: warned for all below
        warnings.simplefilter("ignore", OptimizeWarning)
        run = Run(
            fun, problems.x0_of(0), problems.args_of(0), config.method, jac, None, config,
            problems.bounds_of(0),
        )  # fmt: skip
    if config.checkpointing.resume is None:  # (resumed: the checkpoint has the points)
        problems.clip()
    if vectorized:
        from numopt.many import vectorized as batched

        reason = batched.refusal(run, jac)
        if reason is None and config.placement.compiled is True:
            reason = "compiled=True (the vectorised loop runs in Python around fun)"
        if reason is not None:
            raise ValueError(f"vectorized=True cannot run these problems: {reason}")
        if library is not False and block_rows is None:  # the GPU: every problem at once
            block = problems.M
        else:
            block = batched.block_rows(problems, block_rows)
        return batched.run(fun, jac, problems, run, config, callbacks, block, library)
    choice = config.placement.compiled
    reason = "compiled=False" if choice is False else compiled.plan(run, fun, jac)
    if reason is None and hasattr(run.opt, "averaged"):  # Schedule-Free (as vectorized's)
        reason = f"the rule {run.opt.name!r} returns each problem's average, built per run"
    if choice is True and reason is not None:
        raise ValueError(f"compiled=True, but these problems cannot be compiled: {reason}")
    if reason is None and choice is not True:  # "auto": a closure per call runs in Python
        from numopt.many.compiled import churn_reason

        reason = churn_reason(fun)
    if reason is None:
        from numopt.many.compiled import ManyCompiled
        from numopt.many.driver import drive

        mode = ManyCompiled(run, problems)
        status, details = drive(mode, callbacks, config)
        return many_result.compiled_result(mode, status, details)
    for given, what in ((callbacks, "callback"), (config.checkpointing.path, "checkpoint"),
                        (config.checkpointing.resume, "resume")):  # fmt: skip
        if given:
            raise ValueError(
                f"{what} needs the compiled loop or vectorized=True, and these problems run "
                f"one by one in Python ({reason}): give Numba @njit functions, a vectorised "
                f"fun (vectorized=True), or no {what}"
            )
    return _one_by_one(fun, problems, config, jac, options, tol, run.method, reason)


def _refuse_unsupported(options: Any) -> None:
    for name, what in UNSUPPORTED.items():
        if isinstance(options, dict) and name in options:
            value = options[name]
            default = front_options.BY_NAME[name].default
            if value is not None and value != default:
                raise ValueError(
                    f"minimize_many does not take options[{name!r}] ({what}): run "
                    f"numopt.minimize on each problem for that"
                )


def _one_by_one(
    fun: Callable, problems: Problems, config: Any, jac: Any, options: Any, tol: Any, name: str,
    reason: str,
) -> OptimizeResult:  # fmt: skip
    """``minimize`` on each problem in turn (a Python objective); Ctrl-C stops them all."""
    from numopt.front.minimize import minimize

    options = dict(options or {})
    max_time = config.stopping.max_time
    deadline = None if max_time is None else time.perf_counter() + max_time
    results = []
    stop: Status | None = None
    for i in range(problems.M):
        x0 = problems.X[i].reshape(problems.shape)
        if stop is None and deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0:
                stop = Status.MAX_TIME
            options["max_time"] = max(left, 0.0)
        if stop is not None:  # not started: its starting point, unevaluated
            results.append(_not_run(x0, stop, name))
            continue
        # each problem gets the options as given: a stateful schedule (a plateau) is
        # copied, so problem i does not start where problem i - 1's schedule ended
        res = minimize(
            fun, x0, problems.args_of(i), config.method, jac, bounds=problems.bounds_of(i),
            options=copy.deepcopy(options), tol=tol,
        )  # fmt: skip
        results.append(res)
        if res.status == Status.INTERRUPTED:
            stop = Status.INTERRUPTED
    return many_result.stacked(results, name, reason)


def _not_run(x0: Any, status: Status, method: str) -> OptimizeResult:
    import numpy as np

    nan = float("nan")
    return OptimizeResult(
        x=x0.copy(), fun=nan, jac=np.full_like(x0, nan), nit=0, nfev=0, njev=0,
        status=int(status), success=False, message=status.message(), x_best=x0.copy(),
        fun_best=nan, method=method,
    )  # fmt: skip
