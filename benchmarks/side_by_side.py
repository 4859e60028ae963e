"""The frame of the scripts that time one step of a CPU rule beside torch.optim's.

``benchmarks/muon.py``, ``sparse_adam.py`` and ``adafactor.py`` each say what their
cases and contenders are; :func:`arguments` and :func:`run` do the rest the same way:
the command line, the results file's header, the thread limits, the round-robin
medians of every contender per case, the ratios, and the file itself.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

if __package__:
    from .compare import round_robin
    from .machine import blas_limit, header, write_results
else:  # run as a script: benchmarks/ is on sys.path
    from compare import round_robin
    from machine import blas_limit, header, write_results

Contenders = Callable[[Any, bool], tuple[dict[str, Callable[[], object]], list[str]]]


def arguments(doc: str, cases: dict[str, str], rounds: int, smoke: str) -> argparse.ArgumentParser:
    """The command line: ``cases`` (option → default), ``--rounds``, ``--threads``,
    ``--no-torch``, ``--out`` and ``--smoke`` (whose help is ``smoke``)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    for name, default in cases.items():
        parser.add_argument(f"--{name}", default=default)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--threads", type=int, default=None, help="threads (default: all)")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--out", default=None)
    parser.add_argument("--smoke", action="store_true", help=smoke)
    return parser


def sizes(args: argparse.Namespace, smoke: int) -> list[int]:
    """``--sizes`` as integers (``1e6`` allowed), or ``[smoke]`` in a smoke run."""
    return [smoke] if args.smoke else [int(float(s)) for s in args.sizes.split(",")]


def run(
    script: str,
    args: argparse.Namespace,
    argv: list[str] | None,
    *,
    title: str,
    cases: Iterable[Any],
    label: Callable[[Any], str],
    contenders: Contenders,
    ratios: list[tuple[str, str]],
) -> dict[Any, dict[str, float]]:
    """Time ``contenders(case, with_torch)`` for each case; write and return the medians.

    ``ratios`` are ``(numerator, denominator)`` names, printed where both ran.  The
    results file is ``benchmarks/results/<stem>-<date>.txt`` (``stem`` from the
    script's name), ``--out``, or none in a smoke run.
    """
    name = Path(script).name
    rounds = 1 if args.smoke else args.rounds
    command = " ".join([f"python {script}", *(sys.argv[1:] if argv is None else argv)])
    lines = header(script, args.threads, command)
    lines.append(f"# {title}, median of {rounds} round-robin rounds")
    with_torch = not args.no_torch and not args.smoke
    record: dict[Any, dict[str, float]] = {}
    with blas_limit(args.threads):
        if with_torch and args.threads is not None:
            try:
                import torch

                torch.set_num_threads(args.threads)
            except ImportError:
                pass
        for case in cases:
            fns, notes = contenders(case, with_torch)
            med = record[case] = round_robin(fns, rounds)
            lines += notes
            lines.append(f"\n## {label(case)}")
            lines += [f"{who:>22}  {t * 1e3:10.3f} ms" for who, t in med.items()]
            shown = [(a, b) for a, b in ratios if a in med and b in med]
            lines += [f"{a + ' / ' + b:>40}  {med[a] / med[b]:8.2f}" for a, b in shown]
            print("\n".join(lines[-len(med) - len(shown) - 1 :]), flush=True)
    stem = name.removesuffix(".py").replace("_", "-")
    write_results(lines, stem, None if args.out is None else Path(args.out), args.smoke)
    return record
