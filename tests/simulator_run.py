"""The CUDA simulator suite as a background process, started when pytest collects it.

``NUMBA_ENABLE_CUDASIM`` must be set before :mod:`numba.cuda` is first imported, so
the simulator tests (``tests/cudasim``) run in a process of their own.  They take
minutes of pure-Python simulation on one core; started at collection (by
``tests/conftest.py``) they run beside the rest of the suite on the machine's other
core, and ``tests/project/test_cuda_simulator.py`` waits for them and reports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent
TEST_NAME = "test_cuda_kernels_in_simulator"


def wanted() -> bool:
    """Whether this process may start the simulator suite (not inside it, and installed)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return False
    try:
        import numba_cuda  # noqa: F401
    except ImportError:
        return False
    return True


class SimulatorRun:
    """``python -m pytest tests/cudasim`` in the simulator, output to a temporary file."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")
        env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
        cmd = [sys.executable, "-m", "pytest", str(TESTS / "cudasim"), "-q"]
        cmd += ["-p", "no:cacheprovider"]
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=TESTS.parent, stdout=self.log, stderr=subprocess.STDOUT, text=True
        )

    def wait(self) -> tuple[int, str]:
        """Wait for the suite; its exit code and its whole output."""
        code = self.proc.wait()
        self.log.seek(0)
        out = self.log.read()
        self.log.close()
        return code, out

    def stop(self) -> None:
        """End the suite early (the session ended before its test ran)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
