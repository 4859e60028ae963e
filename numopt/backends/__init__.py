"""Backends: the compiled loops that run a rule's element body over flat arrays.

A rule is written once as an *element body* ``body(i, theta, g, state, c)`` that
updates element ``i`` in place (``theta`` and ``g`` flat, ``state`` of shape
``(k, n)``, ``c`` the per-step scalar factors, already in ``theta``'s dtype).
:mod:`numopt.backends.cpu` compiles it into a serial and a ``prange`` loop,
:mod:`numopt.backends.cuda` into a grid-stride CUDA kernel (imported only when a
device array is seen, so importing numopt needs neither a GPU nor numba-cuda).
"""
