"""One iteration of L-BFGS-B in reverse communication: direction, line search, memory.

The algorithm of Byrd, Lu, Nocedal & Zhu (1995) as L-BFGS-B 3.0 runs it (Zhu et
al. 1997, with Morales & Nocedal's 2011 subspace correction), in the order of
operations of SciPy's C translation, so that a SciPy port converges as SciPy's does:

1. the accepted step of the previous iteration enters the memory unless its
   curvature ``sᵀy`` is not positive (below ``ε · (-gᵀd) · stp``; the update is then
   skipped);
2. with bounds: the generalized Cauchy point (:mod:`numopt.quasi_newton.cauchy`),
   then the subspace minimisation over the free variables
   (:mod:`numopt.quasi_newton.subspace`); the direction is ``d = z - x``.  Without
   bounds: ``d = -Hg`` by the two-loop recursion, the same direction;
3. the Moré–Thuente line search (:mod:`numopt.quasi_newton.line_search`) from
   ``stp = 1`` (``min(1/‖d‖, 1)`` at the first iteration), capped where a bound is
   met; every trial point is projected into the box.

:func:`step`, told :data:`START` at an iterate, leaves the first trial point in ``x``
and answers :data:`EVALUATE`; the caller evaluates ``f`` and ``g`` there and calls it
again, told :data:`EVALUATE`; it answers :data:`EVALUATE` (a new trial in ``x``),
:data:`ACCEPTED` (``x, g`` at the new iterate) or :data:`FAILED`.  When the line
search fails — no descent direction, or ``maxls`` evaluations without an acceptable
step — the memory is emptied and the iteration restarts along steepest descent; when
it fails with an empty memory the run ends: ``x`` and ``g`` are restored to the start
of the search, its value is ``floats[F.fold]``.  A trial point where ``f`` or ``gᵀd``
is not finite halves the step (numopt's safeguard, counted in ``maxls``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from numopt.kernels.generate import specialise
from numopt.loop.intrinsics import borrowed
from numopt.quasi_newton import line_search
from numopt.quasi_newton.cauchy import EPS, cauchy, free_set
from numopt.quasi_newton.compact import add_pair, factor_k, factor_t, two_loop
from numopt.quasi_newton.dense import copy, dot
from numopt.quasi_newton.subspace import reduced_gradient, subspace_step
from numopt.quasi_newton.workspace import IV, F, I, V

#: What :func:`step` answers (and is told it answered last; :data:`START` first).
ACCEPTED, EVALUATE, FAILED, START = 0, 1, 2, 3

# How the code is cut into Numba functions decides the first compilation's time (tens
# of seconds) and the cost of a call.  Numba compiles each non-inlined function
# separately, and optimizes again, inside each caller, the code of every function it
# calls (so that LLVM may inline it): code three calls deep is optimized three times.
# So the loop calls one function, :func:`step` (begin and advance were two, each above
# a chain of three), and through a pointer
# (:func:`numopt.quasi_newton.method.step_pointer`): a loop around a new objective
# does not optimize the method's code once more.  The helpers that take
# the workspace ``w`` (refresh, abandon, _at_start, _remember, _start, _trial,
# _advance) are inlined into it (``inline="always"``): a call passes
# ``w``'s twelve arrays as about a hundred scalars, and for small problems those calls
# cost more than the arithmetic.  The direction under bounds (_bounded_direction,
# the Cauchy point, the subspace step) stays in functions of its own: inlining it all
# into step made step's compilation slower, not faster (52 s against 7: Numba's passes
# over one large function cost more than the repeated optimization).  step itself
# stays a call, compiled once into the on-disk cache: inlining it into each compiled
# loop ran a 3-parameter fit in 21 µs instead of 25 (minimize_many, one thread), but
# added 4 s to the compilation of every loop around a new objective (10 s against 6).  A
# problem without bounds runs :func:`free_step`, the same source with the box's code
# left out (``BOX`` false: Numba drops the branches before typing them), which
# compiles in about half the time: most first calls have no bounds.  :func:`step`
# works on views of its arrays without reference counts
# (:func:`numopt.loop.intrinsics.borrowed`; its caller keeps them alive): each row
# of the workspace it takes (``w.v[V.d]``, ``S[p]``) would otherwise count a
# reference up and down, each an atomic operation (its code had about 400 of them):
# 0.8 µs per iteration instead of 1.4 on the 2-D Rosenbrock function (0.65 with the
# two-loop recursion's inner products inlined, ``dense.dot_inlined``).  Slice
# assignments are loops (:func:`numopt.quasi_newton.dense.copy`): ``a[:] = b``
# compiles Numba's broadcasting error message, several seconds in every process.


@njit(cache=True, nogil=True, error_model="numpy")
def initialize(w, x, lo, hi):  # pragma: no cover - compiled
    """Classify the bounds (``nbd``: 0 none, 1 lower, 2 both, 3 upper) and project ``x``
    into the box (L-BFGS-B's ``active``); ``lo``, ``hi`` may be empty (no bounds)."""
    n = x.size
    nbd = w.iv[IV.nbd]
    iwhere = w.iv[IV.iwhere]
    cnstnd = False
    boxed = True
    for i in range(n):
        low = lo[i] > -math.inf if lo.size else False
        high = hi[i] < math.inf if hi.size else False
        kind = 2 if low and high else (1 if low else (3 if high else 0))
        nbd[i] = kind
        if low and x[i] < lo[i]:
            x[i] = lo[i]
        elif high and x[i] > hi[i]:
            x[i] = hi[i]
        if kind != 2:
            boxed = False
        if kind == 0:
            iwhere[i] = -1
        else:
            cnstnd = True
            iwhere[i] = 3 if kind == 2 and hi[i] - lo[i] <= 0.0 else 0
    w.ints[I.cnstnd] = 1 if cnstnd else 0
    w.ints[I.boxed] = 1 if boxed else 0
    w.ints[I.nfree] = n


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def refresh(w):  # pragma: no cover - compiled
    """Empty the memory (``B = I``): after a failed line search or a singular factor."""
    ints = w.ints
    ints[I.col] = 0
    ints[I.head] = 0
    ints[I.iupdat] = 0
    ints[I.updatd] = 0
    w.floats[F.theta] = 1.0


def _step(w, x, g, f, lo, hi, last):  # pragma: no cover - compiled
    """The next point to evaluate, or the end of the iteration.

    ``last`` is what the previous call answered: :data:`START` at an iterate ``x``
    (value ``f``, gradient ``g``), where the iteration begins; :data:`EVALUATE` when
    ``f``, ``g`` are the values at the trial point ``x`` it asked for.  Answers
    :data:`EVALUATE` (a new trial in ``x``), :data:`ACCEPTED` or :data:`FAILED`.

    One function for both, so that the compiled loop links one library: each library
    a caller links is optimized again with the caller's code.  ``BOX`` (bound by
    :func:`~numopt.kernels.generate.specialise`) says whether the box's code is
    compiled in: :func:`step` with it, :func:`free_step` without.
    """
    w, (x, g, lo, hi) = borrowed(w), borrowed((x, g, lo, hi))  # (see the module's notes)
    ints, floats = w.ints, w.floats
    if last == EVALUATE:
        code = _advance(w, x, f, g, lo, hi)
        if code != FAILED:
            return code
        abandon(w, x, g)  # too many evaluations: back to the start of the search
        if ints[I.col] == 0:
            ints[I.iter] += 1
            ints[I.searching] = 0
            return FAILED
        refresh(w)
        ints[I.restarts] += 1
        f = floats[F.fold]
    else:
        # After a search was abandoned (:func:`abandon`: Ctrl-C, a KeyboardInterrupt)
        # and the run resumed at its start, the search goes on: its trial is asked for
        # again, as a run never stopped evaluates it (computing the direction again
        # would not repeat it: the subspace step's factors are updated in place).
        if ints[I.searching] != 0:
            if _at_start(w, x):
                _trial(w, x, lo, hi)
                return EVALUATE
            ints[I.searching] = 0  # another point: start afresh from it
        if ints[I.pending] != 0:
            ints[I.pending] = 0
            if _remember(w, g) and BOX and ints[I.cnstnd] != 0:  # noqa: F821
                # the middle matrix's factor T (Byrd, Lu, Nocedal & Zhu's formmk)
                if factor_t(w.wt, w.sy, w.ss, ints[I.col], floats[F.theta]) != 0:
                    refresh(w)  # T not positive definite
    # the direction at x and the line search's first trial (restarting the memory while
    # a factorisation fails or the direction is not one of descent)
    while True:
        if BOX and ints[I.cnstnd] != 0:  # noqa: F821
            if _bounded_direction(w, x, g, lo, hi) != 0:
                refresh(w)  # a singular factor: start again with B = I
                continue
        else:
            two_loop(w.S, w.Y, w.sy, ints[I.col], ints[I.head], floats[F.theta], g, w.v[V.d], w.wa)
        if _start(w, x, g, f, lo, hi):
            return EVALUATE
        if ints[I.col] == 0:  # steepest descent is not a descent direction
            ints[I.iter] += 1
            ints[I.searching] = 0
            return FAILED
        refresh(w)
        ints[I.restarts] += 1


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _advance(w, x, f, g, lo, hi):  # pragma: no cover - compiled
    """``f``, ``g`` are the values at the trial point ``x``: the next trial, the accepted
    step, or :data:`FAILED` after ``maxls`` evaluations."""
    ints, floats = w.ints, w.floats
    gd = dot(g, w.v[V.d])
    floats[F.gd] = gd
    if math.isfinite(f) and math.isfinite(gd):
        task = line_search.search(ints, floats, f, gd)
    else:
        line_search.shorten(floats)
        task = line_search.EVALUATE
    if task != line_search.EVALUATE:
        ints[I.iter] += 1
        ints[I.pending] = 1
        ints[I.searching] = 0
        return ACCEPTED
    ints[I.ifun] += 1
    ints[I.iback] = ints[I.ifun] - 1
    if ints[I.iback] >= ints[I.maxls]:
        return FAILED
    _trial(w, x, lo, hi)
    return EVALUATE


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def abandon(w, x, g):  # pragma: no cover - compiled
    """Put ``x`` and ``g`` back at the start of the line search (an interrupted run;
    :func:`step` at that point goes on with the search)."""
    copy(x, w.v[V.t])
    copy(g, w.v[V.r])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _at_start(w, x):  # pragma: no cover - compiled
    """Whether ``x`` is the start of the line search, bit for bit."""
    t = w.v[V.t]
    for i in range(x.size):
        if x[i] != t[i]:
            return False
    return True


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _remember(w, g):  # pragma: no cover - compiled
    """The accepted step ``s = stp·d`` and ``y = g - g_old`` into the memory; whether it
    went in (not when the curvature is too small)."""
    ints, floats = w.ints, w.floats
    r = w.v[V.r]
    d = w.v[V.d]
    n = d.size
    for i in range(n):
        r[i] = g[i] - r[i]
    rr = dot(r, r)
    stp, gd, gdold = floats[F.stp], floats[F.gd], floats[F.gdold]
    if stp == 1.0:
        dr = gd - gdold
        ddum = -gdold
    else:
        dr = (gd - gdold) * stp
        for i in range(n):
            d[i] = stp * d[i]
        ddum = -gdold * stp
    if dr <= EPS * ddum:  # not enough curvature: skip the update
        ints[I.nskip] += 1
        ints[I.updatd] = 0
        return False
    ints[I.updatd] = 1
    ints[I.iupdat] += 1
    full = ints[I.cnstnd] != 0
    itail, col, head, theta = add_pair(
        w.S, w.Y, w.sy, w.ss, d, r, ints[I.itail], ints[I.iupdat], ints[I.col],
        ints[I.head], rr, dr, stp, floats[F.dtd], full,
    )  # fmt: skip
    ints[I.itail], ints[I.col], ints[I.head] = itail, col, head
    floats[F.theta] = theta
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _bounded_direction(w, x, g, lo, hi):  # pragma: no cover - compiled
    """``d = z - x`` from the Cauchy point and the subspace step; non-zero on a
    singular factor."""
    ints, floats = w.ints, w.floats
    n = x.size
    nbd, index, iwhere, indx2 = w.iv[IV.nbd], w.iv[IV.index], w.iv[IV.iwhere], w.iv[IV.indx2]
    z, r, d, t = w.v[V.z], w.v[V.r], w.v[V.d], w.v[V.t]
    col, head, theta = ints[I.col], ints[I.head], floats[F.theta]
    sbgnrm = 0.0  # the projected gradient's largest entry (L-BFGS-B's projgr)
    for i in range(n):
        gi = g[i]
        if nbd[i] != 0:
            if gi < 0.0:
                if nbd[i] >= 2:
                    gi = max(x[i] - hi[i], gi)
            elif nbd[i] <= 2:
                gi = min(x[i] - lo[i], gi)
        sbgnrm = max(sbgnrm, abs(gi))
    info, nseg = cauchy(
        x, lo, hi, nbd, g, indx2, iwhere, t, d, z, w.S, w.Y, w.sy, w.wt, theta, col, head,
        w.wa, sbgnrm,
    )  # fmt: skip
    if info != 0:
        return info
    ints[I.nseg] = nseg
    nfree, nenter, ileave, wrk = free_set(
        n, ints[I.nfree], index, indx2, iwhere, ints[I.updatd] != 0, True, ints[I.iter]
    )
    ints[I.nfree], ints[I.nenter], ints[I.ileave] = nfree, nenter, ileave
    if nfree != 0 and col != 0:
        if wrk:
            info = factor_k(
                w.S, w.Y, w.sy, w.wn, w.snd, index, nfree, indx2, nenter, ileave,
                ints[I.iupdat], ints[I.updatd] != 0, theta, col, head,
            )  # fmt: skip
            if info != 0:
                return info
        info = reduced_gradient(
            x, g, w.S, w.Y, w.sy, w.wt, z, r, w.wa, index, theta, col, head, nfree
        )
        if info == 0:
            info = subspace_step(
                nfree, index, lo, hi, nbd, z, r, w.v[V.xp], w.S, w.Y, theta, x, g, col, head,
                w.wa, w.wn,
            )  # fmt: skip
        if info != 0:
            return info
    for i in range(n):
        d[i] = z[i] - x[i]
    return 0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _start(w, x, g, f, lo, hi):  # pragma: no cover - compiled
    """Begin the line search along ``d`` (L-BFGS-B's ``lnsrlb``, first call); False if
    ``d`` is not a descent direction."""
    ints, floats = w.ints, w.floats
    nbd = w.iv[IV.nbd]
    d, t, r = w.v[V.d], w.v[V.t], w.v[V.r]
    n = x.size
    dtd = dot(d, d)
    dnorm = math.sqrt(dtd)
    floats[F.dnorm] = dnorm
    floats[F.dtd] = dtd
    stpmx = 1.0e10  # the largest step that keeps every variable in its box
    if ints[I.cnstnd] != 0:
        if ints[I.iter] == 0:
            stpmx = 1.0
        else:
            for i in range(n):
                a1 = d[i]
                if nbd[i] != 0:
                    if a1 < 0.0 and nbd[i] <= 2:
                        a2 = lo[i] - x[i]
                        if a2 >= 0.0:
                            stpmx = 0.0
                        elif a1 * stpmx < a2:
                            stpmx = a2 / a1
                    elif a1 > 0.0 and nbd[i] >= 2:
                        a2 = hi[i] - x[i]
                        if a2 <= 0.0:
                            stpmx = 0.0
                        elif a1 * stpmx > a2:
                            stpmx = a2 / a1
    if ints[I.iter] == 0 and ints[I.boxed] == 0:
        stp = min(1.0 / dnorm, stpmx)
    else:
        stp = 1.0
    for i in range(n):
        t[i] = x[i]
        r[i] = g[i]
    gd = dot(g, d)
    floats[F.fold] = f
    floats[F.gd] = gd
    floats[F.gdold] = gd
    ints[I.ifun] = 0
    ints[I.iback] = 0
    if not gd < 0.0 or not stp <= stpmx:  # not a descent direction (or a NaN)
        return False
    line_search.start(ints, floats, f, gd, stp, stpmx)
    ints[I.ifun] = 1
    ints[I.searching] = 1
    _trial(w, x, lo, hi)
    return True


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _trial(w, x, lo, hi):  # pragma: no cover - compiled
    """``x = t + stp·d``, projected into the box (``z`` itself at ``stp = 1`` with bounds)."""
    stp = w.floats[F.stp]
    nbd = w.iv[IV.nbd]
    d, t, z = w.v[V.d], w.v[V.t], w.v[V.z]
    bounded = w.ints[I.cnstnd] != 0
    if bounded and stp == 1.0:
        for i in range(x.size):
            x[i] = z[i]
        return
    for i in range(x.size):
        v = stp * d[i] + t[i]
        if bounded:
            if nbd[i] == 1 or nbd[i] == 2:
                v = max(v, lo[i])
            if nbd[i] == 2 or nbd[i] == 3:
                v = min(v, hi[i])
        x[i] = v


def _compiled(kind: str, box: bool):
    return njit(cache=True, nogil=True, error_model="numpy")(specialise(_step, kind, BOX=box))


#: :func:`_step` for problems given bounds: the Cauchy point and the subspace step
#: under ``cnstnd`` (the bounds may all be infinite).
step = _compiled("box", True)
#: :func:`_step` for problems without bounds (``lo``, ``hi`` empty): the two-loop
#: recursion alone, about half :func:`step`'s first compilation.
free_step = _compiled("free", False)


def step_for(lo: np.ndarray):
    """:func:`step`, or :func:`free_step` where no bounds were given (``lo`` empty)."""
    return free_step if lo.size == 0 else step
