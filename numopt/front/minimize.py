"""``numopt.minimize``: the SciPy-style door to every rule.

``minimize`` parses ``options`` once into typed configuration
(:mod:`numopt.front.config`; an unknown key is an error), assembles the run —
``x0``'s structure and buffers, the objective, the batches, the bounds, the rule and
its transforms (:class:`numopt.loop.run.Run`) —, decides whether the loop runs
compiled (:func:`numopt.loop.compiled.plan`), drives it (:func:`numopt.loop.driver.drive`)
and returns SciPy's ``OptimizeResult`` (:mod:`numopt.front.result`).  Data flow one way::

    objective (fun/jac on the batch) → gradient → rule (kernel) → state
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from scipy.optimize import OptimizeResult

from numopt.front import config as front_config
from numopt.front import options as front_options
from numopt.front.result import result
from numopt.loop import checkpoint, compiled, switch
from numopt.loop.driver import drive
from numopt.loop.run import Run
from numopt.loop.status import Status
from numopt.problem import placement
from numopt.quasi_newton import LBFGS
from numopt.rules import Optimizer


def minimize(
    fun: Callable,
    x0: Any,
    args: tuple = (),
    method: str | Optimizer | LBFGS | None = None,
    jac: Callable | bool | str | None = None,
    hess: Any = None,
    hessp: Callable | None = None,
    bounds: Any = None,
    constraints: Any = (),
    tol: float | None = None,
    callback: Callable | Sequence[Callable] | None = None,
    options: dict[str, Any] | None = None,
) -> OptimizeResult:
    """Minimise ``fun(x, *args)`` with L-BFGS-B or a first-order rule, SciPy style.

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
        method : str, Optimizer or LBFGS, optional
            ``"l-bfgs-b"`` (also spelt ``"L-BFGS-B"``, ``"l-bfgs"``, ``"lbfgs"``:
            limited-memory BFGS with a strong-Wolfe line search, and box bounds;
            full-batch, host arrays; see ``docs/lbfgs.md``), or a first-order rule:
            ``"gd"``, ``"sgd"``, ``"momentum"``, ``"rmsprop"``, ``"adam"``,
            ``"adamw"``, ``"adagrad"``, ``"adadelta"``, ``"adamax"``, ``"nadam"``,
            ``"radam"``, ``"rprop"`` (full-batch only: no ``batch_size``), ``"asgd"``,
            ``"lion"``, ``"lamb"`` and ``"lars"`` (a list/dict ``x0``'s arrays are
            their layers), ``"adabelief"``, ``"yogi"``, ``"adan"``, ``"adopt"``,
            ``"ademamix"``, ``"sign_sgd"``, ``"signum"``, ``"schedule_free_sgd"``,
            ``"schedule_free_adamw"`` (no bounds; ``x`` is their average), ``"muon"``
            (matrices), ``"sparse_adam"``, ``"prodigy"``, ``"adafactor"`` — the keys of
            :data:`numopt.RULES`, case-insensitive —, or a stateful optimizer object
            (used as is, with its state).  The default (``None``) is ``"l-bfgs-b"``
            (SciPy's default with bounds; without them SciPy's is BFGS, whose
            iterates L-BFGS approximates with a limited memory), and
            ``"adam"`` with ``batch_size`` (mini-batch gradients are noisy: no line
            search) or when ``x0`` is on the GPU.
        jac : callable, True, "inplace", "2-point", "3-point" or None
            The gradient: ``jac(x, *args)`` returning an array (or structure) like
            ``x0``; ``True`` if ``fun`` returns ``(f, g)``; ``"inplace"`` if
            ``fun(x, g, *args)`` writes the gradient into ``g`` and returns ``f`` (no
            copy); otherwise finite differences (see
            :mod:`numopt.problem.differences`), each evaluation counted in ``nfev``:
            ``None`` means ``"2-point"`` with SciPy's relative steps, except for
            L-BFGS(-B), whose ``None`` takes SciPy L-BFGS-B's absolute step ``eps``.
        hess, hessp : callable, optional
            SciPy's Hessian and Hessian-vector product.  No numopt method uses them: given,
            they are ignored with SciPy's ``RuntimeWarning`` ("Method adam does not use
            Hessian information (hess)."), as SciPy's gradient methods do.
        bounds : scipy.optimize.Bounds, sequence of (lo, hi) pairs, or dict, optional
            Box bounds ``lo <= x <= hi``, as SciPy's: a ``Bounds`` whose
            ``lb``/``ub`` are scalars or arrays with one entry per element of the
            flattened ``x0``, or one ``(lo, hi)`` pair per element (``None``:
            unbounded); for a dict ``x0`` also ``{key: (lo, hi)}`` per array (each side
            broadcast to that array; missing keys unbounded).  Every method projects
            ``x`` onto the box after each update, inside its kernel; an ``x0`` outside
            is clipped with an ``OptimizeWarning``; ``gtol`` then tests the projected
            gradient ``max|P(x - g) - x|``.  See ``docs/bounds.md``.
        constraints : dict, constraint object or sequence of them, optional
            SciPy's general constraints, which no numopt method takes: given (not empty),
            they are a ``ValueError`` naming the alternatives (box constraints as
            ``bounds=``; ``scipy.optimize.minimize`` with ``method="trust-constr"`` or
            ``"SLSQP"``), where SciPy would warn and drop them.  ``()``, ``[]`` and
            ``None`` are no constraints.
        tol : float, optional
            Sets ``gtol`` unless options give it, as SciPy's gradient methods do; for
            L-BFGS-B also ``ftol`` unless options give it, as SciPy's L-BFGS-B does.
        callback : callable or list of callables
            Called after each update: ``callback(intermediate_result)`` (SciPy ≥ 1.11
            style, chosen when the parameter is named ``intermediate_result``; it gets
            ``x``, ``fun``, ``nit``) or ``callback(xk)``.  Raising ``StopIteration``
            or returning ``True`` stops the run (status 99).
        options : dict
            An unknown key is an error that names the likely one (``lr``, torch's
            spelling: ``learning_rate``; ``max_iter``: ``maxiter``).  L-BFGS-B's
            ``maxcor`` (correction pairs kept, default 10) and ``maxls`` (evaluations
            per line search, default 20); a rule's hyperparameters
            (``learning_rate`` — a float or a schedule from :mod:`numopt.schedules` or
            any callable of the 0-based step —, ``beta``, ``beta1``, ``beta2``,
            ``eps``, ``weight_decay``, ``nesterov``, ``eps_placement``) and gradient
            clipping, which every rule takes:

            ``clip_value``
                Clamp each gradient entry to ``[-clip_value, clip_value]`` before the
                update (default None: off).
            ``clip_norm``
                Scale the gradient by ``min(1, clip_norm/‖g‖)``, ``‖g‖`` its Euclidean
                norm over all of ``x0``'s arrays (default None: off); with
                ``clip_value`` too, of the clamped gradient.  ``res.jac`` and
                ``history`` show the gradient before clipping; see
                ``docs/clipping-and-lamb.md``.

            and the loop's and the transforms' (:mod:`numopt.front.options`):

    {options}

        Returns
        -------
        scipy.optimize.OptimizeResult
            ``x`` (structured like ``x0``), ``fun``, ``jac``, ``nit`` (updates),
            ``nfev``, ``njev``, ``status``, ``success``, ``message``, ``x_best`` and
            ``fun_best`` (the lowest loss seen and its point), ``epochs`` (completed,
            with mini-batches), ``history``, ``x_device`` and ``x_average`` when asked
            for (``x_average`` also with ASGD: its average ``ax``).  With mini-batches,
            ``fun`` and ``jac`` are evaluated once more on the whole data at the end.
            A run stopped by a non-finite loss or gradient
            returns its best point as ``x`` (never NaNs).  ``compiled`` says whether the
            compiled loop ran, ``compiled_reason`` why not (None when it did, or how
            many iterations ran in Python before a long run moved to it).  With a
            Schedule-Free rule, ``x`` is its average (``fun``, ``jac`` evaluated there)
            and ``x_iterate`` the last iterate, where the gradients were taken.

        See Also
        --------
        numopt.minimize_many : many independent problems of one form in one call.

        Examples
        --------
        >>> import numpy as np, numopt
        >>> from scipy.optimize import rosen, rosen_der
        >>> res = numopt.minimize(rosen, np.array([-1.2, 1.0]), method="adam", jac=rosen_der,
        ...                       options={"learning_rate": 0.02, "maxiter": 20000, "gtol": 1e-6})
        >>> res.success, np.round(res.x, 4)
        (True, array([1., 1.]))
    """
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")
    if not isinstance(args, tuple):
        args = (args,)
    config = front_config.parse(options, method, tol, placement.holds_device_arrays(x0))
    front_config.scipy_only_arguments(config.method, hess, hessp, constraints)
    run = Run(fun, x0, args, config.method, jac, callback, config, bounds)
    # the whole loop in nopython mode when fun/jac are Numba functions (numopt.loop.compiled)
    choice = config.placement.compiled
    reason = "compiled=False" if choice is False else compiled.plan(run, fun, jac)
    if choice is True and reason is not None:
        raise ValueError(f"compiled=True, but this run cannot be compiled: {reason}")
    if reason is None and choice is not True:  # "auto"
        if run.batches is None:
            # by expected cost: a closure's run starts in Python and moves to the
            # compiled loop once that is predicted to pay (numopt.loop.switch)
            reason = compiled.auto_reason(fun)
            run.switchable = reason is not None
            run.objective_compiles = switch.unready(fun, jac)
        else:  # mini-batches: no switch mid-run
            reason = compiled.churn_reason(fun)
    run.compiled, run.compiled_reason = reason is None, reason
    if run.compiled:
        # the final evaluation (numopt.front.result) then calls fun/jac with the writeable
        # array type the compiled loop compiled them for: no second compilation
        run.view = run.structure.views(run.x, writeable=True)
    if config.checkpointing.resume is not None:
        checkpoint.resume(run, config.checkpointing.resume)
    status, detail = drive(run)
    if config.checkpointing.path is not None:
        checkpoint.write(run)
    run.to_evaluation_point(status not in (Status.NONFINITE, Status.INTERRUPTED))
    return result(run, status, detail)


# The options' documentation is generated from their one declaration.
minimize.__doc__ = minimize.__doc__.replace(
    "    {options}", front_options.docstring_section(" " * 12)
)
