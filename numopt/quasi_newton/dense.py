"""Small dense linear algebra for L-BFGS-B's ``2m × 2m`` matrices (Numba-compiled).

LAPACK's ``dpotrf``/``dtrtrs`` (upper) are what the Fortran code calls; these are
their unblocked loops, enough for matrices of a few dozen rows, callable from the
compiled loop and in the same order of operations everywhere.  Each returns an
``info`` as LAPACK does: 0, or the 1-based index of the pivot that failed.
"""

from __future__ import annotations

import math

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


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


#: How many partial sums :func:`dot` keeps: one vector of this many lanes, which
#: LLVM splits into the registers the CPU has (two AVX-512 registers, four AVX2,
#: eight SSE2), each lane rounding exactly as on any other CPU.
LANES = 16


@intrinsic
def _lane_dot(typingctx, a, b):  # pragma: no cover - compiled
    """``aᵀb`` for 1-D float32/float64 arrays, in :func:`dot`'s order (a float64)."""
    floats = (types.float32, types.float64)
    ok = (
        isinstance(a, types.Array) and isinstance(b, types.Array) and a.ndim == b.ndim == 1
        and a.dtype in floats and b.dtype in floats
    )  # fmt: skip
    if not ok:
        return None
    # the products' type, as NumPy's: float32 only when both arrays are float32
    narrow = a.dtype == b.dtype == types.float32

    def codegen(context, builder, signature, args):
        make = context.make_array
        arrays = [make(t)(context, builder, value=v) for t, v in zip((a, b), args, strict=True)]
        n = builder.extract_value(arrays[0].shape, 0)
        intp = n.type
        width = ir.Constant(intp, LANES)
        double = ir.DoubleType()
        wide = ir.VectorType(double, LANES)
        product_type = ir.FloatType() if narrow else double

        def element(array, t, i):
            ptr = cgutils.get_item_pointer(context, builder, t, array, [i])
            return converted(builder.load(ptr, align=None if t.aligned else 1), product_type)

        def block(array, t, start):
            """The ``LANES`` items from ``start`` as one vector of the products' type."""
            item = context.get_data_type(t.dtype)
            if t.layout == "C":  # one (unaligned) vector load
                ptr = builder.gep(array.data, [start])
                vector = ir.VectorType(item, LANES).as_pointer()
                align = t.dtype.bitwidth // 8 if t.aligned else 1
                v = builder.load(builder.bitcast(ptr, vector), align=align)
            else:
                v = ir.Constant(ir.VectorType(item, LANES), None)
                for j in range(LANES):
                    i = builder.add(start, ir.Constant(intp, j))
                    ptr = cgutils.get_item_pointer(context, builder, t, array, [i])
                    item_value = builder.load(ptr, align=None if t.aligned else 1)
                    v = builder.insert_element(v, item_value, ir.Constant(intp, j))
            return converted(v, ir.VectorType(product_type, LANES))

        def converted(value, target):  # (float32 to float64)
            return value if value.type == target else builder.fpext(value, target)

        total = cgutils.alloca_once_value(builder, ir.Constant(double, 0.0))
        blocks = builder.udiv(n, width)
        with builder.if_then(builder.icmp_unsigned("!=", blocks, ir.Constant(intp, 0))):
            # (skipped below LANES items: the lanes would add up to 0.0, where total starts)
            sums = cgutils.alloca_once_value(builder, ir.Constant(wide, None))  # zeros
            with cgutils.for_range(builder, blocks) as loop:
                start = builder.mul(loop.index, width)
                product = builder.fmul(block(arrays[0], a, start), block(arrays[1], b, start))
                builder.store(builder.fadd(builder.load(sums), converted(product, wide)), sums)
            v = builder.load(sums)
            parts = [builder.extract_element(v, ir.Constant(intp, j)) for j in range(LANES)]
            while len(parts) > 1:  # lanes added pairwise: (0 + 1) + (2 + 3), …
                parts = [builder.fadd(parts[k], parts[k + 1]) for k in range(0, len(parts), 2)]
            builder.store(parts[0], total)
        one = ir.Constant(intp, 1)
        with cgutils.for_range_slice(builder, builder.mul(blocks, width), n, one) as (i, _):
            product = builder.fmul(element(arrays[0], a, i), element(arrays[1], b, i))
            builder.store(builder.fadd(builder.load(total), converted(product, double)), total)
        return builder.load(total)

    return types.float64(a, b), codegen


@njit(cache=True, nogil=True, error_model="numpy")
def dot(a, b):  # pragma: no cover - compiled
    """``aᵀb`` (a float64) over :data:`LANES` interleaved partial sums.

    Item ``i`` of each whole block of :data:`LANES` items goes to partial sum
    ``i % LANES``; the partial sums are added pairwise (``(s0 + s1) + (s2 + s3)``,
    …) and the last ``n % LANES`` products after them, one by one.  Products are
    rounded as NumPy's (to float32 when both arrays are float32), sums in float64.
    The partial sums are one vector of independent lanes, so the CPU adds many
    products at once (a running sum waits on each addition), yet every lane rounds
    in the same order on every CPU: the result is the same bit for bit on any
    machine, whatever its vector width.

    Examples
    --------
    >>> import numpy as np
    >>> float(dot(np.arange(20.0), np.ones(20))), float(dot(np.ones(3), np.ones(3)))
    (190.0, 3.0)
    """
    return _lane_dot(a, b)


#: :func:`dot` inlined into its caller, for the two-loop recursion's ``2·col`` calls an
#: iteration (9 ns a call at n = 2 instead of 14, measured with an earlier loop of four
#: partial sums); the other callers call :func:`dot` (inlining it everywhere added a
#: second to L-BFGS's first compilation).
dot_inlined = njit(nogil=True, error_model="numpy", inline="always")(dot.py_func)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def copy(dst, src):  # pragma: no cover - compiled
    """``dst[:] = src`` for vectors of one length (a slice assignment would compile
    Numba's broadcasting error message, seconds at the first compilation)."""
    for i in range(dst.size):
        dst[i] = src[i]
