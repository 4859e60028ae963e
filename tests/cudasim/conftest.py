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
