"""A compiled loop loaded from Numba's disk cache must start the threading layer itself.

Regression: a serial compiled loop (small x) around a ``prange`` objective, loaded
from the cache in a fresh process, called the objective's parallel kernel before
anything had launched Numba's threads — a call through a null pointer (segfault).
Each run is a fresh process; the second loads every loop from the cache.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from numba import njit, prange
    import numopt

    @njit(cache=True, parallel=True)
    def fun(x, g, a):
        f = 0.0
        for i in prange(x.size):
            g[i] = a[i] * x[i]
            f += 0.5 * a[i] * x[i] * x[i]
        return f

    for n in (1000, 100_000):  # the serial loop, then the prange one
        x0, a = np.ones(n), np.ones(n)
        res = numopt.minimize(fun, x0, args=(a,), jac="inplace", method="gd",
                              options={"maxiter": 3, "gtol": 1e-12, "compiled": True})
        assert res.compiled and res.nit == 3, res
    print("ok")
    """
)


def test_a_cached_loop_around_a_prange_objective_runs_in_a_fresh_process(tmp_path):
    script = tmp_path / "cached_prange.py"
    script.write_text(SCRIPT)
    for _ in range(2):  # compiled and cached, then loaded from the cache
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
