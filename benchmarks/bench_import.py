"""Cold-start costs, each in a fresh interpreter (asv ``timeraw_``).

``import numopt`` must compile nothing (stay close to ``import numba, scipy.optimize``);
the first ``minimize`` call loads its kernels from Numba's on-disk cache
(``cache=True``), which asv's repeated runs keep warm.
"""


def timeraw_import_numba_scipy():
    return "import numba, scipy.optimize"


def timeraw_import_numopt():
    return "import numopt"


def timeraw_first_minimize():
    return """
import numpy as np, numopt
numopt.minimize(lambda x: float(x @ x), np.ones(10), jac=lambda x: 2 * x, options={"maxiter": 3})
"""
