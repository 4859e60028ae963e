"""NAdam in compiled code: its Π_t memo kept in ``h`` gives the host's bits.

``Π_t = μ_1 ⋯ μ_t`` is a running product.  The host keeps it on the optimizer; the
compiled loop of ``minimize``, ``step()``'s fast path and each problem of
``minimize_many`` keep it in the last two entries of their own ``h``
(:func:`numopt.rules.nadam.advance`).  Either way the multiplications are the same, in
the same order (the fast path's bits are tested with every rule's in
``test_fast_step.py``, ``minimize_many``'s in ``tests/many/test_many_rules.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import numopt
from numopt.rules import nadam


@njit
def _advance_compiled(t, h):
    return nadam.advance(t, h)


def _h(beta1=0.9, psi=4e-3):
    hp = {"beta1": beta1, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}
    hp.update(momentum_decay=psi, decoupled_weight_decay=False)
    return np.array(nadam.factor_args(hp), np.float64)


@njit
def _weighted(x):
    """``Σ i (x_i - 1)²`` and its gradient (a Numba objective: both loops run it)."""
    w = np.arange(1, x.size + 1).astype(x.dtype)
    return np.sum((x - 1.0) ** 2 * w), 2.0 * (x - 1.0) * w


@settings(max_examples=30, deadline=None)
@given(
    steps=st.lists(st.integers(1, 400), min_size=1, max_size=6),
    beta1=st.floats(0.0, 0.999),
    psi=st.floats(0.0, 0.1),
)
def test_the_memo_gives_the_product_from_the_start_in_any_order(steps, beta1, psi):
    """Forwards (multiplied on), the same step again, or backwards (from the start)."""
    h_py, h_nb = _h(beta1, psi), _h(beta1, psi)
    for t in steps:
        want = nadam.mu_product(t, beta1, psi)
        assert nadam.advance(t, h_py) == want
        assert _advance_compiled(t, h_nb) == want
        assert h_py[6] == h_nb[6] == t and h_py[7] == h_nb[7] == want
        # and the μ's of this step and the next, each computed once
        assert h_py[8] == h_nb[8] == nadam.mu(t, beta1, psi)
        assert h_py[9] == h_nb[9] == nadam.mu(t + 1, beta1, psi)


def test_compiled_factors_are_the_hosts():
    opt = numopt.NAdam(learning_rate=0.01, weight_decay=0.1, decoupled_weight_decay=True)
    h = np.array(opt._factor_args(), np.float64)
    compiled = njit(nadam.factors)
    for t in (1, 2, 3, 50, 49, 1000):
        assert compiled(t, 0.01, h) == opt._factors(t, 0.01)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "options",
    [{}, {"weight_decay": 0.05, "decoupled_weight_decay": True}, {"momentum_decay": 0.02}],
    ids=["defaults", "nadamw", "psi"],
)
def test_minimize_runs_nadam_compiled_with_the_python_loops_bits(dtype, options):
    x0 = np.linspace(-2.0, 3.0, 7).astype(dtype)
    base = {"learning_rate": 0.05, "maxiter": 300, "gtol": 0.0, **options}
    runs = {
        compiled: numopt.minimize(
            _weighted, x0, jac=True, method="nadam", options={**base, "compiled": compiled}
        )
        for compiled in (False, True)
    }
    python, compiled = runs[False], runs[True]
    assert compiled.compiled is True and python.compiled is False
    assert compiled.nit == python.nit == 300
    assert np.array_equal(compiled.x, python.x)
    assert np.array_equal(compiled.x_best, python.x_best)
    assert compiled.fun == python.fun


def test_the_compiled_loop_keeps_its_memo_from_chunk_to_chunk(monkeypatch):
    """The driver runs the compiled loop in chunks (256 iterations first): one ``h`` for
    the whole run, or Π_t would be multiplied again from step 1 at every chunk (a
    10⁶-iteration run took minutes instead of a fifth of a second)."""
    from numopt.loop import compiled

    modes = []
    init = compiled.CompiledMode.__init__

    def spy(self, run):
        init(self, run)
        modes.append(self)

    monkeypatch.setattr(compiled.CompiledMode, "__init__", spy)
    x0 = np.linspace(-2.0, 3.0, 7)
    res = numopt.minimize(
        _weighted, x0, jac=True, method="nadam",
        options={"learning_rate": 0.01, "maxiter": 2000, "gtol": 0.0, "compiled": True},
    )  # fmt: skip
    assert res.compiled is True and res.nit == 2000
    (mode,) = modes
    h = mode.h
    assert h[6] == 2000 and h[7] == nadam.mu_product(2000, 0.9, 4e-3)
