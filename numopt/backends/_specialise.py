"""Make one compiled loop per rule from a shared loop template, cache-safely.

Numba's on-disk cache keys a function by its qualified name, its source file and
its bytecode (plus pickled closure cells).  A loop template specialised with a
closure would share one cache file for every rule and pickle the callee
dispatcher (whose pickle holds a per-process uuid, so the cache would never hit).
Instead each loop is a fresh function object over the template's code whose
globals bind ``body``; its qualified name carries the rule body's name and a
digest of the body's source, so every rule gets its own cache entry and editing a
body invalidates it (Numba itself only watches the template's file).
"""

from __future__ import annotations

import hashlib
import inspect
import types
from collections.abc import Callable


def source_digest(fn: Callable) -> str:
    """Short digest of ``fn``'s source code (the cache tag of loops built on it)."""
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):  # pragma: no cover - source unavailable (frozen apps)
        text = fn.__code__.co_code.hex()
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def specialise(template: Callable, body: Callable, compiled_body: Callable, kind: str) -> Callable:
    """Copy ``template`` with its global name ``body`` bound to ``compiled_body``."""
    namespace = dict(template.__globals__)
    namespace["body"] = compiled_body
    fn = types.FunctionType(template.__code__, namespace, template.__name__)
    fn.__qualname__ = f"{body.__name__}_{source_digest(body)}_{kind}"
    fn.__module__ = template.__module__
    fn.__doc__ = f"{kind} loop over ``{body.__module__}.{body.__name__}``."
    return fn
