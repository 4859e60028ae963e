"""What every example script shares: its command line and its figure files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
