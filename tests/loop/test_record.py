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
