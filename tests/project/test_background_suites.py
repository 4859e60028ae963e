"""The suites run in a second process (``tests/background_run.py``): this waits for
each and fails with its output if any of its tests failed or if none ran.

The CUDA tests run in Numba's simulator, which must be set up before
:mod:`numba.cuda` is first imported, so they cannot share this process; the compiled
loops' folders run there too when the whole suite runs, on the machine's other core.
"""

from __future__ import annotations

import os

import background_run
import pytest


def _report(code: int, out: str, what: str) -> str:
    lines = out.strip().splitlines()
    summary = lines[-1] if lines else ""
    assert code == 0, f"{what} failed ({summary}):\n{out}"
    assert " passed" in summary and "failed" not in summary, summary
    return summary


@pytest.mark.skipif(
    os.environ.get("NUMBA_ENABLE_CUDASIM") == "1", reason="already in the simulator process"
)
def test_cuda_kernels_in_simulator(request):
    pytest.importorskip("numba_cuda", reason="numba-cuda (the 'test' extra) is not installed")
    background = getattr(request.config, "_numopt_background", None)
    if background is None:  # collected some other way: run the suite now
        background = background_run.Background(simulator=True, offload=False)
    code, out = background.wait("simulator")
    print(f"CUDA simulator suite: {_report(code, out, 'simulator suite')}")


def test_offloaded_folders(request):
    background = getattr(request.config, "_numopt_background", None)
    done = None if background is None else background.wait("offloaded")
    if done is None:
        pytest.skip(f"tests/{{{','.join(background_run.OFFLOADED)}}} ran in this process")
    summary = _report(*done, f"tests/{{{','.join(background_run.OFFLOADED)}}}")
    print(f"background folders {background_run.OFFLOADED}: {summary}")
