"""The loop-peers benchmark's pieces: the Numba Rosenbrock objectives and the script itself."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import rosen, rosen_der

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import _numba_objectives as objectives  # noqa: E402
from benchmarks import loop_peers  # noqa: E402

finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.integers(2, 12), elements=finite))
def test_objectives_match_scipy(x):
    f = rosen(x)
    assert objectives.rosen_nb(x) == pytest.approx(f, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(objectives.rosen_der_nb(x), rosen_der(x), rtol=1e-12, atol=1e-9)
    grad = np.full_like(x, np.nan)  # every entry must be overwritten
    assert objectives.rosen_fg_inplace(x, grad) == pytest.approx(f, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grad, rosen_der(x), rtol=1e-12, atol=1e-9)


def test_objectives_by_hand():
    x = np.array([-1.2, 1.0])
    # f = 100 (1 - 1.44)² + (2.2)² = 19.36 + 4.84
    assert objectives.rosen_nb(x) == pytest.approx(24.2, rel=1e-15)
    # ∂f/∂x0 = -400 x0 (x1 - x0²) - 2 (1 - x0) = -211.2 - 4.4; ∂f/∂x1 = 200 (x1 - x0²)
    np.testing.assert_allclose(objectives.rosen_der_nb(x), [-215.6, -88.0], rtol=1e-14)
    assert objectives.rosen_nb(np.ones(7)) == 0.0


def test_objectives_doctests():
    assert doctest.testmod(objectives).failed == 0


def test_numba_floor_is_numopts_arithmetic():
    """The hand-written floor makes the same updates as numopt.minimize, bit for bit."""
    steps, x0 = 300, loop_peers.rosenbrock_x0(4)
    x_floor, losses_floor = loop_peers.numba_loop(x0, steps)()
    python_loop = False if loop_peers.compiled_status() is None else None  # no such option yet
    x_numopt, losses_numopt = loop_peers.numopt_minimize(x0, steps, python_loop)()
    np.testing.assert_array_equal(losses_floor, losses_numopt)
    np.testing.assert_array_equal(x_floor, x_numopt)
    # the same algorithm, other rounding: folded factors; written out in scalars (2-D)
    x_folded, _ = loop_peers.numba_loop(x0, steps, "folded")()
    np.testing.assert_allclose(x_folded, x_floor, rtol=1e-10)
    x0 = loop_peers.rosenbrock_x0(2)
    x_floor, losses_floor = loop_peers.numba_loop(x0, steps)()
    x_scalars, losses_scalars = loop_peers.numba_loop(x0, steps, "scalars")()
    np.testing.assert_array_equal(x_scalars, x_floor)
    np.testing.assert_array_equal(losses_scalars, losses_floor)
    x_folded, _ = loop_peers.numba_loop(x0, steps, "folded")()
    np.testing.assert_array_equal(loop_peers.numba_loop(x0, steps, "scalars folded")()[0], x_folded)


def test_script_smoke(tmp_path):
    """``loop_peers.py --smoke`` runs, and the contenders that ran agree."""
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "loop_peers.py"), "--smoke", "--json", out],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| numba loop |" in proc.stdout
    result = json.loads(out.read_text())["results"][0]
    rows = result["rows"]
    assert {"numba loop", "numopt python"} <= set(rows)
    for name, row in rows.items():
        assert row["losses_ok"], name
        assert row["ns_per_iter"] > 0
        if "agree_steps" in row:  # with optax: the same losses for all 200 steps
            assert row["agree_steps"] == result["steps"], name
    finals = [row["final_f"] for row in rows.values()]
    assert max(finals) - min(finals) <= 1e-9 * result["f0"]
    assert "WARNING" not in proc.stdout
