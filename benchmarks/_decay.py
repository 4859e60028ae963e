"""The many-problems benchmark's problem: M exponential decays fitted by least squares.

Problem ``i`` fits ``y(t) = a·exp(-k·t) + c`` to its data ``Y[i]`` (50 samples on
``0 <= t <= 4``) by minimising ``f(p) = ½ Σ_j r_j²``, ``r_j = a·exp(-k·t_j) + c -
Y[i, j]``, over ``p = (a, k, c)``; the gradient is ``Σ r_j (e_j, -a·t_j·e_j, 1)``
with ``e_j = exp(-k·t_j)``.  :func:`problems` draws the true parameters (``a`` in
[1, 3], ``k`` in [0.3, 2], ``c`` in [-0.5, 0.5]), Gaussian noise of standard
deviation 0.01 and the starting points (``a`` in [0.5, 1.5], ``k`` in [0.4, 1.5],
``c`` in [-0.3, 0.3]) from ``numpy.random.default_rng(seed)``.

The objective in each contender's form: :func:`decay_fg_inplace` ``(p, g, t, y) ->
f`` (``jac="inplace"``) and :func:`decay_fg` ``(p, t, y) -> (f, g)`` (``jac=True``,
SciPy's form), both ``@njit(cache=True)``; :func:`decay_fg_rows` ``(P, t, Y) -> (f,
G)`` for every problem at once (``vectorized=True``, NumPy; :func:`rows_in` writes it
with CuPy for the GPU); :func:`decay_jnp` builds
the same loss in ``jax.numpy`` (imported only there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

#: Samples per problem and their times.
POINTS = 50
T = np.linspace(0.0, 4.0, POINTS)


def problems(m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X0, Y)``: starting points ``(m, 3)`` and data ``(m, POINTS)``, float64."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform([1.0, 0.3, -0.5], [3.0, 2.0, 0.5], size=(m, 3))
    Y = truth[:, :1] * np.exp(-truth[:, 1:2] * T) + truth[:, 2:]
    Y += 0.01 * rng.standard_normal(Y.shape)
    X0 = rng.uniform([0.5, 0.4, -0.3], [1.5, 1.5, 0.3], size=(m, 3))
    return X0, Y


@njit(cache=True)
def decay_fg_inplace(p, g, t, y):  # pragma: no cover - compiled
    """``½ Σ r²``, its gradient written into ``g``."""
    f = 0.0
    g0 = 0.0
    g1 = 0.0
    g2 = 0.0
    for j in range(t.size):
        e = np.exp(-p[1] * t[j])
        r = p[0] * e + p[2] - y[j]
        f += 0.5 * r * r
        g0 += r * e
        g1 -= r * p[0] * t[j] * e
        g2 += r
    g[0] = g0
    g[1] = g1
    g[2] = g2
    return f


@njit(cache=True)
def decay_fg(p, t, y):  # pragma: no cover - compiled
    """``(½ Σ r², gradient)``, a new gradient array (SciPy's ``jac=True``)."""
    g = np.empty_like(p)
    f = decay_fg_inplace(p, g, t, y)
    return f, g


def decay_grad(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The gradients at the rows of ``X`` (NumPy), to check where a contender stopped."""
    e = np.exp(-X[:, 1:2] * T)
    r = X[:, :1] * e + X[:, 2:] - Y
    return np.stack(
        [(r * e).sum(1), -(r * X[:, :1] * T * e).sum(1), r.sum(1)], axis=1
    )  # fmt: skip


def rows_in(xp: Any):
    """:func:`decay_fg_rows` written with the array module ``xp`` (NumPy, or CuPy for
    the rows on the GPU)."""

    def decay_fg_rows(P, t, Y):
        e = xp.exp(-P[:, 1:2] * t)
        r = P[:, :1] * e + P[:, 2:] - Y
        g = xp.empty_like(P)
        g[:, 0] = (r * e).sum(1)
        g[:, 1] = -(r * P[:, :1] * t * e).sum(1)
        g[:, 2] = r.sum(1)
        return 0.5 * (r * r).sum(1), g

    return decay_fg_rows


#: ``(½ Σ r² per row, gradients)`` of the problems whose points are the rows of ``P``:
#: ``minimize_many(..., vectorized=True)``'s form, in NumPy: ``(P, t, Y) -> (f, G)``.
decay_fg_rows = rows_in(np)


def decay_loss(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The losses at the rows of ``X`` (NumPy)."""
    r = X[:, :1] * np.exp(-X[:, 1:2] * T) + X[:, 2:] - Y
    return 0.5 * (r * r).sum(1)


def decay_jnp(jnp: Any):
    """``loss(p, y)`` in ``jax.numpy`` (the same sum)."""
    t = jnp.asarray(T)

    def loss(p, y):
        r = p[0] * jnp.exp(-p[1] * t) + p[2] - y
        return 0.5 * jnp.sum(r * r)

    return loss
