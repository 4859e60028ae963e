"""Run the CUDA tests in Numba's simulator, in a process of their own.

``NUMBA_ENABLE_CUDASIM`` must be set before :mod:`numba.cuda` is first imported,
so the simulator tests cannot share this process; this test runs them with
``python -m pytest tests/cudasim`` and fails with their output if any fails or if
none ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", reason="already in the simulator process"
)
def test_cuda_kernels_in_simulator():
    pytest.importorskip("numba_cuda", reason="numba-cuda (the 'test' extra) is not installed")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(TESTS / "cudasim"), "-q", "-p", "no:cacheprovider"],
        env=env,
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
    )
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, (
        f"simulator suite failed ({summary}):\n{proc.stdout}\n{proc.stderr}"
    )
    assert " passed" in summary and "failed" not in summary, summary
    print(f"CUDA simulator suite: {summary}")
