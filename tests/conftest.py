"""Shared by every test folder: ``tests/`` on ``sys.path``.

The tests mirror the package (``tests/front``, ``tests/loop``, ``tests/rules``, ...;
``tests/project`` for the checks of the whole project).  The tables and problems
several folders share (``rule_table.py``, ``box_problem.py``, ...) sit here in
``tests/``, which this puts on ``sys.path`` so that a test module in any folder
imports them by name.  pytest's default "prepend" import mode imports each test file
by its basename, so basenames are unique across the folders (no ``__init__.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)


def pytest_collection_modifyitems(config, items):
    """Start the simulator suite now if its test was selected, and wait for it last, so it
    runs beside the rest of the suite."""
    import simulator_run

    waits = [item for item in items if item.name == simulator_run.TEST_NAME]
    if waits and simulator_run.wanted():
        items[:] = [item for item in items if item.name != simulator_run.TEST_NAME] + waits
        config._numopt_simulator = simulator_run.SimulatorRun()


def pytest_unconfigure(config):
    run = getattr(config, "_numopt_simulator", None)
    if run is not None:
        run.stop()
