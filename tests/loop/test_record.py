"""The loop's records: one declaration, a Python object, a NumPy record, checkpoint data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from numopt.loop.state import SETTINGS, STATE


def test_python_and_numpy_records_round_trip():
    s = STATE.new(nit=7, best_f=1.5)
    a = STATE.to_array(s)
    assert a.dtype == STATE.dtype and a[0]["nit"] == 7 and a[0]["best_f"] == 1.5
    a[0]["nit"] = 9
    STATE.load(s, a)
    assert s.nit == 9 and isinstance(s.nit, int) and math.isnan(s.f_prev)


def test_compiled_code_writes_the_record_in_place():
    @njit
    def advance(s, k):
        s.nit += k.stride
        s.best_f = 0.5

    s = STATE.new()
    a = STATE.to_array(s)
    advance(a[0], SETTINGS.to_array(SETTINGS.new(stride=3))[0])
    STATE.load(s, a)
    assert (s.nit, s.best_f) == (3, 0.5)


def test_the_checkpoint_record_is_the_saved_fields():
    s = STATE.new(nit=4, fx=2.0)
    saved = STATE.saved(s)
    assert saved["nit"] == 4 and "fx" not in saved
    assert set(saved) == {f.name for f in STATE.fields if f.saved}
    other = STATE.new()
    STATE.restore(other, saved, "test")
    assert STATE.saved(other) == saved or math.isnan(saved["f_prev"])
    with pytest.raises(ValueError, match="lacks the loop's 'nit'"):
        STATE.restore(other, {k: v for k, v in saved.items() if k != "nit"}, "test")
    with pytest.raises(ValueError, match="'nit' is 'x', not a number"):
        STATE.restore(other, {**saved, "nit": "x"}, "test")


def test_unknown_fields_are_refused():
    with pytest.raises(TypeError, match="has no fields"):
        STATE.new(nits=1)
    assert np.dtype(SETTINGS.dtype).names == SETTINGS.names


@njit(cache=True)
def xrosen_both(x):
    """The extended Rosenbrock function and its gradient (n even)."""
    g = np.zeros_like(x)
    f = 0.0
    for j in range(0, x.size, 2):
        a, b = x[j], x[j + 1]
        f += 100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2
        g[j] = -400.0 * a * (b - a * a) - 2.0 * (1.0 - a)
        g[j + 1] = 200.0 * (b - a * a)
    return f, g


def test_the_shared_settings_stay_as_made_whatever_the_runs_do(tmp_path):
    """``Run`` takes its settings from ``SETTINGS.shared``: one record and one array
    for every run with the same settings, which nothing may write.  After Python,
    compiled, checkpointed and resumed runs, and many problems at once, each shared
    record and array still hold the values it was made from."""
    import numopt

    x0 = np.array([-1.2, 1.0, -1.2, 1.0])
    for method in ("l-bfgs-b", "adam"):
        for compiled in (False, True):
            options = {"maxiter": 30, "compiled": compiled, "callback_every": 7}
            numopt.minimize(xrosen_both, x0, jac=True, method=method, options=options,
                            callback=lambda xk: None)  # fmt: skip
        path = tmp_path / f"{method}.npz"
        saving = {"maxiter": 20, "checkpoint": str(path), "checkpoint_every": 5}
        numopt.minimize(xrosen_both, x0, jac=True, method=method, options=saving)
        numopt.minimize(xrosen_both, x0, jac=True, method=method,
                        options={"maxiter": 40, "resume": str(path)})  # fmt: skip
        numopt.minimize_many(xrosen_both, np.stack([x0, 2 * x0]), jac=True, method=method,
                             options={"maxiter": 30, "callback_every": 3},
                             callback=lambda r: None)  # fmt: skip
    assert SETTINGS._shared
    kinds = {f.name: f.kind for f in SETTINGS.fields}
    for key, (record, array) in SETTINGS._shared.items():
        for name, value in key:
            kind = kinds[name]
            assert getattr(record, name) == kind(value), name
            assert array[0][name] == kind(value), name
