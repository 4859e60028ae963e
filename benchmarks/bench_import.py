"""Cold-start costs, each timed in a fresh interpreter (asv ``timeraw_``).

* ``timeraw_import_numba_scipy``: the baseline, ``import numba, scipy.optimize``
  (what numopt imports anyway).
* ``timeraw_import_numopt``: ``import numopt`` compiles nothing, so it should stay
  within ~0.1 s of the baseline (the pitfall: libraries that compile at import).
* ``timeraw_first_minimize``: import plus the first ``minimize`` call (Adam on a
  10-element quadratic), which loads the serial Adam kernel from Numba's on-disk
  cache (``cache=True``).  asv runs it several times and reports the median, so
  this is the warm-cache figure: a broken cache shows as a jump of ~0.2 s per kernel.
* ``timeraw_first_call``: the same first call alone (the imports are the untimed
  setup of the fresh interpreter).
* ``timeraw_first_parallel_step``: the first ``Adam(backend="parallel").step`` in
  a fresh interpreter after the imports: loading a cached ``parallel=True``
  kernel (and starting Numba's threading layer) can be slow (numba/numba#8085).
"""

_FIRST_MINIMIZE = """
numopt.minimize(
    lambda x: (float(x @ x), 2.0 * x),
    np.linspace(-1.0, 1.0, 10),
    jac=True,
    method="adam",
    options={"maxiter": 3},
)
"""


def timeraw_import_numba_scipy():
    return "import numba, scipy.optimize"


def timeraw_import_numopt():
    return "import numopt"


def timeraw_first_minimize():
    return "import numpy as np\nimport numopt\n" + _FIRST_MINIMIZE


def timeraw_first_call():
    return _FIRST_MINIMIZE, "import numpy as np\nimport numopt"


def timeraw_first_parallel_step():
    stmt = "numopt.Adam(backend='parallel').step(x, g)"
    setup = "import numpy as np\nimport numopt\nx = np.ones(2**14)\ng = np.ones(2**14)"
    return stmt, setup
