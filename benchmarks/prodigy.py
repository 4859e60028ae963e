"""Prodigy against optax.contrib.prodigy on the CPU: one step on a vector of N.

Contenders, each timed once per round, round-robin, in one process (medians), float64:

* ``numopt``: ``numopt.Prodigy().step(x, g)`` (NumPy expressions: two reductions and
  the AdamW-like update, several passes);
* ``optax jit``: ``optax.contrib.prodigy``'s update and ``apply_updates`` in one
  ``jax.jit`` function, parameters and state donated (skipped without jax/optax);
* ``numopt AdamW``: numopt's fused one-pass AdamW step on the same vector, for scale.

Usage::

    python benchmarks/prodigy.py [--sizes 1e5,1e6,1e7] [--rounds 11]
        [--threads N] [--out FILE] [--smoke]

Writes ``benchmarks/results/prodigy-<date>.txt`` unless ``--smoke``.  (``--no-torch``
leaves optax out.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import numopt

if __package__:
    from .compare import optax_step
    from .side_by_side import arguments, run, sizes
else:  # run as a script: benchmarks/ is on sys.path
    from compare import optax_step
    from side_by_side import arguments, run, sizes


def contenders(n: int, with_peers: bool) -> tuple[dict[str, Callable[[], object]], list[str]]:
    rng = np.random.default_rng(0)
    x0, g = rng.standard_normal(n), 1e-3 * rng.standard_normal(n)
    x, opt = x0.copy(), numopt.Prodigy()
    y, adamw = x0.copy(), numopt.AdamW()
    out: dict[str, Callable[[], object]] = {
        "numopt": lambda: opt.step(x, g),
        "numopt AdamW": lambda: adamw.step(y, g),
    }
    notes = []
    if with_peers:
        try:
            out["optax jit"] = optax_step("prodigy", numopt.Prodigy().hyperparameters, x0, g)
        except (ImportError, TypeError) as exc:  # no jax/optax: optax_step cannot build
            notes.append(f"# optax skipped: {exc}")
    return out, notes


def main(argv: list[str] | None = None) -> dict[int, dict[str, float]]:
    """Run the table; returns the medians (seconds) by N and contender."""
    parser = arguments(__doc__, {"sizes": "1e5,1e6,1e7"}, 11, "N = 1000, 1 round, no file")
    args = parser.parse_args(argv)
    return run(
        "benchmarks/prodigy.py",
        args,
        argv,
        title="one step on a float64 vector of N",
        cases=sizes(args, 1000),
        label=lambda n: f"N = {n}",
        contenders=contenders,
        ratios=[("optax jit", "numopt"), ("numopt AdamW", "numopt")],
    )


if __name__ == "__main__":
    main()
