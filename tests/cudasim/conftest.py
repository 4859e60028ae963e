"""CUDA tests: collected only where CUDA can run.

``NUMBA_ENABLE_CUDASIM=1`` runs them in Numba's simulator (what CI does, through
``tests/project/test_background_suites.py``, in a process of their own because the variable
must be set before :mod:`numba.cuda` is first imported).  ``NUMOPT_TEST_GPU=1``
runs the same tests on a real GPU.
"""

import os

if not (os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or os.environ.get("NUMOPT_TEST_GPU") == "1"):
    collect_ignore_glob = ["test_*.py"]

if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    import sys

    # The simulator runs each CUDA thread as a Python thread and polls them while they
    # wait at a barrier (cuda.syncthreads); with Python's default 5 ms switch interval a
    # reduction kernel's barriers cost tens of milliseconds each.  0.2 ms makes the
    # suite several times faster and changes no result.
    sys.setswitchinterval(2e-4)

    import threading

    import numpy as np
    from numba.cuda.simulator import kernelapi

    # The simulator finds a block's shared array by the line that allocates it, with an
    # unlocked check-then-insert (numba-cuda 0.30's FakeCUDAShared.array): two threads
    # that both find it missing each make one, and the block no longer shares it.  The
    # short switch interval above makes that likely enough to fail a run in a few (a
    # Muon product read another thread's uninitialised tile).  The same lookup, under
    # a lock; the caller's frame gives the line without formatting the whole stack.
    _allocate = kernelapi.FakeCUDAShared.array
    _lock = threading.Lock()

    def _shared_array(self, shape, dtype, alignment=None):
        if shape == 0 or alignment is not None:  # dynamic shared memory, or the error
            return _allocate(self, shape, dtype, alignment)
        frame = sys._getframe(1)
        line = (frame.f_code.co_filename, frame.f_lineno)
        with _lock:
            array = self._allocations.get(line)
            if array is None:
                if isinstance(dtype, kernelapi.types.Type):
                    dtype = kernelapi.numpy_support.as_dtype(dtype)
                array = self._allocations[line] = np.empty(shape, dtype)
        return array

    kernelapi.FakeCUDAShared.array = _shared_array
