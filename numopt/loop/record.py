"""Records declared once: a Python object for the loop run from Python, a NumPy record
for the compiled loop, and plain data for checkpoints — all from one list of fields.

The loop's iteration (:mod:`numopt.loop.iteration`) reads and writes its state and
configuration as attributes, ``s.nit`` and ``k.gtol``.  Run from Python, ``s`` is an
instance of :attr:`RecordType.cls` (a class with ``__slots__``: cheap attributes);
compiled, it is an element of a NumPy structured array of :attr:`RecordType.dtype`,
which Numba reads and writes in place.  :meth:`RecordType.to_array` and
:meth:`RecordType.load` move the values between the two; :meth:`RecordType.saved`
and :meth:`RecordType.restore` are the checkpoint's record.  Fields are int64 or
float64 (flags are 0/1).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

#: :meth:`RecordType.shared` keeps at most this many records of one type.
_SHARED_SIZE = 256


class Field(NamedTuple):
    """One field of a record.

    Attributes
    ----------
    name : str
        The attribute.
    kind : type
        ``int`` (int64) or ``float`` (float64).
    default : int or float
        Its value in a new record.
    doc : str
        What it holds.
    saved : bool
        Whether checkpoints keep it.
    required : bool
        Whether a checkpoint must have it (False: a field added later; checkpoints
        written before it lack it and restore its default).
    """

    name: str
    kind: type
    default: float
    doc: str
    saved: bool = False
    required: bool = True


class RecordType:
    """The Python class, the NumPy dtype and the checkpoint record of a list of fields.

    Examples
    --------
    >>> T = RecordType("Counts", (Field("n", int, 0, "count", saved=True),
    ...                           Field("x", float, 1.5, "value")))
    >>> r = T.new(n=3)
    >>> r.n, r.x
    (3, 1.5)
    >>> a = T.to_array(r)
    >>> a[0]["x"] = 2.5
    >>> T.load(r, a)
    >>> r.x, T.saved(r)
    (2.5, {'n': 3})
    """

    def __init__(self, name: str, fields: tuple[Field, ...]) -> None:
        self.name = name
        self.fields = fields
        self.names = tuple(f.name for f in fields)
        self.dtype = np.dtype([(f.name, np.int64 if f.kind is int else np.float64) for f in fields])
        self._defaults = {f.name: f.kind(f.default) for f in fields}
        # (every minimize call makes, fills and reads its records: generated code, as
        # dataclasses makes, sets the fields in one call instead of one setattr each)
        targets = "".join(f"r.{n}, " for n in self.names)
        bad = [n for n in self.names if not n.isidentifier() or n.startswith("_")]
        if bad:  # (the generated code's own names start with _)
            raise ValueError(
                f"{name}: field names must be identifiers without a leading _, got {bad}"
            )
        made = "".join(f"_r.{n}, " for n in self.names)  # (new records: make)
        coerced = "".join(f"_k{i}({f.name}), " for i, f in enumerate(fields))
        parameters = ", ".join(f"{n}=_d[{n!r}]" for n in self.names)
        namespace: dict[str, Any] = {"_d": self._defaults}
        namespace.update({f"_k{i}": f.kind for i, f in enumerate(fields)})
        exec(
            f"def assign(r, values):\n    {targets}= values\n"
            f"def make(_cls, {parameters}, **_unknown):\n"
            f"    _r = _cls()\n    {made}= {coerced}\n"
            f"    return _r, _unknown\n",
            namespace,
        )
        self._assign = namespace["assign"]
        self._make = namespace["make"]
        self._values = operator.attrgetter(*self.names)
        self.cls = type(name, (), {"__slots__": self.names, "__repr__": _repr, "__doc__": name})
        self._shared: dict[tuple, tuple[Any, np.ndarray]] = {}

    def new(self, **values: Any) -> Any:
        """A Python record with the defaults, and ``values`` where given."""
        record, unknown = self._make(self.cls, **values)
        if unknown:
            raise TypeError(f"{self.name} has no fields {sorted(unknown)}")
        return record

    def shared(self, **values: Any) -> tuple[Any, np.ndarray]:
        """A record with these values and its array (:meth:`to_array`), made once for
        each set of values and then shared: for records nobody writes (the loop's
        settings, the same for every ``minimize`` call with the same options).

        Examples
        --------
        >>> T = RecordType("Limits", (Field("n", int, 0, "count"),))
        >>> r, a = T.shared(n=3)
        >>> T.shared(n=3)[0] is r, int(a[0]["n"])
        (True, 3)
        """
        key = tuple(values.items())
        found = self._shared.get(key)
        if found is None:
            record = self.new(**values)
            found = record, self.to_array(record)
            if len(self._shared) >= _SHARED_SIZE:
                self._shared.clear()
            self._shared[key] = found
        return found

    def to_array(self, record: Any, out: np.ndarray | None = None) -> np.ndarray:
        """The record's values in a structured array of one element (``out`` if given)."""
        if out is None:
            out = np.zeros(1, self.dtype)
        values = self._values(record)
        out[0] = values if len(self.names) > 1 else (values,)
        return out

    def load(self, record: Any, array: np.ndarray) -> None:
        """Copy the values of a structured array's first element into ``record``."""
        self._assign(record, array.tolist()[0])

    def saved(self, record: Any) -> dict[str, Any]:
        """The fields checkpoints keep, as plain data."""
        return {f.name: getattr(record, f.name) for f in self.fields if f.saved}

    def restore(self, record: Any, data: Mapping[str, Any], where: str) -> None:
        """Set the saved fields from ``data`` (a checkpoint's), each checked for its type."""
        for f in self.fields:
            if not f.saved:
                continue
            if f.name not in data:
                if not f.required:
                    setattr(record, f.name, f.default)
                    continue
                raise ValueError(f"{where} lacks the loop's {f.name!r}")
            value = data[f.name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{where}: the loop's {f.name!r} is {value!r}, not a number")
            setattr(record, f.name, f.kind(value))


def _repr(self: Any) -> str:
    fields = ", ".join(f"{name}={getattr(self, name, None)!r}" for name in self.__slots__)
    return f"{type(self).__name__}({fields})"
