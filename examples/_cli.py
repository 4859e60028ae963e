"""What every example script shares: its command line, its figure files, one BLAS thread."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def parser(doc: str, name: str, smoke: str) -> argparse.ArgumentParser:
    """``--out DIR`` (default ``examples/out/<name>``) and ``--smoke`` (a quick run)."""
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT / name, help="where the figures go")
    p.add_argument("--smoke", action="store_true", help=smoke)
    return p


def has_matplotlib() -> bool:
    """Whether matplotlib imports (with the file-only Agg backend); say so if not."""
    try:
        import matplotlib
    except ImportError:
        print("this example draws with matplotlib: pip install -e '.[examples]'", file=sys.stderr)
        return False
    matplotlib.use("Agg")
    return True


def save(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` and free it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def one_blas_thread() -> Any:
    """BLAS limited to one thread (threadpoolctl, where installed; it comes with
    scikit-learn) for the SciPy comparisons.  SciPy's L-BFGS-B calls BLAS: with
    OpenBLAS's default of a thread per core, a machine with another busy process made
    SciPy's runs 4× slower in ``curve_fit_port.py`` (11 ms instead of 2.5), while
    numopt calls no BLAS."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
