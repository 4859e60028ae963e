"""The Moré–Thuente line search: a step satisfying the strong Wolfe conditions.

Along a descent direction ``d`` from ``x``, :func:`search` finds a step ``stp`` with

* sufficient decrease: ``f(x + stp·d) <= f(x) + ftol · stp · f'(0)``, and
* curvature: ``|f'(stp)| <= gtol · |f'(0)|``, where ``f'(stp) = ∇f(x + stp·d)ᵀd``,

by safeguarded cubic and quadratic interpolation inside an interval of uncertainty
``[stx, sty]`` that is extrapolated until it brackets a minimiser and then shrinks
(Moré & Thuente, "Line search algorithms with guaranteed sufficient decrease",
ACM TOMS 20(3), 1994 — MINPACK-2's ``dcsrch``/``dcstep``, the search of L-BFGS-B).
numopt uses L-BFGS-B's constants: ``ftol = 1e-3``, ``gtol = 0.9``, ``xtol = 0.1``,
extrapolation by 1.1–4 times the last step.

It is written in reverse communication: :func:`start` then :func:`search` after
each evaluation at the step it asked for, until it answers :data:`CONVERGED` (both
conditions hold) or :data:`WARNING` (no better step can be found: rounding, the
interval below ``xtol``, or ``stp`` at its bound — the step is still one of
sufficient decrease when one was seen).  Its state lives in the method's float and
int records (:mod:`numopt.quasi_newton.workspace`), so it is saved in checkpoints
and runs the same compiled or from Python.
"""

from __future__ import annotations

import math

from numba import njit

from numopt.quasi_newton.workspace import F, I

#: L-BFGS-B's line-search constants (sufficient decrease, curvature, interval width).
FTOL, GTOL, XTOL = 1e-3, 0.9, 0.1
#: Extrapolation: the next step lies in ``[stp + 1.1 (stp - stx), stp + 4 (stp - stx)]``.
XTRAPL, XTRAPU = 1.1, 4.0

#: What :func:`search` answers.
EVALUATE, CONVERGED, WARNING = 1, 0, 2


@njit(cache=True, nogil=True, error_model="numpy")
def start(ints, floats, f0, g0, stp, stpmax):  # pragma: no cover - compiled
    """Begin a search at ``f(0) = f0``, ``f'(0) = g0 < 0`` with the first step ``stp``."""
    ints[I.brackt] = 0
    ints[I.stage] = 1
    floats[F.finit] = f0
    floats[F.ginit] = g0
    floats[F.gtest] = FTOL * g0
    floats[F.width] = stpmax
    floats[F.width1] = stpmax / 0.5
    floats[F.stx] = 0.0
    floats[F.fx] = f0
    floats[F.gx] = g0
    floats[F.sty] = 0.0
    floats[F.fy] = f0
    floats[F.gy] = g0
    floats[F.stmin] = 0.0
    floats[F.stmax] = stp + XTRAPU * stp
    floats[F.stp] = stp
    floats[F.stpmx] = stpmax


@njit(cache=True, nogil=True, error_model="numpy")
def search(ints, floats, f, g):  # pragma: no cover - compiled
    """One step of the search with ``f = f(stp)``, ``g = f'(stp)`` at ``floats[F.stp]``.

    Returns :data:`EVALUATE` with the next step in ``floats[F.stp]``, or
    :data:`CONVERGED` / :data:`WARNING` with the step to accept there.
    """
    stp = floats[F.stp]
    stpmax = floats[F.stpmx]
    brackt = ints[I.brackt] != 0
    stage = ints[I.stage]
    finit, ginit, gtest = floats[F.finit], floats[F.ginit], floats[F.gtest]
    stx, fx, gx = floats[F.stx], floats[F.fx], floats[F.gx]
    sty, fy, gy = floats[F.sty], floats[F.fy], floats[F.gy]
    stmin, stmax = floats[F.stmin], floats[F.stmax]
    width, width1 = floats[F.width], floats[F.width1]

    ftest = finit + stp * gtest
    if stage == 1 and f <= ftest and g >= 0.0:
        stage = 2
    task = EVALUATE
    if brackt and (stp <= stmin or stp >= stmax):
        task = WARNING  # rounding errors prevent progress
    if brackt and stmax - stmin <= XTOL * stmax:
        task = WARNING  # the interval is below xtol
    if stp == stpmax and f <= ftest and g <= gtest:
        task = WARNING  # the step is at its upper bound
    if stp == 0.0 and (f > ftest or g >= gtest):
        task = WARNING  # the step is at its lower bound (0)
    if f <= ftest and abs(g) <= GTOL * (-ginit):
        task = CONVERGED
    if task != EVALUATE:
        ints[I.stage] = stage
        return task

    if stage == 1 and f <= fx and f > ftest:
        # a lower value but not sufficient decrease: step on the modified function
        # psi(stp) = f(stp) - f(0) - ftol·stp·f'(0)
        fxm = fx - stx * gtest
        fym = fy - sty * gtest
        gxm = gx - gtest
        gym = gy - gtest
        stx, fxm, gxm, sty, fym, gym, stp, brackt = step(
            stx, fxm, gxm, sty, fym, gym, stp, f - stp * gtest, g - gtest, brackt, stmin, stmax
        )
        fx = fxm + stx * gtest
        fy = fym + sty * gtest
        gx = gxm + gtest
        gy = gym + gtest
    else:
        stx, fx, gx, sty, fy, gy, stp, brackt = step(
            stx, fx, gx, sty, fy, gy, stp, f, g, brackt, stmin, stmax
        )
    if brackt:  # bisect when the interval did not shrink enough over two steps
        if abs(sty - stx) >= 0.66 * width1:
            stp = stx + 0.5 * (sty - stx)
        width1 = width
        width = abs(sty - stx)
        stmin = min(stx, sty)
        stmax = max(stx, sty)
    else:
        stmin = stp + XTRAPL * (stp - stx)
        stmax = stp + XTRAPU * (stp - stx)
    stp = min(max(stp, 0.0), stpmax)
    if brackt and (stp <= stmin or stp >= stmax or stmax - stmin <= XTOL * stmax):
        stp = stx  # no further progress possible: the best step so far

    ints[I.brackt] = 1 if brackt else 0
    ints[I.stage] = stage
    floats[F.stx], floats[F.fx], floats[F.gx] = stx, fx, gx
    floats[F.sty], floats[F.fy], floats[F.gy] = sty, fy, gy
    floats[F.stmin], floats[F.stmax] = stmin, stmax
    floats[F.width], floats[F.width1] = width, width1
    floats[F.stp] = stp
    return EVALUATE


@njit(cache=True, nogil=True, error_model="numpy")
def shorten(floats):  # pragma: no cover - compiled
    """The step gave a non-finite value: halve its distance to the best step so far.

    (numopt's safeguard; MINPACK-2 assumes finite values.  The interpolation state is
    kept, and the next step is capped there.)
    """
    stx = floats[F.stx]
    stp = stx + 0.5 * (floats[F.stp] - stx)
    floats[F.stp] = stp
    floats[F.stpmx] = max(stp, stx)


@njit(cache=True, nogil=True, error_model="numpy")
def step(stx, fx, dx, sty, fy, dy, stp, fp, dp, brackt, stpmin, stpmax):  # pragma: no cover
    """A safeguarded step of the interval ``[stx, sty]`` towards a minimiser (``dcstep``).

    ``stx`` is the step with the least value so far, ``sty`` the other end, ``stp`` the
    current step (values ``f`` and derivatives ``d`` at each).  Returns the new
    ``stx, fx, dx, sty, fy, dy``, the next step and whether a minimiser is bracketed.
    """
    sgnd = dp * (dx / abs(dx))
    if fp > fx:
        # a higher value: the minimiser is bracketed; the cubic step, or halfway to
        # the quadratic one if that is closer to stx
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * math.sqrt((theta / s) ** 2 - (dx / s) * (dp / s))
        if stp < stx:
            gamma = -gamma
        p = (gamma - dx) + theta
        q = ((gamma - dx) + gamma) + dp
        stpc = stx + (p / q) * (stp - stx)
        stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx)
        if abs(stpc - stx) < abs(stpq - stx):
            stpf = stpc
        else:
            stpf = stpc + (stpq - stpc) / 2.0
        brackt = True
    elif sgnd < 0.0:
        # derivatives of opposite sign: bracketed; the cubic or the secant step,
        # whichever is farther from stp
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * math.sqrt((theta / s) ** 2 - (dx / s) * (dp / s))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = ((gamma - dp) + gamma) + dx
        stpc = stp + (p / q) * (stx - stp)
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if abs(stpc - stp) > abs(stpq - stp):
            stpf = stpc
        else:
            stpf = stpq
        brackt = True
    elif abs(dp) < abs(dx):
        # same sign, the derivative decreases: the cubic step if it heads the right
        # way, else the bound; safeguarded
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * math.sqrt(max(0.0, (theta / s) ** 2 - (dx / s) * (dp / s)))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = (gamma + (dx - dp)) + gamma
        r = p / q
        if r < 0.0 and gamma != 0.0:
            stpc = stp + r * (stx - stp)
        elif stp > stx:
            stpc = stpmax
        else:
            stpc = stpmin
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if brackt:
            stpf = stpc if abs(stpc - stp) < abs(stpq - stp) else stpq
            if stp > stx:
                stpf = min(stp + 0.66 * (sty - stp), stpf)
            else:
                stpf = max(stp + 0.66 * (sty - stp), stpf)
        else:
            stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
            stpf = max(stpmin, min(stpmax, stpf))
    else:
        # same sign, the derivative does not decrease: the cubic step through sty,
        # or the bound
        if brackt:
            theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp
            s = max(abs(theta), abs(dy), abs(dp))
            gamma = s * math.sqrt((theta / s) ** 2 - (dy / s) * (dp / s))
            if stp > sty:
                gamma = -gamma
            p = (gamma - dp) + theta
            q = ((gamma - dp) + gamma) + dy
            stpf = stp + (p / q) * (sty - stp)
        elif stp > stx:
            stpf = stpmax
        else:
            stpf = stpmin
    # the new interval
    if fp > fx:
        sty, fy, dy = stp, fp, dp
    else:
        if sgnd < 0.0:
            sty, fy, dy = stx, fx, dx
        stx, fx, dx = stp, fp, dp
    return stx, fx, dx, sty, fy, dy, stpf, brackt
