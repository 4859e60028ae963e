"""Time per epoch of ``numopt.minimize`` over Dask arrays: 1 vs 2 workers, and vs NumPy.

A synthetic least-squares regression larger than a chunk (``--chunks`` chunks of
``--rows`` rows × ``--features`` features, float64), generated on the workers by
``dask.array.random``; the in-memory contender gets the same data as NumPy
arrays.  Contenders, measured round-robin in one process (both clusters stay up),
median over ``--rounds`` rounds:

* ``numpy``: the in-memory path (NumPy's BLAS with its default threads);
* ``numpy 1 thread``: the same with BLAS limited to one thread (threadpoolctl),
  the computing power of one single-threaded Dask worker;
* ``dask 1 worker`` / ``dask 2 workers``: a ``LocalCluster`` of worker processes
  with one thread each (Dask limits their BLAS to one thread).

Two modes: full-batch GD (an epoch is one iteration: a gradient over all chunks,
then the update) and mini-batch SGD (``--batch-size`` rows per batch; an epoch is
``Σ ceil(chunk rows / batch size)`` updates).  Each update's time is the median
interval between consecutive callbacks of one run (so persisting the data and the
final full evaluation are not counted); ``first`` is the time from the call to the
first callback (persisting, shipping ``fun``, the first evaluation).  A last table
times one evaluation on a tiny problem (one chunk of 1000 rows): Dask's fixed cost
per round trip, beside a bare ``client.submit(np.copy, w).result()`` (Dask's floor).

Usage: ``python benchmarks/dask_scaling.py [--rows 100000] [--chunks 4] [--features 20]
[--batch-size 10000] [--rounds 5] [--iters 8]``
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import numpy as np

import numopt


def least_squares(w, X, y):
    r = X @ w - y
    return 0.5 * float(r @ r) / len(y), X.T @ r / len(y)


def run(args: tuple, d: int, options: dict) -> tuple[float, float, int]:
    """One minimize run: (median seconds per update, seconds to the first update, updates)."""
    stamps: list[float] = []

    def tick(intermediate_result):
        stamps.append(time.perf_counter())

    start = time.perf_counter()
    res = numopt.minimize(
        least_squares,
        np.zeros(d),
        args=args,
        jac=True,
        method="sgd",
        callback=tick,
        options={"gtol": 0.0, **options},
    )
    steps = np.diff(stamps)
    return float(np.median(steps)), stamps[0] - start, res.nit


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=100_000, help="rows per chunk")
    p.add_argument("--chunks", type=int, default=4)
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters", type=int, default=8, help="full-batch iterations per run")
    a = p.parse_args()

    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the 1-thread NumPy contender needs it (scikit-learn brings it)
        threadpool_limits = None

    n, d = a.rows * a.chunks, a.features
    rng = da.random.default_rng(0)
    X = rng.standard_normal((n, d), chunks=(a.rows, d))
    y = X @ da.arange(1.0, d + 1, chunks=d) + 0.1 * rng.standard_normal(n, chunks=a.rows)
    with dask.config.set(scheduler="threads"):
        Xn, yn = dask.compute(X, y)  # the same data in memory, for the NumPy contenders
    clients = {}
    for workers in (1, 2):
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster, set_as_default=False)
        clients[f"dask {workers} worker{'s' * (workers > 1)}"] = client
    data = {}
    for name, client in clients.items():
        with client.as_current():
            data[name] = tuple(client.persist([X, y]))  # generated on the workers
            client.wait_for_workers(int(name.split()[1]))

    def numpy_1_thread():
        if threadpool_limits is None:
            raise RuntimeError("threadpoolctl is not installed")
        return threadpool_limits(1)

    contenders = {
        "numpy": ((Xn, yn), contextlib.nullcontext),
        "numpy 1 thread": ((Xn, yn), numpy_1_thread),
    }
    if threadpool_limits is None:
        del contenders["numpy 1 thread"]
    for name, client in clients.items():
        contenders[name] = (data[name], client.as_current)

    lr = 0.1
    per_epoch = sum(-(-a.rows // a.batch_size) for _ in range(a.chunks))
    modes = {
        "full batch (GD)": ({"learning_rate": lr, "maxiter": a.iters}, 1),
        f"mini-batch {a.batch_size}": (
            {"learning_rate": lr, "batch_size": a.batch_size, "maxiter": per_epoch, "seed": 0},
            per_epoch,
        ),
    }
    tiny_x = np.random.default_rng(1).standard_normal((1000, d))
    tiny = {"numpy": (tiny_x, tiny_x @ np.ones(d))}
    for name, client in clients.items():
        with client.as_current():
            tiny[name] = tuple(
                client.persist([da.from_array(tiny[("numpy")][0], chunks=(1000, d)),
                                da.from_array(tiny["numpy"][1], chunks=1000)])
            )  # fmt: skip

    for args, context in contenders.values():  # warm-up: kernels, imports on workers
        with context():
            run(args, d, {"learning_rate": lr, "maxiter": 3})
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    print(
        f"# least squares: {a.chunks} chunks x {a.rows} rows x {d} features float64 "
        f"({n * d * 8 / 2**20:.0f} MiB), median of {a.rounds} rounds"
    )
    for r in range(a.rounds):
        for mode, (options, _) in modes.items():
            for name, (args, context) in contenders.items():
                with context():
                    step, first, _ = run(args, d, options)
                times.setdefault((mode, name), []).append((step, first))
        for name, (_, context) in contenders.items():
            if name == "numpy 1 thread":
                continue
            with context():
                step, first, _ = run(tiny[name], d, {"learning_rate": lr, "maxiter": 20})
            times.setdefault(("tiny", name), []).append((step, first))
        for name, client in clients.items():  # Dask's floor: one trivial task, there and back
            w = np.zeros(d)
            trips = []
            for _ in range(20):
                t = time.perf_counter()
                client.submit(np.copy, w, pure=False).result()
                trips.append(time.perf_counter() - t)
            times.setdefault(("tiny", f"{name}: bare round trip"), []).append(
                (statistics.median(trips), 0.0)
            )
        print(f"# round {r + 1}/{a.rounds} done", flush=True)

    def med(key, i):
        return statistics.median(t[i] for t in times[key])

    for mode, (_, updates) in modes.items():
        print(f"\n## {mode}: {updates} update(s) per epoch")
        print(
            "| contender | ms per update | ms per epoch | × numpy | × numpy 1 thread "
            "| overhead vs numpy 1 thread, ms/update | first update, s |"
        )
        print("|---|---|---|---|---|---|---|")
        base = med((mode, "numpy"), 0)
        base1 = med((mode, "numpy 1 thread"), 0) if "numpy 1 thread" in contenders else None
        for name in contenders:
            step, first = med((mode, name), 0), med((mode, name), 1)
            ratio1 = f"{step / base1:.2f}" if base1 else "—"
            over = f"{(step - base1) * 1e3:+.1f}" if base1 else "—"
            print(
                f"| {name} | {step * 1e3:.2f} | {step * updates * 1e3:.1f} | {step / base:.2f} "
                f"| {ratio1} | {over} | {first:.2f} |"
            )
        one, two = med((mode, "dask 1 worker"), 0), med((mode, "dask 2 workers"), 0)
        print(f"\nscaling, 1 -> 2 workers: {one / two:.2f}x faster per epoch")
    print("\n## tiny problem (1 chunk of 1000 rows): Dask's fixed cost per evaluation")
    print("| contender | ms per update | overhead vs numpy, ms |")
    print("|---|---|---|")
    base = med(("tiny", "numpy"), 0)
    for name in [*tiny, *(f"{c}: bare round trip" for c in clients)]:
        step = med(("tiny", name), 0)
        print(f"| {name} | {step * 1e3:.3f} | {(step - base) * 1e3:+.2f} |")
    for client in clients.values():
        cluster = client.cluster
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
