"""``x0`` as given (an array of any shape, or a list/tuple/dict of arrays) ↔ one flat buffer.

``minimize`` works on one flat contiguous buffer; the objective sees the user's
structure again, as read-only views into that buffer (free: no copy per call).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numopt.kernels.arrays import FLOAT_DTYPES


def _leaf(name: str, value: Any) -> np.ndarray:
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of real numbers, got {value!r}")
    try:
        a = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    if a.dtype.kind in "biu":
        a = a.astype(np.float64)  # documented: integer x0 is converted to float64
    elif a.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    elif a.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} has dtype {a.dtype}; numopt works in float32 or float64 "
            f"(convert with .astype(np.float32))"
        )
    if not np.logical_and.reduce(np.isfinite(a), axis=None):  # (all(): a Python wrapper)
        raise ValueError(f"{name} contains NaN or infinity")
    return a


class Structure:
    """The shape of ``x0``: one array, or a list/tuple/dict of arrays.

    A list or tuple whose items are all ``numpy.ndarray`` is a structure; any other
    list (``[[0, 0], [0, 0]]``) is read as one array.

    Examples
    --------
    >>> import numpy as np
    >>> s = Structure({"w": np.ones((2, 2)), "b": np.zeros(2)})
    >>> s.size, s.dtype
    (6, dtype('float64'))
    >>> flat = s.flatten(s.x0)
    >>> s.unflatten(flat + 1)["b"]
    array([1., 1.])
    """

    # how one array of x0 is checked and converted, and what counts as one in a
    # list/tuple (numopt._device.DeviceStructure overrides both for device arrays)
    _leaf = staticmethod(_leaf)

    @staticmethod
    def _is_array(v: Any) -> bool:
        return isinstance(v, np.ndarray)

    def __init__(self, x0: Any) -> None:
        if isinstance(x0, dict):
            if not x0:
                raise ValueError("x0 is an empty dict")
            self.kind, self.keys = "dict", list(x0)
            leaves = [self._leaf(f"x0[{k!r}]", v) for k, v in x0.items()]
        elif isinstance(x0, (list, tuple)) and x0 and all(self._is_array(v) for v in x0):
            # a list/tuple of NumPy arrays is a structure; nested lists of numbers are
            # one array, as SciPy reads them
            self.kind, self.keys = type(x0).__name__, list(range(len(x0)))
            leaves = [self._leaf(f"x0[{i}]", v) for i, v in enumerate(x0)]
        else:
            self.kind, self.keys = "array", [None]
            leaves = [self._leaf("x0", x0)]
        dtypes = {a.dtype for a in leaves}
        if len(dtypes) > 1:
            raise TypeError(
                f"x0's arrays have dtypes {sorted(map(str, dtypes))}; give them one dtype"
            )
        self.dtype = leaves[0].dtype
        self.shapes = [a.shape for a in leaves]
        self.sizes = [a.size for a in leaves]
        self.size = sum(self.sizes)
        if self.size == 0:
            raise ValueError("x0 is empty: there is nothing to optimise")
        self.x0 = leaves[0] if self.kind == "array" else self._rebuild(leaves)

    def _rebuild(self, leaves: list) -> Any:
        if self.kind == "array":
            return leaves[0]
        if self.kind == "dict":
            return dict(zip(self.keys, leaves, strict=True))
        return tuple(leaves) if self.kind == "tuple" else list(leaves)

    def _leaves(self, value: Any, name: str) -> list:
        if self.kind == "array":
            return [value]
        if self.kind == "dict":
            if not isinstance(value, dict) or list(value) != self.keys:
                got = list(value) if isinstance(value, dict) else type(value).__name__
                raise ValueError(f"{name} must be a dict with keys {self.keys}, got {got}")
            return list(value.values())
        if not isinstance(value, (list, tuple)) or len(value) != len(self.keys):
            raise ValueError(f"{name} must be a {self.kind} of {len(self.keys)} arrays like x0")
        return list(value)

    def flatten(self, value: Any, out: Any = None, name: str = "x0") -> Any:
        """Copy ``value`` (structured like x0) into ``out`` (a new flat buffer if None)."""
        if out is None:
            out = self._empty()
        start = 0
        for key, leaf, shape, size in zip(
            self.keys, self._leaves(value, name), self.shapes, self.sizes, strict=True
        ):
            label = name if key is None else f"{name}[{key!r}]"
            self._copy_leaf(out[start : start + size], leaf, shape, label)
            start += size
        return out

    def _empty(self) -> Any:
        """A new flat buffer for x0's values."""
        return np.empty(self.size, self.dtype)

    def _copy_leaf(self, dst: Any, leaf: Any, shape: tuple, label: str) -> None:
        """Copy one array of a structured value into its part ``dst`` of the flat buffer."""
        try:
            leaf_shape = np.shape(leaf)
        except ValueError:  # ragged: a tuple of arrays, e.g. a sparse (indices, values)
            raise TypeError(
                f"{label} must be an array of shape {shape}, got a ragged "
                f"{type(leaf).__name__} (minimize takes dense gradients, like x0)"
            ) from None
        if leaf_shape != shape:
            raise ValueError(f"{label} has shape {leaf_shape} but x0 has shape {shape}")
        kind = getattr(leaf, "dtype", np.dtype(float)).kind
        if kind not in "fiub":
            raise TypeError(f"{label} must hold real numbers, got dtype {leaf.dtype}")
        np.copyto(dst.reshape(shape), leaf, casting="unsafe")

    def views(self, flat: np.ndarray, writeable: bool = False) -> Any:
        """Views of ``flat`` structured like x0 (read-only: what the objective sees; with
        ``writeable``, as writeable as ``flat``)."""
        if self.kind == "array":
            v = flat[: self.size].reshape(self.shapes[0])
            if not writeable:  # (a view of a writeable buffer is writeable already)
                v.flags.writeable = False
            return v
        leaves, start = [], 0
        for shape, size in zip(self.shapes, self.sizes, strict=True):
            v = flat[start : start + size].reshape(shape)
            if not writeable:
                v.flags.writeable = False
            leaves.append(v)
            start += size
        return self._rebuild(leaves)

    def unflatten(self, flat: np.ndarray) -> Any:
        """Fresh arrays structured like x0 holding ``flat``'s values."""
        return self._rebuild([np.array(v) for v in self._leaves(self.views(flat), "x")])
