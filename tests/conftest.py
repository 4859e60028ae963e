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
    """Start the background suites if their waiting tests were selected, and wait for
    them last, so they run beside the rest of the suite (``background_run.py``); the
    folders offloaded there leave this run."""
    import background_run

    waiters = background_run.WAITERS
    waits = [item for item in items if item.name in waiters.values()]
    if not waits or not background_run.wanted():
        return
    waiting = {item.name for item in waits}
    # the folders leave this run only when the test that reports them waits for them
    offload = waiters["offloaded"] in waiting and background_run.offloadable(config, items)
    rest = [item for item in items if item.name not in waiting]
    if offload:
        rest, moved = background_run.split(rest)
        config.hook.pytest_deselected(items=moved)
    items[:] = rest + waits
    simulator = waiters["simulator"] in waiting
    config._numopt_background = background_run.Background(simulator, offload)


def pytest_unconfigure(config):
    run = getattr(config, "_numopt_background", None)
    if run is not None:
        run.stop()
