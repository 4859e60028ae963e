"""``minimize_many``'s inputs: which arguments are split, the errors, the result's layout.

Most of these use Python objectives (no compilation); the compiled cases reuse the
exponential-decay loop of ``test_many_lbfgsb.py``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from many_objectives import decay_inplace
from many_reference import T, assert_rows_equal, decay_data, reference, split_args
from scipy.optimize import Bounds

import numopt
from numopt.many.front import UNSUPPORTED

M = 4
X0, Y, W = decay_data(M, seed=3)
ARGS = (T, Y, W)


def quad(x, *args):
    return float(np.sum(x * x))


def quad_grad(x, *args):
    return 2.0 * x


def spy():
    """A Python objective that records the shapes of the arguments it is given."""
    seen = []

    def fun(x, *args):
        seen.append(tuple(np.shape(a) for a in args))
        return float(x @ x)

    return fun, seen


def run_spy(args, problem_args=None, m=M):
    fun, seen = spy()
    numopt.minimize_many(
        fun, np.ones((m, 2)), args=args, jac=quad_grad, problem_args=problem_args,
        options={"maxiter": 1},
    )  # fmt: skip
    return set(seen)


# -- which arguments are split -------------------------------------------------------------
def test_arrays_with_m_rows_are_split_the_others_shared():
    args = (np.zeros(7), np.zeros((M, 3)), np.zeros(M), 2.0, [0.0] * M, np.float64(1.0))
    assert run_spy(args) == {((7,), (3,), (), (), (M,), ())}


def test_a_list_with_m_items_is_shared():
    assert run_spy(([1.0] * M,)) == {((M,),)}


def test_a_shared_array_of_m_rows_is_split_unless_problem_args_says_otherwise():
    """The ambiguous case: a shared vector whose length happens to be ``M``."""
    s = np.arange(float(M))
    data = np.zeros((M, 5))
    assert run_spy((s, data)) == {((), (5,))}  # default: both split
    assert run_spy((s, data), problem_args=[1]) == {((M,), (5,))}
    assert run_spy((s, data), problem_args=(-1,)) == {((M,), (5,))}
    assert run_spy((s, data), problem_args=[1, 1]) == {((M,), (5,))}
    assert run_spy((s, data), problem_args=np.array([1])) == {((M,), (5,))}
    # an empty list splits none: every problem gets the whole arrays
    assert run_spy((s, data), problem_args=[]) == {((M,), (M, 5))}


def test_compiled_ambiguous_case_with_problem_args():
    """Fifty problems sampled at fifty shared times: ``T`` must not be split."""
    m = T.size
    x0, y, w = decay_data(m, seed=4)
    with pytest.raises(Exception, match=r"(?s)Unknown attribute 'size' of type float64"):
        # by default T is split too: the objective gets a float where it wants an array
        numopt.minimize_many(decay_inplace, x0, args=(T, y, w), jac="inplace")
    res = numopt.minimize_many(
        decay_inplace, x0, args=(T, y, w), jac="inplace", problem_args=[1, 2]
    )
    assert res.compiled and res.x.shape == (m, 3)
    rows = [0, 17, 49]
    refs = reference(decay_inplace, x0[rows], lambda i: (T, y[rows[i]], w[rows[i]]), jac="inplace")
    for k, i in enumerate(rows):
        assert np.array_equal(res.x[i], refs[k].x) and res.nit[i] == refs[k].nit


def test_split_arrays_need_not_be_contiguous():
    """A Fortran-ordered ``Y`` (its rows are strided views) gives the C-ordered one's
    results."""
    c = numopt.minimize_many(decay_inplace, X0, args=ARGS, jac="inplace")
    f = numopt.minimize_many(decay_inplace, X0, args=(T, np.asfortranarray(Y), W), jac="inplace")
    assert f.compiled
    for name in ("x", "fun", "nit", "nfev", "status"):
        assert np.array_equal(c[name], f[name]), name


def test_x0_rows_may_be_a_nested_list_or_integers():
    res = numopt.minimize_many(quad, [[1, 2], [3, 4], [5, 6]], jac=quad_grad)
    assert res.x.dtype == np.float64 and res.x.shape == (3, 2)
    assert res.success.all()


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x0", [np.ones(3), np.ones((0, 3)), np.ones((3, 0)), np.float64(1.0), np.ones((2, 3, 0))]
)
def test_x0_needs_one_row_per_problem(x0):
    with pytest.raises(ValueError, match=r"x0 must have shape \(M, n\) or \(M, \.\.\.\)"):
        numopt.minimize_many(quad, x0, jac=quad_grad)


@pytest.mark.parametrize(
    ("problem_args", "error", "match"),
    [
        ([2], ValueError, r"problem_args\[0\] must be a position in args \(0 to 1\), got 2"),
        ([-3], ValueError, r"problem_args\[0\] must be a position in args"),
        ([1, 5], ValueError, r"problem_args\[1\] must be a position in args"),
        ([True], ValueError, r"problem_args\[0\] must be a position in args"),
        (["1"], ValueError, r"problem_args\[0\] must be a position in args"),
        ([1.0], ValueError, r"problem_args\[0\] must be a position in args"),
        (1, TypeError, r"problem_args must be a sequence of positions in args, got 1"),
        (
            [0],
            ValueError,
            r"problem_args\[0\]: args\[0\] must be an array whose first axis has one row per "
            r"problem \(4\), got shape \(50,\)",
        ),
    ],
)
def test_problem_args_errors(problem_args, error, match):
    with pytest.raises(error, match=match):
        numopt.minimize_many(quad, np.ones((M, 2)), args=(T, Y), problem_args=problem_args)


def test_problem_args_naming_a_scalar():
    with pytest.raises(ValueError, match=r"args\[1\] must be an array .* got shape float"):
        numopt.minimize_many(quad, np.ones((M, 2)), args=(T, 2.0), problem_args=[1])


@pytest.mark.parametrize(
    ("bounds", "match"),
    [
        (
            Bounds(np.zeros((M + 1, 3)), np.ones((M + 1, 3))),
            r"per-problem bounds \(lb, ub of 2 dimensions\) must broadcast to x0's shape "
            r"\(4, 3\), got \(5, 3\) and \(5, 3\)",
        ),
        (Bounds(np.zeros((M, 2)), 1.0), r"must broadcast to x0's shape \(4, 3\)"),
        (
            Bounds(np.zeros((M, 3)), np.full((M, 1), [[1.0], [1.0], [-1.0], [1.0]])),
            r"bounds: lower bound 0\.0 > upper bound -1\.0 at index \(2, 0\) \(need lo <= hi\)",
        ),
        (
            Bounds(np.full((M, 3), np.inf), np.inf),
            r"a lower bound is \+inf, which leaves no feasible point",
        ),
        (
            Bounds(np.full((M, 3), -1.0), np.full((M, 3), -np.inf)),
            r"an upper bound is -inf",
        ),
    ],
    ids=["not-broadcastable", "not-broadcastable-lb", "lb>ub", "lb=+inf", "ub=-inf"],
)
def test_per_problem_bounds_errors(bounds, match):
    with pytest.raises(ValueError, match=match):
        numopt.minimize_many(quad, np.ones((M, 3)), jac=quad_grad, bounds=bounds)


def test_shared_bounds_errors_are_minimizes():
    with pytest.raises(ValueError, match=r"bounds has 2 \(lo, hi\) pairs but x0 has 3 elements"):
        numopt.minimize_many(quad, np.ones((M, 3)), jac=quad_grad, bounds=[(0, 1)] * 2)


@pytest.mark.parametrize(
    "method", [numopt.Adam(learning_rate=0.1), numopt.LBFGS(), numopt.Adam, 3], ids=repr
)
def test_method_must_be_a_name(method):
    with pytest.raises(TypeError, match=r"method must be a method's name .* got "):
        numopt.minimize_many(quad, np.ones((M, 2)), jac=quad_grad, method=method)


def test_unknown_method_name():
    with pytest.raises(ValueError, match=r"adamm"):
        numopt.minimize_many(quad, np.ones((M, 2)), jac=quad_grad, method="adamm")


def test_fun_must_be_callable():
    with pytest.raises(TypeError, match=r"fun must be callable, got ndarray"):
        numopt.minimize_many(np.ones(3), np.ones((M, 2)))


#: A value minimize_many refuses for each option it does not take.
REFUSED = {
    "batch_size": 8,
    "epochs": 2,
    "history": True,
    "disp": True,
    "progress": True,
    "return_device": True,
    "accumulate": 2,
    "average": "ema",
    "lookahead": 5,
    "sam": 0.05,
    "sam_adaptive": True,
    "param_groups": [{"params": [0], "learning_rate": 0.1}],
}


def test_every_unsupported_option_is_in_the_table():
    assert set(REFUSED) == set(UNSUPPORTED)


def test_the_gpu_takes_a_vectorised_objective_only():
    with pytest.raises(ValueError, match=r"on the GPU minimize_many runs a vectorised objective"):
        numopt.minimize_many(
            quad, np.ones((M, 2)), jac=quad_grad, method="adam", options={"device": "cuda"}
        )


@pytest.mark.parametrize("jac", [None, "2-point", "3-point", "inplace"])
def test_the_gpu_takes_the_gradients_from_the_objective(jac):
    with pytest.raises(ValueError, match=r"on the GPU the vectorised form needs the gradients"):
        numopt.minimize_many(
            quad, np.ones((M, 2)), jac=jac, method="adam", options={"device": "cuda"},
            vectorized=True,
        )  # fmt: skip


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unsupported_options(name):
    match = re.escape(f"minimize_many does not take options[{name!r}] ({UNSUPPORTED[name]})")
    with pytest.raises(ValueError, match=match):
        numopt.minimize_many(
            quad, np.ones((M, 2)), jac=quad_grad, method="adam", options={name: REFUSED[name]}
        )


@pytest.mark.parametrize(
    "options",
    [
        {"history": False},
        {"disp": False},
        {"progress": False},
        {"device": "cpu"},
        {"device": "auto"},
        {"return_device": False},
        {"checkpoint": None},
        {"batch_size": None},
    ],
    ids=repr,
)
def test_unsupported_options_at_their_default_are_accepted(options):
    res = numopt.minimize_many(quad, np.ones((M, 2)), jac=quad_grad, options=options)
    assert res.success.all()


def test_unknown_option_is_minimizes_error():
    with pytest.raises(ValueError, match=r"maxiterr"):
        numopt.minimize_many(quad, np.ones((M, 2)), jac=quad_grad, options={"maxiterr": 3})


# -- the result -----------------------------------------------------------------------------
def _check_layout(res, x0_shape, dtype, m):
    assert res.x.shape == res.jac.shape == res.x_best.shape == x0_shape
    assert res.x.dtype == res.jac.dtype == res.x_best.dtype == dtype
    for name in ("fun", "fun_best"):
        assert res[name].shape == (m,) and res[name].dtype == np.float64, name
    for name in ("nit", "nfev", "njev", "status"):
        assert res[name].shape == (m,) and res[name].dtype == np.int64, name
    assert res.success.shape == (m,) and res.success.dtype == np.bool_
    assert isinstance(res.message, list) and len(res.message) == m
    assert all(type(s) is str and s for s in res.message)
    assert isinstance(res.method, str) and isinstance(res.compiled, bool)
    assert np.array_equal(res.success, np.isin(res.status, [0, 4, 5, 7]))


@pytest.mark.parametrize("compiled", [True, False])
def test_result_layout(compiled):
    res = numopt.minimize_many(
        decay_inplace, X0, args=ARGS, jac="inplace", options={"compiled": compiled}
    )
    assert res.compiled is compiled
    _check_layout(res, X0.shape, np.float64, M)


def test_result_layout_float32_python():
    x0 = np.ones((3, 2, 2), np.float32)
    res = numopt.minimize_many(quad, x0, jac=quad_grad, method="adam", options={"maxiter": 5})
    _check_layout(res, x0.shape, np.float32, 3)
    refs = reference(quad, x0, lambda i: (), jac=quad_grad, method="adam", options={"maxiter": 5})
    assert_rows_equal(res, refs)


def test_result_of_one_problem():
    res = numopt.minimize_many(decay_inplace, X0[:1], args=(T, Y[:1], W[:1]), jac="inplace")
    _check_layout(res, (1, 3), np.float64, 1)
    refs = reference(decay_inplace, X0[:1], split_args((T, Y[:1], W[:1]), (1, 2)), jac="inplace")
    assert_rows_equal(res, refs)


def test_an_argument_split_by_mistake_gets_an_error_naming_problem_args():
    """With M = 50 problems, the 50 sample times are split too (each problem one time):
    Numba's typing error comes with the layout of the arguments and the way out."""
    x0, y, w = decay_data(T.size, seed=4)
    with pytest.raises(TypeError, match=r"args\[0\] \(50,\): split.*problem_args=") as info:
        numopt.minimize_many(decay_inplace, x0, args=(T, y, w), jac="inplace")
    assert "args[1] (50, 50): split" in str(info.value)
    res = numopt.minimize_many(
        decay_inplace, x0, args=(T, y, w), jac="inplace", problem_args=[1, 2]
    )  # fmt: skip
    assert res.compiled and res.success.all()
