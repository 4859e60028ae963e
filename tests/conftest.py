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
