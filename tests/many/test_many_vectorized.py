"""``minimize_many(..., vectorized=True)``: one NumPy call per iteration for every running
problem, against ``minimize`` on each problem alone (bit for bit: the objectives here
give row ``i`` exactly what they give problem ``i`` alone)."""

from __future__ import annotations

import numpy as np
import pytest
from many_reference import assert_rows_equal, reference, split_args
from scipy.optimize import Bounds

import numopt

M, N = 6, 5


def data(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    W = rng.uniform(0.2, 3.0, (M, N)) * rng.uniform(0.1, 1.0, (M, 1))  # stops differ
    B = rng.standard_normal((M, N))
    X0 = rng.standard_normal((M, N)).astype(dtype)
    return X0, W.astype(dtype), B.astype(dtype)


def one(x, w, b):
    r = x - b
    return 0.5 * float(np.sum(w * r * r)), w * r


def many(X, W, B):
    R = X - B
    return 0.5 * np.sum(W * R * R, axis=1), W * R


def one_value(x, w, b):
    return one(x, w, b)[0]


def many_value(X, W, B):
    return many(X, W, B)[0]


def check(method, options, *, dtype=np.float64, bounds=None, bounds_of=None, jac=True,
          fun=(one, many), seed=0):  # fmt: skip
    X0, W, B = data(seed, dtype)
    args = (W, B)
    got = numopt.minimize_many(fun[1], X0, args=args, method=method, jac=jac, bounds=bounds,
                               options=options, vectorized=True)  # fmt: skip
    want = reference(fun[0], X0, split_args(args, (0, 1)), method=method, jac=jac,
                     bounds_of=bounds_of, options=options)  # fmt: skip
    assert_rows_equal(got, want)
    assert got.compiled is False and got.compiled_reason == "vectorized=True"
    return got


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("adam", {"learning_rate": 0.1, "maxiter": 300, "gtol": 1e-6}),
        ("sgd", {"learning_rate": 0.05, "maxiter": 200, "ftol": 1e-12}),
        ("momentum", {"learning_rate": 0.02, "beta": 0.9, "nesterov": True, "xtol": 1e-9}),
        ("nadam", {"learning_rate": 0.05, "maxiter": 150, "maxfev": 90}),
        ("rmsprop", {"learning_rate": 0.01, "maxiter": 100, "maximize": False}),
        ("lamb", {"learning_rate": 0.02, "maxiter": 100, "weight_decay": 0.1}),
        ("adamw", {"learning_rate": numopt.schedules.CosineAnnealing(0.1, 120), "maxiter": 120}),
    ],
)
def test_each_row_is_minimize_alone(method, options):
    got = check(method, options)
    if method == "adam":  # the problems stopped at different iterations
        assert len(set(got.nit.tolist())) > 1 and got.success.all()


def test_maximize():
    def neg_one(x, w, b):
        f, g = one(x, w, b)
        return -f, -g

    def neg_many(X, W, B):
        f, g = many(X, W, B)
        return -f, -g

    check("adam", {"learning_rate": 0.1, "maxiter": 100, "maximize": True},
          fun=(neg_one, neg_many))  # fmt: skip


@pytest.mark.filterwarnings("ignore:Initial guess is not within")
def test_float32_and_per_problem_bounds():
    lo, hi = np.full((M, N), -0.5), np.full((M, N), 0.7)
    lo[2] = -2.0
    bounds = Bounds(lo, hi)
    check("adam", {"learning_rate": 0.1, "maxiter": 200}, dtype=np.float32, bounds=bounds,
          bounds_of=lambda i: Bounds(lo[i], hi[i]))  # fmt: skip


@pytest.mark.filterwarnings("ignore:Initial guess is not within")
@pytest.mark.parametrize("jac", [None, "2-point", "3-point"])
def test_finite_differences_for_every_problem_at_once(jac):
    box = [(-0.8, 0.9)] * N  # shared bounds: the steps turn back at the walls
    got = check("adam", {"learning_rate": 0.1, "maxiter": 40}, jac=jac, bounds=box,
                bounds_of=lambda i: box, fun=(one_value, many_value))  # fmt: skip
    per_gradient = N if jac in (None, "2-point") else 2 * N  # (nfev: minimize's, above)
    assert (got.nfev == got.njev * (1 + per_gradient)).all()


def test_a_separate_jac():
    def jac(X, W, B):
        return many(X, W, B)[1]

    def jac1(x, w, b):
        return one(x, w, b)[1]

    X0, W, B = data()
    got = numopt.minimize_many(many_value, X0, args=(W, B), jac=jac, method="adam",
                               options={"maxiter": 50}, vectorized=True)  # fmt: skip
    want = reference(one_value, X0, split_args((W, B), (0, 1)), method="adam", jac=jac1,
                     options={"maxiter": 50})  # fmt: skip
    assert_rows_equal(got, want)


def test_a_diverging_problem_stops_alone_with_its_best_point():
    X0, W, B = data()

    def fun(X, W, B):
        f, g = many(X, W, B)
        hit = np.abs(X[:, 0] - X0[3, 0]) > 0.3  # problem 3 (by its start) blows up
        mine = np.isclose(B[:, 0], data()[2][3, 0])
        f = np.where(mine & hit, np.inf, f)
        return f, g

    got = numopt.minimize_many(fun, X0, args=(W, B), jac=True, method="adam",
                               options={"learning_rate": 0.1, "maxiter": 100},
                               vectorized=True)  # fmt: skip
    assert got.status[3] == 3 and "non-finite loss" in got.message[3]
    assert "returning the best point seen" in got.message[3]
    assert np.isfinite(got.x[3]).all() and got.fun[3] == got.fun_best[3]
    others = np.delete(np.arange(M), 3)
    assert (got.status[others] != 3).all() and np.isfinite(got.x[others]).all()


def test_callbacks_see_the_running_problems_and_can_stop_them():
    X0, W, B = data()
    seen = []

    def callback(intermediate_result):
        seen.append((intermediate_result.nit, intermediate_result.problems.copy()))
        assert intermediate_result.x.shape == (intermediate_result.problems.size, N)
        if intermediate_result.nit == 6:
            raise StopIteration

    got = numopt.minimize_many(many, X0, args=(W, B), jac=True, method="adam",
                               callback=callback, options={"callback_every": 3},
                               vectorized=True)  # fmt: skip
    assert [nit for nit, _ in seen] == [3, 6]
    assert (got.status == 99).all() and (got.nit == 6).all()


def test_an_interrupt_stops_every_problem():
    X0, W, B = data()
    calls = [0]

    def fun(X, W, B):
        calls[0] += 1
        if calls[0] == 5:
            raise KeyboardInterrupt
        return many(X, W, B)

    got = numopt.minimize_many(fun, X0, args=(W, B), jac=True, method="sgd",
                               options={"learning_rate": 0.01}, vectorized=True)  # fmt: skip
    assert (got.status == 8).all() and (got.nit == 4).all()
    assert np.isfinite(got.x).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"method": "l-bfgs-b"}, ValueError, "runs a line search per problem"),
        ({"method": "prodigy"}, ValueError, "steps whole arrays"),
        ({"method": "schedule_free_adamw"}, ValueError, "an average built per problem"),
        ({"options": {"clip_norm": 1.0}}, ValueError, "clip_norm takes the norm"),
        ({"options": {"learning_rate": numopt.schedules.ReduceLROnPlateau(0.1)}}, ValueError,
         "plateau schedule"),
        ({"jac": "inplace"}, ValueError, 'jac="inplace"'),
        ({"options": {"compiled": True}}, ValueError, "compiled=True"),
        ({"vectorized": "yes"}, TypeError, "vectorized must be True or False"),
        ({"vectorized": False, "block_rows": 2}, ValueError, "give vectorized=True too"),
        ({"block_rows": 0}, ValueError, r"block_rows must be a positive integer .* got 0"),
        ({"block_rows": True}, ValueError, "block_rows must be a positive integer"),
        ({"block_rows": 2.5}, ValueError, "block_rows must be a positive integer"),
        ({"fun": lambda X, W, B: (many(X, W, B)[0][:2], many(X, W, B)[1])}, ValueError,
         r"fun must return one loss per problem: real numbers of shape \(6,\)"),
        ({"fun": lambda X, W, B: (many(X, W, B)[0], many(X, W, B)[1][:, :2])}, ValueError,
         r"jac must return one gradient row per problem"),
    ],
)  # fmt: skip
def test_what_it_refuses(kwargs, error, pattern):
    X0, W, B = data()
    call = {"fun": many, "jac": True, "method": "adam", "vectorized": True, **kwargs}
    fun = call.pop("fun")
    with pytest.raises(error, match=pattern):
        numopt.minimize_many(fun, X0, args=(W, B), **call)


@pytest.mark.parametrize("jac", [True, "callable", "3-point"])
@pytest.mark.parametrize("block_rows", [1, 4, M])
def test_row_blocks_change_nothing_but_the_calls(block_rows, jac):
    """Blocks of at most block_rows consecutive running problems, in order: the same bits
    as one call for all (the problems stop at different iterations: the running rows
    get holes)."""
    X0, W, B = data()
    seen = []

    def fun(X, W, B):
        assert not X.flags.writeable  # a view of numopt's own rows: read-only
        assert W.shape[0] == B.shape[0] == X.shape[0]
        seen.append(X.shape[0])
        return many(X, W, B) if jac is True else many_value(X, W, B)

    def grad(X, W, B):
        return many(X, W, B)[1]

    kw = {"jac": grad if jac == "callable" else jac, "method": "adam", "vectorized": True}
    kw["options"] = {"learning_rate": 0.1, "maxiter": 300, "gtol": 1e-6}
    want = numopt.minimize_many(many if jac is True else many_value, X0, args=(W, B), **kw)
    got = numopt.minimize_many(fun, X0, args=(W, B), block_rows=block_rows, **kw)
    assert len(set(want.nit.tolist())) > 1  # (holes)
    for field in ("x", "fun", "jac", "nit", "nfev", "njev", "status", "x_best", "fun_best"):
        np.testing.assert_array_equal(got[field], want[field], err_msg=field)
    assert max(seen) == min(block_rows, M) and min(seen) < M


def test_decay_fits_find_the_rates():
    t = np.linspace(0.0, 4.0, 30)
    k = np.array([0.5, 1.0, 2.0])
    Y = 2.0 * np.exp(-k[:, None] * t)

    def loss(P, t, Y):
        r = P[:, :1] * np.exp(-P[:, 1:] * t) - Y
        return 0.5 * np.sum(r * r, axis=1)

    res = numopt.minimize_many(loss, np.ones((3, 2)), args=(t, Y), method="adam",
                               options={"learning_rate": 0.05, "maxiter": 3000},
                               vectorized=True)  # fmt: skip
    np.testing.assert_allclose(res.x[:, 1], k, rtol=1e-3)
