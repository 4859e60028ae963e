"""Mini-batches over the data arrays in ``args``: shuffled each epoch, seeded.

Mini-batch gradient descent's batches: each epoch the data set is shuffled once
by a seeded :class:`numpy.random.Generator` and cut into batches of
``batch_size`` samples (the last one smaller unless ``drop_last``).  Data arrays
are the arrays in ``args`` sampled along their first axis; every other argument
passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from numopt.kernels.arrays import gathers, on_device


def data_indices(args: tuple, data_args: Sequence[int] | None) -> tuple[tuple[int, ...], int]:
    """Which ``args`` are data, and the common data length ``N``.

    By default every NumPy array and every CUDA device array (CuPy, PyTorch,
    Numba) in ``args`` with at least one axis is data; ``data_args`` names them
    explicitly (positions in ``args``), for when an argument is an array that must
    not be sampled.
    """
    if data_args is None:
        idx = tuple(
            i
            for i, a in enumerate(args)
            if (isinstance(a, np.ndarray) or on_device(a)) and len(a.shape) >= 1
        )
        if not idx:
            raise ValueError(
                "batch_size is set but args holds no data array (a NumPy or CUDA device "
                "array with a first axis to sample); pass the data in args, e.g. args=(X, y)"
            )
    else:
        idx = _checked_positions(args, data_args)
    lengths = {i: len(args[i]) for i in idx}
    n = lengths[idx[0]]
    if any(length != n for length in lengths.values()):
        shown = ", ".join(f"args[{i}] has {length}" for i, length in lengths.items())
        raise ValueError(
            f"data arrays in args must share their first-axis length (the number of samples): "
            f"{shown}; name the data arrays with options['data_args'] if some array argument "
            "is not data"
        )
    if n == 0:
        raise ValueError("the data arrays in args are empty (0 samples)")
    return idx, n


def _checked_positions(args: tuple, data_args: Sequence[int]) -> tuple[int, ...]:
    if isinstance(data_args, (str, bytes)) or not isinstance(data_args, Sequence):
        raise TypeError(f"data_args must be a sequence of positions in args, got {data_args!r}")
    idx = []
    for i in data_args:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < len(args):
            raise ValueError(
                f"data_args must hold positions 0..{len(args) - 1} of args, got {data_args!r}"
            )
        a = args[i]
        if not (hasattr(a, "shape") and len(a.shape) >= 1 and hasattr(a, "__getitem__")):
            raise TypeError(
                f"args[{i}] is named in data_args but is not an array with a first axis"
            )
        idx.append(int(i))
    if not idx or len(set(idx)) != len(idx):
        raise ValueError(f"data_args must name at least one argument, each once; got {data_args!r}")
    return tuple(idx)


class Batches:
    """Epochs of shuffled mini-batches of the data arguments.

    Parameters
    ----------
    args : tuple
        The objective's extra arguments.
    batch_size : int
        Samples per batch, 1 <= batch_size <= N.
    seed : int, numpy.random.Generator or None
        Seed of the shuffling generator (``None``: fresh entropy, not repeatable).
    drop_last : bool
        Drop the last, smaller batch of each epoch.
    shuffle : bool
        Shuffle each epoch (``False``: batches in data order, for debugging).
    data_args : sequence of int, optional
        Positions in ``args`` of the data arrays (default: every array argument).

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5.0)
    >>> batches = Batches((X, y, "mean"), batch_size=2, seed=0)
    >>> batches.n_samples, batches.per_epoch
    (5, 3)
    >>> [b[1].tolist() for b in batches.epoch()]
    [[2.0, 4.0], [3.0, 0.0], [1.0]]
    """

    def __init__(
        self,
        args: tuple,
        batch_size: int,
        *,
        seed: Any = None,
        drop_last: bool = False,
        shuffle: bool = True,
        data_args: Sequence[int] | None = None,
    ) -> None:
        self.args = args
        self.data, self.n_samples = data_indices(args, data_args)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size must be an integer, got {batch_size!r}")
        if not 1 <= batch_size <= self.n_samples:
            raise ValueError(
                f"batch_size must be between 1 and the number of samples ({self.n_samples}), "
                f"got {batch_size}"
            )
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)
        self.shuffle = bool(shuffle)
        self.rng = np.random.default_rng(seed)
        if self.shuffle:
            for i in self.data:
                if not gathers(args[i]):
                    raise TypeError(
                        f"args[{i}] is a Numba device array, which cannot be indexed by the "
                        "shuffled sample numbers of a batch; pass it as a CuPy array or "
                        "PyTorch tensor (cupy.asarray(a) or torch.as_tensor(a, "
                        "device='cuda'), no copy), or set shuffle=False"
                    )
        full, rest = divmod(self.n_samples, self.batch_size)
        #: Batches (updates) per epoch.
        self.per_epoch = full + (1 if rest and not self.drop_last else 0)

    def new_order(self) -> np.ndarray | None:
        """Draw the next epoch's order of the samples (``None`` without shuffling)."""
        return self.rng.permutation(self.n_samples) if self.shuffle else None

    def epoch(self, order: Any = False, start: int = 0) -> Iterator[tuple]:
        """The argument tuples of one epoch's batches (one shuffle per epoch).

        ``order`` and ``start`` resume an epoch: its order of the samples (as drawn
        by :meth:`new_order`) and the index of the first batch to give.
        """
        if order is False:
            order = self.new_order()
        args = list(self.args)
        for b in range(start, self.per_epoch):
            start = b * self.batch_size
            if order is None:
                pick: Any = slice(start, start + self.batch_size)
            else:
                pick = order[start : start + self.batch_size]
            for i in self.data:
                args[i] = self.args[i][pick]
            yield tuple(args)
