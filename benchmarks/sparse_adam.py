"""SparseAdam against torch.optim.SparseAdam on the CPU: one step on an embedding table.

A float32 table of R rows × 64 columns; each step's gradient touches k row indices
drawn with repeats (as a batch of token ids does).  Contenders, each timed once per
round, round-robin, in one process (medians):

* ``numopt sparse``: ``numopt.SparseAdam().step(T, (indices, values))``;
* ``torch sparse``: ``torch.optim.SparseAdam.step()`` with the same gradient as a
  ``torch.sparse_coo_tensor`` (built once; torch coalesces it in the step, as numopt
  does);
* ``numopt Adam, dense``: ``numopt.Adam().step(T, G)`` on the whole table, what the
  update costs without laziness (only at R <= 10**6).

Usage::

    python benchmarks/sparse_adam.py [--rows 100000,1000000] [--touched 1024,16384]
        [--rounds 21] [--threads N] [--out FILE] [--smoke]

Writes ``benchmarks/results/sparse-adam-<date>.txt`` unless ``--smoke``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import numopt

if __package__:
    from .machine import Unavailable
    from .side_by_side import arguments, run
else:  # run as a script: benchmarks/ is on sys.path
    from machine import Unavailable
    from side_by_side import arguments, run

WIDTH = 64


def torch_stepper(table: np.ndarray, rows: np.ndarray, values: np.ndarray) -> Callable[[], object]:
    """torch.optim.SparseAdam on a copy of ``table``, its gradient set once."""
    try:
        import torch
    except ImportError as exc:
        raise Unavailable(f"torch is not installed ({exc})") from None
    p = torch.nn.Parameter(torch.tensor(table))
    p.grad = torch.sparse_coo_tensor(
        torch.tensor(rows)[None, :], torch.tensor(values), p.shape, check_invariants=False
    )
    opt = torch.optim.SparseAdam([p], lr=1e-3)
    return opt.step


def contenders(
    n_rows: int, k: int, with_torch: bool
) -> tuple[dict[str, Callable[[], object]], list[str]]:
    rng = np.random.default_rng(0)
    table = (0.1 * rng.standard_normal((n_rows, WIDTH))).astype(np.float32)
    rows = rng.integers(0, n_rows, k)
    values = (1e-3 * rng.standard_normal((k, WIDTH))).astype(np.float32)
    t, opt = table.copy(), numopt.SparseAdam()
    out: dict[str, Callable[[], object]] = {"numopt sparse": lambda: opt.step(t, (rows, values))}
    notes = []
    if with_torch:
        try:
            out["torch sparse"] = torch_stepper(table, rows, values)
        except Unavailable as exc:
            notes.append(f"# torch skipped: {exc}")
    if n_rows <= 10**6:
        dense_g = np.zeros_like(table)
        np.add.at(dense_g, rows, values)
        d, adam = table.copy(), numopt.Adam()
        out["numopt Adam, dense"] = lambda: adam.step(d, dense_g)
    return out, notes


def main(argv: list[str] | None = None) -> dict[tuple[int, int], dict[str, float]]:
    """Run the table; returns the medians (seconds) by (rows, touched) and contender."""
    parser = arguments(
        __doc__,
        {"rows": "100000,1000000", "touched": "1024,16384"},
        21,
        "1000 rows, 64 touched, no file",
    )
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.rows.split(",")]
    touched = [int(float(s)) for s in args.touched.split(",")]
    cases = [(1000, 64)] if args.smoke else [(r, k) for r in sizes for k in touched]
    return run(
        "benchmarks/sparse_adam.py",
        args,
        argv,
        title=f"one step on an R×{WIDTH} float32 table, k row indices (with repeats)",
        cases=cases,
        label=lambda case: f"R = {case[0]}, k = {case[1]}",
        contenders=lambda case, with_torch: contenders(*case, with_torch),
        ratios=[("torch sparse", "numopt sparse"), ("numopt Adam, dense", "numopt sparse")],
    )


if __name__ == "__main__":
    main()
