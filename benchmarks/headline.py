"""The README's headline figures, read from the results files the benchmarks wrote.

Nothing in the table is typed by hand: each row names a results file and reads its
numbers, its date and its machine from it.  ``python benchmarks/headline.py`` prints
the table; ``--write`` puts it into ``README.md`` between the
``<!-- headline-figures -->`` markers (``tests/project/test_headline.py`` checks
that the README holds what this prints).  Pointing a row at a newer results file is
a one-line change in :data:`ROWS`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_files import RESULTS, by_first_cell, measured, read_rows  # noqa: E402

README = ROOT / "README.md"
BEGIN, END = "<!-- headline-figures -->", "<!-- /headline-figures -->"


class Row(NamedTuple):
    what: str
    file: str
    figures: Callable[[Path], tuple[str, str, str]]  # (numopt, peer, ratio)


def _lbfgs(path: Path) -> tuple[str, str, str]:
    rows = by_first_cell(read_rows(path, "100-D extended Rosenbrock"))
    ours, scipy = (float(rows[k]["wall µs (median)"]) for k in ("numopt compiled", "scipy"))
    return f"{ours:.0f} µs", f"SciPy L-BFGS-B {scipy:.0f} µs", f"{scipy / ours:.1f}×"


def _many(path: Path) -> tuple[str, str, str]:
    rows = by_first_cell(read_rows(path, "L-BFGS-B to gtol"))
    ours, scipy = (float(rows[k]["µs per fit"]) for k in ("numopt many", "scipy loop"))
    return f"{ours:.1f} µs per fit", f"SciPy loop {scipy:.0f} µs", f"{scipy / ours:.0f}×"


def _loop(path: Path) -> tuple[str, str, str]:
    rows = by_first_cell(read_rows(path, "100-D Rosenbrock, Adam"))
    ours = float(rows["numopt compiled inplace"]["ns/iter (median)"])
    peer = float(rows["optax scan"]["ns/iter (median)"])
    return f"{ours:.0f} ns/iter", f"optax in `lax.scan` {peer:.0f} ns", f"{peer / ours:.1f}×"


def _step(path: Path) -> tuple[str, str, str]:
    (row,) = [
        r
        for r in read_rows(path)
        if (r["rule"], r["dtype"], r["n"]) == ("adam", "float32", "10000000")
    ]
    ours, peer = float(row["numopt_ms"]), float(row["torch fused_ms"])
    return f"{ours:.2f} ms", f"torch fused Adam {peer:.2f} ms", f"{peer / ours:.2f}×"


ROWS = (
    Row(
        "L-BFGS-B, 100-D Rosenbrock, Numba objective, compiled loop",
        "lbfgs-dot-2026-12-08.txt",
        _lbfgs,
    ),
    Row(
        "10 000 three-parameter curve fits, `minimize_many` (L-BFGS-B)",
        "many-lbfgs-2026-12-07.txt",
        _many,
    ),
    Row("Adam, 100-D Rosenbrock, 10⁵ steps, compiled loop", "loop-peers-2026-12-06.txt", _loop),
    Row("One Adam step, N = 10⁷, float32", "compare-2026-11-25.csv", _step),
)


def table(link: Callable[[str], str] = lambda name: f"benchmarks/results/{name}") -> str:
    """The headline table, Markdown; ``link(file name)`` is where each row's date
    links to (the file, from the repository's root)."""
    lines = [
        "| what | numopt | against | × faster | measured (file) |",
        "|---|---|---|---|---|",
    ]
    for row in ROWS:
        path = RESULTS / row.file
        ours, peer, ratio = row.figures(path)
        where = f"[{measured(path)}]({link(row.file)})"
        lines.append(f"| {row.what} | {ours} | {peer} | {ratio} | {where} |")
    return "\n".join(lines)


def block() -> str:
    return f"{BEGIN}\n{table()}\n{END}"


def readme_with_table(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + block() + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update README.md")
    args = parser.parse_args(argv)
    if args.write:
        README.write_text(readme_with_table(README.read_text()))
    else:
        print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
