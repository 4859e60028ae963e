"""What ``minimize(method="l-bfgs-b")`` refuses, with an error that names the cause.

(The stateful ``numopt.LBFGS``'s errors are in ``test_lbfgs_stateful.py``.)"""

from __future__ import annotations

import re

import numpy as np
import pytest
from mgh import problem
from njit_objectives import INPLACE

import numopt

ROSEN = problem("rosenbrock")
X = np.random.default_rng(0).standard_normal((20, 2))


def named(name: str) -> str:
    """A ``match=`` pattern for a name as a whole word."""
    return rf"\b{re.escape(name)}\b"


def call(method="l-bfgs-b", args=(), **kw):
    return numopt.minimize(
        lambda x, *a: ROSEN.fun(x),
        ROSEN.x0.copy(),
        args=args,
        method=method,
        jac=lambda x, *a: ROSEN.jac(x),
        **kw,
    )


CASES = [
    # mini-batches: a line search needs the whole objective
    ("batch_size", dict(args=(X,), options={"batch_size": 4}), ValueError, "full-batch only"),
    ("epochs", dict(args=(X,), options={"batch_size": 4, "epochs": 2}), ValueError, "full-batch"),
    # the transforms wrap an element-wise rule's update
    ("average", dict(options={"average": "ema"}), ValueError, "takes no transforms"),
    ("polyak", dict(options={"average": "polyak"}), ValueError, "takes no transforms"),
    ("lookahead", dict(options={"lookahead": 5}), ValueError, "takes no transforms"),
    (
        "param_groups",
        dict(options={"param_groups": [{"params": [0]}]}),
        ValueError,
        "takes no transforms",
    ),
    ("accumulate", dict(options={"accumulate": 2}), ValueError, "accumulate needs batch_size"),
    # it runs on the CPU, serially
    ("backend parallel", dict(options={"backend": "parallel"}), ValueError, "runs on the CPU"),
    ("backend numpy", dict(options={"backend": "numpy"}), ValueError, "runs on the CPU"),
    ("backend cuda", dict(options={"backend": "cuda"}), ValueError, "runs on the CPU"),
    ("device cuda", dict(options={"device": "cuda"}), ValueError, "runs on the CPU"),
    # the two spellings of the evaluation limit
    ("maxfev and maxfun", dict(options={"maxfev": 5, "maxfun": 5}), ValueError, "not both"),
    # unknown options, named
    ("typo", dict(options={"maxcorr": 5}), ValueError, named("maxcorr")),
    ("a rule's option", dict(options={"learning_rate": 0.1}), ValueError, named("learning_rate")),
    ("torch's name", dict(options={"history_size": 5}), ValueError, named("history_size")),
    ("iprint", dict(options={"iprint": 1}), ValueError, named("iprint")),
    # maxcor, maxls and eps, each named
    ("maxcor 0", dict(options={"maxcor": 0}), ValueError, named("maxcor")),
    ("maxcor -3", dict(options={"maxcor": -3}), ValueError, named("maxcor")),
    ("maxcor 2.5", dict(options={"maxcor": 2.5}), TypeError, named("maxcor")),
    ("maxcor '5'", dict(options={"maxcor": "5"}), TypeError, named("maxcor")),
    ("maxcor True", dict(options={"maxcor": True}), TypeError, named("maxcor")),
    ("maxcor None", dict(options={"maxcor": None}), TypeError, named("maxcor")),
    ("maxls 0", dict(options={"maxls": 0}), ValueError, named("maxls")),
    ("maxls -1", dict(options={"maxls": -1}), ValueError, named("maxls")),
    ("maxls 1.0", dict(options={"maxls": 1.0}), TypeError, named("maxls")),
    ("maxls [20]", dict(options={"maxls": [20]}), TypeError, named("maxls")),
    ("eps 0", dict(options={"eps": 0.0}), ValueError, named("eps")),
    ("eps -1e-8", dict(options={"eps": -1e-8}), ValueError, named("eps")),
    # the loop's options, checked as for every method
    ("maxiter -1", dict(options={"maxiter": -1}), ValueError, named("maxiter")),
    ("maxfun 1.5", dict(options={"maxfun": 1.5}), TypeError, named("maxfun")),
    ("gtol -1", dict(options={"gtol": -1.0}), ValueError, named("gtol")),
    ("ftol -1", dict(options={"ftol": -1.0}), ValueError, named("ftol")),
    # an optimizer object takes its hyperparameters itself
    (
        "object and maxcor",
        dict(method=numopt.LBFGS(), options={"maxcor": 5}),
        ValueError,
        "optimizer object",
    ),
    ("the class", dict(method=numopt.LBFGS), TypeError, "pass an instance"),
    ("a misspelt method", dict(method="l-bfgs-c"), ValueError, "unknown method"),
]


@pytest.mark.parametrize(("what", "kwargs", "exc", "match"), CASES, ids=[c[0] for c in CASES])
def test_refused_with_a_clear_error(what, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        call(**kwargs)


def test_an_optimizer_object_with_its_own_bounds_is_refused():
    opt = numopt.LBFGS()
    opt.bounds = (-1.0, 1.0)
    with pytest.raises(ValueError, match=r"opt\.bounds"):
        call(method=opt)


def test_an_optimizer_object_built_for_another_size_is_refused():
    opt = numopt.LBFGS()
    numopt.minimize(ROSEN.fun, ROSEN.x0.copy(), jac=ROSEN.jac, method=opt, options={"maxiter": 2})
    with pytest.raises(ValueError, match="reset"):
        numopt.minimize(problem("wood").fun, np.zeros(4), jac=problem("wood").jac, method=opt)


def test_the_compiled_loop_refuses_what_it_cannot_run_and_says_why():
    with pytest.raises(ValueError, match=r"compiled=True.*not a Numba"):
        call(options={"compiled": True})
    structured = {"a": ROSEN.x0.copy()}
    with pytest.raises(ValueError, match=r"compiled=True.*list/tuple/dict"):
        numopt.minimize(
            INPLACE, structured, jac="inplace", method="l-bfgs-b", options={"compiled": True}
        )


def test_objective_errors_reach_the_caller():
    with pytest.raises(TypeError, match="real scalar"):
        numopt.minimize(lambda x: "f", ROSEN.x0.copy(), jac=ROSEN.jac, method="l-bfgs-b")
    with pytest.raises(ValueError, match="shape"):
        numopt.minimize(ROSEN.fun, ROSEN.x0.copy(), jac=lambda x: np.zeros(3), method="l-bfgs-b")
    with pytest.raises(TypeError, match="tuple"):
        numopt.minimize(ROSEN.fun, ROSEN.x0.copy(), jac=True, method="l-bfgs-b")
    with pytest.raises(ValueError, match="bounds"):
        numopt.minimize(
            ROSEN.fun, ROSEN.x0.copy(), jac=ROSEN.jac, method="l-bfgs-b", bounds=[(0, 1)]
        )
    with pytest.raises(ValueError, match="bounds"):
        numopt.minimize(
            ROSEN.fun,
            ROSEN.x0.copy(),
            jac=ROSEN.jac,
            method="l-bfgs-b",
            bounds=[(1.0, 0.0), (0.0, 1.0)],
        )
