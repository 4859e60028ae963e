"""The loop compiled, for Numba objectives: the iteration's services bound to Numba functions.

When ``fun`` (and ``jac``) are ``@njit`` functions, :func:`plan` says whether a run
can leave Python altogether; :class:`CompiledMode` then binds the iteration
(:mod:`numopt.loop.iteration`) to compiled services — the objective in its form
(``jac`` callable, ``jac=True``, ``jac="inplace"``) and with this run's mini-batched
arguments, the rule's ``factor_fn`` and fused element loop (serial and inlined, or
the ``prange`` kernel; bounded or not), the schedule's program
(:mod:`numopt.schedules.program`), the stopping tests' norms — and compiles it once
per objective, rule body, batching and needs.  It pauses where the driver has
Python work to do (a callback, a checkpoint, an epoch's end, about every 20 ms).

The compiled loop is cached on disk (``cache=True``) when the user's own functions
are cached and are not closures; its name carries digests of every source it
inlines, so editing the objective, the rule or a schedule recompiles it.
"""

from __future__ import annotations

import functools
import hashlib
import math
import sys
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numba.core.registry import CPUDispatcher
from numba.np.ufunc.parallel import _launch_threads

from numopt.kernels import cpu, norms
from numopt.kernels.generate import clamp, element, source_digest, specialise
from numopt.loop import intrinsics, iteration, switch
from numopt.loop.intrinsics import (
    borrowed,
    function_at,
    on_stack,
    registers,
    signature_check,
    store,
)
from numopt.loop.loop_cache import LoopCache
from numopt.loop.state import STATE
from numopt.loop.status import CODES
from numopt.quasi_newton import method as quasi_newton
from numopt.schedules import program
from numopt.transforms import options as transforms


class Context(NamedTuple):
    """What the compiled services read besides the state: one run's arrays and constants."""

    args: tuple  # the objective's extra arguments
    shape: tuple  # x0's shape
    xs: Any  # x and g viewed in that shape (what fun sees)
    gs: Any
    batch_size: int  # mini-batches (0 full-batch)
    n_samples: int
    opt_state: Any  # the rule's (k, n) state
    c: Any  # its factors, in x's dtype: the rule's, the clip_value bound, the sign
    h: Any  # factor_fn's hyperparameters (float64)
    lr: float  # a constant learning rate (when there is no schedule)
    lo: Any  # the bounds (empty without)
    hi: Any
    sign: float  # -1 with maximize (the projected gradient's direction)
    s_ints: Any  # the schedule's program
    s_floats: Any
    s_state: Any
    work: Any  # a quasi-Newton method's arrays (numopt.quasi_newton.workspace); () for a rule
    step: tuple  # its step's (address, check) (numopt.quasi_newton.method.step_pointer)


class Needs(NamedTuple):
    """Which optional parts a loop calls; the others are not bound (not compiled)."""

    parallel: bool  # the prange kernel (x at least SERIAL_BELOW long, or backend="parallel")
    bounded: bool  # bounds: the projection and the projected-gradient norm
    schedule: bool  # a schedule (not a float learning rate): the schedule program's rate
    observe: bool  # a schedule fed the loss (ReduceLROnPlateau)
    quasi_newton: bool  # L-BFGS-B: its update runs a line search (numopt.quasi_newton.method)


# -- whether a run can be compiled ---------------------------------------------------
def is_numba_function(f: Any) -> bool:
    """Whether ``f`` is a Numba CPU ``@njit`` dispatcher."""
    return isinstance(f, CPUDispatcher)


#: The objective forms the compiled loop evaluates.
FORMS = ("jac", "combined", "inplace")


def plan(run: Any, fun: Any, jac: Any) -> str | None:
    """``None`` if ``run`` can use the compiled loop, else the reason it cannot."""
    if not is_numba_function(fun):
        return "fun is not a Numba @njit function"
    mode = run.objective.mode
    if mode == "jac" and not is_numba_function(jac):
        return "jac is a Python callable, not a Numba @njit function"
    if mode not in FORMS:
        return f"jac={jac!r}: finite differences run in Python"
    if run.device != "cpu":
        return "the run is on a GPU"
    if run.dask is not None:
        return "the data are Dask arrays (evaluated on the workers)"
    if run.structure.kind != "array":
        return "x0 is a list/tuple/dict of arrays (the compiled loop takes one array)"
    why = _arguments_reason(run.args)
    if why is not None or getattr(run.opt, "evaluates", False):
        return why  # L-BFGS-B: any Numba objective (its own Python loop, otherwise)
    why = transforms.compiled_reason(run.opt, run.accumulate)
    if why is not None:
        return why
    opt = run.opt
    if getattr(opt.spec.passes, "runs_reference", False):  # Muon, Adafactor, ...
        return f"the rule {opt.name!r} steps through NumPy on the CPU (its Python step)"
    if opt.spec.passes is not None:  # LAMB: norms, then the update
        return f"the rule {opt.name!r} takes 2 passes per step, not one loop"
    if opt.spec.factor_fn is None:
        return f"the rule {opt.name!r} computes its per-step factors in Python"
    if opt.hyperparameters.get("clip_norm") is not None:
        return "clip_norm needs the gradient's norm before each update (the Python loop)"
    if opt.hyperparameters.get("clip_value") is not None:
        return "clip_value runs its own variant of the rule's kernel (the Python loop)"
    if opt.backend not in ("auto", "serial", "parallel"):
        return f"backend={opt.backend!r} is not a compiled CPU loop"
    try:
        program.lower(run.schedule)
    except program.NotCompilable as exc:
        return f"the learning rate cannot be compiled: {exc}"
    return None


def _arguments_reason(args: tuple) -> str | None:
    """Why the objective's extra arguments cannot enter the compiled loop, or None."""
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray) and not (a.flags.c_contiguous or a.flags.f_contiguous):
            return f"args[{i}] is a non-contiguous array view"
        if not _numba_typable(a):
            return f"args[{i}] ({type(a).__name__}) is not a type Numba compiles"
    return None


def _numba_typable(value: Any) -> bool:
    from numba import typeof

    try:
        typeof(value)
    except (ValueError, TypeError):
        return False
    return True


# -- the objective, compiled: three forms, full data or this batch's rows ----------------
@njit(cache=True, nogil=True)
def copy_gradient(g, gr, shape):  # pragma: no cover - compiled
    """Copy ``jac``'s array ``gr`` (shaped like ``x0``) into the flat ``g``, C order.

    (Not ``gs[:] = gr``: Numba's broadcasting error message would compile its whole
    string formatting machinery into the loop — seconds of compile time.)
    """
    if gr.shape != shape:
        raise ValueError("jac returned an array whose shape is not x0's")
    i = 0
    for v in gr.flat:
        g[i] = v
        i += 1


def _evaluate_jac(ctx, s, x, g, order):  # pragma: no cover - compiled
    a = arguments(ctx, s, order)  # noqa: F821 - bound by loop_for()
    fr = fun(ctx.xs, *a)  # noqa: F821
    s.nfev += 1
    gr = jac(ctx.xs, *a)  # noqa: F821
    s.njev += 1
    f = float(fr)
    copy_gradient(g, gr, ctx.shape)
    return f


def _evaluate_combined(ctx, s, x, g, order):  # pragma: no cover - compiled
    a = arguments(ctx, s, order)  # noqa: F821
    out = fun(ctx.xs, *a)  # noqa: F821
    s.nfev += 1
    s.njev += 1
    f = float(out[0])
    copy_gradient(g, out[1], ctx.shape)
    return f


def _evaluate_inplace(ctx, s, x, g, order):  # pragma: no cover - compiled
    a = arguments(ctx, s, order)  # noqa: F821
    f = float(fun(ctx.xs, ctx.gs, *a))  # noqa: F821
    s.nfev += 1
    s.njev += 1
    return f


_EVALUATE = {"jac": _evaluate_jac, "combined": _evaluate_combined, "inplace": _evaluate_inplace}


@njit(inline="always")
def _all_arguments(ctx, s, order):  # pragma: no cover - compiled
    return ctx.args


@functools.cache
def _batch_arguments(n_args: int, data: tuple[int, ...]) -> Any:
    """``(ctx, s, order) -> args`` with this batch's rows of the data arguments.

    Generated (the only source numopt writes at run time): the tuple's positions are
    fixed at compile time, one per argument, ``args[i][rows]`` for the data.
    """
    items = [f"ctx.args[{i}][rows]" if i in data else f"ctx.args[{i}]" for i in range(n_args)]
    src = (
        "def batch_arguments(ctx, s, order):\n"
        "    b = s.batch_index\n"
        "    rows = order[b * ctx.batch_size : min((b + 1) * ctx.batch_size, ctx.n_samples)]\n"
        f"    return ({', '.join(items)}{',' if n_args == 1 else ''})\n"
    )
    return generated(src, f"batch_arguments_{n_args}_{'_'.join(map(str, data))}")


def generated(src: str, name: str) -> Any:
    """The one function defined by ``src`` (source written at run time), named ``name``,
    ``@njit(inline="always")``; its source's digest names it in the cache."""
    namespace: dict[str, Any] = {}
    exec(compile(src, f"<numopt {name}>", "exec"), namespace)
    (fn,) = (v for k, v in namespace.items() if k != "__builtins__")
    fn.__qualname__ = fn.__name__ = name
    fn.__numopt_digest__ = hashlib.sha1(src.encode()).hexdigest()[:10]  # its source is here
    return njit(inline="always")(fn)


# -- the rule's step, compiled -------------------------------------------------------------
def _update(ctx, s, x, g, best, keep):  # pragma: no cover - compiled
    lr = rate(ctx, s.step)  # noqa: F821 - bound by loop_for()
    if not (lr >= 0.0 and math.isfinite(lr)):
        return CODES.BAD_LR
    fs = factors(s.step + 1, lr, ctx.h)  # noqa: F821
    c = ctx.c
    for j in range(len(fs)):
        c[j] = fs[j]
    step_loop(x, g, ctx.opt_state, c, ctx.lo, ctx.hi, best, keep)  # noqa: F821
    s.step += 1
    return 0


# Small arrays (the serial loop) copy the best point first; above the switch-over the
# prange kernel's keeping variant writes it in the step's own pass.
def _serial(x, g, state, c, lo, hi, best, keep):  # pragma: no cover - compiled
    if keep:
        _copy(best, x)
    # the factors in registers: a tuple of the array's values, into the inlined loop
    loop(x, g, state, registers(c, N_FACTORS))  # noqa: F821


def _serial_bounded(x, g, state, c, lo, hi, best, keep):  # pragma: no cover - compiled
    if keep:
        _copy(best, x)
    loop(x, g, state, registers(c, N_FACTORS), lo, hi)  # noqa: F821


def _parallel(x, g, state, c, lo, hi, best, keep):  # pragma: no cover - compiled
    if keep:
        keeping(x, g, state, c, best)  # noqa: F821
    else:
        loop(x, g, state, c)  # noqa: F821


def _parallel_bounded(x, g, state, c, lo, hi, best, keep):  # pragma: no cover - compiled
    if keep:
        keeping(x, g, state, c, lo, hi, best)  # noqa: F821
    else:
        loop(x, g, state, c, lo, hi)  # noqa: F821


def _step_loop(body: Any, needs: Needs, n_factors: int) -> Any:
    """The element loop the compiled step runs: the ``prange`` kernel (and its keeping
    variant), or the serial loop inlined with the factors in registers; bounded or not."""
    if needs.parallel:
        bound = {
            "loop": cpu.cpu_loops(body, False, needs.bounded).parallel,
            "keeping": cpu.cpu_loops(body, False, needs.bounded, keep=True).parallel,
        }
        adapter = _parallel_bounded if needs.bounded else _parallel
    else:
        template = cpu.TEMPLATES[needs.bounded, False]
        bound = {
            "loop": njit(inline="always", error_model="numpy")(
                specialise(template, "inline", body=element(body, False, "cpu"), clamp=clamp("cpu"))
            )
        }
        adapter = _serial_bounded if needs.bounded else _serial
    return njit(inline="always")(specialise(adapter, "step", N_FACTORS=n_factors, **bound))


# -- the other services -----------------------------------------------------------------
# (the norms' reductions, serial or prange like the step: bound by _norms())
def _max_abs(ctx, x, g):  # pragma: no cover - compiled
    return norms.value(reduce(g), g)  # noqa: F821


def _projected(ctx, x, g):  # pragma: no cover - compiled
    return norms.value(reduce(x, g, ctx.lo, ctx.hi, ctx.sign), x)  # noqa: F821


def _max_abs_diff(a, b):  # pragma: no cover - compiled
    return norms.value(reduce(a, b), a)  # noqa: F821


def _norms(needs: Needs) -> tuple[Any, Any]:
    """The ``grad_norm`` and ``diff_norm`` services: serial, or ``prange`` above the
    switch-over (as the step)."""
    kind = "parallel" if needs.parallel else "serial"
    if needs.bounded:
        grad = specialise(_projected, kind, reduce=getattr(norms.PROJECTED, kind))
    else:
        grad = specialise(_max_abs, kind, reduce=getattr(norms.MAX_ABS, kind))
    diff = specialise(_max_abs_diff, kind, reduce=getattr(norms.MAX_ABS_DIFF, kind))
    return njit(inline="always")(grad), njit(inline="always")(diff)


@njit(inline="always")
def _copy(dst, src):  # pragma: no cover - compiled
    for i in range(dst.size):
        dst[i] = src[i]


@njit(inline="always")
def _constant_rate(ctx, step):  # pragma: no cover - compiled
    return ctx.lr


@njit(inline="always")
def _no_observe(ctx, f):  # pragma: no cover - compiled
    return None


@njit(inline="always")
def _pause_for_callbacks(ctx, nit, f):  # pragma: no cover - compiled
    return CODES.HOOK


@njit(inline="always")
def _never():  # pragma: no cover - compiled
    return False


@njit(inline="always")
def _scheduled_rate(ctx, step):  # pragma: no cover - compiled
    return program.rate(step, ctx.s_ints, ctx.s_floats, ctx.s_state)


@njit(inline="always")
def _observe(ctx, f):  # pragma: no cover - compiled
    program.observe(f, ctx.s_ints, ctx.s_floats, ctx.s_state)


@njit(inline="always")
def _advance(ctx, w, x, g, f, code):  # pragma: no cover - compiled
    """L-BFGS-B's ``advance`` service: its step, called through its address."""
    address, check = ctx.step
    arguments = (w, x, g, f, ctx.lo, ctx.hi, code)
    if check != signature_check(arguments):
        raise TypeError("numopt: L-BFGS-B's step was compiled for other argument types")
    step = function_at(address, arguments)
    return step(w, x, g, f, ctx.lo, ctx.hi, code)


# -- the loop's working copies (why: intrinsics.borrowed, intrinsics.on_stack) -------------
@njit(inline="always")
def _enter(s, k, x, g, best_x, x_prev, hist, rows, losses, order, ctx):  # pragma: no cover
    # (ctx: a Context, or a plain tuple of its fields, as CompiledMode.chunk passes it:
    # Numba's dispatcher types a named tuple's field names too, 2.5 times the time)
    (args, shape, xs, gs, batch_size, n_samples, opt_state, c, h, lr, lo, hi, sign, s_ints,
     s_floats, s_state, work, step) = ctx  # fmt: skip
    views = Context(
        args, shape, borrowed(xs), borrowed(gs), batch_size, n_samples, borrowed(opt_state),
        borrowed(c), borrowed(h), lr, borrowed(lo), borrowed(hi), sign, borrowed(s_ints),
        borrowed(s_floats), borrowed(s_state), borrowed(work), step,
    )  # fmt: skip
    # (inlined, so the records' copies are in the loop's own stack frame; the records come
    # as arrays of one element, which Numba's dispatcher types in a fraction of the time
    # it takes for a record itself: 0.5 against 2.3 µs each)
    return (
        on_stack(s[0]), on_stack(k[0]), borrowed(x), borrowed(g), borrowed(best_x),
        borrowed(x_prev), borrowed(hist), borrowed(rows), borrowed(losses),
        borrowed(order), views,
    )  # fmt: skip


@njit(inline="always")
def _leave(held, s):  # pragma: no cover - compiled
    store(held[0], s)


_LOOPS = LoopCache("compiled loop")


def auto_reason(fun: Any) -> str | None:
    """Why ``compiled="auto"`` should start ``fun``'s full-batch run in the Python loop
    (:func:`numopt.loop.switch.start_reason`), or None to compile now."""
    return switch.start_reason(_LOOPS, fun)


#: Why a mini-batch ``compiled="auto"`` run (which cannot switch) should not compile.
churn_reason = _LOOPS.churn_reason


class Bound(NamedTuple):
    """The iteration bound to one run's compiled services (see :func:`bind_services`)."""

    loop: Any  # the iteration, to compile: (s, k, x, g, ..., ctx) -> code
    evaluate: Any  # the objective's service, @njit(inline="always")
    kind: str  # the variant's name (for the cache)
    cache: bool  # whether the user's functions (so a loop around them) cache to disk


def loop_for(
    fun: Any,
    jac: Any,
    mode: str,
    body: Any,
    factors: Any,
    n_args: int,
    data: tuple[int, ...],
    n_factors: int,
    needs: Needs,
) -> Any:
    """The compiled loop for this objective, rule body, batching and needs (built once)."""
    key = (fun, jac if mode == "jac" else None, mode, body, factors, n_args, data, n_factors)
    key += tuple(needs)

    def build() -> Any:
        bound = bind_services(fun, jac, mode, body, factors, n_args, data, n_factors, needs)
        # the iteration is the compiled function itself: inlined into a wrapper, Numba
        # would copy its whole IR twice, block by block (a fifth of a cold compile)
        return njit(cache=bound.cache, nogil=True, error_model="numpy")(bound.loop)

    return _LOOPS.get(key, build, fun)


def bind_services(
    fun: Any,
    jac: Any,
    mode: str,
    body: Any,
    factors: Any,
    n_args: int,
    data: tuple[int, ...],
    n_factors: int,
    needs: Needs,
) -> Bound:
    """The iteration (:func:`numopt.loop.iteration.iterate`) with this run's services."""
    arguments = _batch_arguments(n_args, data) if data else _all_arguments
    bound = {"fun": fun, "arguments": arguments}
    if mode == "jac":
        bound["jac"] = jac
    evaluate = njit(inline="always")(specialise(_EVALUATE[mode], f"evaluate_{mode}", **bound))
    rate = _scheduled_rate if needs.schedule else _constant_rate
    observe = _observe if needs.observe else _no_observe
    tags = tuple(source_digest(m) for m in program.INLINED_MODULES) if needs.schedule else ()
    if needs.quasi_newton:  # L-BFGS-B: the line search evaluates through `evaluate`
        rate = njit(inline="always")(quasi_newton.rate)
        observe = njit(inline="always")(quasi_newton.no_observe)
        # inlined: a call would pass the context's arrays and the workspace as hundreds
        # of scalars at every iteration (and compiling it apart took longer)
        step = njit(inline="always", error_model="numpy")(
            specialise(
                quasi_newton.update,
                "quasi_newton",
                evaluate=evaluate,
                interrupted=_never,
                advance=_advance,
            )
        )
        update = njit(inline="always")(
            specialise(quasi_newton.keeping_update, "keeping", step=step, copy=_copy)
        )
        tags = tuple(source_digest(m) for m in quasi_newton.INLINED_MODULES)
    else:
        update = njit(inline="always")(
            specialise(
                _update,
                "update",
                rate=rate,
                factors=njit(inline="always")(factors),
                step_loop=_step_loop(body, needs, n_factors),
            )
        )
    grad_norm, diff_norm = _norms(needs)
    services = {
        "evaluate": evaluate,
        "grad_norm": grad_norm,
        "copy": _copy,
        "diff_norm": diff_norm,
        "observe": observe,
        "rate": rate,
        "update": update,
        "hook": _pause_for_callbacks,
        "interrupted": _never,
        "time_up": _never,
        "save_time": _never,
        "enter": _enter,
        "leave": _leave,
    }
    iteration.check(services)
    kind = f"compiled_{mode}_{''.join('1' if n else '0' for n in needs)}"
    inlined = (source_digest(m) for m in (cpu, norms, intrinsics, iteration, sys.modules[__name__]))
    # the user's functions by where they live too: two of the same source in two
    # modules are two loops (a cached loop refers to its objective's module)
    where = tuple(_where(f) for f in (fun, jac if mode == "jac" else None) if f is not None)
    fn = specialise(iteration.iterate, kind, tags=(*tags, *inlined, *where), body=body, **services)
    # Loaded from the cache, nothing would start Numba's threading layer before the
    # loop calls a prange kernel — the step's, a norm's or the objective's own (a
    # segfault): start it here (once per process; later calls return at once).
    _launch_threads()
    cache = _cached(fun) and (mode != "jac" or _cached(jac))
    return Bound(fn, evaluate, kind, cache)


def _where(dispatcher: Any) -> str:
    """Where a Numba function is defined: its module, qualified name and file."""
    py = dispatcher.py_func
    return f"{py.__module__}.{py.__qualname__}@{py.__code__.co_filename}"


def _cached(dispatcher: Any) -> bool:
    """Whether the user's dispatcher caches to disk (and so may our loop around it)."""
    cache = getattr(dispatcher, "_cache", None)
    py_func = getattr(dispatcher, "py_func", None)
    return (
        cache is not None
        and type(cache).__name__ != "NullCache"
        and py_func is not None
        and py_func.__closure__ is None
    )


@functools.cache
def _constant_program() -> Any:
    """The schedule program of L-BFGS-B's loop, which reads no learning rate: a constant,
    lowered once (it has no state for the loop to write)."""
    return program.lower(1.0)


# -- the mode ------------------------------------------------------------------------------
class CompiledMode:
    """The loop of one run, compiled (see the module docstring)."""

    compiled = True

    def __init__(self, run: Any) -> None:
        self.run = run
        opt, x = run.opt, run.x
        self.quasi_newton = bool(getattr(opt, "evaluates", False))
        self.layout = run.pair.layout
        self.n = x.size
        if self.quasi_newton:
            self.backend = "serial"
            self.n_factors = 0
        else:
            self.backend = "parallel" if opt.backend == "parallel" else (
                "serial" if opt.backend == "serial" or self.n < cpu.SERIAL_BELOW else "parallel"
            )  # fmt: skip
            self.n_factors = len(opt.spec.factors)
        # factor_fn's h, kept from chunk to chunk: a memo it keeps there (NAdam's Π_t)
        # would otherwise start again from step 1 at every chunk
        self.h = np.zeros(0) if self.quasi_newton else np.asarray(opt._factor_args(), np.float64)
        self.c = np.zeros(max(self.n_factors, 2), x.dtype)
        self.c[-2] = np.inf  # no clip_value (the compiled loop runs without clipping)
        box = run.box
        self.lo, self.hi = (box.lo, box.hi) if box is not None else (x[:0], x[:0])
        self.x_prev = run.x_prev if run.x_prev is not None else x[:0]
        self.state_array = np.zeros(1, STATE.dtype)
        self.settings_array = run.settings_array
        batches = run.batches
        self.data = batches.data if batches is not None else ()
        self.batch_size = batches.batch_size if batches is not None else 0
        self.n_samples = batches.n_samples if batches is not None else 0
        self.no_order = np.zeros(0, np.int64)

    def chunk(self, hist: Any, rows: Any) -> int:
        """Iterate until the run stops or pauses (at ``state.limit`` at the latest)."""
        run, opt = self.run, self.run.opt
        if self.quasi_newton:
            schedule: Any = 1.0  # (none: a constant the program lowers)
            maximize = False
            body, factor_fn = quasi_newton.update, None
            opt_state = self.c[:0].reshape(0, 0)
            work = opt.work_for(run.x, run.box)
            step = quasi_newton.step_pointer(work, run.x, run.g, self.lo, self.hi)
        else:
            schedule = run.schedule
            maximize = bool(opt.hyperparameters.get("maximize"))
            body, factor_fn = opt._element(), opt.spec.factor_fn
            opt_state = opt._state_for(self.layout, self.n)
            work, step = (), (0, 0)
        lowered = _constant_program() if self.quasi_newton else program.lower(schedule)
        self.c[-1] = -1.0 if maximize else 1.0
        needs = Needs(
            parallel=self.backend == "parallel",
            bounded=run.box is not None,
            schedule=callable(schedule),
            observe=lowered.needs_loss,
            quasi_newton=self.quasi_newton,
        )
        loop = loop_for(
            run.objective.fun, run.objective.jac, run.objective.mode, body, factor_fn,
            len(run.args), self.data, self.n_factors, needs,
        )  # fmt: skip
        shape = run.structure.shapes[0]
        ctx = Context(  # (passed as a plain tuple: see _enter)
            args=tuple(run.args),
            shape=shape,
            xs=run.x.reshape(shape),
            gs=run.g.reshape(shape),
            batch_size=self.batch_size,
            n_samples=self.n_samples,
            opt_state=opt_state,
            c=self.c,
            h=self.h,
            lr=0.0 if callable(schedule) else float(schedule),
            lo=self.lo,
            hi=self.hi,
            sign=-1.0 if maximize else 1.0,
            s_ints=lowered.ints,
            s_floats=lowered.floats,
            s_state=lowered.state,
            work=work,
            step=step,
        )
        order = run.order
        if run.batches is None:
            order = self.no_order
        elif order is None:  # no shuffling: the data order
            order = np.arange(self.n_samples)
        s = run.state
        if not self.quasi_newton:
            s.step = opt._t
        a = STATE.to_array(s, self.state_array)
        try:
            code = loop(
                a, self.settings_array, run.x, run.g, run.best_x, self.x_prev, hist, rows,
                run.losses, order, tuple(ctx),
            )  # fmt: skip
        finally:
            STATE.load(s, a)
            if not self.quasi_newton:
                opt._t = s.step
                opt._loaded_on_host = False
                lowered.store(schedule)
        return code

    def learning_rate_error(self) -> None:
        """Raise the error the Python loop raises for the schedule's invalid value."""
        run = self.run
        if run.history is not None:
            run.opt.learning_rate_at(run.state.nit + 1)
        run.opt.learning_rate_at(run.opt._t + 1)
        raise RuntimeError("the compiled schedule gave an invalid learning rate")
