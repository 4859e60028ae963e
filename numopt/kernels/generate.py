"""The one kernel generator: a loop template with a rule's element body bound into it.

Every compiled loop of numopt — the CPU loops (serial and ``prange``), the CUDA
grid-stride kernels, their bounded variants, the blocked passes of layer-wise rules
and the transforms' kernels — is a *template* (a plain function that calls global
names such as ``body`` and ``grad``) copied by :func:`specialise` with those names
bound to compiled functions.  The element body itself is made by :func:`element`,
which binds how the body reads the gradient (:mod:`numopt.kernels.element`): as it
is, or clamped for ``clip_value``.

Why copies and not closures: Numba's on-disk cache keys a function by its qualified
name, its source file and its bytecode (plus pickled closure cells).  A closure over
the body would share one cache file for every rule and pickle the callee dispatcher
(whose pickle holds a per-process uuid, so the cache would never hit).  A copy whose
globals bind the body, and whose qualified name carries a digest of every source
bound into it, gets its own cache entry per rule and variant, and editing a body
invalidates it (Numba itself only watches the template's file).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import types
from collections.abc import Callable
from typing import Any

from numopt.kernels import element as readers


def source_digest(fn: Any) -> str:
    """Short digest of the source of ``fn`` (a function or a module): a cache tag.

    Examples
    --------
    >>> len(source_digest(source_digest))
    10
    """
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):  # pragma: no cover - source unavailable (frozen apps)
        text = fn.__code__.co_code.hex()
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def specialise(template: Callable, kind: str, tags: tuple[str, ...] = (), **bound: Any) -> Callable:
    """A copy of ``template`` whose global names ``bound`` are the given values.

    The copy's qualified name is ``<body>_<digest>_<kind>``: the name of the function
    bound as ``body`` (else of the template), a digest of the sources of every
    function bound (a compiled one's ``py_func``; other values by ``repr``) and of
    ``tags`` (digests of sources the bound functions call in turn), and ``kind`` (the
    variant: ``"serial"``, ``"cuda_bounded"``, ...).
    """
    namespace = dict(template.__globals__)
    namespace.update(bound)
    fn = types.FunctionType(template.__code__, namespace, template.__name__)
    sources = [_digest_of(v) for _, v in sorted(bound.items())] + list(tags)
    digest = hashlib.sha1(" ".join(sources).encode()).hexdigest()[:10]
    head = _py(bound["body"]) if "body" in bound else template
    fn.__qualname__ = f"{head.__name__}_{digest}_{kind}"
    fn.__numopt_digest__ = digest  # what a copy that binds this one digests in turn
    fn.__module__ = template.__module__
    fn.__doc__ = f"{kind} loop over ``{head.__module__}.{head.__name__}``."
    return fn


def _digest_of(value: Any) -> str:
    """A bound value's tag: its source and, for a specialised copy, what it binds."""
    fn = _py(value)
    if callable(fn):
        return source_digest(fn) + getattr(fn, "__numopt_digest__", "")
    return repr(value)


def _py(fn: Any) -> Any:
    """The Python function behind a compiled one (Numba dispatchers keep it)."""
    return getattr(fn, "py_func", fn)


def grad_reader(clip_value: bool) -> Callable:
    """How an element body reads the gradient: as it is, or clamped (``clip_value``)."""
    return readers.clipped_grad if clip_value else readers.grad


@functools.cache
def _compiled(fn: Callable, target: str) -> Callable:
    """``fn`` compiled inline for ``target``: ``"cpu"`` (njit) or ``"cuda"`` (a device function)."""
    if target == "cpu":
        from numba import njit

        return njit(inline="always", error_model="numpy")(fn)
    from numba import cuda

    return cuda.jit(device=True, inline=True)(fn)


def element(body: Callable, clip_value: bool = False, target: str = "python") -> Callable:
    """The element body ``body(i, theta, g, state, c, ...)`` with its gradient reader bound.

    Every ``grad(i, g, c)`` of the body reads ``g[i]`` times the sign ``c[-1]``; with
    ``clip_value``, ``clip(g[i], ±c[-2])`` times the sign.  ``target`` ``"python"``
    gives a plain function (what the doctests and the tests run), ``"cpu"`` and
    ``"cuda"`` a function compiled inline for that target (the loops inline it).

    Examples
    --------
    >>> import numpy as np
    >>> from numopt.rules.gd import body
    >>> theta, g = np.zeros(2), np.array([5.0, -0.5])
    >>> c = (1.0, 0.0, 2.0, 1.0)  # η, λ, clip_value, sign
    >>> clipped = element(body, clip_value=True)
    >>> clipped(0, theta, g, None, c); clipped(1, theta, g, None, c)
    >>> theta
    array([-2. ,  0.5])
    """
    if target == "python" and not clip_value:
        return body
    return _element(body, bool(clip_value), target)


@functools.cache
def _element(body: Callable, clip_value: bool, target: str) -> Callable:
    reader = grad_reader(clip_value)
    if target != "python":
        reader = _compiled(reader, target)
    fn = types.FunctionType(body.__code__, {**body.__globals__, "grad": reader}, body.__name__)
    fn.__qualname__ = body.__qualname__
    fn.__module__ = body.__module__
    fn.__doc__ = body.__doc__
    fn.__defaults__ = body.__defaults__
    return fn if target == "python" else _compiled(fn, target)


def clamp(target: str) -> Callable:
    """:func:`numopt.kernels.element.clamp` compiled inline for ``target``."""
    return _compiled(readers.clamp, target)


def variant_name(
    kind: str, *, clip_value: bool = False, bounded: bool = False, keep: bool = False
) -> str:
    """``kind`` with the variant's suffixes: ``"serial_clip_bounded"`` and the like."""
    return (
        kind + ("_clip" if clip_value else "") + ("_bounded" if bounded else "")
        + ("_keep" if keep else "")
    )  # fmt: skip
