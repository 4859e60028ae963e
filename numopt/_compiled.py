"""The whole ``minimize`` loop in Numba's nopython mode, for Numba objectives.

When ``fun`` (and ``jac``) are ``@njit`` functions, :func:`plan` says whether a run
can leave Python altogether; :func:`solve` then drives one compiled function that
evaluates the objective, tests the stopping rules, tracks the best point,
evaluates the learning-rate schedule (:mod:`numopt.schedules.program`), computes
the rule's factors (its ``factors`` function, compiled too) and runs the rule's
fused element loop — iteration after iteration, without returning to Python.

It returns to Python only at points where the Python loop would do Python work:
a callback or a ``disp`` row is due, a checkpoint is due, an epoch of mini-batches
ended (the next order is drawn by the same :class:`numpy.random.Generator`), or a
chunk of iterations is done (about every 20 ms, to check Ctrl-C, ``max_time`` and
``checkpoint_seconds``).  Every such point is one the Python loop also passes
through, and the compiled iteration performs the same floating-point operations
in the same order, so a compiled run and a Python run give the same result and
trajectory bit for bit (tested).

The loop is generated per objective form (``jac`` callable, ``jac=True``,
``jac="inplace"``) and per set of mini-batched arguments, binds the user's
dispatchers as globals, and is cached on disk (``cache=True``) when the user's own
functions are cached and are not closures; its cache name carries digests of
every source it inlines, so editing the objective or the rule recompiles it.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any, NamedTuple

import numpy as np
from numba import njit
from numba.core.registry import CPUDispatcher
from numba.np.ufunc.parallel import _launch_threads

from numopt.backends._specialise import source_digest
from numopt.backends.cpu import cpu_loops
from numopt.backends.cpu_bounds import bounded_loops

# -- the control vector shared with the compiled loop -------------------------------------
# int64 entries
NIT, NFEV, NJEV, BEST_NIT, SKIPPED, STEP, BATCH, LIMIT, PHASE = range(9)
HAS_F_PREV, FX_KNOWN, HIST_LEN, N_LOSSES, SAVED_NIT, DISP_LEN, WHAT = range(9, 16)
# configuration (int64)
MAXITER, MAXFEV, CKPT_EVERY, HOOK_EVERY, DISP_EVERY, PER_EPOCH, BATCH_SIZE = range(16, 23)
N_SAMPLES, BATCHED, SKIP_NONFINITE, RECORD, PARALLEL, XTOL_ON, NEEDS_LOSS = range(23, 30)
CONSTANT_LR, BOUNDED, HIST_LR_LEN = 30, 31, 32
N_INT = 33
# float64 entries
BEST_F, F_PREV, F_CUR, GNORM_CUR, FX, GTOL, FTOL, XTOL, SIGN, LR = range(10)
N_FLOAT = 10

# codes the compiled loop returns: >= 0 a final status, < 0 a stop on the way
PAUSE, SAVE, HOOK, EPOCH_END, BAD_LR = -1, -2, -3, -4, -5
AFTER_HOOK = 1  # PHASE: the evaluation of this iteration is done, its callback too

#: Seconds of compiled iterations between two visits to Python (Ctrl-C, max_time).
CHUNK_SECONDS = 0.02
#: History rows kept per chunk; disp rows likewise.
HISTORY_CAPACITY = 1 << 16
DISP_CAPACITY = 64

CHOICES = ("auto", True, False)


# -- helpers compiled into every loop ---------------------------------------------------
@njit(cache=True, nogil=True)
def max_abs(a):  # pragma: no cover - compiled
    """``max|a|`` as float64, NaN when an entry is NaN or ±inf (as ``inf_norm``)."""
    m = a.dtype.type(0)
    for i in range(a.size):
        v = abs(a[i])
        if not math.isfinite(v):
            return math.nan
        if v > m:
            m = v
    return float(m)


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


@njit(cache=True, nogil=True)
def projected_abs(x, g, lo, hi, sign):  # pragma: no cover - compiled
    """``max|P(x - sign·g) - x|`` (float64, NaN for non-finite), as ``projected_grad_norm``.

    The same per-entry value as :func:`numopt.backends.cpu_bounds._projected_entry`
    (``min(|g|, room to the bound)``); its maximum as a float equals that function's
    bit-pattern maximum.
    """
    s = g.dtype.type(sign)
    m = x.dtype.type(0)
    for i in range(x.size):
        gi = g[i] * s
        xi = x[i]
        room = xi - lo[i] if gi > 0 else hi[i] - xi
        a = abs(gi)
        d = a if a <= room else room
        if not ((a < math.inf) and (d == d)):
            return math.nan
        if d > m:
            m = d
    return float(m)


@njit(cache=True, nogil=True)
def max_abs_diff(a, b):  # pragma: no cover - compiled
    """``max|a - b|`` (float64, NaN for non-finite), as ``inf_norm(a - b)``."""
    m = a.dtype.type(0)
    for i in range(a.size):
        v = abs(a[i] - b[i])
        if not math.isfinite(v):
            return math.nan
        if v > m:
            m = v
    return float(m)


# -- the loop's source ------------------------------------------------------------------
_EVAL = {
    "jac": (
        "fr = fun(xs{args})\n"
        "nfev += 1\n"
        "gr = jac(xs{args})\n"
        "njev += 1\n"
        "f = float(fr)\n"
        "copy_gradient(g, gr, shape)\n"
    ),
    "combined": (
        "out = fun(xs{args})\n"
        "nfev += 1\n"
        "njev += 1\n"
        "f = float(out[0])\n"
        "copy_gradient(g, out[1], shape)\n"
    ),
    "inplace": "f = float(fun(xs, gs{args}))\nnfev += 1\nnjev += 1\n",
}

_TEMPLATE = """
def compiled_loop(x, g, shape, state, c, h, s_ints, s_floats, s_state, args, order,
                  best_x, x_prev, iv, fv, hist, losses, rows, lo, hi):
    xs = x.reshape(shape)
    gs = g.reshape(shape)
    nit = iv[NIT]
    nfev = iv[NFEV]
    njev = iv[NJEV]
    skipped = iv[SKIPPED]
    t = iv[STEP]
    b = iv[BATCH]
    limit = iv[LIMIT]
    phase = iv[PHASE]
    hl = iv[HIST_LEN]
    hlr = iv[HIST_LR_LEN]
    nl = iv[N_LOSSES]
    dl = iv[DISP_LEN]
    has_f_prev = iv[HAS_F_PREV]
    fx_known = iv[FX_KNOWN]
    maxiter = iv[MAXITER]
    maxfev = iv[MAXFEV]
    ckpt_every = iv[CKPT_EVERY]
    hook_every = iv[HOOK_EVERY]
    disp_every = iv[DISP_EVERY]
    batched = iv[BATCHED] != 0
    bs = iv[BATCH_SIZE]
    per_epoch = iv[PER_EPOCH]
    n_samples = iv[N_SAMPLES]
    record = iv[RECORD] != 0
    best_f = fv[BEST_F]
    f_prev = fv[F_PREV]
    gtol = fv[GTOL]
    ftol = fv[FTOL]
    xtol = fv[XTOL]
    sign = fv[SIGN]
    constant_lr = iv[CONSTANT_LR] != 0  # a float learning rate: no schedule to evaluate
    needs_loss = iv[NEEDS_LOSS] != 0
    bounded = iv[BOUNDED] != 0
    f = 0.0
    gnorm = 0.0
    code = PAUSE
    while True:
        # the top of an iteration: a consistent point
        if batched and b >= per_epoch:
            code = EPOCH_END
            break
        if maxiter >= 0 and nit + skipped >= maxiter:
            code = 1
            break
        if nit >= limit:
            code = PAUSE
            break
        if phase == AFTER_HOOK:
            phase = 0
            f = fv[F_CUR]
            gnorm = fv[GNORM_CUR]
        else:
            if ckpt_every > 0 and nit % ckpt_every == 0 and nit != iv[SAVED_NIT] and nit != 0:
                code = SAVE
                break
{batch}
{eval}
            gnorm = projected_abs(x, g, lo, hi, sign) if bounded else max_abs(g)
            if not batched:
                fv[FX] = f
                fx_known = 1
            if nit > 0 and hook_every > 0 and nit % hook_every == 0:
                fv[F_CUR] = f
                fv[GNORM_CUR] = gnorm
                code = HOOK
                break
        if not (math.isfinite(f) and math.isfinite(gnorm)):
            if iv[SKIP_NONFINITE] != 0:
                skipped += 1
                b += 1
                continue
            iv[WHAT] = 0 if not math.isfinite(f) else 1
            fv[F_CUR] = f
            code = 3
            break
        if batched:
            losses[nl] = f
            nl += 1
        if f < best_f:
            best_f = f
            iv[BEST_NIT] = nit
            for i in range(x.size):
                best_x[i] = x[i]
        if needs_loss and not batched:
            observe(f, s_ints, s_floats, s_state)
        if record:
            hist[0, hl] = f
            hist[1, hl] = gnorm
            hl += 1
        if disp_every > 0 and nit % disp_every == 0:
            rows[dl, 0] = nit
            rows[dl, 1] = f
            rows[dl, 2] = gnorm
            rows[dl, 3] = fv[LR] if constant_lr else rate(nit, s_ints, s_floats, s_state)
            dl += 1
        if gtol >= 0.0 and gnorm <= gtol:
            code = 0
            break
        if ftol > 0.0 and has_f_prev != 0:
            if abs(f_prev - f) <= ftol * max(abs(f_prev), abs(f), 1.0):
                code = 4
                break
        if iv[XTOL_ON] != 0:
            if nit > 0 and max_abs_diff(x_prev, x) <= xtol:
                code = 5
                break
            for i in range(x.size):
                x_prev[i] = x[i]
        if maxfev >= 0 and nfev >= maxfev:
            code = 2
            break
        if record:
            lr_hist = fv[LR] if constant_lr else rate(nit, s_ints, s_floats, s_state)
            if not (lr_hist >= 0.0 and math.isfinite(lr_hist)):
                code = BAD_LR
                break
            hist[2, hlr] = lr_hist
            hlr += 1
        lr = fv[LR] if constant_lr else rate(t, s_ints, s_floats, s_state)
        if not (lr >= 0.0 and math.isfinite(lr)):
            code = BAD_LR
            break
        fs = factors(t + 1, lr, h)
        for j in range(len(fs)):
            c[j] = fs[j]
        c[c.size - 1] = sign
        cc = ({factors_tuple})  # the factors in registers for the inlined element loops
        if iv[PARALLEL] != 0:
            if bounded:
                parallel_bounded(x, g, state, c, lo, hi)
            else:
                parallel_loop(x, g, state, c)
        elif bounded:  # the bounded serial loop (numopt.backends.cpu_bounds), inlined
            for i in range(x.size):
                low = lo[i]
                high = hi[i]
                element(i, x, g, state, cc)
                v = x[i]
                if v <= low:
                    v = low
                if v >= high:
                    v = high
                x[i] = v
        else:  # the serial kernel's loop, inlined here
            for i in range(x.size):
                element(i, x, g, state, cc)
        t += 1
        fx_known = 0
        nit += 1
        f_prev = f
        has_f_prev = 1
        b += 1
    iv[NIT] = nit
    iv[NFEV] = nfev
    iv[NJEV] = njev
    iv[SKIPPED] = skipped
    iv[STEP] = t
    iv[BATCH] = b
    iv[PHASE] = phase
    iv[HIST_LEN] = hl
    iv[HIST_LR_LEN] = hlr
    iv[N_LOSSES] = nl
    iv[DISP_LEN] = dl
    iv[HAS_F_PREV] = has_f_prev
    iv[FX_KNOWN] = fx_known
    fv[BEST_F] = best_f
    fv[F_PREV] = f_prev
    return code
"""


def _source(mode: str, n_args: int, data: tuple[int, ...], n_factors: int) -> str:
    """The loop's source for one objective form and one set of batched arguments."""
    pad = " " * 12
    if data:  # this batch's rows of the data arguments, as the Python loop takes them
        items = [f"args[{i}][idx]" if i in data else f"args[{i}]" for i in range(n_args)]
        batch = (
            f"{pad}idx = order[b * bs : min((b + 1) * bs, n_samples)]\n"
            f"{pad}a = ({', '.join(items)}{',' if n_args == 1 else ''})"
        )
        names = "a"
    else:
        batch = f"{pad}pass"
        names = "args"
    call_args = "".join(f", {names}[{i}]" for i in range(n_args))
    body = _EVAL[mode].format(args=call_args)
    evaluation = "".join(pad + line + "\n" for line in body.splitlines())
    factors_tuple = ", ".join(f"c[{j}]" for j in range(n_factors)) + ("," if n_factors == 1 else "")
    return (
        _TEMPLATE.replace("{batch}", batch)
        .replace("{eval}", evaluation.rstrip("\n"))
        .replace("{factors_tuple}", factors_tuple)
    )


_LOOPS: dict[tuple, Any] = {}


def factors_module(factors: Any) -> Any:
    """The module that defines a rule's ``factors`` (its helpers are inlined too)."""
    import sys

    return sys.modules[factors.__module__]


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


class Needs(NamedTuple):
    """Which optional parts a loop calls; the others are bound to stubs (not compiled)."""

    parallel: bool  # the prange kernel (x at least SERIAL_BELOW long, or backend="parallel")
    bounded: bool  # bounds: the projection and the projected-gradient norm
    schedule: bool  # a schedule (not a float learning rate): the schedule program's rate
    observe: bool  # a schedule fed the loss (ReduceLROnPlateau)


# stubs for the parts a loop does not call (its flags keep them unreachable)
@njit(cache=True, nogil=True)
def _no_rate(step, ints, floats, state):  # pragma: no cover - compiled
    return math.nan


@njit(cache=True, nogil=True)
def _no_observe(loss, ints, floats, state):  # pragma: no cover - compiled
    return None


@njit(cache=True, nogil=True)
def _no_loop(x, g, state, c):  # pragma: no cover - compiled
    return None


@njit(cache=True, nogil=True)
def _no_bounded_loop(x, g, state, c, lo, hi):  # pragma: no cover - compiled
    return None


@njit(cache=True, nogil=True)
def _no_projected_abs(x, g, lo, hi, sign):  # pragma: no cover - compiled
    return math.nan


def loop_for(
    fun,
    jac,
    mode: str,
    body,
    factors,
    n_args: int,
    data: tuple[int, ...],
    n_factors: int,
    needs: Needs,
):
    """The compiled loop for this objective, rule body, batching and needs (built once).

    Parts a run does not need (the parallel kernel, bounds, a schedule) are left out,
    so that a cold cache compiles only what runs: compiling them costs seconds.
    """
    key = (fun, jac if mode == "jac" else None, mode, body, factors, n_args, data, n_factors)
    key += tuple(needs)
    loop = _LOOPS.get(key)
    if loop is not None:
        return loop
    from numopt.backends import cpu, cpu_bounds
    from numopt.schedules import program as schedule_program

    src = _source(mode, n_args, data, n_factors)
    loops = cpu_loops(body)
    namespace: dict[str, Any] = {
        **{k: v for k, v in globals().items() if k.isupper() and isinstance(v, int)},
        "math": math,
        "np": np,
        "fun": fun,
        "jac": jac if mode == "jac" else None,
        "factors": njit(inline="always")(factors),
        "element": njit(inline="always", error_model="numpy")(body),
        "parallel_loop": loops.parallel if needs.parallel and not needs.bounded else _no_loop,
        "parallel_bounded": (
            bounded_loops(body).parallel if needs.parallel and needs.bounded else _no_bounded_loop
        ),
        "projected_abs": projected_abs if needs.bounded else _no_projected_abs,
        "rate": schedule_program.rate if needs.schedule else _no_rate,
        "observe": schedule_program.observe if needs.observe else _no_observe,
        "max_abs": max_abs,
        "copy_gradient": copy_gradient,
        "max_abs_diff": max_abs_diff,
    }
    code = compile(src, __file__, "exec")
    exec(code, namespace)
    fn = namespace["compiled_loop"]
    # Numba's cache watches only this file: name the loop after every source it inlines
    # (the objective, the rule's element and factors, the schedules' arithmetic)
    parts = [src, repr(tuple(needs)), source_digest(fun.py_func), source_digest(body)]
    parts.append(source_digest(factors))
    inlined = (*schedule_program.INLINED_MODULES, factors_module(factors), cpu, cpu_bounds)
    parts += [source_digest(m) for m in inlined]
    if mode == "jac":
        parts.append(source_digest(jac.py_func))
    digest = hashlib.sha1("\0".join(parts).encode()).hexdigest()[:16]
    fn.__qualname__ = fn.__name__ = f"compiled_loop_{mode}_{digest}"
    fn.__module__ = __name__
    cache = _cached(fun) and (mode != "jac" or _cached(jac))
    if needs.parallel:
        # Loaded from the cache, nothing would start Numba's threading layer before
        # the loop calls the parallel kernel (a segfault): start it here.
        _launch_threads()
    loop = njit(cache=cache, nogil=True, error_model="numpy")(fn)
    _LOOPS[key] = loop
    return loop


# -- whether a run can be compiled ---------------------------------------------------
def is_numba_function(f: Any) -> bool:
    """Whether ``f`` is a Numba CPU ``@njit`` dispatcher."""
    return isinstance(f, CPUDispatcher)


def plan(run: Any, fun: Any, jac: Any) -> str | None:
    """``None`` if ``run`` can use the compiled loop, else the reason it cannot."""
    if not is_numba_function(fun):
        return "fun is not a Numba @njit function"
    mode = run.objective.mode
    if mode == "jac" and not is_numba_function(jac):
        return "jac is a Python callable, not a Numba @njit function"
    if mode not in _EVAL:
        return f"jac={jac!r}: finite differences run in Python (SciPy's approx_derivative)"
    if getattr(run, "device", "cpu") != "cpu":
        return "the run is on a GPU"
    if getattr(run, "_dask", None) is not None:
        return "the data are Dask arrays (evaluated on the workers)"
    from numopt.transforms import options as transforms

    why = transforms.compiled_reason(run)  # accumulate, average, lookahead, param_groups
    if why is not None:
        return why
    if run.structure.kind != "array":
        return "x0 is a list/tuple/dict of arrays (the compiled loop takes one array)"
    opt = run.opt
    if getattr(type(opt), "passes", 1) != 1:  # LAMB: norms, then the update
        return f"the rule {opt.name!r} takes {type(opt).passes} passes per step, not one loop"
    if type(opt).factors is None:
        return f"the rule {opt.name!r} computes its per-step factors in Python"
    if opt.hyperparameters.get("clip_norm") is not None:
        return "clip_norm needs the gradient's norm before each update (the Python loop)"
    if opt.hyperparameters.get("clip_value") is not None:
        return "clip_value runs its own variant of the rule's kernel (the Python loop)"
    if opt.backend not in ("auto", "serial", "parallel"):
        return f"backend={opt.backend!r} is not a compiled CPU loop"
    from numopt.schedules import program as schedule_program

    try:
        schedule_program.lower(opt.hyperparameters["learning_rate"])
    except schedule_program.NotCompilable as exc:
        return f"the learning rate cannot be compiled: {exc}"
    for i, a in enumerate(run.args):
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


# -- the driver ----------------------------------------------------------------------
def solve(run: Any, start: float, bar: Any, interrupted: Any, every: int) -> tuple[int, str]:
    """Run ``run`` (a ``numopt._minimize._Run``) in the compiled loop; ``(status, detail)``."""
    from numopt.schedules import program as schedule_program

    opt, obj = run.opt, run.objective
    x, g = run.x, run.g
    n = x.size
    shape = run.structure.shapes[0]
    state = opt._state_for(run.pair.layout, n)
    n_factors = len(opt._kernel_factors(1, 1.0))
    c = np.zeros(n_factors, x.dtype)
    backend = opt._backend_for(False, n)
    iv = np.zeros(N_INT, np.int64)
    fv = np.zeros(N_FLOAT, np.float64)
    batches = run.batches
    record = run.history is not None
    hist = np.zeros((3, HISTORY_CAPACITY if record else 1), np.float64)
    rows = np.zeros((DISP_CAPACITY, 4), np.float64)
    losses = np.zeros(batches.per_epoch if batches is not None else 1, np.float64)
    x_prev = run.x_prev if run.x_prev is not None else x[:0]
    iv[MAXITER] = -1 if run.maxiter is None else run.maxiter
    iv[MAXFEV] = -1 if run.maxfev is None else run.maxfev
    iv[CKPT_EVERY] = (run.checkpoint_every or 0) if run.checkpoint is not None else 0
    iv[HOOK_EVERY] = run.callback_every if run.callbacks else 0
    iv[DISP_EVERY] = every if run.disp else 0
    iv[RECORD] = record
    iv[PARALLEL] = backend == "parallel"
    iv[XTOL_ON] = run.x_prev is not None
    iv[SKIP_NONFINITE] = run.skip_nonfinite
    fv[GTOL] = -1.0 if run.gtol is None else run.gtol
    fv[FTOL] = run.ftol
    fv[XTOL] = run.xtol
    data: tuple[int, ...] = ()
    if batches is not None:
        data = batches.data
        iv[BATCHED] = 1
        iv[PER_EPOCH] = batches.per_epoch
        iv[BATCH_SIZE] = batches.batch_size
        iv[N_SAMPLES] = batches.n_samples
    args = tuple(run.args)
    order = np.zeros(0, np.int64)
    box = getattr(run, "box", None)
    lo, hi = (box.lo, box.hi) if box is not None else (x[:0], x[:0])
    iv[BOUNDED] = box is not None
    chunk = 256  # iterations per visit to Python, adapted to CHUNK_SECONDS
    while True:
        if batches is not None:  # the epoch's order, drawn as the Python loop draws it
            if run.epochs is not None and run.epochs_done >= run.epochs:
                return 7, ""
            if run.order is False:
                run.order = batches.new_order()
            order = run.order if run.order is not None else np.arange(batches.n_samples)
            iv[BATCH] = run.batch_index
            iv[N_LOSSES] = len(run._epoch_losses)
            losses[: len(run._epoch_losses)] = run._epoch_losses
        schedule = opt.hyperparameters["learning_rate"]
        program = schedule_program.lower(schedule)
        h = np.asarray(opt._factor_args(), np.float64)
        needs = Needs(
            parallel=backend == "parallel",
            bounded=box is not None,
            schedule=callable(schedule),
            observe=program.needs_loss,
        )
        loop = loop_for(
            obj.fun, obj.jac, obj.mode, opt._element(), type(opt).factors, len(args), data,
            n_factors, needs,
        )  # fmt: skip
        fv[SIGN] = -1.0 if opt.hyperparameters.get("maximize") else 1.0
        iv[NIT], iv[NFEV], iv[NJEV] = run.nit, obj.nfev, obj.njev
        iv[BEST_NIT], iv[SKIPPED], iv[STEP] = run.best_nit, run.skipped, opt._t
        iv[HAS_F_PREV] = run.f_prev is not None
        iv[SAVED_NIT] = run._saved_nit
        iv[HIST_LEN] = iv[HIST_LR_LEN] = iv[DISP_LEN] = 0
        iv[FX_KNOWN] = run.fx is not None
        fv[FX] = run.fx if run.fx is not None else 0.0
        iv[NEEDS_LOSS] = program.needs_loss
        iv[CONSTANT_LR] = not callable(schedule)
        fv[LR] = 0.0 if callable(schedule) else float(schedule)
        fv[BEST_F] = run.best_f
        fv[F_PREV] = run.f_prev if run.f_prev is not None else 0.0
        cap = chunk
        if record:
            cap = min(cap, HISTORY_CAPACITY)
        if run.disp:
            cap = min(cap, (DISP_CAPACITY - 1) * every + 1)
        iv[LIMIT] = run.nit + cap
        nit0 = run.nit
        t0 = time.perf_counter()
        code = loop(
            x, g, shape, state, c, h, program.ints, program.floats, program.state, args,
            order, run.best_x, x_prev, iv, fv, hist, losses, rows, lo, hi,
        )  # fmt: skip
        elapsed = time.perf_counter() - t0
        # -- back in Python: copy the loop's position into the run --------------------
        done = int(iv[NIT]) - nit0
        if code == PAUSE and done > 0:
            chunk = max(1, min(int(done * CHUNK_SECONDS / max(elapsed, 1e-9)), 1 << 30))
        program.store(schedule)
        run.nit, obj.nfev, obj.njev = int(iv[NIT]), int(iv[NFEV]), int(iv[NJEV])
        run.best_nit, run.skipped, opt._t = int(iv[BEST_NIT]), int(iv[SKIPPED]), int(iv[STEP])
        run.best_f = float(fv[BEST_F])
        run.f_prev = float(fv[F_PREV]) if iv[HAS_F_PREV] else None
        run.fx = float(fv[FX]) if iv[FX_KNOWN] else None
        opt._loaded_on_host = False
        if record:
            k, k_lr = int(iv[HIST_LEN]), int(iv[HIST_LR_LEN])
            run.history["fun"].extend_array(hist[0, :k])
            run.history["grad_norm"].extend_array(hist[1, :k])
            run.history["learning_rate"].extend_array(hist[2, :k_lr])
        for r in range(int(iv[DISP_LEN])):
            row_nit, row_f, row_g, row_lr = rows[r]
            print(f"{int(row_nit):>8} {row_f:>14.6e} {row_g:>11.3e} {row_lr:>10.3e}")
        if batches is not None:
            run.batch_index = int(iv[BATCH])
            run._epoch_losses = losses[: int(iv[N_LOSSES])].tolist()
        if bar is not None and done:
            bar.update(done)
        # -- what the loop stopped for ---------------------------------------------
        if code >= 0:
            if code == 3:  # the Python loop's message, word for word
                what = (
                    f"loss ({float(fv[F_CUR])})"
                    if iv[WHAT] == 0
                    else "gradient (NaN or inf entries)"
                )
                return 3, f"non-finite {what} at iteration {run.nit}"
            return int(code), ""
        if code == BAD_LR:  # raise the error the Python loop raises at this point
            if record:
                opt.learning_rate_at(run.nit + 1)
            opt.learning_rate_at(opt._t + 1)
            raise RuntimeError("the compiled schedule gave an invalid learning rate")
        if code == HOOK:
            stop = run._call_back(run.nit, float(fv[F_CUR]))
            if stop:
                return 99, stop
            if interrupted():
                return 8, ""
            iv[PHASE] = AFTER_HOOK
            continue
        if code == SAVE:
            run._save()
            continue
        if code == EPOCH_END:
            run.epochs_done += 1
            run.batch_index, run.order = 0, False
            run._end_epoch()
            continue
        # PAUSE: the checks the Python loop makes at the top of every iteration
        if interrupted():
            return 8, ""
        now = time.perf_counter()
        if run.max_time is not None and now - start > run.max_time:
            return 6, ""
        if run.checkpoint is not None and run._save_due(run.nit, now):
            run._save()
