"""numopt's L-BFGS against its peers: ``torch.optim.LBFGS`` with the strong-Wolfe line
search and ``optax.lbfgs`` (each skipped where it is not installed).  Each is a
different implementation of L-BFGS (other line searches, other stopping tests), so
the comparison is of the minimiser they reach — f to 1e-6 — in float64, from the
standard starting points of a few unconstrained problems."""

from __future__ import annotations

import numpy as np
import pytest
from mgh import problem

import numopt

NAMES = ["rosenbrock", "extended_rosenbrock_10", "beale", "helical_valley"]
# numopt with tight tolerances: the reference minimum, to ~1e-14 on these problems
TIGHT = {"gtol": 1e-10, "ftol": 1e-15}


def numopt_minimum(name: str) -> tuple[float, np.ndarray]:
    p = problem(name)
    res = numopt.minimize(p.fun, p.x0.copy(), jac=p.jac, method="l-bfgs-b", options=TIGHT)
    assert res.success, res.message
    return res.fun, res.x


def assert_same_minimum(f_peer: float, x_peer: np.ndarray, name: str) -> None:
    f, x = numopt_minimum(name)
    p = problem(name)
    # the brief's 1e-6 on f, absolute: every minimum here is 0 (f_min of mgh)
    assert p.f_min == 0.0
    assert abs(f_peer - f) <= 1e-6, (f_peer, f)
    # a nonsingular minimum: f within 1e-6 of it puts x within ~1e-3 of the minimiser
    np.testing.assert_allclose(x_peer, x, atol=1e-3)


@pytest.mark.parametrize("name", NAMES)
def test_torch_lbfgs_strong_wolfe_reaches_the_same_minimum(name):
    torch = pytest.importorskip("torch")
    p = problem(name)
    x = torch.tensor(p.x0.copy(), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [x],
        lr=1.0,
        max_iter=100,
        history_size=10,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
    )

    def closure():
        opt.zero_grad()
        value = x.detach().numpy()
        x.grad = torch.from_numpy(p.jac(value))  # numopt's problems are NumPy: no autograd
        return torch.tensor(p.fun(value), dtype=torch.float64)

    for _ in range(20):  # up to 2000 iterations in all
        opt.step(closure)
    value = x.detach().numpy().copy()
    assert_same_minimum(p.fun(value), value, name)


def _jax_objectives(jnp):
    """The problems again in jax.numpy (optax's zoom line search traces the objective)."""

    def xrosen(x):
        xo, xe = x[0::2], x[1::2]
        return jnp.sum(100.0 * (xe - xo * xo) ** 2 + (1.0 - xo) ** 2)

    def beale(x):
        y = jnp.array([1.5, 2.25, 2.625])
        p = jnp.array([1.0, 2.0, 3.0])
        return jnp.sum((y - x[0] * (1.0 - x[1] ** p)) ** 2)

    def helical(x):  # MGH's θ: arctan(x2/x1)/2π, + 1/2 for x1 < 0, ±1/4 at x1 = 0
        base = jnp.arctan(x[1] / jnp.where(x[0] == 0.0, 1.0, x[0])) / (2.0 * jnp.pi)
        theta = jnp.where(
            x[0] > 0.0, base, jnp.where(x[0] < 0.0, base + 0.5, jnp.copysign(0.25, x[1]))
        )
        r = jnp.sqrt(x[0] ** 2 + x[1] ** 2)
        return 100.0 * ((x[2] - 10.0 * theta) ** 2 + (r - 1.0) ** 2) + x[2] ** 2

    return {
        "rosenbrock": xrosen,
        "extended_rosenbrock_10": xrosen,
        "beale": beale,
        "helical_valley": helical,
    }


@pytest.mark.parametrize("name", NAMES)
def test_optax_lbfgs_reaches_the_same_minimum(name):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    p = problem(name)
    with jax.enable_x64(True):
        jnp = jax.numpy
        fun = _jax_objectives(jnp)[name]
        x = jnp.asarray(p.x0.copy())
        # the jax objective is the NumPy one (a check that the comparison is of one problem)
        assert float(fun(x)) == pytest.approx(p.fun(p.x0.copy()), rel=1e-12)
        opt = optax.lbfgs(memory_size=10)
        value_and_grad = optax.value_and_grad_from_state(fun)

        @jax.jit
        def step(x, state):  # (compiled once: eagerly, each line search recompiles)
            value, grad = value_and_grad(x, state=state)
            updates, state = opt.update(grad, state, x, value=value, grad=grad, value_fn=fun)
            return optax.apply_updates(x, updates), state, jnp.max(jnp.abs(grad))

        state = opt.init(x)
        for _ in range(2000):
            x_next, state, gnorm = step(x, state)
            if float(gnorm) <= 1e-10:  # (x_next is a step from an x already converged)
                break
            x = x_next
        value = np.asarray(x, dtype=np.float64)
    assert_same_minimum(p.fun(value), value, name)
