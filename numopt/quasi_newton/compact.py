"""The limited memory and its compact representation (Byrd, Nocedal & Schnabel 1994).

The L-BFGS matrix built from the pairs ``(s_i, y_i)`` in ``S``, ``Y`` (``θ`` the
scaling of ``B0 = θI``) is ``B = θI - W M Wᵀ`` with ``W = [Y  θS]`` and the
``2m × 2m`` middle matrix ``M`` whose inverse involves ``SᵀY = L + D + R`` (``L``
strictly lower, ``D`` diagonal) and ``SᵀS``:

* :func:`add_pair` puts a new pair in the ring and updates ``SᵀY``, ``SᵀS`` and ``θ``
  (L-BFGS-B's ``matupd``); :func:`factor_t` factors ``T = θSᵀS + LD⁻¹Lᵀ = JJᵀ``
  (``formt``), which :func:`middle_times` uses to multiply a ``2col`` vector by ``M``
  (``bmv``);
* :func:`factor_k` assembles and factors the matrix of the subspace problem over
  the free variables (``formk``), updated incrementally as variables enter and
  leave the free set;
* :func:`two_loop` is the direction ``-Hg`` of the unconstrained method by the
  two-loop recursion (Nocedal 1980), from the same pairs.

Indices follow the Fortran code with 0-based rows: pair ``j`` (``0`` the oldest) is
row ``(head + j) % m`` of ``S`` and ``Y``; ``sy[i, j] = s_iᵀy_j``.
"""

from __future__ import annotations

import math

from numba import njit

from numopt.quasi_newton.dense import cholesky, copy, dot, dot_inlined, solve


@njit(cache=True, nogil=True, error_model="numpy")
def add_pair(
    S, Y, sy, ss, d, r, itail, iupdat, col, head, rr, dr, stp, dtd, full
):  # pragma: no cover
    """Store ``s = d``, ``y = r`` as the newest pair; the new ``itail, col, head, θ``.

    ``full`` False keeps only the diagonal of ``SᵀY`` (all the two-loop recursion
    reads); ``dtd = dᵀd`` before ``d`` was scaled by ``stp``.
    """
    m = S.shape[0]
    if iupdat <= m:
        col = iupdat
        itail = (head + iupdat - 1) % m
    else:
        itail = (itail + 1) % m
        head = (head + 1) % m
    copy(S[itail], d)
    copy(Y[itail], r)
    theta = rr / dr
    if iupdat > m:  # drop the oldest pair: shift the triangles up and left
        for j in range(1, col):
            for i in range(j):
                ss[i, j - 1] = ss[i + 1, j]
            for i in range(j, col):
                sy[i - 1, j - 1] = sy[i, j]
    if full:
        pointr = head
        for j in range(col - 1):
            sy[col - 1, j] = dot(d, Y[pointr])
            ss[j, col - 1] = dot(S[pointr], d)
            pointr = (pointr + 1) % m
    ss[col - 1, col - 1] = dtd if stp == 1.0 else stp * stp * dtd
    sy[col - 1, col - 1] = dr
    return itail, col, head, theta


@njit(cache=True, nogil=True, error_model="numpy")
def factor_t(wt, sy, ss, col, theta):  # pragma: no cover - compiled
    """``wt`` ← the upper Cholesky factor ``Jᵀ`` of ``T = θSᵀS + LD⁻¹Lᵀ``; 0 or -3."""
    for j in range(col):
        wt[0, j] = theta * ss[0, j]
    for i in range(1, col):
        for j in range(i, col):
            s = 0.0
            for k in range(i):
                s += (sy[i, k] * sy[j, k]) / sy[k, k]
            wt[i, j] = s + theta * ss[i, j]
    return -3 if cholesky(wt[:col, :col]) != 0 else 0


@njit(cache=True, nogil=True, error_model="numpy")
def middle_times(sy, wt, col, v, p):  # pragma: no cover - compiled
    """``p[:2col] = M v[:2col]``, the middle matrix times ``v``; 0 or LAPACK's info."""
    if col == 0:
        return 0
    p[col] = v[col]
    for i in range(1, col):
        s = 0.0
        for k in range(i):
            s += sy[i, k] * v[k] / sy[k, k]
        p[col + i] = v[col + i] + s
    info = solve(wt[:col, :col], p[col : 2 * col], True)
    if info != 0:
        return info
    for i in range(col):
        p[i] = v[i] / math.sqrt(sy[i, i])
    info = solve(wt[:col, :col], p[col : 2 * col], False)
    if info != 0:
        return info
    for i in range(col):
        p[i] = -p[i] / math.sqrt(sy[i, i])
    for i in range(col):
        s = 0.0
        for k in range(i + 1, col):
            s += sy[k, i] * p[col + k] / sy[i, i]
        p[i] += s
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def factor_k(
    S, Y, sy, wn, snd, ind, nsub, indx2, nenter, ileave, iupdat, updatd, theta, col, head
):  # pragma: no cover - compiled
    """Assemble and factor the subspace problem's matrix ``K`` into ``wn``.

    ``K = [[-D - YᵀZZᵀY/θ, L_aᵀ - R_zᵀ], [L_a - R_z, θSᵀAAᵀS]]`` over the free
    variables ``ind[:nsub]`` (``Z``) and the active ones (``A``); ``snd`` keeps the
    inner products, updated for the variables that entered (``indx2[:nenter]``) and
    left (``indx2[ileave:]``) the free set.  Returns 0, or -1/-2 when a block is not
    positive definite.
    """
    m = S.shape[0]
    n = S.shape[1]
    if updatd:
        if iupdat > m:  # drop the oldest pair from the inner products
            for jy in range(m - 1):
                js = m + jy
                for i in range(m - jy - 1):
                    snd[jy + i, jy] = snd[jy + 1 + i, jy + 1]
                    snd[js + i, js] = snd[js + 1 + i, js + 1]
                for i in range(m - 1):
                    snd[m + i, jy] = snd[m + 1 + i, jy + 1]
        # the new pair's row and column
        iy = col - 1
        is_ = m + col - 1
        ipntr = (head + col - 1) % m
        jpntr = head
        for jy in range(col):
            js = m + jy
            t1 = 0.0
            t2 = 0.0
            t3 = 0.0
            for k in range(nsub):
                k1 = ind[k]
                t1 += Y[ipntr, k1] * Y[jpntr, k1]
            for k in range(nsub, n):
                k1 = ind[k]
                t2 += S[ipntr, k1] * S[jpntr, k1]
                t3 += S[ipntr, k1] * Y[jpntr, k1]
            snd[iy, jy] = t1
            snd[is_, js] = t2
            snd[is_, jy] = t3
            jpntr = (jpntr + 1) % m
        jy = col - 1
        jpntr = (head + col - 1) % m
        ipntr = head
        for i in range(col):
            t3 = 0.0
            for k in range(nsub):
                k1 = ind[k]
                t3 += S[ipntr, k1] * Y[jpntr, k1]
            ipntr = (ipntr + 1) % m
            snd[m + i, jy] = t3
        upcl = col - 1
    else:
        upcl = col
    # the old pairs: the variables that entered and left the free set
    ipntr = head
    for iy in range(upcl):
        is_ = m + iy
        jpntr = head
        for jy in range(iy + 1):
            js = m + jy
            t1 = 0.0
            t2 = 0.0
            t3 = 0.0
            t4 = 0.0
            for k in range(nenter):
                k1 = indx2[k]
                t1 += Y[ipntr, k1] * Y[jpntr, k1]
                t2 += S[ipntr, k1] * S[jpntr, k1]
            for k in range(ileave, n):
                k1 = indx2[k]
                t3 += Y[ipntr, k1] * Y[jpntr, k1]
                t4 += S[ipntr, k1] * S[jpntr, k1]
            snd[iy, jy] = snd[iy, jy] + t1 - t3
            snd[is_, js] = snd[is_, js] - t2 + t4
            jpntr = (jpntr + 1) % m
        ipntr = (ipntr + 1) % m
    ipntr = head
    for is_ in range(m, m + upcl):
        jpntr = head
        for jy in range(upcl):
            t1 = 0.0
            t3 = 0.0
            for k in range(nenter):
                k1 = indx2[k]
                t1 += S[ipntr, k1] * Y[jpntr, k1]
            for k in range(ileave, n):
                k1 = indx2[k]
                t3 += S[ipntr, k1] * Y[jpntr, k1]
            if is_ <= jy + m:
                snd[is_, jy] = snd[is_, jy] + t1 - t3
            else:
                snd[is_, jy] = snd[is_, jy] - t1 + t3
            jpntr = (jpntr + 1) % m
        ipntr = (ipntr + 1) % m
    # K's upper triangle, then its LELᵀ factorisation
    for iy in range(col):
        is_ = col + iy
        is1 = m + iy
        for jy in range(iy + 1):
            js = col + jy
            js1 = m + jy
            wn[jy, iy] = snd[iy, jy] / theta
            wn[js, is_] = snd[is1, js1] * theta
        for jy in range(iy):
            wn[jy, is_] = -snd[is1, jy]
        for jy in range(iy, col):
            wn[jy, is_] = snd[is1, jy]
        wn[iy, iy] = wn[iy, iy] + sy[iy, iy]
    if cholesky(wn[:col, :col]) != 0:
        return -1
    col2 = 2 * col
    for c in range(col, col2):
        solve(wn[:col, :col], wn[:col, c], True)
    for is_ in range(col, col2):
        for js in range(is_, col2):
            s = 0.0
            for k in range(col):
                s += wn[k, is_] * wn[k, js]
            wn[is_, js] = wn[is_, js] + s
    if cholesky(wn[col:col2, col:col2]) != 0:
        return -2
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def two_loop(S, Y, sy, col, head, theta, g, d, alpha):  # pragma: no cover - compiled
    """``d = -H g``: the L-BFGS direction by the two-loop recursion, ``H0 = I/θ``."""
    m = S.shape[0]
    n = g.size
    for i in range(n):
        d[i] = -g[i]
    for j in range(col - 1, -1, -1):  # newest to oldest
        p = (head + j) % m
        a = dot_inlined(S[p], d) / sy[j, j]
        alpha[j] = a
        row = Y[p]
        for i in range(n):
            d[i] -= a * row[i]
    for i in range(n):
        d[i] /= theta
    for j in range(col):  # oldest to newest
        p = (head + j) % m
        b = dot_inlined(Y[p], d) / sy[j, j]
        c = alpha[j] - b
        row = S[p]
        for i in range(n):
            d[i] += c * row[i]
