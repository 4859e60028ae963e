"""Every rule's CUDA kernel against the GPU's copy bandwidth and torch.optim, in one process.

For each vector rule of :data:`numopt.RULES` (one name per class), dtype (float32,
float64) and N (10**6, 10**7, 10**8) this script times one update step of:

* numopt's CUDA kernel through the stateful API, ``opt.step(d_x, d_g)``;
* ``torch.optim`` on the same GPU where torch has the rule: ``fused=True`` (SGD,
  SGD with momentum, Adam, AdamW, and any other torch accepts it for) and
  ``foreach=True``; skipped when torch or its CUDA build is missing;

and the device's copy bandwidth: a device-to-device ``cudaMemcpy`` and a
grid-stride copy kernel, 2·N·itemsize bytes each; the faster is the roofline.  A
rule reading θ, g and k state arrays and writing θ and the k arrays moves
``(3 + 2k)·N·itemsize`` bytes per step, so its fraction of the roofline is
``bytes / time / copy bandwidth``.

Times are GPU times between CUDA events, with the queue kept busy by a short
sleep kernel launched just before, so that the host's launch overhead (Numba's
or torch's Python side) is not counted; the ``wall`` columns give the other
view, the host's time per step of 20 back-to-back steps.  Contenders run
round-robin (each round times every contender once); tables show medians, and
ratios of medians (torch's time over numopt's: > 1 means numopt is faster).

Usage (on a machine with an NVIDIA GPU, the ``cuda`` and ``peers`` extras)::

    python benchmarks/gpu_compare.py                   # N = 1e6 1e7 1e8, 11 rounds
    python benchmarks/gpu_compare.py --sizes 1e6 --rounds 5 --rules adam adamw
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/gpu_compare.py --smoke --out /tmp/x

It prints a Markdown table (device, date, versions) and writes it with a JSON
record to ``benchmarks/results/gpu-compare-<date>.{md,json}`` (``--out``
elsewhere).  ``--smoke`` runs tiny arrays in Numba's CUDA simulator with the
wall clock (no GPU, no figures worth quoting): the test suite runs it so that the
script keeps working.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import config

import numopt

if __package__:
    from .common import rule_names
else:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.common import rule_names

try:  # numba-cuda is the `cuda` extra; asv imports this module without it
    from numba import cuda
except ImportError:  # pragma: no cover - main() says what is missing
    cuda = None

SIMULATOR = bool(config.ENABLE_CUDASIM)
RESULTS = Path(__file__).resolve().parent / "results"

#: torch.optim's class and options for each numopt rule whose update torch has
#: (numopt's defaults; the comparison is of speed at equal memory traffic).
TORCH = {
    "gd": ("SGD", {"lr": 1e-3}),
    "momentum": ("SGD", {"lr": 1e-3, "momentum": 0.9}),
    "rmsprop": ("RMSprop", {"lr": 1e-2, "alpha": 0.9}),
    "adam": ("Adam", {"lr": 1e-3}),
    "adamw": ("AdamW", {"lr": 1e-3, "weight_decay": 0.01}),
    "adagrad": ("Adagrad", {"lr": 1e-2}),
    "adadelta": ("Adadelta", {}),
    "adamax": ("Adamax", {}),
    "nadam": ("NAdam", {}),
    "radam": ("RAdam", {}),
    "rprop": ("Rprop", {}),
}


# -- timing ---------------------------------------------------------------------------
def _sleep(microseconds):  # pragma: no cover - compiled
    for _ in range(microseconds):
        cuda.nanosleep(1000)


def _copy(dst, src):  # pragma: no cover - compiled
    for i in range(cuda.grid(1), dst.size, cuda.gridsize(1)):
        dst[i] = src[i]


@functools.cache
def kernels() -> tuple[Callable, Callable]:
    """The sleep and copy kernels (compiled on first use: numba-cuda is optional)."""
    return cuda.jit(_sleep), cuda.jit(_copy)


class Timer:
    """GPU time of one call, between CUDA events, the queue kept busy ahead.

    In the simulator (``--smoke``) events record nothing, so it uses the wall clock.
    """

    def __init__(self, torch: Any, ahead_us: int) -> None:
        self.torch, self.ahead_us = torch, ahead_us

    def __call__(self, fn: Callable[[], Any], uses_torch: bool = False) -> float:
        if SIMULATOR:
            t = time.perf_counter()
            fn()
            return time.perf_counter() - t
        kernels()[0][1, 1](self.ahead_us)  # the host enqueues the events and fn meanwhile
        if uses_torch:
            start, end = (self.torch.cuda.Event(enable_timing=True) for _ in range(2))
        else:
            start, end = cuda.event(timing=True), cuda.event(timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3  # ms -> s

    def wall(self, fn: Callable[[], Any], repeat: int, uses_torch: bool = False) -> float:
        """Host time per call of ``repeat`` back-to-back calls (launch overhead included)."""
        sync = self.torch.cuda.synchronize if uses_torch else cuda.synchronize
        sync()
        t = time.perf_counter()
        for _ in range(repeat):
            fn()
        sync()
        return (time.perf_counter() - t) / repeat


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    if SIMULATOR or not torch.cuda.is_available():
        return None
    return torch


def _torch_step(torch: Any, method: str, impl: str, x0: np.ndarray, g: np.ndarray) -> Any:
    """``step()`` of torch.optim's version of ``method`` (None: torch refuses ``impl``)."""
    name, kwargs = TORCH[method]
    p = torch.nn.Parameter(torch.from_numpy(x0).cuda())
    p.grad = torch.from_numpy(g).cuda()
    try:
        opt = getattr(torch.optim, name)([p], **kwargs, **{impl: True})
        opt.step()  # builds the state; raises here if the implementation is refused
    except (RuntimeError, TypeError, ValueError):
        return None
    torch.cuda.synchronize()
    return opt.step


# -- one size and dtype ------------------------------------------------------------------
def measure(n: int, dtype: Any, methods: list[str], rounds: int, torch: Any, timer: Timer):
    """Rows for every method at size ``n``, and the copy bandwidths."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(n).astype(dtype)
    g0 = (rng.standard_normal(n) * 1e-3).astype(dtype)
    itemsize = np.dtype(dtype).itemsize
    src, dst = cuda.to_device(x0), cuda.device_array(n, dtype)
    from numopt.kernels import cuda as numopt_cuda

    blocks, threads = numopt_cuda.launch_config(n)
    copy_kernel = kernels()[1]

    contenders: dict[tuple[str, str], tuple[Callable, bool]] = {
        ("copy", "memcpy"): (lambda: dst.copy_to_device(src), False),
        ("copy", "kernel"): (lambda: copy_kernel[blocks, threads](dst, src), False),
    }
    traffic = {}
    for method in methods:
        opt = numopt.RULES[method]()
        d_x, d_g = cuda.to_device(x0), cuda.to_device(g0)
        opt.step(d_x, d_g)  # compiles, allocates the state
        traffic[method] = (3 + 2 * len(opt.state_names)) * n * itemsize
        contenders[(method, "numopt")] = (lambda o=opt, a=d_x, b=d_g: o.step(a, b), False)
        if torch is not None and method in TORCH:
            for impl in ("fused", "foreach"):
                step = _torch_step(torch, method, impl, x0, g0)
                if step is not None:
                    contenders[(method, f"torch {impl}")] = (step, True)
    cuda.synchronize()

    times: dict[tuple[str, str], list[float]] = {key: [] for key in contenders}
    for _ in range(rounds):  # round-robin: drift hits every contender alike
        for key, (fn, uses_torch) in contenders.items():
            times[key].append(timer(fn, uses_torch))
    wall = {
        key: timer.wall(fn, 20 if not SIMULATOR else 1, uses_torch)
        for key, (fn, uses_torch) in contenders.items()
        if key[0] != "copy" and key[1] in ("numopt", "torch fused")
    }
    med = {key: statistics.median(v) for key, v in times.items()}
    copy_bw = {impl: 2 * n * itemsize / med[("copy", impl)] for impl in ("memcpy", "kernel")}
    roof = max(copy_bw.values())
    dtype_name = np.dtype(dtype).name
    rows = []
    for method in methods:
        t = med[(method, "numopt")]
        row = {
            "rule": method,
            "dtype": dtype_name,
            "n": n,
            "numopt_s": t,
            "bytes": traffic[method],
            "gbps": traffic[method] / t / 1e9,
            "of_copy_bw": traffic[method] / t / roof,
            "numopt_wall_s": wall[(method, "numopt")],
        }
        for impl in ("fused", "foreach"):
            key = (method, f"torch {impl}")
            row[f"torch_{impl}_s"] = med.get(key)
            row[f"x_torch_{impl}"] = med[key] / t if key in med else None
        row["torch_fused_wall_s"] = wall.get((method, "torch fused"))
        row["rounds"] = times[(method, "numopt")]
        rows.append(row)
    copy = {
        "dtype": dtype_name,
        "n": n,
        **{f"{impl}_gbps": bw / 1e9 for impl, bw in copy_bw.items()},
        **{f"{impl}_s": med[("copy", impl)] for impl in ("memcpy", "kernel")},
    }
    return rows, copy


# -- output ---------------------------------------------------------------------------------
def device_info() -> dict[str, Any]:
    if SIMULATOR:
        return {"name": "Numba CUDA simulator (no GPU)", "simulator": True}
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    info = {
        "name": name,
        "compute_capability": list(dev.compute_capability),
        "multiprocessors": dev.MULTIPROCESSOR_COUNT,
        "simulator": False,
    }
    try:
        info["runtime"] = list(cuda.runtime.get_version())
        info["driver"] = list(cuda.cudadrv.driver.driver.get_version())
    except Exception:  # pragma: no cover - version queries vary across numba-cuda releases
        pass
    return info


def _fmt(v: float | None, scale: float = 1.0, digits: int = 1) -> str:
    return "—" if v is None else f"{v * scale:.{digits}f}"


def markdown(record: dict[str, Any]) -> str:
    dev = record["device"]
    head = [
        f"Device: {dev['name']}"
        + (
            f" (compute capability {'.'.join(map(str, dev['compute_capability']))}, "
            f"{dev['multiprocessors']} SMs)"
            if not dev["simulator"]
            else ""
        ),
        f"Date: {record['date']}; {record['versions']}",
        (
            "SMOKE RUN in the CUDA simulator: wall-clock times of Python threads, not GPU "
            "figures; do not quote them."
            if record["smoke"]
            else f"Medians of {record['rounds']} interleaved rounds; GPU times between CUDA "
            "events (host launch overhead excluded), wall = host time per step, 20 back to back."
        ),
        "",
        "| N | dtype | memcpy D2D GB/s | copy kernel GB/s |",
        "|---|---|---|---|",
    ]
    for c in record["copy"]:
        head.append(
            f"| {c['n']:.0e} | {c['dtype']} | {c['memcpy_gbps']:.0f} | {c['kernel_gbps']:.0f} |"
        )
    head += [
        "",
        "| rule | dtype | N | numopt µs | GB/s | of copy BW | wall µs | torch fused µs "
        "| × fused | torch foreach µs | × foreach | torch fused wall µs |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in record["rows"]:
        head.append(
            f"| {r['rule']} | {r['dtype']} | {r['n']:.0e} | {_fmt(r['numopt_s'], 1e6)} "
            f"| {r['gbps']:.0f} | {r['of_copy_bw']:.2f} | {_fmt(r['numopt_wall_s'], 1e6)} "
            f"| {_fmt(r['torch_fused_s'], 1e6)} | {_fmt(r['x_torch_fused'], 1, 2)} "
            f"| {_fmt(r['torch_foreach_s'], 1e6)} | {_fmt(r['x_torch_foreach'], 1, 2)} "
            f"| {_fmt(r['torch_fused_wall_s'], 1e6)} |"
        )
    return "\n".join(head) + "\n"


def summary(record: dict[str, Any]) -> str:
    """The issue's targets at the largest N, computed (never asserted)."""
    n = max(r["n"] for r in record["rows"])
    rows = [r for r in record["rows"] if r["n"] == n]
    worst = min(rows, key=lambda r: r["of_copy_bw"])
    lines = [
        f"At N = {n:.0e}: lowest fraction of copy bandwidth {worst['of_copy_bw']:.2f} "
        f"({worst['rule']}, {worst['dtype']}; target >= 0.85)"
    ]
    for r in rows:
        if r["rule"] in ("adam", "adamw") and r["x_torch_fused"] is not None:
            lines.append(
                f"  {r['rule']} {r['dtype']}: torch fused / numopt = {r['x_torch_fused']:.2f} "
                "(target >= 1.0)"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7, 1e8])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--rules", nargs="+", default=None, help="default: every rule")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--ahead-us", type=int, default=300, help="sleep kernel before each timing")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the .md and .json")
    parser.add_argument("--smoke", action="store_true", help="tiny N in the CUDA simulator")
    args = parser.parse_args(argv)
    if cuda is None:
        parser.error("numba-cuda is not installed: pip install -e '.[cuda]'")
    if args.smoke:
        if not SIMULATOR:
            parser.error("--smoke runs in the simulator: set NUMBA_ENABLE_CUDASIM=1")
        args.sizes, args.rounds = [40], 2
    elif SIMULATOR:
        parser.error(
            "the simulator gives no GPU figures; use --smoke, or unset NUMBA_ENABLE_CUDASIM"
        )
    elif not cuda.is_available():
        parser.error("numba-cuda sees no GPU")
    methods = args.rules or rule_names()
    unknown = sorted(set(methods) - set(numopt.RULES))
    if unknown:
        parser.error(f"unknown rules {unknown}; choose from {sorted(numopt.RULES)}")
    torch = None if args.no_torch else _torch()
    timer = Timer(torch, args.ahead_us)
    versions = (
        f"Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}"
    )
    try:
        from importlib.metadata import version

        versions += f", numba-cuda {version('numba-cuda')}"
    except Exception:  # pragma: no cover - not installed as a distribution
        pass
    versions += f", torch {torch.__version__}" if torch is not None else ", torch: not used"
    rows, copies = [], []
    for dtype_name in args.dtypes:
        for n in (int(s) for s in args.sizes):
            r, c = measure(n, np.dtype(dtype_name).type, methods, args.rounds, torch, timer)
            rows += r
            copies.append(c)
            print(f"done: N = {n:.0e} {dtype_name}", file=sys.stderr, flush=True)
    record = {
        "device": device_info(),
        "date": datetime.date.today().isoformat(),
        "versions": versions,
        "rounds": args.rounds,
        "smoke": bool(args.smoke),
        "copy": copies,
        "rows": rows,
    }
    text = markdown(record)
    print(text)
    print(summary(record))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"gpu-compare{'-smoke' if args.smoke else ''}-{record['date']}"
    (args.out / f"{stem}.md").write_text(text + "\n" + summary(record) + "\n")
    (args.out / f"{stem}.json").write_text(json.dumps(record, indent=1, default=float))
    return record


if __name__ == "__main__":
    main()
