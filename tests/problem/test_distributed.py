"""numopt.minimize over Dask arrays on a dask.distributed LocalCluster (numopt.distributed).

One cluster of two worker processes serves the module; each test makes it the
current client.  The data are small (a few chunks), so the whole file runs in
seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

distributed = pytest.importorskip("distributed")  # a guard only: CI installs dask
da = pytest.importorskip("dask.array")

import numopt  # noqa: E402
from numopt.problem import distributed as nd  # noqa: E402
from numopt.problem.batching import Batches  # noqa: E402

N, D = 600, 4


def data(n=N, d=D, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (X @ np.arange(1.0, d + 1) + 0.1 * rng.standard_normal(n)).astype(dtype)
    return X, y


def chunked(X, y, rows):
    return da.from_array(X, chunks=(rows, X.shape[1])), da.from_array(y, chunks=rows)


def ls(w, X, y):
    r = X @ w - y
    return 0.5 * float(r @ r) / len(y), X.T @ r / len(y)


def ls_loss(w, X, y):
    return ls(w, X, y)[0]


def ls_grad(w, X, y):
    return ls(w, X, y)[1]


@pytest.fixture(scope="module")
def cluster_client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    )
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture
def client(cluster_client):
    with cluster_client.as_current():
        yield cluster_client


# -- full batch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "jac"),
    [(600, "True"), (150, "True"), (25, "True"), (150, "callable"), (150, "2-point")],
    ids=["1 chunk", "4 chunks", "24 chunks (a tree of sums)", "jac callable", "2-point"],
)
def test_full_batch_gradient_and_counts_equal_in_memory(client, rows, jac):
    X, y = data()
    fun, jac_ = {"True": (ls, True), "callable": (ls_loss, ls_grad), "2-point": (ls_loss, None)}[
        jac
    ]
    x0 = np.random.default_rng(1).standard_normal(D)
    opts = {"maxiter": 0}  # no update: res.fun and res.jac are evaluated at x0 on all data
    mem = numopt.minimize(fun, x0, args=(X, y), jac=jac_, method="gd", options=opts)
    dsk = numopt.minimize(fun, x0, args=chunked(X, y, rows), jac=jac_, method="gd", options=opts)
    rtol = 1e-6 if jac == "2-point" else 1e-13  # finite differences amplify rounding by 1/h
    np.testing.assert_allclose(dsk.jac, mem.jac, rtol=rtol)
    assert dsk.fun == pytest.approx(mem.fun, rel=1e-13)
    assert (dsk.nfev, dsk.njev) == (mem.nfev, mem.njev)  # one full evaluation counts one


def test_full_batch_run_equals_in_memory_and_repeats_bit_for_bit(client):
    X, y = data()
    opts = {"learning_rate": 0.3, "maxiter": 25}
    mem = numopt.minimize(ls, np.zeros(D), args=(X, y), jac=True, method="adam", options=opts)
    runs = [
        numopt.minimize(ls, np.zeros(D), args=chunked(X, y, 150), jac=True, method="adam",
                        options=opts)
        for _ in range(2)
    ]  # fmt: skip
    np.testing.assert_allclose(runs[0].x, mem.x, rtol=1e-12)
    assert (runs[0].nit, runs[0].nfev, runs[0].status) == (mem.nit, mem.nfev, mem.status)
    np.testing.assert_array_equal(runs[0].x, runs[1].x)  # a fixed summation order


def test_large_x_is_scattered_and_gives_the_same_result(client, monkeypatch):
    X, y = data()
    opts = {"learning_rate": 0.3, "maxiter": 5}
    args = chunked(X, y, 200)
    sent = numopt.minimize(ls, np.zeros(D), args=args, jac=True, method="gd", options=opts)
    monkeypatch.setattr(nd, "SCATTER_ABOVE", 0)
    scattered = numopt.minimize(ls, np.zeros(D), args=args, jac=True, method="gd", options=opts)
    np.testing.assert_array_equal(sent.x, scattered.x)


def test_float32_structured_x0_and_non_data_args(client):
    X, y = data(dtype=np.float32)
    scale = np.float32(2.0)

    def loss(p, X, y, s):
        r = X @ p["w"] + p["b"][0] - y
        g = X.T @ r / len(y)
        return s * 0.5 * float(r @ r) / len(y), {"w": s * g, "b": s * np.array([r.mean()])}

    x0 = {"w": np.zeros(D, np.float32), "b": np.zeros(1, np.float32)}
    opts = {"learning_rate": 0.1, "maxiter": 20}
    mem = numopt.minimize(loss, x0, args=(X, y, scale), jac=True, method="gd", options=opts)
    dsk = numopt.minimize(
        loss, x0, args=(*chunked(X, y, 150), scale), jac=True, method="gd", options=opts
    )
    assert dsk.x["w"].dtype == np.float32 and set(dsk.x) == {"w", "b"}
    np.testing.assert_allclose(dsk.x["w"], mem.x["w"], rtol=1e-5)


def test_numpy_args_not_named_in_data_args_reach_every_chunk_whole(client):
    X, y = data()
    target = np.arange(1.0, D + 1)  # an array argument that is not data

    def loss(w, X, y, t):
        assert t.shape == (D,) and len(X) == len(y) <= 150
        return ls(w, X, y)[0] + 0.5 * float((w - t) @ (w - t)), ls(w, X, y)[1] + (w - t)

    args = (*chunked(X, y, 150), target)
    for extra in ({"maxiter": 3}, {"batch_size": 50, "epochs": 1, "seed": 0}):
        res = numopt.minimize(
            loss, np.zeros(D), args=args, jac=True, method="sgd",
            options={"learning_rate": 0.1, "data_args": [0, 1], **extra},
        )  # fmt: skip
        assert np.all(np.isfinite(res.x))


def test_a_numba_fun_runs_on_the_workers_in_the_python_loop(client):
    numba = pytest.importorskip("numba")
    X, y = data()

    @numba.njit
    def nb_quad(w, X, y):  # cheap to compile: the data only set the scale
        return 0.5 * (w * w).sum() * y.shape[0] / X.shape[0], w * (y.shape[0] / X.shape[0])

    opts = {"learning_rate": 0.3, "maxiter": 10}
    x0 = np.ones(D)
    mem = numopt.minimize(nb_quad.py_func, x0, args=(X, y), jac=True, method="gd", options=opts)
    dsk = numopt.minimize(nb_quad, x0, args=chunked(X, y, 300), jac=True, method="gd",
                          options=opts)  # fmt: skip
    assert not dsk.get("compiled", False)  # the compiled loop cannot call the workers
    np.testing.assert_allclose(dsk.x, mem.x, rtol=1e-14)


# -- mini-batches ----------------------------------------------------------------------

SGD = {"learning_rate": 0.05, "batch_size": 32, "epochs": 2, "seed": 4}


def test_one_chunk_gives_exactly_the_in_memory_batches(client):
    X, y = data()
    mem = numopt.minimize(ls, np.zeros(D), args=(X, y), jac=True, method="adam", options=SGD)
    dsk = numopt.minimize(
        ls, np.zeros(D), args=chunked(X, y, N), jac=True, method="adam", options=SGD
    )
    np.testing.assert_array_equal(dsk.x, mem.x)
    assert (dsk.nit, dsk.nfev, dsk.epochs, dsk.fun) == (mem.nit, mem.nfev, mem.epochs, mem.fun)


def test_several_chunks_shuffle_otherwise_and_still_converge(client):
    X, y = data()
    want = np.linalg.lstsq(X, y, rcond=None)[0]
    opts = {**SGD, "learning_rate": lambda k: 0.2 / (1 + k / 20), "epochs": 5}
    dsk = numopt.minimize(ls, np.zeros(D), args=chunked(X, y, 150), jac=True, method="sgd",
                          options=opts)  # fmt: skip
    mem = numopt.minimize(ls, np.zeros(D), args=(X, y), jac=True, method="sgd", options=opts)
    assert dsk.status == 7 and dsk.nit == 5 * 4 * 5  # per_epoch = Σ ceil(150 / 32)
    assert mem.nit == 5 * 19  # in memory: ceil(600 / 32); batches never span chunks with Dask
    assert not np.array_equal(dsk.x, mem.x)  # documented: other batches for the same seed
    np.testing.assert_allclose(dsk.x, want, atol=0.02)
    assert dsk.fun == pytest.approx(ls(dsk.x, X, y)[0], rel=1e-12)  # final loss on all data


def test_checkpoint_resume_of_a_minibatch_run_is_exact(client, tmp_path):
    X, y = data()
    args = chunked(X, y, 150)
    path = tmp_path / "run.npz"
    opts = {**SGD, "checkpoint": path}
    whole = numopt.minimize(ls, np.zeros(D), args=args, jac=True, method="adam", options=SGD)
    first = numopt.minimize(ls, np.zeros(D), args=args, jac=True, method="adam",
                            options={**opts, "maxiter": 27})  # fmt: skip
    assert first.nit == 27 and first.status == 1  # stopped mid-epoch (20 batches per epoch)
    later = numopt.minimize(ls, np.zeros(D), args=args, jac=True, method="adam",
                            options={**opts, "resume": path})  # fmt: skip
    np.testing.assert_array_equal(later.x, whole.x)
    assert later.nit == whole.nit


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 12), min_size=1, max_size=6).filter(lambda s: max(s) > 0),
    data=st.data(),
)
def test_batches_are_chunk_local_and_cover_each_row_once(sizes, data):
    batch_size = data.draw(st.integers(1, max(sizes)))
    drop_last = data.draw(st.booleans())
    b = nd.DaskBatches(sizes, batch_size, seed=data.draw(st.integers(0, 9)), drop_last=drop_last)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    order = b.new_order()
    assert sorted(order.tolist()) == list(range(sum(sizes)))
    batches = list(b.epoch(order))
    assert len(batches) == b.per_epoch
    per = [(n // batch_size) if drop_last else -(-n // batch_size) for n in sizes]
    assert b.per_epoch == sum(per)
    seen = []
    for batch in batches:
        assert 0 < len(batch.rows) <= batch_size and sizes[batch.chunk] > 0
        assert drop_last <= (len(batch.rows) == batch_size)
        seen += (offsets[batch.chunk] + batch.rows).tolist()
    if not drop_last:
        assert seen == order.tolist()  # the order is chunk after chunk: batches follow it
    k = data.draw(st.integers(0, len(batches)))
    resumed = list(b.epoch(order, k))  # resuming an epoch gives the same remaining batches
    assert [(r.chunk, r.rows.tolist()) for r in resumed] == [
        (r.chunk, r.rows.tolist()) for r in batches[k:]
    ]
    unshuffled = nd.DaskBatches(sizes, batch_size, shuffle=False, drop_last=drop_last)
    assert [bb.chunk for bb in unshuffled.epoch()] == [
        c for c, n in enumerate(per) for _ in range(n)
    ]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 50), data=st.data())
def test_one_chunk_draws_the_permutations_of_batches(n, data):
    batch_size, seed = data.draw(st.integers(1, n)), data.draw(st.integers(0, 99))
    mem = Batches((np.arange(n),), batch_size, seed=seed)
    dsk = nd.DaskBatches([n], batch_size, seed=seed)
    for _ in range(3):  # three epochs
        want = [b[0].tolist() for b in mem.epoch()]
        assert [b.rows.tolist() for b in dsk.epoch()] == want


def test_an_order_of_other_chunks_is_refused():
    order = nd.DaskBatches([6], 2, seed=0).new_order()  # a checkpoint made with one chunk
    with pytest.raises(ValueError, match="does not follow the chunks of the Dask data"):
        list(nd.DaskBatches([3, 3], 2, seed=0).epoch(order))
    with pytest.raises(ValueError, match=r"the epoch's order has shape \(6,\), not \(7,\)"):
        list(nd.DaskBatches([4, 3], 2, seed=0).epoch(order))


# -- failures --------------------------------------------------------------------------


def test_a_worker_killed_mid_run_is_survived(client):
    X, y = data()
    args = chunked(X, y, 100)  # six chunks over both workers
    opts = {"learning_rate": 0.3, "maxiter": 60}
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one(intermediate_result):
        if intermediate_result.nit == 10:
            os.kill(pids[0], signal.SIGKILL)  # the nanny starts a new worker process
            killed.append(pids[0])

    mem = numopt.minimize(ls, np.zeros(D), args=(X, y), jac=True, method="adam", options=opts)
    res = numopt.minimize(ls, np.zeros(D), args=args, jac=True, method="adam", options=opts,
                          callback=kill_one)  # fmt: skip
    assert killed and res.nit == 60 and np.all(np.isfinite(res.x))
    # lost chunks are recomputed, lost tasks rerun: the same numbers as in memory
    np.testing.assert_allclose(res.x, mem.x, rtol=1e-12)
    client.wait_for_workers(2, timeout=60)
    assert pids[0] not in client.run(os.getpid).values()


def test_errors_of_fun_on_the_workers_reach_the_caller(client):
    X, y = data()
    with pytest.raises(TypeError, match="fun must return a real scalar"):
        numopt.minimize(
            lambda w, X, y: X @ w, np.zeros(D), method="adam", args=chunked(X, y, 150), jac=ls_grad
        )
    with pytest.raises(ValueError, match=r"jac returned shape \(3,\) but x0 has shape \(4,\)"):
        numopt.minimize(ls_loss, np.zeros(D), method="adam", args=chunked(X, y, 150),
                        jac=lambda w, X, y: w[:3], options={"batch_size": 10})  # fmt: skip


def test_unpicklable_fun_is_named(client):
    X, y = data()
    lock = threading.Lock()

    def loss(w, X, y):
        with lock:
            return ls(w, X, y)

    with pytest.raises(TypeError, match="must be picklable to run on the Dask workers"):
        numopt.minimize(loss, np.zeros(D), method="adam", args=chunked(X, y, 150), jac=True)


def test_large_closures_warn(client):
    X, y = data()
    big = np.zeros(300_000)

    def loss(w, X, y):
        return ls(w, X, y)[0] + big[0], ls(w, X, y)[1]

    with pytest.warns(UserWarning, match="sent with every task"):
        numopt.minimize(loss, np.zeros(D), method="adam", args=chunked(X, y, 300), jac=True,
                        options={"maxiter": 1})  # fmt: skip


@pytest.mark.parametrize(
    ("make_args", "options", "exc", "match"),
    [
        (
            lambda X, y: (da.from_array(X, chunks=(150, D)), y),
            {},
            TypeError,
            r"args\[1\] is a NumPy array but args\[0\] is a Dask array",
        ),
        (
            lambda X, y: (da.from_array(X, chunks=(150, D)), da.from_array(y, chunks=200)),
            {},
            ValueError,
            "must be chunked alike along the rows",
        ),
        (
            lambda X, y: (da.from_array(X, chunks=(150, D)), da.from_array(y[:500], chunks=150)),
            {},
            ValueError,
            r"share their first-axis length.*args\[1\] has 500",
        ),
        (
            lambda X, y: (da.from_array(X, chunks=(150, 2)), da.from_array(y, chunks=150)),
            {},
            ValueError,
            r"args\[0\] is chunked along axis 1: each chunk must hold whole rows",
        ),
        (
            lambda X, y: (*chunked(X, y, 150), da.ones(D, chunks=2)),
            {"data_args": [0, 1]},
            ValueError,
            r"args\[2\] is a Dask array not named in options\['data_args'\]",
        ),
        (
            lambda X, y: chunked(X, y, 150),
            {"batch_size": 200},
            ValueError,
            r"between 1 and the largest chunk's rows \(150\)",
        ),
        (
            lambda X, y: chunked(X, y, 150),
            {"seed": 0},
            ValueError,
            "seed apply to mini-batches",
        ),
    ],
    ids=["mixed", "chunks", "lengths", "columns", "unnamed", "batch_size", "seed"],
)
def test_bad_dask_inputs(client, make_args, options, exc, match):
    X, y = data()
    with pytest.raises(exc, match=match):
        numopt.minimize(
            ls, np.zeros(D), method="adam", args=make_args(X, y), jac=True, options=options
        )


def test_unknown_chunk_sizes_and_other_collections_are_named(client):
    X, y = data()
    dX, dy = chunked(X, y, 150)
    with pytest.raises(ValueError, match="unknown chunk sizes; compute them first"):
        numopt.minimize(ls, np.zeros(D), method="adam", args=(dX[dy > 0], dy[dy > 0]), jac=True)
    import dask

    with pytest.raises(TypeError, match=r"args\[0\] is a Dask Delayed\w*, not a Dask array"):
        numopt.minimize(ls, np.zeros(D), method="adam", args=(dask.delayed(X), dy), jac=True)


def test_no_client_is_a_clear_error():
    X, y = data()
    with pytest.raises(RuntimeError, match=r"no dask\.distributed Client is running"):
        numopt.minimize(ls, np.zeros(D), method="adam", args=chunked(X, y, 150), jac=True)


def test_numopt_imports_dask_only_for_dask_data():
    code = (
        "import sys, numpy as np, numopt\n"
        "numopt.minimize(lambda x, a: float(x @ x), np.ones(2), args=(np.ones((3, 2)),),\n"
        "                jac=lambda x, a: 2 * x, options={'batch_size': 2, 'epochs': 1})\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]\n"
        "assert 'numopt.problem.distributed' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
