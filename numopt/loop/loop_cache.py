"""The compiled loops kept in this process: a bounded cache, and a warning when it churns.

A compiled loop is bound to the user's functions, so a new function object — a
closure over another data set's values, defined anew at each call — compiles a new
loop (seconds, and megabytes of machine code).  :class:`LoopCache` keeps the
:data:`MAX_LOOPS` most recently used loops (least recently used dropped first), so
memory stays bounded however many such functions a process sees, and the first time
a function's *code* is compiled again for a new function object, it warns once,
naming the fix: pass the data through ``args`` (one loop then serves every call),
``numopt.minimize_many`` for a batch of problems, or ``compiled=False``.
"""

from __future__ import annotations

import collections
import warnings
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
        self._codes: dict[Any, int] = {}  # code object -> id of the function compiled
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
        self._note(fun)
        loop = build()
        self._loops[key] = loop
        while len(self._loops) > self.maxsize:
            self._loops.popitem(last=False)
        return loop

    def _note(self, fun: Any) -> None:
        code = getattr(getattr(fun, "py_func", fun), "__code__", None)
        if code is None:
            return
        seen = self._codes.get(code)
        self._codes[code] = id(fun)
        if seen is None or seen == id(fun) or code in self._warned:
            return
        self._warned.add(code)
        warnings.warn(
            f"numopt compiles a new {self.what} for {code.co_name!r} (a new function "
            "object with the same code: a closure over other values?), which takes "
            "seconds each time: pass the data through args so that one compiled loop "
            "serves every call, use numopt.minimize_many for a batch of problems, or "
            "options={'compiled': False}",
            RecompileWarning,
            stacklevel=2,
        )
