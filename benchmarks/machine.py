"""What ran where: the header of a results file, BLAS's thread limit, the peers.

Every side-by-side script writes its tables under ``benchmarks/results/`` after
:func:`header`'s lines (date, CPU, load, versions, the commit and the command), so a
figure quoted in the docs says where it came from.  :func:`jax_x64` imports the JAX
peers (or raises :class:`Unavailable`, which the scripts report and skip).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numba
import numpy as np
import scipy

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def blas_limit(threads: int | None) -> Any:
    """A context limiting BLAS to ``threads`` (threadpoolctl), or doing nothing."""
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("threadpoolctl is not installed: BLAS threads not limited", file=sys.stderr)
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def git_commit() -> str:
    """The short commit of the checkout, and whether tracked files differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{' + working tree changes' if dirty else ''}" if head else "unknown"


def cpu() -> str:
    """The CPU's model name."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_results(lines: list[str], stem: str, out: Path | None, smoke: bool = False) -> None:
    """Write ``lines`` to ``out``, or to ``results/<stem>-<date>.txt`` (not in a smoke run)."""
    if out is None and not smoke:
        out = RESULTS / f"{stem}-{datetime.date.today()}.txt"
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n")
        print(f"\nwrote {out}")


class Unavailable(Exception):
    """A contender that cannot run here (its package is missing)."""


def jax_x64() -> tuple[Any, Any, Any, Any]:
    """``(jax, jax.numpy, optax, optax.tree_utils)`` with 64-bit types on."""
    try:
        import jax
        import jax.numpy as jnp
        import optax
        import optax.tree_utils as otu
    except ImportError as exc:
        raise Unavailable(f"jax/optax are not installed ({exc})") from None
    jax.config.update("jax_enable_x64", True)  # before any array is made
    return jax, jnp, optax, otu


def peers() -> str:
    """The versions of the peers that are installed (torch, jax, optax)."""
    found = []
    try:
        import torch

        found.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    except ImportError:
        found.append("no torch")
    try:
        import jax
        import optax

        found.append(f"jax {jax.__version__}, optax {optax.__version__}")
    except ImportError:
        found.append("no jax/optax")
    return ", ".join(found)


def header(script: str, blas_threads: int | None, command: str) -> list[str]:
    """The three comment lines that open a results file."""
    load = (
        ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()) if os.name == "posix" else ""
    )
    blas = "not limited" if blas_threads is None else f"limited to {blas_threads} (threadpoolctl)"
    return [
        f"# {script}, {datetime.date.today()}, {platform.machine()} {cpu()}, "
        f"{os.cpu_count()} CPUs{load}",
        f"# python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"numba {numba.__version__} ({numba.get_num_threads()} threads), numopt {git_commit()}, "
        f"{peers()}",
        f"# BLAS threads {blas}; command: {command}",
    ]
