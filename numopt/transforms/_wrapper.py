"""What every transform shares: its buffers, and behaving like the optimizer it wraps.

A wrapper (:class:`Wrapper`) takes any numopt optimizer — a rule such as
:class:`numopt.Adam`, or another wrapper — and is one: ``step(x, g)``,
``state_dict()``/``load_state_dict()``, ``reset()``, ``step_count``, the wrapped
rule's hyperparameters as checked attributes (``opt.learning_rate = 0.01``).

Its ``state_dict()`` *extends* the wrapped optimizer's: the same keys (``"rule"``,
``"step"``, ``"hyperparameters"``, ``"state"``, ...) plus one entry under
``"transforms"`` (its settings and counters, plain JSON data) and its arrays in
``"state"`` under the prefix ``"<kind>_"``.  So a wrapped optimizer's state dict has
the shape of a rule's, and ``minimize``'s checkpoints hold it unchanged.

:class:`Rows` keeps a transform's arrays: ``(k, n)`` rows in ``x``'s dtype,
allocated at the first step where ``x`` lives (host or GPU).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from numopt.kernels.arrays import FLOAT_DTYPES, FlatPair, Layout, flat_pair
from numopt.rules.optimizer import Optimizer


class Rows:
    """A transform's arrays, named, as the rows of one ``(k, n)`` buffer.

    Allocated (zeros) at the first :meth:`get`, on the GPU when ``x`` is a device
    array; a state dict loaded on the host moves to the GPU at the first device step,
    as :class:`numopt.Optimizer`'s state does.
    """

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.reset()

    def reset(self) -> None:
        self.rows: Any = None
        self.layout: Layout | None = None
        self.loaded_on_host = False

    def get(self, layout: Layout, n: int) -> tuple[Any, bool]:
        """The rows for ``x`` of this layout, and whether they were just allocated."""
        if layout == self.layout:
            return self.rows, False
        if self.rows is None:
            rows = np.zeros((len(self.names), n), layout.dtype)
            if layout.device:
                from numopt.kernels import cuda

                rows = cuda.to_device(rows)
            self.rows, self.layout, self.loaded_on_host = rows, layout, False
            return rows, True
        have = self.layout
        if layout.device != have.device:
            if not (layout.device and self.loaded_on_host):
                where = "on the GPU" if have.device else "on the host"
                raise ValueError(
                    f"this transform's arrays live {where} but x does not; keep x where it "
                    "was, or call reset()"
                )
            from numopt.kernels import cuda

            self.rows = cuda.to_device(self.rows)
            self.layout = have = have._replace(device=True)
        if (have.shape, have.dtype, have.order) != (layout.shape, layout.dtype, layout.order):
            raise ValueError(
                f"x has shape {layout.shape}, dtype {layout.dtype} (order {layout.order}) "
                f"but this transform's arrays were built for shape {have.shape}, dtype "
                f"{have.dtype} (order {have.order}); call reset() to start over"
            )
        self.loaded_on_host = False
        return self.rows, False

    def host_arrays(self) -> dict[str, np.ndarray]:
        """Host copies, each shaped like ``x`` (empty before the first step)."""
        if self.rows is None:
            return {}
        layout = self.layout
        host = self.rows.copy_to_host() if layout.device else self.rows.copy()
        return {
            name: host[k].reshape(layout.shape, order=layout.order)
            for k, name in enumerate(self.names)
        }

    def checked(self, arrays: dict, order: Any, what: str) -> tuple[Any, Layout | None]:
        """Rows and layout from ``arrays`` (a state dict's), checked; nothing is changed."""
        if not arrays:
            return None, None
        if set(arrays) != set(self.names):
            raise ValueError(f"{what} must have the arrays {list(self.names)}, got {list(arrays)}")
        if order not in ("C", "F"):
            raise ValueError(f"{what}: 'order' must be 'C' or 'F', got {order!r}")
        loaded = [np.asarray(arrays[name]) for name in self.names]
        first = loaded[0]
        for name, a in zip(self.names, loaded, strict=True):
            if a.shape != first.shape or a.dtype != first.dtype or a.dtype not in FLOAT_DTYPES:
                raise ValueError(
                    f"{what}[{name!r}] has shape {a.shape}, dtype {a.dtype}; expected "
                    "float32/float64 arrays all of one shape"
                )
        rows = np.stack([a.reshape(-1, order=order) for a in loaded])
        return rows, Layout(first.shape, first.dtype, order, False)

    def set(self, rows: Any, layout: Layout | None) -> None:
        """Adopt what :meth:`checked` returned (``None``: no arrays yet)."""
        self.rows, self.layout, self.loaded_on_host = rows, layout, rows is not None


def check_optimizer(optimizer: Any, owner: str) -> None:
    """``optimizer`` must be a numopt optimizer or wrapper instance."""
    if isinstance(optimizer, type) and issubclass(optimizer, (Optimizer, Wrapper)):
        raise TypeError(
            f"{owner} takes an optimizer instance, got the class {optimizer.__name__}; "
            f"pass e.g. numopt.{optimizer.__name__}(learning_rate=...)"
        )
    if not isinstance(optimizer, (Optimizer, Wrapper)):
        raise TypeError(
            f"{owner} wraps a numopt optimizer (numopt.Adam(...), or another transform), "
            f"got {type(optimizer).__name__}"
        )


def chain(optimizer: Any) -> list[Any]:
    """The wrappers from the outside in (through a ``ParamGroups``' template), then the rule."""
    out = [optimizer]
    while isinstance(out[-1], Wrapper):
        out.append(out[-1].inner)
    return out


def updated(optimizer: Any) -> bool:
    """Whether the last step of ``optimizer`` changed x (a rule always does)."""
    return getattr(optimizer, "_updated", True)


def count(name: str, value: Any) -> int:
    """A counter read from a state dict: an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"state_dict's {name} must be an integer >= 0, got {value!r}")
    return int(value)


class Wrapper:
    """Base class of the transforms that wrap an optimizer (see the module docstring).

    Subclasses set :attr:`kind` and :attr:`array_names`, and implement
    :meth:`_apply`, :meth:`_config` and (when they keep counters) the counter hooks.
    """

    #: The transform's name: its key under ``state_dict()["transforms"]`` and the
    #: prefix of its arrays in ``state_dict()["state"]``.
    kind: ClassVar[str]
    #: Names of the transform's own arrays (each shaped like x).
    array_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, optimizer: Any) -> None:
        check_optimizer(optimizer, type(self).__name__)
        for link in chain(optimizer):
            if isinstance(link, Wrapper) and link.kind == self.kind:
                raise ValueError(
                    f"{type(self).__name__} wraps an optimizer that is already a "
                    f"{type(link).__name__}: use one"
                )
        self._inner = optimizer
        self._rows = Rows(self.array_names)
        self._t = 0
        self._updated = False

    # -- what a transform provides ---------------------------------------------------
    def _apply(self, pair: FlatPair, box: Any = None) -> None:
        """One step on validated flat arrays (``minimize`` calls this directly).

        ``box``: flat bounds (a :class:`numopt.kernels.box.Box`) that the rule's kernel
        clamps x into, or None; passed down to the wrapped optimizer.
        """
        raise NotImplementedError

    def _config(self) -> dict[str, Any]:
        """The settings (plain JSON data) that a loaded state dict must match."""
        raise NotImplementedError

    def _counters(self) -> dict[str, int]:
        """Counters besides ``step`` (plain data)."""
        return {}

    def _load_counters(self, entry: dict) -> dict[str, int]:
        """The counters of a state dict's entry, checked (nothing is changed)."""
        return {}

    def _set_counters(self, counters: dict[str, int]) -> None:
        """Adopt what :meth:`_load_counters` returned."""

    def _needs_arrays(self, step: int, counters: dict[str, int]) -> bool:
        """Whether a state dict with these counters must hold the transform's arrays."""
        return step > 0

    def _reset_counters(self) -> None:
        """Forget the counters besides ``step``."""

    def _clone_around(self, inner: Any) -> Wrapper:
        """A fresh transform with these settings around ``inner`` (for ParamGroups)."""
        raise NotImplementedError

    # -- the optimizer's interface -----------------------------------------------------
    @property
    def inner(self) -> Any:
        """The wrapped optimizer."""
        return self._inner

    @property
    def name(self) -> str:
        """The wrapped rule's ``method=`` name."""
        return self._inner.name

    @property
    def hyperparameters(self) -> MappingProxyType:
        """The wrapped rule's hyperparameters (read-only view)."""
        return self._inner.hyperparameters

    @property
    def backend(self) -> str:
        """The wrapped rule's backend; the transform's kernels run on the same one."""
        return self._inner.backend

    @property
    def full_batch_only(self) -> bool:
        return self._inner.full_batch_only

    @property
    def step_count(self) -> int:
        """Steps (updates of x) taken through this transform."""
        return self._t

    @property
    def bounds(self) -> Any:
        """The wrapped rule's box bounds (``opt.bounds = (lo, hi)`` sets them there)."""
        return self._inner.bounds

    def learning_rate_at(self, t: int) -> float:
        """The wrapped rule's learning rate at its step ``t``."""
        return self._inner.learning_rate_at(t)

    def __getattr__(self, name: str) -> Any:
        if name[0] != "_":
            inner = self.__dict__.get("_inner")
            if inner is not None and (
                name in inner.hyperparameters
                or name in chain(inner)[-1].declarations
                or name in chain(inner)[-1].spec.attributes_by_name
            ):
                return getattr(inner, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name[0] == "_":
            object.__setattr__(self, name, value)
        elif hasattr(type(self), name) and name not in ("backend", "bounds"):
            raise AttributeError(
                f"{type(self).__name__}.{name} cannot be set (a transform's settings are "
                "fixed at construction)"
            )
        else:  # the wrapped rule's: checked there (an unknown name is an error)
            setattr(self._inner, name, value)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({self._inner!r}, {args})"

    def step(self, x: Any, g: Any) -> Any:
        """Take one step: update ``x`` in place from its gradient ``g`` (as :meth:`Optimizer.step`).

        Returns
        -------
        x
            The same object (updated, or not yet for a :class:`MultiSteps` that is
            still accumulating).
        """
        if not hasattr(x, "shape") and any(
            isinstance(link, Wrapper) and link.kind == "param_groups" for link in chain(self)
        ):
            raise TypeError(
                f"{type(self).__name__} steps one array; to step a structure of arrays with "
                f"ParamGroups, put the transform inside it: "
                f"ParamGroups({type(self).__name__}(numopt.Adam(...), ...), groups)"
            )
        pair = flat_pair(x, g)
        rule = chain(self)[-1]
        self._apply(pair, None if rule.bounds is None else rule._box_for(pair.layout))
        return x

    def reset(self) -> None:
        """Forget the state, this transform's and the wrapped optimizer's."""
        self._rows.reset()
        self._t = 0
        self._updated = False
        self._reset_counters()
        self._inner.reset()

    def state_dict(self) -> dict[str, Any]:
        """The wrapped optimizer's state dict, extended with this transform's state.

        Its entry ``state_dict()["transforms"][kind]`` holds the settings and
        counters; its arrays are in ``state_dict()["state"]`` as ``"<kind>_<name>"``.
        """
        sd = self._inner.state_dict()
        entry: dict[str, Any] = {**self._config(), "step": self._t, **self._counters()}
        arrays = self._rows.host_arrays()
        if arrays:
            entry["order"] = self._rows.layout.order
            state = dict(sd.get("state", {}))
            state.update({f"{self.kind}_{k}": v for k, v in arrays.items()})
            sd["state"] = state
        sd["transforms"] = {**sd.get("transforms", {}), self.kind: entry}
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (checked before anything changes)."""
        cls = type(self).__name__
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        entries = state_dict.get("transforms")
        if not isinstance(entries, dict) or not isinstance(entries.get(self.kind), dict):
            raise ValueError(
                f"state_dict has no {self.kind!r} entry under 'transforms': it was not saved "
                f"by {cls} (or by one that wraps the rule differently)"
            )
        entry = entries[self.kind]
        for key, value in self._config().items():
            if entry.get(key) != value:
                raise ValueError(
                    f"state_dict was saved by {cls} with {key}={entry.get(key)!r}; this one "
                    f"has {key}={value!r}"
                )
        step = count("step", entry.get("step"))
        counters = self._load_counters(entry)
        prefix = f"{self.kind}_"
        state = state_dict.get("state") or {}
        if not isinstance(state, dict):
            raise ValueError(f"state_dict['state'] must be a dict, got {type(state).__name__}")
        mine = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        rest = {k: v for k, v in state.items() if not k.startswith(prefix)}
        rows, layout = self._rows.checked(mine, entry.get("order"), f"{cls}'s state")
        if rows is None and self.array_names and self._needs_arrays(step, counters):
            raise ValueError(
                f"state_dict has {cls} counters that need its arrays {list(self.array_names)} "
                "but 'state' lacks them"
            )
        inner = {k: v for k, v in state_dict.items() if k not in ("transforms", "state")}
        others = {k: v for k, v in entries.items() if k != self.kind}
        if others:
            inner["transforms"] = others
        if rest:
            inner["state"] = rest
        self._inner.load_state_dict(inner)  # checks the rest before changing anything
        self._rows.set(rows, layout)
        self._t = step
        self._set_counters(counters)
        self._updated = False
