"""The subspace step: minimise the model over the variables free at the Cauchy point.

With the active variables held at their bounds, the model's minimiser over the free
ones is found by the direct primal method of Byrd, Lu, Nocedal & Zhu (1995, section
5.1) through the factored matrix ``K`` (:func:`numopt.quasi_newton.compact.factor_k`),
then projected into the box; when the projection cuts the step, Morales & Nocedal's
2011 correction ("Remark on Algorithm 778") keeps the projected point only if it is a
descent direction, and otherwise backtracks along the unprojected step to the first
bound it meets.
"""

from __future__ import annotations

from numba import njit

from numopt.quasi_newton.compact import middle_times
from numopt.quasi_newton.dense import solve


@njit(cache=True, nogil=True, error_model="numpy")
def reduced_gradient(
    x, g, S, Y, sy, wt, z, r, wa, index, theta, col, head, nfree
):  # pragma: no cover
    """``r[:nfree] = -Zᵀ(B(z - x) + g)``, the model's reduced gradient at the Cauchy
    point ``z`` (``wa[2m:4m]`` holds ``Wᵀ(z - x)`` from :func:`cauchy`); 0 or -8."""
    m = S.shape[0]
    for i in range(nfree):
        k = index[i]
        r[i] = -theta * (z[k] - x[k]) - g[k]
    if middle_times(sy, wt, col, wa[2 * m : 4 * m], wa[0 : 2 * m]) != 0:
        return -8
    pointr = head
    for j in range(col):
        a1 = wa[j]
        a2 = theta * wa[col + j]
        for i in range(nfree):
            k = index[i]
            r[i] = r[i] + Y[pointr, k] * a1 + S[pointr, k] * a2
        pointr = (pointr + 1) % m
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def subspace_step(
    nsub, ind, lo, hi, nbd, z, d, xp, S, Y, theta, x, g, col, head, wv, wn
):  # pragma: no cover - compiled
    """Move the Cauchy point ``z`` by the subspace minimiser over ``ind[:nsub]``.

    ``d[:nsub]`` holds the reduced gradient on entry (it becomes the step); ``xp`` is
    scratch.  Returns LAPACK's info (non-zero: a singular factor).
    """
    if nsub <= 0:
        return 0
    m = S.shape[0]
    n = z.size
    pointr = head
    for i in range(col):
        t1 = 0.0
        t2 = 0.0
        for j in range(nsub):
            k = ind[j]
            t1 += Y[pointr, k] * d[j]
            t2 += S[pointr, k] * d[j]
        wv[i] = t1
        wv[col + i] = theta * t2
        pointr = (pointr + 1) % m
    col2 = 2 * col
    info = solve(wn[:col2, :col2], wv[:col2], True)
    if info != 0:
        return info
    for i in range(col):
        wv[i] = -wv[i]
    info = solve(wn[:col2, :col2], wv[:col2], False)
    if info != 0:
        return info
    pointr = head
    for jy in range(col):
        js = col + jy
        for i in range(nsub):
            k = ind[i]
            d[i] = d[i] + (Y[pointr, k] * wv[jy] / theta) + (S[pointr, k] * wv[js])
        pointr = (pointr + 1) % m
    inv = 1.0 / theta
    for i in range(nsub):
        d[i] = inv * d[i]
    # project the subspace minimiser into the box
    truncated = False
    for i in range(n):
        xp[i] = z[i]
    for i in range(nsub):
        k = ind[i]
        dk = d[i]
        xk = z[k]
        if nbd[k] == 1:
            z[k] = max(lo[k], xk + dk)
            if z[k] == lo[k]:
                truncated = True
        elif nbd[k] == 2:
            xk = max(lo[k], xk + dk)
            z[k] = min(hi[k], xk)
            if z[k] == lo[k] or z[k] == hi[k]:
                truncated = True
        elif nbd[k] == 3:
            z[k] = min(hi[k], xk + dk)
            if z[k] == hi[k]:
                truncated = True
        else:
            z[k] = xk + dk
    if not truncated:
        return 0
    # the projected point: keep it if it is a descent direction from x
    dd_p = 0.0
    for i in range(n):
        dd_p = dd_p + (z[i] - x[i]) * g[i]
    if dd_p <= 0.0:
        return 0
    for i in range(n):
        z[i] = xp[i]
    # else backtrack along the step to the first bound
    alpha = 1.0
    temp1 = 1.0
    ibd = 0
    for i in range(nsub):
        k = ind[i]
        dk = d[i]
        if nbd[k] != 0:
            if dk < 0.0 and nbd[k] <= 2:
                temp2 = lo[k] - z[k]
                if temp2 >= 0.0:
                    temp1 = 0.0
                elif dk * alpha < temp2:
                    temp1 = temp2 / dk
            elif dk > 0.0 and nbd[k] >= 2:
                temp2 = hi[k] - z[k]
                if temp2 <= 0.0:
                    temp1 = 0.0
                elif dk * alpha > temp2:
                    temp1 = temp2 / dk
            if temp1 < alpha:
                alpha = temp1
                ibd = i
    if alpha < 1.0:
        dk = d[ibd]
        k = ind[ibd]
        if dk > 0.0:
            z[k] = hi[k]
            d[ibd] = 0.0
        elif dk < 0.0:
            z[k] = lo[k]
            d[ibd] = 0.0
    for i in range(nsub):
        k = ind[i]
        z[k] = z[k] + alpha * d[i]
    return 0
