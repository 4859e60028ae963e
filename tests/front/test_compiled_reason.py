"""Why the compiled loop did not run, and what a bounded run's message says (issue 20).

``res.compiled_reason`` is None when the compiled loop ran, else why not (the plan's
reason, or ``"compiled=False"``), for ``minimize`` and ``minimize_many``; ``disp``
prints it above the table; a bounded run stopped by ``gtol`` names the projected
gradient in its message, the unbounded message unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numba import njit

import numopt
from numopt.loop.status import Status

UNBOUNDED = "Optimization terminated successfully: the gradient's largest entry is below gtol."
BOUNDED = (
    "Optimization terminated successfully: the projected gradient's largest entry is below gtol."
)
NOT_NUMBA = "fun is not a Numba @njit function"
OPTS = {"learning_rate": 0.1, "maxiter": 2000, "gtol": 1e-6}
BOX = [(0.0, 0.5)] * 3  # the minimum (x = 1) lies outside: the run stops on the bound
DOCS = Path(__file__).resolve().parents[2] / "docs"


@njit(cache=True)
def quad(x):
    return 0.5 * np.sum((x - 1.0) ** 2)


@njit(cache=True)
def quad_grad(x):
    return x - 1.0


def py_quad(x):
    return 0.5 * float(np.sum((x - 1.0) ** 2))


def py_quad_grad(x):
    return x - 1.0


def run(fun=quad, jac=quad_grad, **options):
    return numopt.minimize(fun, np.zeros(3), jac=jac, method="adam", options={**OPTS, **options})


# -- res.compiled_reason ----------------------------------------------------------------
def test_a_numba_objective_runs_compiled_with_no_reason():
    res = run()
    assert res.compiled is True and res.compiled_reason is None
    assert res.status == 0


def test_a_python_objective_says_it_is_not_numba():
    res = run(py_quad, py_quad_grad)
    assert res.compiled is False and res.compiled_reason == NOT_NUMBA


def test_compiled_false_is_the_reason():
    res = run(compiled=False)
    assert res.compiled is False and res.compiled_reason == "compiled=False"


def test_a_lambda_learning_rate_gives_the_reason_compiled_true_raises():
    res = run(learning_rate=lambda k: 0.1)
    assert res.compiled is False
    assert res.compiled_reason.startswith("the learning rate cannot be compiled: ")
    assert "learning_rate is a callable (" in res.compiled_reason
    with pytest.raises(ValueError) as info:
        run(learning_rate=lambda k: 0.1, compiled=True)
    assert str(info.value).endswith(res.compiled_reason)


def test_minimize_many_gives_the_reason():
    x0 = np.zeros((4, 3))
    res = numopt.minimize_many(quad, x0, jac=quad_grad, method="adam", options=OPTS)
    assert res.compiled is True and res.compiled_reason is None
    res = numopt.minimize_many(py_quad, x0, jac=py_quad_grad, method="adam", options=OPTS)
    assert res.compiled is False and res.compiled_reason == NOT_NUMBA
    res = numopt.minimize_many(
        quad, x0, jac=quad_grad, method="adam", options={**OPTS, "compiled": False}
    )
    assert res.compiled is False and res.compiled_reason == "compiled=False"


# -- disp --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case, first",
    [
        (dict(), "compiled loop"),
        (
            dict(fun=py_quad, jac=py_quad_grad),
            f"Python loop (the compiled loop cannot run: {NOT_NUMBA})",
        ),
        (dict(compiled=False), "Python loop (compiled=False)"),
    ],
    ids=["numba", "python", "compiled-false"],
)
def test_disp_says_which_loop_runs_first(capsys, case, first):
    res = run(**case, disp=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == first
    assert lines[1].split() == ["iter", "f", "max|g|", "lr"]
    assert res.message in lines


def test_disp_gives_the_lambda_learning_rate_reason(capsys):
    res = run(learning_rate=lambda k: 0.1, disp=True)
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"Python loop (the compiled loop cannot run: {res.compiled_reason})"
    assert "learning_rate is a callable" in first


# -- the message of a bounded run --------------------------------------------------------
def test_the_unbounded_message_is_unchanged():
    assert Status.GTOL.message() == UNBOUNDED
    assert run().message == UNBOUNDED
    assert run(compiled=False).message == UNBOUNDED


@pytest.mark.parametrize("method", ["adam", "l-bfgs-b"])
@pytest.mark.parametrize("compiled", [True, False])
def test_a_bounded_run_names_the_projected_gradient(method, compiled):
    res = numopt.minimize(
        quad, np.zeros(3), jac=quad_grad, method=method, bounds=BOX,
        options={**(OPTS if method == "adam" else {}), "compiled": compiled},
    )  # fmt: skip
    assert res.status == 0 and res.compiled is compiled
    np.testing.assert_array_equal(res.x, 0.5)  # on the bound, where the gradient is not 0
    assert res.message == BOUNDED == Status.GTOL.message(bounded=True)


def test_docs_say_the_compiled_loop_takes_bounds():
    """docs/bounds.md said a bounded run uses the Python loop; it compiles (above)."""
    text = (DOCS / "bounds.md").read_text()
    bullet = text.split("* **The compiled loop**")[1].split("\n* ")[0]
    assert "takes bounds" in bullet and "`res.compiled` is True" in bullet
    assert "does not take bounds" not in text
    assert BOUNDED in " ".join(text.split())  # the message, as the docs quote it


@pytest.mark.parametrize("fun, jac", [(quad, quad_grad), (py_quad, py_quad_grad)])
def test_minimize_many_bounded_messages_are_minimizes(fun, jac):
    x0 = np.zeros((3, 3))
    res = numopt.minimize_many(fun, x0, jac=jac, bounds=BOX)
    assert res.compiled is (fun is quad)
    assert res.status.tolist() == [0, 0, 0]
    refs = [numopt.minimize(fun, x, jac=jac, bounds=BOX) for x in x0]
    assert res.message == [r.message for r in refs] == [BOUNDED] * 3
