"""Adafactor against torch.optim.Adafactor on the CPU: one step on an n×n matrix.

Contenders, each timed once per round, round-robin, in one process (medians):

* ``numopt``: ``numopt.Adafactor().step(W, G)`` on float32 arrays;
* ``torch foreach`` and ``torch single``: ``torch.optim.Adafactor`` with
  ``foreach=True`` and ``False`` (torch has no fused Adafactor);
* ``numopt Adam``: ``numopt.Adam().step(W, G)``, a fused one-pass rule on the same
  matrix, for scale (Adafactor's step takes several passes: the norms of θ and of the
  update, the row and column means, the outer product).

Usage::

    python benchmarks/adafactor.py [--sizes 512,1024,2048,4096] [--rounds 11]
        [--threads N] [--out FILE] [--smoke]

Writes ``benchmarks/results/adafactor-<date>.txt`` unless ``--smoke``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import numopt

if __package__:
    from .machine import Unavailable
    from .side_by_side import arguments, run, sizes
else:  # run as a script: benchmarks/ is on sys.path
    from machine import Unavailable
    from side_by_side import arguments, run, sizes


def torch_steppers(w0: np.ndarray, g: np.ndarray) -> dict[str, Callable[[], object]]:
    """torch.optim.Adafactor, foreach and single-tensor, on copies of ``w0``."""
    try:
        import torch
    except ImportError as exc:
        raise Unavailable(f"torch is not installed ({exc})") from None
    out = {}
    for label, foreach in (("torch foreach", True), ("torch single", False)):
        p = torch.nn.Parameter(torch.tensor(w0))
        p.grad = torch.tensor(g)
        out[label] = torch.optim.Adafactor([p], foreach=foreach).step
    return out


def contenders(n: int, with_torch: bool) -> tuple[dict[str, Callable[[], object]], list[str]]:
    rng = np.random.default_rng(0)
    w0 = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32)
    g = (1e-3 * rng.standard_normal((n, n))).astype(np.float32)
    w, opt = w0.copy(), numopt.Adafactor()
    a, adam = w0.copy(), numopt.Adam()
    out: dict[str, Callable[[], object]] = {
        "numopt": lambda: opt.step(w, g),
        "numopt Adam": lambda: adam.step(a, g),
    }
    notes = []
    if with_torch:
        try:
            out.update(torch_steppers(w0, g))
        except Unavailable as exc:
            notes.append(f"# torch skipped: {exc}")
    return out, notes


def main(argv: list[str] | None = None) -> dict[int, dict[str, float]]:
    """Run the table; returns the medians (seconds) by n and contender."""
    parser = arguments(__doc__, {"sizes": "512,1024,2048,4096"}, 11, "n = 64, 1 round, no file")
    args = parser.parse_args(argv)
    return run(
        "benchmarks/adafactor.py",
        args,
        argv,
        title="one step on an n×n float32 matrix",
        cases=sizes(args, 64),
        label=lambda n: f"n = {n}",
        contenders=contenders,
        ratios=[(name, "numopt") for name in ("torch foreach", "torch single", "numopt Adam")],
    )


if __name__ == "__main__":
    main()
