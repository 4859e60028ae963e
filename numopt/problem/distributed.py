"""Data-parallel gradients over Dask arrays on a ``dask.distributed`` cluster.

``minimize`` uses this module, instead of :class:`numopt._objective.Objective` and
:class:`numopt.problem.batching.Batches`, when ``args`` holds Dask arrays (it is the only
module of numopt that imports Dask, and only then).  The data stay on the
workers: they are persisted once, each chunk where the cluster put it, and

* full batch: every evaluation sends ``x`` to the workers, evaluates the user's
  NumPy ``fun``/``jac`` on each chunk on the worker that holds it, weights the
  chunk's loss and gradient by its share of the rows ``n_c / N`` and sums them in
  chunk order (a fixed tree, so every run gives the same bits); the client then
  makes the usual fused update;
* mini-batches: each epoch shuffles the chunks' order and the rows within each
  chunk (seeded); batches never span chunks, and each batch's gradient is computed
  on the worker holding its chunk.

Only ``x``, the batch's row numbers, the loss and the gradient cross the network
per evaluation (and ``fun``, ``jac`` and the non-data arguments, pickled into
each task: keep them small).  The user's ``fun`` returns the *mean* loss over the
rows it is given, as with in-memory mini-batches.

Examples
--------
>>> import numpy as np, dask.array as da, numopt
>>> from dask.distributed import Client
>>> client = Client(processes=False, n_workers=1, threads_per_worker=1,
...                 dashboard_address=":0")
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((600, 3))
>>> y = X @ np.array([1.0, 2.0, 3.0])
>>> def loss(w, X, y):
...     r = X @ w - y
...     return 0.5 * r @ r / len(y), X.T @ r / len(y)
>>> opts = {"learning_rate": 0.5, "maxiter": 500}
>>> res = numopt.minimize(loss, np.zeros(3), jac=True, method="gd", options=opts,
...                       args=(da.from_array(X, chunks=200), da.from_array(y, chunks=200)))
>>> res.success, np.round(res.x, 4), res.nfev
(True, array([1., 2., 3.]), 21)
>>> mem = numopt.minimize(loss, np.zeros(3), jac=True, method="gd", options=opts, args=(X, y))
>>> np.allclose(res.x, mem.x, rtol=1e-12, atol=0), res.nfev == mem.nfev
(True, True)
>>> client.close()
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from numopt.problem.batching import _checked_positions
from numopt.problem.objective import Objective
from numopt.problem.structure import Structure

#: ``x`` larger than this many bytes is broadcast to every worker once per
#: evaluation (``client.scatter``); smaller ``x`` travels inside each task, which
#: saves a round trip and lets Dask rerun a task whose worker died.
SCATTER_ABOVE = 1 << 20
#: Chunk results summed per reduction task on the workers; with at most this many
#: chunks the client sums them itself.
FAN_IN = 8
#: A warning is given when ``fun``, ``jac`` and the non-data args pickle to more
#: than this many bytes (they are sent with every task).
LARGE_SPEC = 1 << 20

INSTALL = "pip install 'numopt[dask]'"


def is_dask(value: Any) -> bool:
    """True for a Dask collection, recognised without importing Dask."""
    return type(value).__module__.partition(".")[0] == "dask"


def _import() -> tuple[Any, Any]:
    try:
        import dask.array as da
        import distributed
    except ImportError as exc:
        raise ImportError(
            f"args holds Dask arrays, which need dask.distributed ({exc}): {INSTALL}"
        ) from None
    return da, distributed


def _client(distributed: Any) -> Any:
    try:
        return distributed.get_client()
    except ValueError:
        raise RuntimeError(
            "args holds Dask arrays but no dask.distributed Client is running; numopt "
            "computes on your cluster's workers: start a client first, e.g. "
            "`from dask.distributed import Client; client = Client()` (a local cluster) "
            "or Client('tcp://scheduler:8786')"
        ) from None


def _flat_keys(keys: Any) -> list:
    """A Dask array's block keys (nested lists of tuples) in block order."""
    if isinstance(keys, list):
        return [k for item in keys for k in _flat_keys(item)]
    return [keys]


class _Spec(NamedTuple):
    """What every task needs besides ``x`` and the data: sent pickled, once per task."""

    fun: Callable
    jac: Any
    structure: Structure  # without x0
    template: tuple  # args, with None at the data positions
    data: tuple[int, ...]


class ChunkBatch(NamedTuple):
    """One mini-batch: rows (an index array or a slice) of one chunk."""

    chunk: int
    rows: Any


class DaskData:
    """The Dask arrays of ``args``, checked, persisted on the cluster, split by chunk.

    Parameters
    ----------
    args : tuple
        The objective's extra arguments, some of them Dask arrays.
    data_args : sequence of int, optional
        Positions of the data arrays in ``args``.  By default every array with a
        first axis (NumPy or Dask) is data, as in memory; the data must all be Dask
        arrays chunked alike along the rows (and in one chunk along every other
        axis).  Other arguments reach every chunk's evaluation whole.
    client : distributed.Client, optional
        Default: the current client (:func:`distributed.get_client`).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from dask.distributed import Client
    >>> client = Client(processes=False, n_workers=1, dashboard_address=":0")
    >>> X = da.ones((10, 2), chunks=(4, 2))
    >>> data = DaskData((X, da.zeros(10, chunks=4), "mean"))
    >>> data.data, data.row_chunks, data.n_samples
    ((0, 1), (4, 4, 2), 10)
    >>> client.close()
    """

    def __init__(
        self, args: tuple, data_args: Sequence[int] | None = None, client: Any = None
    ) -> None:
        da, distributed = _import()
        self.args = args
        for i, a in enumerate(args):
            if is_dask(a) and not isinstance(a, da.Array):
                raise TypeError(
                    f"args[{i}] is a Dask {type(a).__name__}, not a Dask array; numopt samples "
                    "Dask arrays (convert a Dask DataFrame with .to_dask_array(lengths=True))"
                )
            if isinstance(a, da.Array) and a.ndim == 0:
                raise TypeError(
                    f"args[{i}] is a 0-d Dask array: data need a first axis (rows); pass a "
                    "scalar as a number, e.g. float(a.compute())"
                )
        if not any(isinstance(a, da.Array) for a in args):
            raise ValueError("args holds no Dask array: use the in-memory path")
        if data_args is None:
            data = tuple(
                i
                for i, a in enumerate(args)
                if isinstance(a, (np.ndarray, da.Array)) and a.ndim >= 1
            )
        else:
            data = _checked_positions(args, data_args)
        for i, a in enumerate(args):
            if isinstance(a, da.Array) and i not in data:
                raise ValueError(
                    f"args[{i}] is a Dask array not named in options['data_args'] {data_args}: "
                    "a Dask array is split by rows and never gathered; name it as data, or "
                    "pass it as a NumPy array to give every chunk all of it"
                )
        first = next(i for i in data if isinstance(args[i], da.Array))
        for i in data:
            if not isinstance(args[i], da.Array):
                kind = type(args[i]).__name__
                kind = "a NumPy array" if isinstance(args[i], np.ndarray) else f"a {kind}"
                raise TypeError(
                    f"args[{i}] is {kind} but args[{first}] is a Dask array: "
                    "the data arrays must all be Dask arrays. Convert it, chunked like the "
                    f"others (dask.array.from_array(a, chunks=(args[{first}].chunks[0], ...))), "
                    "or name the Dask arrays in options['data_args'] so that it reaches every "
                    "chunk whole"
                )
        arrays = [args[i] for i in data]
        for i, a in zip(data, arrays, strict=True):
            if any(math.isnan(c) for c in a.chunks[0]):
                raise ValueError(
                    f"args[{i}] is a Dask array with unknown chunk sizes; compute them first "
                    "(a.compute_chunk_sizes())"
                )
            split = [axis for axis, c in enumerate(a.chunks[1:], 1) if len(c) > 1]
            if split:
                raise ValueError(
                    f"args[{i}] is chunked along axis {split[0]}: each chunk must hold whole "
                    f"rows; rechunk it, e.g. a.rechunk({{{split[0]}: -1}})"
                )
        lengths = {i: a.shape[0] for i, a in zip(data, arrays, strict=True)}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"args[{i}] has {n}" for i, n in lengths.items())
            raise ValueError(
                f"data arrays in args must share their first-axis length (the number of "
                f"samples): {shown}"
            )
        chunks = {i: a.chunks[0] for i, a in zip(data, arrays, strict=True)}
        row_chunks = chunks[data[0]]
        if any(c != row_chunks for c in chunks.values()):
            shown = ", ".join(f"args[{i}] has {c}" for i, c in chunks.items())
            raise ValueError(
                f"the Dask data arrays must be chunked alike along the rows, so that a chunk "
                f"of each lives together: {shown}; rechunk, e.g. "
                f"y = y.rechunk({{0: X.chunks[0]}})"
            )
        #: Positions of the data in ``args``.
        self.data: tuple[int, ...] = data
        #: Rows per chunk.
        self.row_chunks: tuple[int, ...] = tuple(int(c) for c in row_chunks)
        #: Rows in all.
        self.n_samples = int(sum(self.row_chunks))
        if self.n_samples == 0:
            raise ValueError("the data arrays in args are empty (0 samples)")
        self.client = client if client is not None else _client(distributed)
        # persisted once: each chunk stays on the worker that computed it, in memory
        # aligned for its dtype (NumPy calls BLAS only then: the same bits on every run)
        self._persisted = self.client.persist(
            [a.map_blocks(_aligned, dtype=a.dtype, meta=a._meta) for a in arrays]
        )
        blocks = []
        for p in self._persisted:
            by_key = {f.key: f for f in distributed.futures_of(p)}
            blocks.append([by_key[k] for k in _flat_keys(p.__dask_keys__())])
        #: Per chunk: the futures of its block of each data array.
        self.blocks: list[tuple] = list(zip(*blocks, strict=True))

    def objective(
        self, fun: Callable, jac: Any, structure: Structure, x: np.ndarray, g: np.ndarray
    ) -> DaskObjective:
        """The objective over these data (see :class:`DaskObjective`)."""
        return DaskObjective(self, fun, jac, structure, x, g)

    def batches(
        self,
        args: tuple,
        batch_size: int,
        *,
        seed: Any = None,
        drop_last: bool = False,
        shuffle: bool = True,
        data_args: Sequence[int] | None = None,
    ) -> DaskBatches:
        """Chunk-local mini-batches of these data (``args``/``data_args`` as given here)."""
        return DaskBatches(
            self.row_chunks, batch_size, seed=seed, drop_last=drop_last, shuffle=shuffle
        )


class DaskObjective:
    """``fun``/``jac`` over Dask data, in :class:`numopt._objective.Objective`'s interface.

    ``obj(view, args)`` returns the loss and leaves the gradient in ``obj.g``:
    on all the data when ``args`` is a tuple (the run's args), on one chunk's rows
    when it is a :class:`ChunkBatch`.  ``nfev`` and ``njev`` count as in memory: one
    full-data evaluation is one, whatever the number of chunks (finite differences
    add one per evaluation of the perturbed point, as in memory).

    Examples
    --------
    See the module's example: ``minimize`` builds it from :meth:`DaskData.objective`.
    """

    def __init__(
        self,
        data: DaskData,
        fun: Callable,
        jac: Any,
        structure: Structure,
        x: np.ndarray,
        g: np.ndarray,
    ) -> None:
        #: ``"combined"``, ``"jac"``, ``"2-point"`` or ``"3-point"``, as ``Objective``'s
        #: (checked there, with the same errors as in memory)
        self.mode = Objective(fun, jac, structure, x, g).mode
        self.data, self.x, self.g = data, x, g
        self.nfev = self.njev = 0
        light = copy.copy(structure)
        light.x0 = None  # not sent to the workers
        template = tuple(None if i in data.data else a for i, a in enumerate(data.args))
        spec = _Spec(fun, jac, light, template, data.data)
        import cloudpickle

        try:
            self._spec = cloudpickle.dumps(spec)
        except Exception as exc:
            raise TypeError(
                "fun, jac and the non-data args must be picklable to run on the Dask workers "
                f"(by cloudpickle): {type(exc).__name__}: {exc}"
            ) from None
        if len(self._spec) > LARGE_SPEC:
            warnings.warn(
                f"fun, jac and the non-data args pickle to {len(self._spec) / 2**20:.1f} MiB, "
                "sent with every task: pass large arrays as Dask data, or load them on the "
                "workers",
                stacklevel=4,
            )
        total = data.n_samples
        # (weight, blocks) per non-empty chunk, in chunk order
        self._chunks = [
            (n / total, blocks) for n, blocks in zip(data.row_chunks, data.blocks, strict=True) if n
        ]

    def _x(self) -> Any:
        x = self.x.copy()  # the task may be serialised after the next in-place update
        if x.nbytes > SCATTER_ABOVE:
            return self.data.client.scatter(x, broadcast=True, hash=False)
        return x

    def __call__(self, view: Any, args: Any) -> float:
        """Loss at the current point; the gradient is left in ``self.g``."""
        client, x = self.data.client, self._x()
        if isinstance(args, ChunkBatch):
            blocks = self.data.blocks[args.chunk]
            f, g, nfev = client.submit(
                _batch_task, self._spec, x, args.rows, *blocks, pure=False
            ).result()
        else:
            parts = [
                client.submit(_chunk_task, self._spec, x, w, *blocks, pure=False)
                for w, blocks in self._chunks
            ]
            while len(parts) > FAN_IN:  # a fixed tree: the same sums whatever the workers
                parts = [
                    client.submit(_sum, *parts[i : i + FAN_IN], pure=False)
                    for i in range(0, len(parts), FAN_IN)
                ]
            f, g, nfev = _sum(*client.gather(parts))
        self.nfev += nfev
        self.njev += 1
        np.copyto(self.g, g, casting="unsafe")
        return f


class DaskBatches:
    """Epochs of chunk-local mini-batches, in :class:`numopt.problem.batching.Batches`' interface.

    Each epoch a seeded generator draws the order of the chunks, then the order of
    the rows within each chunk, in that chunk order; each chunk is cut into
    batches of ``batch_size`` rows (its last batch smaller, or dropped with
    ``drop_last``), so ``per_epoch = Σ_c ceil(n_c / batch_size)`` (``floor`` with
    ``drop_last``).  The epoch's order is one permutation of all the rows (the
    chunks' rows, chunk after chunk), so a checkpoint saves and resumes it as in
    memory.  With one chunk the batches are exactly those of
    :class:`numopt.problem.batching.Batches` for the same seed.

    Parameters
    ----------
    row_chunks : sequence of int
        Rows per chunk.
    batch_size : int
        Rows per batch, at most the largest chunk's.
    seed, drop_last, shuffle
        As for :class:`numopt.problem.batching.Batches`.

    Examples
    --------
    >>> b = DaskBatches((4, 4, 2), batch_size=3, seed=0)
    >>> b.n_samples, b.per_epoch
    (10, 5)
    >>> [(batch.chunk, batch.rows.tolist()) for batch in b.epoch()]
    [(2, [1, 0]), (0, [2, 0, 3]), (0, [1]), (1, [1, 2, 0]), (1, [3])]
    """

    def __init__(
        self,
        row_chunks: Sequence[int],
        batch_size: int,
        *,
        seed: Any = None,
        drop_last: bool = False,
        shuffle: bool = True,
    ) -> None:
        self.sizes = np.asarray(row_chunks, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        self.n_samples = int(self.offsets[-1])
        largest = int(self.sizes.max())
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size must be an integer, got {batch_size!r}")
        if not 1 <= batch_size <= largest:
            raise ValueError(
                f"batch_size must be between 1 and the largest chunk's rows ({largest}): "
                f"batches never span Dask chunks; got {batch_size} (rechunk the data to "
                "larger chunks)"
            )
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)
        self.shuffle = bool(shuffle)
        self.rng = np.random.default_rng(seed)
        full, rest = np.divmod(self.sizes, self.batch_size)
        #: Batches per chunk, and per epoch.
        self.counts = full + ((rest > 0) & (not self.drop_last))
        self.per_epoch = int(self.counts.sum())

    def new_order(self) -> np.ndarray | None:
        """The next epoch's order of the rows (``None`` without shuffling)."""
        if not self.shuffle:
            return None
        n = len(self.sizes)
        # one chunk: no draw for the chunks' order, so the rows' order is that of Batches
        chunks = self.rng.permutation(n) if n > 1 else [0]
        parts = [self.offsets[c] + self.rng.permutation(self.sizes[c]) for c in chunks]
        return np.concatenate(parts)

    def _segments(self, order: np.ndarray | None) -> list[tuple[int, Any]]:
        """(chunk, its rows in the epoch's order, or None for data order), chunk after chunk."""
        if order is None:
            return [(c, None) for c in range(len(self.sizes))]
        order = np.asarray(order)
        out, pos, seen = [], 0, set()
        if order.shape != (self.n_samples,):
            raise ValueError(
                f"the epoch's order has shape {order.shape}, not ({self.n_samples},) (a "
                "checkpoint of other data?)"
            )
        while pos < self.n_samples:
            c = int(np.searchsorted(self.offsets, order[pos], side="right")) - 1
            n = int(self.sizes[c]) if 0 <= c < len(self.sizes) else 0
            rows = order[pos : pos + n] - self.offsets[c]
            if n == 0 or c in seen or rows.min() < 0 or rows.max() >= n:
                raise ValueError(
                    "the epoch's order does not follow the chunks of the Dask data (a "
                    "checkpoint of data chunked otherwise?)"
                )
            seen.add(c)
            out.append((c, rows))
            pos += n
        return out

    def epoch(self, order: Any = False, start: int = 0) -> Iterator[ChunkBatch]:
        """One epoch's batches, from batch ``start`` (``order`` as drawn by :meth:`new_order`)."""
        if order is False:
            order = self.new_order()
        size, b = self.batch_size, 0
        for c, rows in self._segments(order):
            count = int(self.counts[c])
            for k in range(max(0, start - b), count):
                lo, hi = k * size, min((k + 1) * size, int(self.sizes[c]))
                yield ChunkBatch(c, slice(lo, hi) if rows is None else rows[lo:hi])
            b += count


# -- on the workers ---------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _load(spec: bytes) -> _Spec:
    import cloudpickle

    return cloudpickle.loads(spec)


def _aligned(block: Any) -> Any:
    """``block``, or an aligned copy where its memory is not aligned for its dtype.

    Chunks unpickled from a message can start at any byte; NumPy's matmul then
    skips BLAS for its own loop, which rounds differently: results would depend
    on where a chunk landed.
    """
    if isinstance(block, np.ndarray) and not block.flags.aligned:
        return block.copy()
    return block


def _evaluate(spec: _Spec, x: np.ndarray, blocks: Sequence) -> tuple[float, np.ndarray, int]:
    args = list(spec.template)
    for i, block in zip(spec.data, blocks, strict=True):
        args[i] = _aligned(block)  # a chunk moved to another worker may have arrived unaligned
    s = spec.structure
    g = np.zeros(s.size, s.dtype)
    obj = Objective(spec.fun, spec.jac, s, x, g)
    f = obj(s.views(x), tuple(args))
    return f, g, obj.nfev


def _chunk_task(spec: bytes, x: np.ndarray, weight: float, *blocks) -> tuple:
    """One chunk's loss and gradient, weighted by its share of the rows (float64)."""
    f, g, nfev = _evaluate(_load(spec), x, blocks)
    return weight * f, g.astype(np.float64) * weight, nfev


def _batch_task(spec: bytes, x: np.ndarray, rows: Any, *blocks) -> tuple:
    """One batch's loss and gradient (the gradient in x's dtype, as in memory)."""
    return _evaluate(_load(spec), x, [block[rows] for block in blocks])


def _sum(*parts: tuple) -> tuple:
    """Partial results summed in the order given (nfev: that of one evaluation)."""
    f, g, nfev = parts[0]
    g = np.array(g, dtype=np.float64)
    for pf, pg, _ in parts[1:]:
        f += pf
        g += pg
    return f, g, nfev
