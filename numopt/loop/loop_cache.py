"""The compiled loops kept in this process: a bounded cache, and a warning when it churns.

A compiled loop is bound to the user's functions, so a new function object — a
closure over another data set's values, defined anew at each call — compiles a new
loop: seconds, and megabytes of machine code that Numba never gives back (measured:
about 8 MB per loop, whether or not the loop is still referenced).  So
``compiled="auto"`` decides by expected cost (:mod:`numopt.loop.switch`), asking
:meth:`LoopCache.holds` whether a loop for a function object is kept here and
:meth:`LoopCache.churn_reason` whether a function object is a new one of code seen
before, which runs the Python loop (the same result, bit for bit), warned once per
code with the fix — pass the data through
``args`` (one loop then serves every call), ``numopt.minimize_many`` for a batch of
problems.  ``compiled=True`` still compiles (and warns).  The cache keeps the
:data:`MAX_LOOPS` most recently used loops (least recently used dropped first).
"""

from __future__ import annotations

import collections
import os
import sys
import warnings
import weakref
from collections.abc import Callable
from typing import Any

#: The compiled loops kept per cache (each some megabytes of machine code).
MAX_LOOPS = 32


class RecompileWarning(UserWarning):
    """The same objective code compiled a new loop for a new function object."""


class LoopCache:
    """``key -> compiled loop``, the :data:`MAX_LOOPS` most recently used."""

    def __init__(self, what: str, maxsize: int = MAX_LOOPS) -> None:
        self.what = what
        self.maxsize = maxsize
        self._loops: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
        # code object -> the last function object seen (weakly: a dead one's id may be
        # a new closure's)
        self._codes: dict[Any, weakref.ref] = {}
        self._warned: set[Any] = set()

    def __len__(self) -> int:
        return len(self._loops)

    def get(self, key: tuple, build: Callable[[], Any], fun: Any) -> Any:
        """The loop for ``key``, built by ``build()`` (and kept) when not here.

        ``fun``: the user's objective, whose code identifies a recompilation.
        """
        loop = self._loops.get(key)
        if loop is not None:
            self._loops.move_to_end(key)
            return loop
        if self._recompiles(fun):
            self._warn(fun, "compiles a new")
        code = _code(fun)
        if code is not None:
            self._codes[code] = weakref.ref(fun)
        loop = build()
        self._loops[key] = loop
        while len(self._loops) > self.maxsize:
            self._loops.popitem(last=False)
        return loop

    def holds(self, fun: Any) -> bool:
        """Whether a loop compiled for the function object ``fun`` is kept here."""
        return any(key[0] is fun for key in self._loops)

    def churn_reason(self, fun: Any) -> str | None:
        """Why ``compiled="auto"`` should not compile for ``fun`` (warned once), or None.

        A function whose code was compiled, or run by ``auto``, for another function
        object (a closure defined anew at each call) would compile a loop per call.
        ``fun`` is then the object this code was last seen as.
        """
        recompiles = self._recompiles(fun)
        code = _code(fun)
        if code is not None:
            self._codes[code] = weakref.ref(fun)
        if not recompiles:
            return None
        self._warn(fun, "runs the Python loop rather than compile a new")
        return (
            "fun's code ran before as another function object (a closure?): a compiled "
            "loop per function object costs seconds and memory; pass the data through "
            "args (compiled=True forces a new loop)"
        )

    def _recompiles(self, fun: Any) -> bool:
        seen = self._codes.get(_code(fun))
        return seen is not None and seen() is not fun

    def _warn(self, fun: Any, doing: str) -> None:
        code = _code(fun)
        if code in self._warned:
            return
        self._warned.add(code)
        warnings.warn(
            f"numopt {doing} {self.what} for {code.co_name!r}: a new function object of "
            "code seen before (a closure over other values?), and each compiled loop "
            "takes seconds and memory; pass the data through args so that one compiled "
            "loop serves every call, or use numopt.minimize_many for a batch of problems",
            RecompileWarning,
            stacklevel=_callers_level(),
        )


def _callers_level() -> int:
    """The ``stacklevel`` of the first frame outside numopt (the user's call)."""
    import numopt

    root = os.path.dirname(numopt.__file__)
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(root):
        frame, level = frame.f_back, level + 1
    return level


def _code(fun: Any) -> Any:
    """The code object of a Python or Numba function (None for other callables)."""
    return getattr(getattr(fun, "py_func", fun), "__code__", None)
