"""Small dense linear algebra for L-BFGS-B's ``2m × 2m`` matrices (Numba-compiled).

LAPACK's ``dpotrf``/``dtrtrs`` (upper) are what the Fortran code calls; these are
their unblocked loops, enough for matrices of a few dozen rows, callable from the
compiled loop and in the same order of operations everywhere.  Each returns an
``info`` as LAPACK does: 0, or the 1-based index of the pivot that failed.
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def cholesky(a):  # pragma: no cover - compiled
    """Factor the symmetric ``a`` (its upper triangle read) as ``UᵀU``, ``U`` in place.

    Returns 0, or ``j + 1`` when the leading minor of order ``j + 1`` is not positive
    definite (``a`` then partly overwritten).
    """
    k = a.shape[0]
    for j in range(k):
        s = a[j, j]
        for i in range(j):
            s -= a[i, j] * a[i, j]
        if not s > 0.0:  # also NaN
            return j + 1
        ajj = math.sqrt(s)
        a[j, j] = ajj
        for c in range(j + 1, k):
            t = a[j, c]
            for i in range(j):
                t -= a[i, j] * a[i, c]
            a[j, c] = t / ajj
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def solve(u, b, transposed):  # pragma: no cover - compiled
    """Solve ``U x = b`` (or ``Uᵀ x = b`` when ``transposed``) in place of ``b``.

    ``U`` is the upper triangle of ``u``.  Returns 0, or ``i + 1`` for a zero pivot.
    """
    k = u.shape[0]
    for i in range(k):
        if u[i, i] == 0.0:
            return i + 1
    if transposed:  # forward substitution with the lower triangle Uᵀ
        for i in range(k):
            t = b[i]
            for j in range(i):
                t -= u[j, i] * b[j]
            b[i] = t / u[i, i]
    else:
        for i in range(k - 1, -1, -1):
            t = b[i]
            for j in range(i + 1, k):
                t -= u[i, j] * b[j]
            b[i] = t / u[i, i]
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def dot(a, b):  # pragma: no cover - compiled
    """``aᵀb`` over four interleaved partial sums, added as ``(s0 + s1) + (s2 + s3)``.

    The same order on every machine (deterministic), and four independent chains
    that the CPU overlaps and LLVM may pack into one vector: a plain running sum
    waits on each addition (about 4x slower for the n-long dots of L-BFGS).
    """
    n = a.size
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    k = n - n % 4
    for i in range(0, k, 4):
        s0 += a[i] * b[i]
        s1 += a[i + 1] * b[i + 1]
        s2 += a[i + 2] * b[i + 2]
        s3 += a[i + 3] * b[i + 3]
    for i in range(k, n):
        s0 += a[i] * b[i]
    return (s0 + s1) + (s2 + s3)


#: :func:`dot` inlined into its caller, for the two-loop recursion's ``2·col`` calls an
#: iteration (9 ns a call at n = 2 instead of 14); the other callers call :func:`dot`
#: (inlining it everywhere added a second to L-BFGS's first compilation).
dot_inlined = njit(nogil=True, error_model="numpy", inline="always")(dot.py_func)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def copy(dst, src):  # pragma: no cover - compiled
    """``dst[:] = src`` for vectors of one length (a slice assignment would compile
    Numba's broadcasting error message, seconds at the first compilation)."""
    for i in range(dst.size):
        dst[i] = src[i]
