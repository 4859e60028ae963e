"""The generalized Cauchy point: the first local minimiser of the model along the
projected steepest-descent path (Byrd, Lu, Nocedal & Zhu 1995, section 4).

From ``x`` the path ``P(x - t g)`` bends at each *breakpoint* ``t_i`` where a
variable reaches its bound.  :func:`cauchy` visits the breakpoints in increasing
order (a heap, :func:`heap_next`), keeping the quadratic model's first and second
derivatives ``f1, f2`` along the current segment up to date in ``O(m)`` per
breakpoint through the compact representation, and stops at the first segment whose
minimiser lies inside it.  The variables at a bound there are *active*; the others
are free for the subspace step (:func:`free_set`).

``iwhere[i]``: ``-1`` never bounded, ``0`` free, ``-3`` free with a zero gradient
entry, ``1``/``2`` at the lower/upper bound, ``3`` fixed (``lo == hi``).
"""

from __future__ import annotations

from numba import njit

from numopt.quasi_newton.compact import middle_times
from numopt.quasi_newton.dense import copy

#: Double precision's machine epsilon (the Fortran code's ``epsmch``).
EPS = 2.220446049250313e-16


@njit(cache=True, nogil=True, error_model="numpy")
def cauchy(
    x, lo, hi, nbd, g, iorder, iwhere, t, d, xcp, S, Y, sy, wt, theta, col, head, wa, sbgnrm
):  # pragma: no cover - compiled
    """Compute the Cauchy point ``xcp``; ``wa[2m:4m]`` gets ``c = Wᵀ(xcp - x)``.

    ``t`` and ``d`` are scratch of length ``n`` (the breakpoints, the path's
    direction).  Returns ``(info, nseg)``: LAPACK's info (non-zero: a singular
    factor, the memory must be emptied) and the segments explored.
    """
    m = S.shape[0]
    n = x.size
    p = wa[0 : 2 * m]
    c = wa[2 * m : 4 * m]
    wbp = wa[4 * m : 6 * m]
    v = wa[6 * m : 8 * m]
    if sbgnrm <= 0.0:  # x is a stationary point
        copy(xcp, x)
        return 0, 0
    bnded = True
    nfree = n
    nbreak = -1
    ibkmin = 0
    bkmin = 0.0
    col2 = 2 * col
    f1 = 0.0
    tl = 0.0
    tu = 0.0
    for i in range(col2):
        p[i] = 0.0
    # the breakpoints, the direction -g (0 for variables that cannot move) and p = Wᵀd
    for i in range(n):
        neggi = -g[i]
        if iwhere[i] != 3 and iwhere[i] != -1:
            if nbd[i] <= 2:
                tl = x[i] - lo[i]
            if nbd[i] >= 2:
                tu = hi[i] - x[i]
            xlower = nbd[i] <= 2 and tl <= 0.0
            xupper = nbd[i] >= 2 and tu <= 0.0
            iwhere[i] = 0
            if xlower:
                if neggi <= 0.0:
                    iwhere[i] = 1
            elif xupper:
                if neggi >= 0.0:
                    iwhere[i] = 2
            elif abs(neggi) <= 0.0:
                iwhere[i] = -3
        pointr = head
        if iwhere[i] != 0 and iwhere[i] != -1:
            d[i] = 0.0
        else:
            d[i] = neggi
            f1 -= neggi * neggi
            for j in range(col):
                p[j] += Y[pointr, i] * neggi
                p[col + j] += S[pointr, i] * neggi
                pointr = (pointr + 1) % m
            if nbd[i] <= 2 and nbd[i] != 0 and neggi < 0.0:
                nbreak += 1
                iorder[nbreak] = i
                t[nbreak] = tl / (-neggi)
                if nbreak == 0 or t[nbreak] < bkmin:
                    bkmin = t[nbreak]
                    ibkmin = nbreak
            elif nbd[i] >= 2 and neggi > 0.0:
                nbreak += 1
                iorder[nbreak] = i
                t[nbreak] = tu / neggi
                if nbreak == 0 or t[nbreak] < bkmin:
                    bkmin = t[nbreak]
                    ibkmin = nbreak
            else:
                nfree -= 1
                iorder[nfree] = i
                if abs(neggi) > 0.0:
                    bnded = False
    if theta != 1.0:
        for j in range(col):
            p[col + j] *= theta
    copy(xcp, x)
    if nbreak == -1 and nfree == n:
        return 0, 0  # -g is zero wherever x can move
    for j in range(col2):
        c[j] = 0.0
    f2 = -theta * f1
    f2_org = f2
    if col > 0:
        info = middle_times(sy, wt, col, p, v)
        if info != 0:
            return info, 0
        f2 -= _dot(v, p, col2)
    dtm = -f1 / f2
    tsum = 0.0
    nseg = 1
    nleft = nbreak
    it = 0
    tj = 0.0
    while nbreak > -1:  # the segments, breakpoint after breakpoint
        tj0 = tj
        if it == 0:
            tj = bkmin
            ibp = iorder[ibkmin]
        else:
            if it == 1 and ibkmin != nbreak:  # the smallest was used: replace it by the last
                t[ibkmin] = t[nbreak]
                iorder[ibkmin] = iorder[nbreak]
            heap_next(nleft, t, iorder, it - 1)
            tj = t[nleft]
            ibp = iorder[nleft]
        dt = tj - tj0
        if dtm < dt:  # the minimiser lies in this segment
            if dtm <= 0.0:
                dtm = 0.0
            tsum += dtm
            _axpy(tsum, d, xcp, n)
            if col > 0:
                _axpy(dtm, p, c, col2)
            return 0, nseg
        tsum += dt
        nleft -= 1
        it += 1
        dibp = d[ibp]
        d[ibp] = 0.0
        if dibp > 0.0:
            zibp = hi[ibp] - x[ibp]
            xcp[ibp] = hi[ibp]
            iwhere[ibp] = 2
        else:
            zibp = lo[ibp] - x[ibp]
            xcp[ibp] = lo[ibp]
            iwhere[ibp] = 1
        if nleft == -1 and nbreak == n:  # (SciPy's C translation: never true; kept as is)
            dtm = dt
            if col > 0:
                _axpy(dtm, p, c, col2)
            return 0, nseg
        nseg += 1
        dibp2 = dibp * dibp
        f1 = f1 + dt * f2 + dibp2 - theta * dibp * zibp
        f2 = f2 - theta * dibp2
        if col > 0:
            _axpy(dt, p, c, col2)
            pointr = head
            for j in range(col):
                wbp[j] = Y[pointr, ibp]
                wbp[col + j] = theta * S[pointr, ibp]
                pointr = (pointr + 1) % m
            info = middle_times(sy, wt, col, wbp, v)
            if info != 0:
                return info, nseg
            wmc = _dot(c, v, col2)
            wmp = _dot(p, v, col2)
            wmw = _dot(wbp, v, col2)
            _axpy(-dibp, wbp, p, col2)
            f1 += dibp * wmc
            f2 = f2 + dibp * 2.0 * wmp - dibp2 * wmw
        f2 = max(EPS * f2_org, f2)
        if nleft >= 0:
            dtm = -f1 / f2
        elif bnded:
            dtm = 0.0
            break
        else:
            dtm = -f1 / f2
            break
    if dtm <= 0.0:
        dtm = 0.0
    tsum += dtm
    _axpy(tsum, d, xcp, n)
    if col > 0:
        _axpy(dtm, p, c, col2)
    return 0, nseg


@njit(cache=True, nogil=True, error_model="numpy")
def _dot(a, b, k):  # pragma: no cover - compiled
    s = 0.0
    for i in range(k):
        s += a[i] * b[i]
    return s


@njit(cache=True, nogil=True, error_model="numpy")
def _axpy(a, x, y, k):  # pragma: no cover - compiled
    for i in range(k):
        y[i] += a * x[i]


@njit(cache=True, nogil=True, error_model="numpy")
def heap_next(n, t, iorder, iheap):  # pragma: no cover - compiled
    """Move the least of ``t[0:n+1]`` to ``t[n]`` (``iorder`` alongside); ``iheap == 0``
    first arranges ``t[0:n]`` as a heap (L-BFGS-B's ``hpsolb``, 1-based inside)."""
    if iheap == 0:
        for k in range(2, n + 2):
            ddum = t[k - 1]
            indxin = iorder[k - 1]
            i = k
            while i > 1:
                j = i // 2
                if ddum < t[j - 1]:
                    t[i - 1] = t[j - 1]
                    iorder[i - 1] = iorder[j - 1]
                    i = j
                else:
                    break
            t[i - 1] = ddum
            iorder[i - 1] = indxin
    if n > 0:
        i = 1
        out = t[0]
        indxout = iorder[0]
        ddum = t[n]
        indxin = iorder[n]
        while True:
            j = i + i
            if j <= n:
                if t[j] < t[j - 1]:
                    j += 1
                if t[j - 1] < ddum:
                    t[i - 1] = t[j - 1]
                    iorder[i - 1] = iorder[j - 1]
                    i = j
                else:
                    break
            else:
                break
        t[i - 1] = ddum
        iorder[i - 1] = indxin
        t[n] = out
        iorder[n] = indxout


@njit(cache=True, nogil=True, error_model="numpy")
def free_set(n, nfree, index, indx2, iwhere, updatd, cnstnd, it):  # pragma: no cover
    """The free (``index[:nfree]``) and active variables at the Cauchy point, and those
    that entered (``indx2[:nenter]``) or left (``indx2[ileave:]``) the free set since
    the last iteration.  Returns ``(nfree, nenter, ileave, wrk)``: ``wrk`` says
    whether the subspace matrix must be refactored."""
    nenter = 0
    ileave = n
    if it > 0 and cnstnd:
        for i in range(nfree):
            k = index[i]
            if iwhere[k] > 0:
                ileave -= 1
                indx2[ileave] = k
        for i in range(nfree, n):
            k = index[i]
            if iwhere[k] <= 0:
                indx2[nenter] = k
                nenter += 1
    wrk = ileave < n or nenter > 0 or updatd
    nfree = 0
    iact = n
    for i in range(n):
        if iwhere[i] <= 0:
            index[nfree] = i
            nfree += 1
        else:
            iact -= 1
            index[iact] = i
    return nfree, nenter, ileave, wrk
