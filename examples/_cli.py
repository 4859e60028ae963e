"""What every example script shares: its command line, its figure files, one BLAS thread."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def parser(doc: str | None, name: str, smoke: str) -> argparse.ArgumentParser:
    """``--out DIR`` (default ``examples/out/<name>``) and ``--smoke`` (a quick run).

    The description is the first line of ``doc`` (the script's ``__doc__``: its
    title).  sphinx-gallery runs a script with ``__doc__ == ""`` (it shows the
    docstring as the page's text instead), hence no description there.
    """
    lines = (doc or "").strip().splitlines()
    p = argparse.ArgumentParser(description=lines[0] if lines else None)
    p.add_argument("--out", type=Path, default=OUT / name, help="where the figures go")
    p.add_argument("--smoke", action="store_true", help=smoke)
    return p


def finish(status: int) -> None:
    """End a script's run with exit status ``status``: ``_cli.finish(main())``.

    A success returns instead of raising ``SystemExit(0)``: sphinx-gallery runs each
    example inside the Sphinx process, with ``__name__ == "__main__"``, and a
    ``SystemExit`` (even ``sys.exit(0)``) escapes its error handling and ends the
    whole docs build, silently and with status 0.  For the same reason a failure
    raises ``RuntimeError`` there (sphinx-gallery reports the example as failing) and
    exits with ``status`` everywhere else.
    """
    if not status:
        return
    if "sphinx_gallery" in sys.modules:  # inside a docs build
        raise RuntimeError(f"{Path(sys.argv[0]).name} failed: exit status {status}")
    sys.exit(status)


def has_matplotlib() -> bool:
    """Whether matplotlib imports (with the file-only Agg backend); say so if not."""
    try:
        import matplotlib
    except ImportError:
        print("this example draws with matplotlib: pip install -e '.[examples]'", file=sys.stderr)
        return False
    matplotlib.use("Agg")
    return True


def save(fig, path: Path, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` and free it.

    Every figure an example makes is written here (the docs' gallery shows the PNG
    files written into ``--out``, not the figures left open, of which there are none).
    """
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=dpi)
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
