"""``minimize`` on the GPU: its cost per iteration against its parts, in one process.

A device-resident run (``options={"device": "cuda"}``) keeps ``x``, the gradient and
the rule's state on the device; each iteration calls the objective, reduces
``max|g|`` on the device (one float per block comes back), runs the rule's kernel
and does the host's bookkeeping.  This script times, for Adam on a quadratic
``f = ½ Σ a_i x_i²`` whose gradient one CUDA kernel writes in place
(``jac="inplace"``) and whose loss a device reduction sums:

* ``loop``: whole ``minimize`` runs of ``--steps`` and of twice as many updates; their
  difference over ``--steps`` is the cost of one more update, and the rest of the
  shorter run is the run's fixed cost (``x0`` to the device and the result back,
  the set-up, the final evaluation), reported apart (``fixed``);
* ``objective``: the objective called alone, ``--steps`` times;
* ``step``: ``numopt.Adam(...).step`` on the same device arrays, as often;

each the wall time of back-to-back calls ending in a synchronisation, round-robin
over ``--rounds`` rounds (medians).  ``loop − objective − step`` is what the loop
itself adds per update: the gradient's norm, the host's tests and the launches.

Usage (a machine with an NVIDIA GPU and numba-cuda)::

    python benchmarks/gpu_loop.py                        # N = 1e4 1e6 1e8, 200 steps
    python benchmarks/gpu_loop.py --sizes 1e6 --steps 1000 --out /tmp/loop.txt
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/gpu_loop.py --smoke   # the simulator: it runs

It writes ``benchmarks/results/gpu-loop-<date>.txt`` (``--out`` elsewhere; a smoke
run writes only with ``--out``).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from pathlib import Path

import numpy as np
from numba import config

import numopt

if __package__:
    from .gpu_compare import Timer, device_info
    from .machine import header, write_results
else:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.gpu_compare import Timer, device_info
    from benchmarks.machine import header, write_results

try:  # numba-cuda is the `cuda` extra
    from numba import cuda
except ImportError:  # pragma: no cover - main() says what is missing
    cuda = None

SIMULATOR = bool(config.ENABLE_CUDASIM)
THREADS = 256


def _gradient(x, a, grad, half_ax2):  # pragma: no cover - compiled
    i = cuda.grid(1)
    if i < x.size:
        ax = a[i] * x[i]
        grad[i] = ax
        half_ax2[i] = 0.5 * ax * x[i]


def _add(p, q):  # pragma: no cover - compiled
    return p + q


class Quadratic:
    """``f = ½ Σ a x²`` on the device: one kernel for the gradient (in place) and the
    terms, one reduction for the loss (its value comes back to the host)."""

    def __init__(self, n: int) -> None:
        self.a = cuda.to_device(np.linspace(1.0, 10.0, n))
        self.terms = cuda.device_array(n)
        self.kernel = cuda.jit(_gradient)
        self.total = cuda.reduce(_add)
        self.blocks = (n + THREADS - 1) // THREADS

    def __call__(self, x, grad) -> float:
        self.kernel[self.blocks, THREADS](x, self.a, grad, self.terms)
        return float(self.total(self.terms))


#: Host time per call of back-to-back calls ending in a synchronisation (gpu_compare's).
_per_call = Timer(None, 0).wall


def measure(n: int, steps: int, rounds: int) -> dict[str, float]:
    """Median seconds per update of the loop (one more update, and a run's fixed cost
    apart), of the objective and of the step, at size ``n``."""
    fun = Quadratic(n)
    x0 = np.ones(n)
    d_x, d_g = cuda.to_device(x0), cuda.device_array(n)
    opt = numopt.Adam(learning_rate=1e-3)

    def loop(updates: int) -> None:
        options = {"device": "cuda", "maxiter": updates, "gtol": 0, "ftol": 0}
        res = numopt.minimize(fun, x0, jac="inplace", method="adam", options=options)
        if res.nit != updates:
            raise RuntimeError(f"minimize made {res.nit} updates, not {updates}: {res.message}")

    contenders = {
        "short": lambda: _per_call(lambda: loop(steps), 1),
        "long": lambda: _per_call(lambda: loop(2 * steps), 1),
        "objective": lambda: _per_call(lambda: fun(d_x, d_g), steps),
        "step": lambda: _per_call(lambda: opt.step(d_x, d_g), steps),
    }
    for run in contenders.values():  # compile, warm
        run()
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            times[name].append(run())
    t = {k: statistics.median(v) for k, v in times.items()}
    per_update = (t["long"] - t["short"]) / steps
    return {
        "loop": per_update,
        "fixed": t["short"] - steps * per_update,
        "objective": t["objective"],
        "step": t["step"],
    }


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e6, 1e8])
    parser.add_argument("--steps", type=int, default=200, help="updates per run (200)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, help="results file (default results/gpu-loop-<date>.txt)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny run (the simulator's)")
    args = parser.parse_args(argv)
    if cuda is None:
        raise SystemExit("numba-cuda is missing: pip install -e '.[cuda]'")
    if not SIMULATOR and not cuda.is_available():
        raise SystemExit("no CUDA GPU here (NUMBA_ENABLE_CUDASIM=1 with --smoke runs it anyway)")
    if args.smoke:
        args.sizes, args.steps, args.rounds = [64.0], 3, 1
    command = shlex.join(["python", "benchmarks/gpu_loop.py", *(argv or sys.argv[1:])])
    lines = header("benchmarks/gpu_loop.py", None, command)
    lines.append(f"# device: {device_info()['name']}; Adam, float64, {args.steps} updates a run")
    lines.append(
        "# µs per update, medians of round-robin rounds: loop = one more update of a run, "
        "own = loop − objective − step; fixed: ms per run besides its updates"
    )
    lines.append(
        f"{'N':>10} {'loop':>10} {'objective':>10} {'step':>10} {'own':>10} {'fixed ms':>10}"
    )
    for line in lines:
        print(line)
    for n in (int(s) for s in args.sizes):
        t = measure(n, args.steps, args.rounds)
        own = t["loop"] - t["objective"] - t["step"]
        lines.append(
            f"{n:>10} {t['loop'] * 1e6:>10.1f} {t['objective'] * 1e6:>10.1f} "
            f"{t['step'] * 1e6:>10.1f} {own * 1e6:>10.1f} {t['fixed'] * 1e3:>10.2f}"
        )
        print(lines[-1], flush=True)
    write_results(lines, "gpu-loop", args.out, smoke=args.smoke)
    return lines


if __name__ == "__main__":
    main()
