"""Kernels: the compiled loops that run element bodies over flat arrays.

A rule is written once as an *element body* ``body(i, theta, g, state, c)`` that
updates element ``i`` in place (``theta`` and ``g`` flat, ``state`` of shape
``(k, n)``, ``c`` the per-step scalar factors, already in ``theta``'s dtype) and
reads the gradient through ``grad(i, g, c)`` (:mod:`~numopt.kernels.element`).
One generator (:mod:`~numopt.kernels.generate`) binds bodies into loop templates:

====================  =====================================================
:mod:`.cpu`           serial and ``prange`` loops, plain and bounded
:mod:`.cuda`          grid-stride CUDA kernels, plain and bounded; device views
:mod:`.reduce`        deterministic blocked sums; the passes of layer-wise rules
:mod:`.cuda_reduce`   the same sums and passes on the GPU
:mod:`.norms`         max-norms with non-finite detection (the stopping tests)
:mod:`.cuda_arrays`   the same norms, fill, cast and clip on device arrays
:mod:`.launch`        which backend runs, and running a body there
:mod:`.arrays`        flat views of the user's arrays, host or device
====================  =====================================================

The CUDA modules import :mod:`numba.cuda`; numopt imports them only once it meets
a device array, so ``import numopt`` needs neither a GPU nor numba-cuda.
"""
