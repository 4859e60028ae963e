"""Run the CUDA tests in Numba's simulator, in a process of their own.

``NUMBA_ENABLE_CUDASIM`` must be set before :mod:`numba.cuda` is first imported,
so the simulator tests cannot share this process.  ``tests/conftest.py`` starts
``python -m pytest tests/cudasim`` in the background when this test is collected
(``tests/simulator_run.py``); this test waits for it and fails with its output if
any test failed or if none ran.
"""

from __future__ import annotations

import os

import pytest
import simulator_run


@pytest.mark.skipif(
    os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", reason="already in the simulator process"
)
def test_cuda_kernels_in_simulator(request):
    pytest.importorskip("numba_cuda", reason="numba-cuda (the 'test' extra) is not installed")
    run = getattr(request.config, "_numopt_simulator", None)
    if run is None:  # collected some other way: run it now
        run = simulator_run.SimulatorRun()
    else:
        request.config._numopt_simulator = None
    code, out = run.wait()
    lines = out.strip().splitlines()
    summary = lines[-1] if lines else ""
    assert code == 0, f"simulator suite failed ({summary}):\n{out}"
    assert " passed" in summary and "failed" not in summary, summary
    print(f"CUDA simulator suite: {summary}")
