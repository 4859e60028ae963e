"""Which rules' serial CPU loops LLVM vectorised: packed against scalar arithmetic.

Every element-wise rule's step is a loop over ``body(i, ...)``
(:mod:`numopt.kernels.cpu`).  Its serial form runs below the switch-over to the
``prange`` loop (N < 2**13 under ``backend="auto"``) and is what the compiled loop of
``minimize`` inlines, so when LLVM leaves it scalar every small problem pays: a body
that read a factor inside the arm of a select (AdaBelief until 2026-12-07) kept the
whole loop scalar, 3-5x slower, with no test failing (the bits are the same).  The
rule contract (:mod:`numopt.rules.spec`) says how to write a body that vectorises;
this script checks that each one did.

For each rule (default hyperparameters) and dtype it compiles the serial loop afresh
(a temporary ``NUMBA_CACHE_DIR``: Numba returns no assembly for cached code) and
counts, in the loop's own function, the arithmetic instructions on packed registers
(``vmulpd %ymm…``, ``vsqrtps``, …) and on scalars (``vmulsd``, …).  A vectorised loop
has both: the packed body and a scalar remainder.  A loop with no packed arithmetic is
marked ``SCALAR`` and the script exits with status 1.  x86-64 only (it reads AT&T
assembly, AVX or SSE); the ``prange`` loops are not counted (Numba's parfor lowering compiles
them into a separate gufunc, and hoists the factors' reads out of the loop).

Usage::

    python benchmarks/vectorised.py                 # every rule with an element loop
    python benchmarks/vectorised.py adam adabelief  # some rules (no results file)

writes ``benchmarks/results/vectorised-<date>.txt`` when it checks every rule
(``--out FILE`` elsewhere).
"""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

# Before Numba is imported: compile everything afresh, so that the assembly is there
# (in a folder of this run's, removed at exit).
os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numopt-vectorised-")

import numpy as np

import numopt

atexit.register(shutil.rmtree, os.environ["NUMBA_CACHE_DIR"], ignore_errors=True)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.machine import header, write_results  # noqa: E402

_ARITHMETIC = r"(?:add|sub|mul|div|sqrt|max|min|fmadd\w*|fmsub\w*|fnmadd\w*|fnmsub\w*)"
#: VEX (AVX) and legacy SSE forms alike: ``vmulpd``/``mulpd``, ``vsqrtss``/``sqrtss``.
PACKED = re.compile(rf"^\s*v?{_ARITHMETIC}p[sd]\s", re.MULTILINE)
SCALAR = re.compile(rf"^\s*v?{_ARITHMETIC}s[sd]\s", re.MULTILINE)
#: Rules whose step is not one element loop (their own kernels), skipped.
NOT_ELEMENT_WISE = ("muon", "adafactor", "sparse_adam", "prodigy", "lamb", "lars")


def serial_loop_counts(name: str, dtype: np.dtype) -> tuple[int, int]:
    """(packed, scalar) arithmetic instructions in rule ``name``'s serial loop."""
    opt = numopt.RULES[name](backend="serial")
    x = np.ones(4096, dtype)
    opt.step(x, np.full_like(x, 0.5))
    loops = next(iter(opt._plan.loops.values()))  # the one variant the step compiled
    dispatcher = loops.serial
    (signature,) = [s for s in dispatcher.signatures if str(s[0].dtype) == dtype.name]
    asm = dispatcher.inspect_asm(signature)
    own = asm.split("_ZN7cpython")[0]  # the loop itself, not its CPython wrapper
    return len(PACKED.findall(own)), len(SCALAR.findall(own))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rules", nargs="*", help="rules to check (default: all element-wise)")
    parser.add_argument(
        "--out", type=Path, help="results file (default results/vectorised-<date>.txt)"
    )
    args = parser.parse_args(argv)
    if platform.machine() not in ("x86_64", "AMD64"):
        print(f"x86-64 only (this is {platform.machine()})")
        return 0
    rules = args.rules or [r for r in numopt.RULES if r not in NOT_ELEMENT_WISE]
    command = shlex.join(["python", "benchmarks/vectorised.py", *(argv or sys.argv[1:])])
    lines = header("benchmarks/vectorised.py", None, command)
    lines.append("# arithmetic instructions in each rule's serial loop (default hyperparameters)")
    lines.append(f"{'rule':>20} {'dtype':>8} {'packed':>7} {'scalar':>7}")
    for line in lines:
        print(line)
    scalar_loops = []
    seen = set()
    for name in rules:
        if numopt.RULES[name] in seen:  # an alias (sgd is gd)
            continue
        seen.add(numopt.RULES[name])
        for dtype in (np.dtype(np.float32), np.dtype(np.float64)):
            packed, scalar = serial_loop_counts(name, dtype)
            mark = "" if packed else "  SCALAR"
            if not packed:
                scalar_loops.append(f"{name} {dtype.name}")
            lines.append(f"{name:>20} {dtype.name:>8} {packed:>7} {scalar:>7}{mark}")
            print(lines[-1], flush=True)
    if scalar_loops:
        lines.append(f"# not vectorised: {', '.join(scalar_loops)}")
    else:
        lines.append("# every loop has packed arithmetic")
    print(lines[-1])
    write_results(lines, "vectorised", args.out, smoke=bool(args.rules) and args.out is None)
    return 1 if scalar_loops else 0


if __name__ == "__main__":
    sys.exit(main())
