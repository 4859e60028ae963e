"""``minimize_many(..., vectorized=True)``: one NumPy call evaluates every running problem.

The objective takes the stacked points of the problems still running (on the GPU,
every problem's: :mod:`numopt.many.device`) and returns one loss per problem:
``fun(X, *args) -> (k,)``, with ``X`` of shape ``(k, *shape)`` and the split
arguments cut to the same ``k`` rows (shared ones passed whole); the
gradient comes as ``jac(X, *args) -> (k, *shape)``, as ``fun``'s second value
(``jac=True``), or from finite differences taken for all the problems at once (one
call per coordinate, SciPy's steps: :mod:`numopt.problem.differences` works element by
element, so its steps and bounds handling apply row by row unchanged).  Each evaluation
calls them on blocks of at most ``block_rows`` consecutive running problems, in order
(:func:`block_rows`: by default about :data:`BLOCK_BYTES` of rows a call), and joins
the blocks' values.

:func:`run` is ``minimize``'s loop (:mod:`numopt.loop.iteration`) written over rows:
the same stopping tests in the same order, each problem on its own (``gtol`` on its
``max|g|`` or projected gradient, ``ftol``, ``xtol``, ``maxfev``; a non-finite loss or
gradient stops that problem with status 3 and its best point), ``maxiter`` and
``max_time`` for all.  The update is one call of the rule's fused kernel over the
``M × n`` buffer: the element-wise rules share the step count, so every problem
gets its own factors bit for bit (a stopped problem's rows are stepped with a zero
gradient and ignored; its result was kept when it stopped).  So when ``fun``'s row
``i`` is what ``fun`` gives problem ``i`` alone, each problem ends where ``minimize``
alone ends, bit for bit.  Rules whose step mixes elements across the array
(clip_norm, Prodigy, Muon, Adafactor, SparseAdam, Schedule-Free's average) and
L-BFGS-B are refused, as are plateau schedules (they watch one loss).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from numopt.kernels.arrays import flat_pair
from numopt.kernels.box import Box
from numopt.loop import checkpoint, hooks
from numopt.loop.status import (
    Status,
    best_point_detail,
    final_nonfinite_detail,
    nonfinite_detail,
)
from numopt.many import checkpoint as many_checkpoint
from numopt.many import result as many_result
from numopt.many.rows import HostRows
from numopt.problem import differences
from numopt.problem.objective import FD_METHODS


def refusal(run: Any, jac: Any) -> str | None:
    """Why the run of ``run.opt`` cannot be vectorised, or None."""
    opt = run.opt
    if getattr(opt, "evaluates", False):
        return f"method {run.method!r} runs a line search per problem: give a Numba objective"
    spec = opt.spec
    if spec.passes is not None and not hasattr(opt, "layers"):
        return f"method {run.method!r} steps whole arrays, not elements"
    if hasattr(opt, "averaged"):  # Schedule-Free (as the compiled loop's refusal)
        return f"method {run.method!r} returns an average built per problem"
    if opt.hyperparameters.get("clip_norm") is not None:
        return "clip_norm takes the norm of the whole gradient, not of each problem's"
    if getattr(opt.hyperparameters.get("learning_rate"), "needs_loss", False):
        return "a plateau schedule watches one loss, not one per problem"
    if isinstance(jac, str) and jac == "inplace":
        return 'jac="inplace" (give jac=True, a callable or finite differences)'
    return None


#: The bytes of ``x0``'s rows and of the split arguments' rows that one call of a
#: vectorised objective gets by default: the objective's temporaries stay about that
#: size, in the cores' caches, and below the size from which the C library's allocator
#: maps fresh pages from the kernel at every call (glibc's threshold grows to at most
#: 32 MiB, and fresh pages cost a fault each).
BLOCK_BYTES = 1 << 20


def block_rows(problems: Any, given: Any) -> int:
    """The most problems (rows of ``X``) per call of the objective: ``given``, or by
    default as many as hold :data:`BLOCK_BYTES` of their rows and split arguments.

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.many.problems import Problems
    >>> p = Problems(np.zeros((10_000, 3)), (np.zeros(50), np.zeros((10_000, 50))), None, None)
    >>> block_rows(p, None), block_rows(p, 64)  # 424 bytes a problem: 2 473 in 1 MiB
    (2473, 64)
    """
    if given is None:
        per_row = problems.X[0].nbytes + sum(problems.args[j][0].nbytes for j in problems.split)
        return max(1, BLOCK_BYTES // max(per_row, 1))
    if isinstance(given, bool) or not isinstance(given, (int, np.integer)) or given < 1:
        raise ValueError(f"block_rows must be a positive integer (rows per call), got {given!r}")
    return int(given)


class Batch:
    """The vectorised objective: losses and gradients of the rows ``rows`` of ``X``.

    ``fun`` and ``jac`` are called on at most ``block`` rows at a time (see
    :func:`block_rows`), the split arguments cut to the same rows.
    """

    def __init__(
        self, fun: Callable, jac: Any, problems: Any, bounds: tuple[Any, Any], block: int
    ) -> None:
        self.fun, self.jac, self.p, self.block = fun, jac, problems, block
        self.mode = "combined" if jac is True else "jac" if callable(jac) else (jac or "2-point")
        if self.mode not in ("combined", "jac", *FD_METHODS):
            raise ValueError(
                f"jac must be a callable, True, '2-point', '3-point' or None, got {jac!r}"
            )
        self.bounds = bounds
        self.nfev = np.zeros(problems.M, np.int64)
        self.njev = np.zeros(problems.M, np.int64)

    def _blocks(self, X: np.ndarray, rows: np.ndarray) -> list[tuple[np.ndarray, tuple]]:
        """``(X_b, args_b)`` for each block of at most ``self.block`` rows, in order (``X_b``
        read-only)."""
        p, k, out = self.p, X.shape[0], []
        for start in range(0, k, self.block):
            stop = min(start + self.block, k)
            r = rows[start:stop]
            if r.size == p.M:
                args = p.args
            else:  # consecutive problems: views of the split arguments, not copies
                cut = slice(r[0], r[-1] + 1) if r[-1] - r[0] == r.size - 1 else r
                args = [arg[cut] if j in p.split else arg for j, arg in enumerate(p.args)]
            view = X[start:stop].reshape(stop - start, *p.shape)
            view.flags.writeable = False  # (numopt's own rows when every problem runs)
            out.append((view, tuple(args)))
        return out

    def _calls(self, fn: Callable, X: np.ndarray, rows: np.ndarray) -> list[tuple[tuple, Any]]:
        """``(X_b.shape, fn(X_b, *args_b))`` for each block, in order."""
        return [(Xb.shape, fn(Xb, *args)) for Xb, args in self._blocks(X, rows)]

    @staticmethod
    def _joined(parts: list[np.ndarray]) -> np.ndarray:
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _losses(self, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
        parts = [
            self._checked(out[0] if self.mode == "combined" else out, shape[:1], "fun")
            for shape, out in self._calls(self.fun, X, rows)
        ]
        self.nfev[rows] += 1
        return self._joined(parts)

    def _checked(self, value: Any, shape: tuple, name: str) -> np.ndarray:
        a = np.asarray(value)
        if a.shape != shape or a.dtype.kind not in "fiu":
            what = "one loss per problem" if name == "fun" else "one gradient row per problem"
            raise ValueError(
                f"with vectorized=True, {name} must return {what}: real numbers of shape "
                f"{shape}, got {getattr(a, 'dtype', '?')} of shape {a.shape}"
            )
        return a.reshape(shape[0], -1) if name == "jac" else a

    def __call__(self, X: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(f, G)`` at the points ``X`` (``(k, n)``) of the problems ``rows``."""
        if self.mode == "combined":
            fs, gs = [], []
            for shape, out in self._calls(self.fun, X, rows):
                if not isinstance(out, tuple) or len(out) != 2:
                    raise TypeError("with jac=True, fun must return a tuple (f, G)")
                fs.append(self._checked(out[0], shape[:1], "fun"))
                gs.append(self._checked(out[1], shape, "jac"))
            self.nfev[rows] += 1
            self.njev[rows] += 1
            f, G = self._joined(fs), self._joined(gs)
            return f.astype(np.float64), G.astype(X.dtype)
        f = self._losses(X, rows).astype(np.float64)
        self.njev[rows] += 1
        if self.mode == "jac":
            gs = [self._checked(g, shape, "jac") for shape, g in self._calls(self.jac, X, rows)]
            return f, self._joined(gs).astype(X.dtype)
        return f, self._differences(X, f, rows).astype(X.dtype)

    def _differences(self, X: np.ndarray, f0: np.ndarray, rows: np.ndarray):
        """SciPy's finite differences for every row at once (one call per coordinate)."""
        lo, hi = self.bounds
        if np.ndim(lo):
            lo, hi = lo[rows], hi[rows]
        method = self.mode
        h, one_sided = differences.fitted_to_bounds(
            X, differences.absolute_steps(X, method), method, lo, hi
        )
        out = np.empty(X.shape)
        for i in range(X.shape[1]):
            x = X[:, i]
            X1 = X.copy()
            if method == "2-point":
                X1[:, i] = x + h[:, i]
                dx = (x + h[:, i]) - x
                out[:, i] = (self._losses(X1, rows) - f0) / dx
                continue
            X2 = X.copy()
            side = one_sided[:, i]
            X1[:, i] = np.where(side, x + h[:, i], x - h[:, i])
            X2[:, i] = np.where(side, x + 2 * h[:, i], x + h[:, i])
            f1, f2 = self._losses(X1, rows), self._losses(X2, rows)
            with np.errstate(invalid="ignore", divide="ignore"):
                one = (-3.0 * f0 + 4 * f1 - f2) / (X2[:, i] - x).astype(np.float64)
                two = (f2 - f1) / (X2[:, i] - X1[:, i]).astype(np.float64)
            out[:, i] = np.where(side, one, two)
        return out


def run(
    fun: Callable,
    jac: Any,
    problems: Any,
    setup: Any,
    config: Any,
    callbacks: list,
    block: int,
    library: Any = False,
):
    """Every problem to its end (see the module docstring); the result over the problems.

    ``library``: False for a run on the host; on the GPU, the array library of the
    views ``fun`` gets (:mod:`numopt.many.device`: None for Numba's device arrays).
    """
    p, opt = problems, setup.opt
    M = p.M
    if library is False:
        rows_of: Any = HostRows(p)
        batch: Any = Batch(fun, jac, p, (p.LO, p.HI) if p.LO.shape[1] else (-np.inf, np.inf), block)
    else:
        from numopt.many.device import DeviceBatch, DeviceRows

        rows_of, batch = DeviceRows(p, library), DeviceBatch(fun, jac, p, block)
    X = rows_of.X  # (M, n), stepped in place
    bounded = p.LO.shape[1] != 0
    box = Box(rows_of.LO.reshape(-1), rows_of.HI.reshape(-1)) if bounded else None
    if "layers" in getattr(opt, "_attributes", {}):  # LAMB, LARS: one layer per problem
        opt.layers = [p.n] * M
    sign = -1.0 if opt.hyperparameters.get("maximize") else 1.0
    stop = config.stopping
    maxiter = stop.maxiter
    gtol, ftol, xtol, maxfev = stop.gtol, stop.ftol, stop.xtol, stop.maxfev
    every = config.output.callback_every if callbacks else 0

    G = rows_of.full_like(X, 0.0)
    out_x, out_g = rows_of.copy_of(X), rows_of.full_like(X, np.nan)
    fun_at = np.full(M, np.nan)
    best_x, best_f = rows_of.copy_of(X), np.full(M, np.inf)
    best_nit = np.full(M, -1, np.int64)
    f_prev = np.full(M, np.nan)
    nit = np.zeros(M, np.int64)
    status = np.full(M, -1, np.int64)
    details: dict[int, str] = {}
    x_prev = rows_of.copy_of(X) if xtol else None
    active = np.arange(M)
    start = time.perf_counter()

    def finish(rows, code, f, detail=None, evaluated=True):
        """Problems ``rows`` stop with ``code``: their point, gradient (NaN when not
        ``evaluated`` there) and loss ``f`` kept."""
        status[rows], fun_at[rows] = code, f
        rows_of.copy(out_x, X, rows)
        if evaluated:
            rows_of.copy(out_g, G, rows)
        else:
            rows_of.fill(out_g, rows, np.nan)
        if detail is not None:
            details.update(dict.fromkeys(rows.tolist(), detail))

    t = 0
    saving = config.checkpointing
    made = many_checkpoint.identity("vectorized", setup, p)
    records = {
        "X": X, "out_x": out_x, "out_g": out_g, "fun_at": fun_at, "best_x": best_x,
        "best_f": best_f, "best_nit": best_nit, "f_prev": f_prev, "nit": nit, "status": status,
        "nfev": batch.nfev, "njev": batch.njev,
    }  # fmt: skip
    if x_prev is not None:
        records["x_prev"] = x_prev
    if saving.resume is not None:
        t = _resume(saving.resume, made, opt, records, details, rows_of.restore)
        active = np.flatnonzero(status < 0)
    due = many_checkpoint.Due(saving, time.perf_counter)
    due.saved_nit = t  # (the checkpoint resumed from is this iteration's)

    def save() -> None:  # at the top of iteration t, or where the call stopped in it
        sd = opt.state_dict()
        arrays = {
            **{k: rows_of.host(v) for k, v in records.items()},
            **checkpoint.optimizer_arrays(sd),
        }
        loop = {"t": t, "details": many_checkpoint.details_out(details), "optimizer": sd}
        many_checkpoint.save(saving.path, made, opt, loop, arrays)
        due.done(t)

    with hooks.deferred_sigint() as interrupted:
        while active.size:
            if due.now(t):
                save()
            ended = None
            if interrupted():
                ended = Status.INTERRUPTED
            elif maxiter is not None and t >= maxiter:
                ended = Status.MAXITER
            elif stop.max_time is not None and time.perf_counter() - start > stop.max_time:
                ended = Status.MAX_TIME
            if ended is not None:  # the loss at the final points, as minimize's result
                if saving.path is not None:  # (the state before it: a resumed call goes on)
                    save()
                    saving = None
                if ended == Status.INTERRUPTED:
                    finish(active, ended, np.nan, evaluated=False)
                    break
                f = rows_of.evaluate(batch, G, active)
                finish(active, ended, f)
                better = np.isfinite(f) & (f < best_f[active])
                rows = active[better]
                best_f[rows], best_nit[rows] = f[better], t
                rows_of.copy(best_x, X, rows)
                break
            try:
                f = rows_of.evaluate(batch, G, active)
            except KeyboardInterrupt:
                finish(active, Status.INTERRUPTED, np.nan, evaluated=False)
                break
            measure = rows_of.projected(G, sign, active) if bounded else rows_of.absmax(G, active)
            nit[active] = t
            if every and t > 0 and t % every == 0:
                reason = hooks.call(
                    callbacks, rows_of.host(X)[active].reshape(active.size, *p.shape),
                    f.copy(), t, problems=active.copy(),
                )  # fmt: skip
                if reason:
                    finish(active, Status.CALLBACK, f, reason)
                    break
            bad = ~(np.isfinite(f) & np.isfinite(measure))
            for k in np.flatnonzero(bad):  # (what: 0 the loss, 1 the gradient)
                detail = nonfinite_detail(int(math.isfinite(f[k])), float(f[k]), t)
                finish(active[k : k + 1], Status.NONFINITE, f[k], detail)
            rows = active
            if bad.any():
                keep = ~bad
                rows, f, measure = active[keep], f[keep], measure[keep]
            improved = f < best_f[rows]
            better = rows[improved]
            best_f[better], best_nit[better] = f[improved], t
            code = np.full(rows.size, -1, np.int64)
            if gtol is not None and gtol >= 0:
                code[measure <= gtol] = Status.GTOL
            if ftol > 0:
                fp = f_prev[rows]
                scale = np.maximum(np.maximum(np.abs(fp), np.abs(f)), 1.0)
                with np.errstate(invalid="ignore"):
                    hit = ~np.isnan(fp) & (np.abs(fp - f) <= ftol * scale)
                code[(code < 0) & hit] = Status.FTOL
            if x_prev is not None and t > 0:
                moved = rows_of.absdiffmax(X, x_prev, rows)
                code[(code < 0) & (moved <= xtol)] = Status.XTOL
            if x_prev is not None:
                rows_of.copy(x_prev, X, rows[code < 0])
            if maxfev is not None:
                code[(code < 0) & (batch.nfev[rows] >= maxfev)] = Status.MAXFEV
            done = code >= 0
            rows_of.copy(best_x, X, better)  # (before the update: the point evaluated)
            for c in np.unique(code[done]):
                sel = code == c
                finish(rows[sel], int(c), f[sel])
            going = ~done
            active = rows[going]
            if not active.size:
                break
            f_prev[active] = f[going]
            # the stopped problems' rows: stepped with a zero gradient, never read again
            rows_of.fill(G, np.flatnonzero(status >= 0), 0.0)
            opt._apply(flat_pair(X.reshape(-1), G.reshape(-1)), box)
            t += 1
            nit[active] = t
    if saving is not None and saving.path is not None:  # stopped in an iteration, or all done
        save()
    host = rows_of.host
    return _result(p, setup, status, details, host(out_x), host(out_g), fun_at, nit, batch,
                   host(best_x), best_f, best_nit)  # fmt: skip


def _resume(
    path: Any, made: dict, opt: Any, records: dict, details: dict, restore: Callable
) -> int:
    """Load the checkpoint at ``path`` into ``records`` (each by ``restore``), ``details``
    and ``opt``; its iteration.  The problems the call stopped (not their own tests) go on."""
    loop, arrays = many_checkpoint.load(path, made, opt)
    for name, dst in records.items():
        restore(dst, arrays, name)
    opt.load_state_dict(checkpoint.with_optimizer_arrays(loop["optimizer"], arrays))
    details.update(many_checkpoint.details_in(loop["details"]))
    many_checkpoint.reopen(records["status"], details)
    return int(loop["t"])


def _result(p, setup, status, details, x, g, fun, nit, batch, best_x, best_f, best_nit):
    found = best_nit >= 0
    finite = np.isfinite(fun) & np.isfinite(x).all(axis=1)
    interrupted = status == Status.INTERRUPTED
    finite = np.where(interrupted, np.isfinite(x).all(axis=1), finite)
    final = ~finite & (status != Status.NONFINITE) & ~interrupted
    for i in np.flatnonzero(final):
        details[int(i)] = final_nonfinite_detail(float(fun[i]), int(nit[i]))
    status = np.where(final, int(Status.NONFINITE), status)
    bad = ~finite
    for i in np.flatnonzero(bad & found):
        details[int(i)] = details.get(int(i), "") + best_point_detail(
            int(best_nit[i]), float(best_f[i])
        )
    x[bad] = best_x[bad]
    fun = np.where(bad, np.where(found, best_f, np.nan), fun)
    g[bad] = np.nan
    shape = (p.M, *p.shape)
    out: OptimizeResult = many_result.assembled(
        bounded=p.LO.shape[1] != 0, x=x.reshape(shape), fun=fun, jac=g.reshape(shape), nit=nit,
        nfev=batch.nfev, njev=batch.njev, status=status, details=details,
        x_best=best_x.reshape(shape), fun_best=np.where(found, best_f, np.nan),
        method=setup.method, compiled=False, compiled_reason="vectorized=True",
    )  # fmt: skip
    return out
