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

    names = set(background_run.WAITERS.values())
    waits = [item for item in items if item.name in names]
    if not waits or not background_run.wanted():
        return
    offload = background_run.offloadable(config, items)
    rest = [item for item in items if item.name not in names]
    if offload:
        rest, moved = background_run.split(rest)
        config.hook.pytest_deselected(items=moved)
    items[:] = rest + waits
    config._numopt_background = background_run.Background(offload)


def pytest_unconfigure(config):
    run = getattr(config, "_numopt_background", None)
    if run is not None:
        run.stop()
