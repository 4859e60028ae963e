"""The data of ``tests/many`` and its reference: ``minimize`` on each problem alone.

:func:`decay_data` draws ``M`` exponential-decay data sets (one row of ``Y`` per
problem, different true parameters, noisy), starting points and per-problem weights;
:func:`reference` runs :func:`numopt.minimize` on each problem alone and
:func:`assert_rows_equal` compares ``minimize_many``'s result with them, field by
field, with ``==`` (NaN in the same places counts as equal).

The reference runs ``minimize``'s Python loop (``compiled=False``) unless told
otherwise: it compiles nothing, and ``minimize``'s compiled loop equals it bit for
bit (``tests/loop/test_compiled_equals_python.py``; the tests here that pass
``compiled="auto"`` check that on the main cases).  Compiling ``minimize``'s own loop
for every case would double the compilations of this folder.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.optimize import OptimizeWarning

import numopt

#: The sampling times, shared by every problem.
T = np.linspace(0.0, 4.0, 50)

#: The fields of a result compared row by row.
ARRAY_FIELDS = ("x", "jac", "x_best")
SCALAR_FIELDS = ("fun", "nit", "nfev", "njev", "status", "fun_best", "success")


def decay_data(m: int, seed: int = 0, noise: float = 0.01, dtype=np.float64):
    """``(X0, Y, W)``: starting points ``(m, 3)``, data ``(m, 50)``, weights ``(m,)``."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform([1.0, 0.3, -0.5], [3.0, 2.0, 0.5], size=(m, 3))
    Y = truth[:, :1] * np.exp(-truth[:, 1:2] * T) + truth[:, 2:]
    Y += noise * rng.standard_normal(Y.shape)
    X0 = rng.uniform([0.5, 0.4, -0.3], [1.5, 1.5, 0.3], size=(m, 3)).astype(dtype)
    W = rng.uniform(0.5, 2.0, size=m)
    return X0, Y, W


def split_args(args: tuple, split: tuple[int, ...]):
    """``i -> args_i``: row ``i`` of the arguments at the positions ``split``."""
    return lambda i: tuple(a[i] if j in split else a for j, a in enumerate(args))


def reference(
    fun,
    X0,
    args_of,
    *,
    method=None,
    jac=None,
    bounds_of=None,
    options=None,
    tol=None,
    compiled=False,
):
    """``minimize`` on each problem alone: a list of ``OptimizeResult``.

    ``args_of(i)``, ``bounds_of(i)``: problem ``i``'s arguments and bounds.  A stateful
    schedule in ``options`` (``ReduceLROnPlateau``, which ``minimize`` advances) is put
    back in its first state before each call, so that each problem starts afresh, as
    it would alone, and is left in that state.
    """
    opts = dict(options or {})
    if compiled is not None:
        opts["compiled"] = compiled
    stateful = [v for v in opts.values() if hasattr(v, "load_state_dict")]
    first = [v.state_dict() for v in stateful]
    out = []
    for i in range(len(X0)):
        for schedule, state in zip(stateful, first, strict=True):
            schedule.load_state_dict(state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            out.append(
                numopt.minimize(
                    fun,
                    np.array(X0[i]),
                    args=args_of(i),
                    method=method,
                    jac=jac,
                    bounds=None if bounds_of is None else bounds_of(i),
                    options=opts,
                    tol=tol,
                )
            )
    for schedule, state in zip(stateful, first, strict=True):
        schedule.load_state_dict(state)
    return out


def _same_scalar(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def assert_rows_equal(res, refs, rows=None) -> None:
    """Row ``i`` of ``res`` is ``refs[i]``, bit for bit, for every row in ``rows``."""
    rows = range(len(refs)) if rows is None else rows
    for i in rows:
        ref = refs[i]
        for name in ARRAY_FIELDS:
            got, want = np.asarray(res[name][i]), np.asarray(ref[name])
            assert got.dtype == want.dtype, (i, name, got.dtype, want.dtype)
            assert got.shape == want.shape, (i, name, got.shape, want.shape)
            # array_equal with NaN in the same places (jac is NaN after status 3)
            assert np.array_equal(got, want, equal_nan=True), (i, name, got, want)
        for name in SCALAR_FIELDS:
            got, want = res[name][i].item(), ref[name]
            assert _same_scalar(got, want), (i, name, got, want)
        assert res.message[i] == ref.message, (i, res.message[i], ref.message)


def assert_results_equal(a, b) -> None:
    """Two ``minimize_many`` results are the same, field by field."""
    for name in (*ARRAY_FIELDS, *SCALAR_FIELDS):
        assert a[name].dtype == b[name].dtype, name
        assert np.array_equal(a[name], b[name], equal_nan=True), name
    assert a.message == b.message
    assert a.method == b.method
