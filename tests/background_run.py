"""Test suites run in a second process beside the main pytest run, one after another.

The main run uses one core; this process the machine's other one:

1. the CUDA simulator suite (``tests/cudasim``): ``NUMBA_ENABLE_CUDASIM`` must be
   set before :mod:`numba.cuda` is first imported, so it cannot share the main
   process; minutes of pure-Python simulation;
2. then the folders of :data:`OFFLOADED` — the compiled loops', which compile for
   minutes on a cold Numba cache — when the main run selected the whole of them (a
   run of the whole suite, not of a folder or a ``-k`` selection); the main run then
   leaves them out.

``tests/conftest.py`` starts it when pytest collects the tests that wait for it
(``tests/project/test_background_suites.py``), which report each suite's outcome, so a
failure there fails the main run with the suite's output.  Numba's on-disk cache is
written atomically (a temporary file renamed), so two processes compiling the same
kernel at once both succeed; one may compile what the other already saved.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

TESTS = Path(__file__).resolve().parent
#: The test that waits for each suite, by the suite's name.
WAITERS = {"simulator": "test_cuda_kernels_in_simulator", "offloaded": "test_offloaded_folders"}
#: The folders run in the background after the simulator suite.
OFFLOADED = ("loop", "many")


def wanted() -> bool:
    """Whether this process may start the background suites (not inside one of them, and
    numba-cuda installed for the simulator)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or os.environ.get("NUMOPT_BACKGROUND"):
        return False
    try:
        import numba_cuda  # noqa: F401
    except ImportError:
        return False
    return True


def offloadable(config, items) -> bool:
    """Whether the main run selected the whole of the :data:`OFFLOADED` folders: no
    ``-k``/``-m`` selection, and each folder among the paths pytest was given (or
    under one of them)."""
    if config.getoption("keyword") or config.getoption("markexpr"):
        return False
    given = [Path(a.split("::")[0]).resolve() for a in config.args] or [TESTS.parent]
    folders = [TESTS / name for name in OFFLOADED]
    whole = all(any(f == g or g in f.parents for g in given) for f in folders)
    return whole and all(any(_in(item, f) for item in items) for f in folders)


def _in(item, folder: Path) -> bool:
    return folder in Path(str(item.fspath)).parents


def split(items):
    """``items`` without those under the :data:`OFFLOADED` folders, and those."""
    folders = [TESTS / name for name in OFFLOADED]
    keep, off = [], []
    for item in items:
        (off if any(_in(item, f) for f in folders) else keep).append(item)
    return keep, off


class Suite:
    """One ``python -m pytest`` of the background process, its output to a temporary file."""

    def __init__(self, paths: list[str], env: dict[str, str]) -> None:
        self.paths, self.env = paths, env
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc: subprocess.Popen | None = None
        self.done = threading.Event()
        self.code: int | None = None

    def run(self) -> None:
        cmd = [sys.executable, "-m", "pytest", *self.paths, "-q", "-p", "no:cacheprovider"]
        env = dict(os.environ, NUMOPT_BACKGROUND="1", **self.env)
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=TESTS.parent, stdout=self.log, stderr=subprocess.STDOUT, text=True
        )
        self.code = self.proc.wait()
        self.done.set()

    def result(self) -> tuple[int, str]:
        """Wait for the suite; its exit code and its whole output."""
        self.done.wait()
        self.log.seek(0)
        out = self.log.read()
        return self.code, out


class Background:
    """The suites whose waiting tests were collected, run one after another in a thread
    of this process."""

    def __init__(self, simulator: bool, offload: bool) -> None:
        self.suites = {}
        if simulator:
            self.suites["simulator"] = Suite(["tests/cudasim"], {"NUMBA_ENABLE_CUDASIM": "1"})
        if offload:
            self.suites["offloaded"] = Suite([f"tests/{name}" for name in OFFLOADED], {})
        self.stopped = False
        self.thread = threading.Thread(target=self._run_all, daemon=True)
        self.thread.start()

    def _run_all(self) -> None:
        for suite in self.suites.values():
            if self.stopped:
                suite.code = -1
                suite.done.set()
                continue
            suite.run()

    def wait(self, name: str) -> tuple[int, str] | None:
        """The suite's exit code and output (None: not run in the background)."""
        suite = self.suites.get(name)
        return None if suite is None else suite.result()

    def stop(self) -> None:
        """End the suites early (the session ended before their tests ran)."""
        self.stopped = True
        for suite in self.suites.values():
            if suite.proc is not None and suite.proc.poll() is None:
                suite.proc.kill()
                suite.proc.wait()
            suite.log.close()
