"""Averages of the point: exponential moving average (EMA) and Polyak's running mean.

:class:`EMA` and :class:`Polyak` track ``x`` after each step of your own loop
(``avg.update(x)``, as ``torch.optim.swa_utils.AveragedModel.update_parameters``);
:class:`Averaged` wraps an optimizer so that every update feeds one (``minimize``'s
``average`` option uses it, and ``res.x_average`` is the result).  The average is a
buffer of x's shape and dtype, updated in place by one fused kernel per step (CPU
loops or, for device arrays, the CUDA kernel):

* Polyak (running mean of ``x_1 … x_n``): ``a_n = a_{n-1} + (x_n - a_{n-1}) / n``.
* EMA with ``debias=True`` (the default; optax ``ema(decay, debias=True)``): the
  zero-started average divided by ``1 - β^n``,
  ``a_n = Σ_i (1-β) β^(n-i) x_i / (1 - β^n)``, kept debiased in place as
  ``a_n = c0 a_{n-1} + c1 x_n`` with ``c1 = (1-β)/(1-β^n)`` and
  ``c0 = β (1-β^(n-1))/(1-β^n)`` (so ``a_1 = x_1`` exactly).  Early on it weighs
  the points almost equally; after ``n ≫ 1/(1-β)`` steps it is the plain EMA.
* EMA with ``debias=False`` (``torch.optim.swa_utils.get_ema_multi_avg_fn``):
  ``a_1 = x_1``, then ``a_n = β a_{n-1} + (1-β) x_n``; ``x_1`` keeps weight ``β^(n-1)``.

Neither is biased towards zero.  ``start`` skips the first ``start`` points (SWA's
``swa_start``).  The factors are computed on the host in float64 and cast to x's
dtype, as a rule's are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from numopt._checks import boolean, integer
from numopt._checks import decay as decay_rate
from numopt.kernels.arrays import FLOAT_DTYPES, FlatPair, Layout, flat_pair, on_device
from numopt.kernels.launch import BACKENDS, resolve
from numopt.transforms._kernels import ema_body, launch, polyak_body
from numopt.transforms._wrapper import Rows, Wrapper, count, updated


def _flat(x: Any) -> tuple[Any, Layout]:
    """A flat view of ``x`` (read only) and its layout; device arrays through ``flat_pair``."""
    if isinstance(x, np.ndarray):
        if x.dtype not in FLOAT_DTYPES:
            raise TypeError(f"x must have dtype float32 or float64, got {x.dtype}")
        if x.flags.c_contiguous:
            order = "C"
        elif x.flags.f_contiguous:
            order = "F"
        else:
            raise ValueError(
                "x is not contiguous, so it cannot be viewed flat; pass np.ascontiguousarray(x)"
            )
        return x.reshape(-1, order=order), Layout(x.shape, x.dtype, order, False)
    if on_device(x):
        pair = flat_pair(x, x)
        return pair.x, pair.layout
    raise TypeError(f"x must be a numpy.ndarray or a CUDA device array, got {type(x).__name__}")


class _Average:
    """What :class:`EMA` and :class:`Polyak` share: the buffer, counters, state dict."""

    #: ``"ema"`` or ``"polyak"``: ``minimize``'s ``average`` option.
    kind: ClassVar[str]
    _body: ClassVar[Callable]

    def __init__(self, *, start: int = 0, backend: str = "auto") -> None:
        self._start = integer("start", start, 0)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self._backend = backend
        self._rows = Rows(("mean",))
        self._seen = self._count = 0

    def _factors(self, n: int) -> tuple[float, ...]:
        """The kernel's factors for the ``n``-th averaged point (float64)."""
        raise NotImplementedError

    def _config(self) -> dict[str, Any]:
        return {"average": self.kind, "start": self._start}

    def _fresh(self) -> _Average:
        """A new average with these settings, no point."""
        config = {k: v for k, v in self._config().items() if k != "average"}
        return type(self)(**config, backend=self._backend)

    @property
    def start(self) -> int:
        """Points skipped before averaging starts."""
        return self._start

    @property
    def backend(self) -> str:
        return self._backend

    @property
    def seen(self) -> int:
        """Points given to :meth:`update` (skipped ones included)."""
        return self._seen

    @property
    def count(self) -> int:
        """Points averaged (``max(0, seen - start)``)."""
        return self._count

    @property
    def average(self) -> np.ndarray | None:
        """The average, a NumPy copy shaped like x (``None`` before the first point averaged)."""
        if self._count == 0:
            return None
        return self._rows.host_arrays()["mean"]

    def update(self, x: Any) -> None:
        """Add the point ``x`` (after a step; NumPy or CUDA device array, same layout each time)."""
        flat, layout = _flat(x)
        self._update(flat, layout)

    def _update(self, flat: Any, layout: Layout, backend: str | None = None) -> None:
        backend = resolve(backend or self._backend, layout.device, flat.size)
        rows, _ = self._rows.get(layout, flat.size)
        self._seen += 1
        if self._seen <= self._start:
            return
        launch(self._body, flat, flat, rows, self._factors(self._count + 1), backend)
        self._count += 1

    def reset(self) -> None:
        """Forget every point."""
        self._rows.reset()
        self._seen = self._count = 0

    def _counters(self) -> dict[str, int]:
        return {"seen": self._seen, "count": self._count}

    def _load_counters(self, entry: dict) -> dict[str, int]:
        seen, n = count("seen", entry.get("seen")), count("count", entry.get("count"))
        if n != max(0, seen - self._start):
            raise ValueError(
                f"state_dict's count ({n}) must be max(0, seen - start) = "
                f"{max(0, seen - self._start)}"
            )
        return {"seen": seen, "count": n}

    def _set_counters(self, counters: dict[str, int]) -> None:
        self._seen, self._count = counters["seen"], counters["count"]

    def state_dict(self) -> dict[str, Any]:
        """Plain data: settings, counters, and the average (``"mean"``, shaped like x)."""
        out: dict[str, Any] = {**self._config(), **self._counters()}
        arrays = self._rows.host_arrays()
        if arrays:
            out["order"] = self._rows.layout.order
            out["mean"] = arrays["mean"]
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (checked before anything changes)."""
        cls = type(self).__name__
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        for key, value in self._config().items():
            if state_dict.get(key) != value:
                raise ValueError(
                    f"state_dict was saved with {key}={state_dict.get(key)!r}; this {cls} "
                    f"has {key}={value!r}"
                )
        counters = self._load_counters(state_dict)
        arrays = {"mean": state_dict["mean"]} if "mean" in state_dict else {}
        rows, layout = self._rows.checked(arrays, state_dict.get("order"), f"{cls}'s state")
        if rows is None and counters["count"] > 0:
            raise ValueError(f"state_dict has count > 0 but no 'mean' array ({cls})")
        self._rows.set(rows, layout)
        self._set_counters(counters)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items() if k != "average")
        return f"{type(self).__name__}({args})"


class EMA(_Average):
    """Exponential moving average of the point, updated after each step.

    Parameters
    ----------
    decay : float, default 0.999
        β in [0, 1): the weight of the past.
    debias : bool, default True
        Divide the zero-started average by ``1 - β^n`` (optax's ``debias``); False:
        start from the first point, as torch's ``AveragedModel`` EMA (see the module
        docstring for both formulas).
    start : int, default 0
        Points to skip before averaging starts.
    backend : str, default "auto"
        As :class:`numopt.Optimizer` (``"numpy"``: the NumPy reference).

    Examples
    --------
    >>> import numpy as np, numopt
    >>> ema = numopt.EMA(decay=0.5)
    >>> for v in (1.0, 2.0, 4.0):
    ...     ema.update(np.array([v]))
    >>> ema.average  # (0.25·1 + 0.5·2 + 1·4) · 0.5 / (1 - 0.5³)
    array([3.])
    >>> torch_style = numopt.EMA(decay=0.5, debias=False)
    >>> for v in (1.0, 2.0, 4.0):
    ...     torch_style.update(np.array([v]))
    >>> torch_style.average  # 0.25·1 + 0.25·2 + 0.5·4
    array([2.75])
    """

    kind = "ema"
    _body = staticmethod(ema_body)

    def __init__(
        self, decay: float = 0.999, *, debias: bool = True, start: int = 0, backend: str = "auto"
    ) -> None:
        self._decay = decay_rate("decay", decay)
        self._debias = boolean("debias", debias)
        super().__init__(start=start, backend=backend)

    @property
    def decay(self) -> float:
        return self._decay

    @property
    def debias(self) -> bool:
        return self._debias

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "decay": self._decay, "debias": self._debias}

    def _factors(self, n: int) -> tuple[float, float]:
        b = self._decay
        if self._debias:
            total = 1.0 - math.pow(b, float(n))
            return b * (1.0 - math.pow(b, float(n - 1))) / total, (1.0 - b) / total
        return (0.0, 1.0) if n == 1 else (b, 1.0 - b)


class Polyak(_Average):
    """Polyak–Ruppert average: the running mean of the points after each step.

    Parameters
    ----------
    start : int, default 0
        Points to skip before averaging starts (stochastic weight averaging's
        ``swa_start``).
    backend : str, default "auto"
        As :class:`numopt.Optimizer`.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> avg = numopt.Polyak(start=1)
    >>> for v in (100.0, 1.0, 2.0, 6.0):
    ...     avg.update(np.array([v]))
    >>> avg.average, avg.count
    (array([3.]), 3)
    """

    kind = "polyak"
    _body = staticmethod(polyak_body)

    def _factors(self, n: int) -> tuple[float]:
        return (float(n),)


class Averaged(Wrapper):
    """An optimizer whose every update feeds an :class:`EMA` or :class:`Polyak` average.

    Parameters
    ----------
    optimizer : numopt optimizer
        Any rule or transform; x is averaged after each update it makes (a
        :class:`MultiSteps` call that only accumulates adds no point).
    average : EMA or Polyak
        A fresh average (no point yet); it runs on the optimizer's arrays, with the
        wrapped rule's backend.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> opt = numopt.Averaged(numopt.GD(learning_rate=0.5), numopt.Polyak())
    >>> x = np.array([4.0])
    >>> for _ in range(3):
    ...     opt.step(x, x.copy())  # x: 2, 1, 0.5
    array([2.])
    array([1.])
    array([0.5])
    >>> opt.average  # (2 + 1 + 0.5) / 3
    array([1.16666667])
    """

    kind = "average"
    array_names = ("mean",)

    def __init__(self, optimizer: Any, average: EMA | Polyak) -> None:
        super().__init__(optimizer)
        if not isinstance(average, _Average):
            raise TypeError(
                f"average must be a numopt.EMA or numopt.Polyak, got {type(average).__name__}"
            )
        if average.seen:
            raise ValueError("average must be fresh (no point yet): pass a new EMA or Polyak")
        self._average = average
        self._rows = average._rows  # the average's buffer is this wrapper's array

    @property
    def averager(self) -> EMA | Polyak:
        """The :class:`EMA` or :class:`Polyak` fed by this optimizer."""
        return self._average

    @property
    def average(self) -> np.ndarray | None:
        """The average, a NumPy copy shaped like x (``None`` before any point averaged)."""
        return self._average.average

    def _apply(self, pair: FlatPair, box: Any = None) -> None:
        self._inner._apply(pair, box)
        self._updated = updated(self._inner)
        if self._updated:
            self._t += 1
            self._average._update(pair.x, pair.layout, self.backend)

    def _config(self) -> dict[str, Any]:
        return self._average._config()

    def _counters(self) -> dict[str, int]:
        return self._average._counters()

    def _load_counters(self, entry: dict) -> dict[str, int]:
        return self._average._load_counters(entry)

    def _set_counters(self, counters: dict[str, int]) -> None:
        self._average._set_counters(counters)

    def _needs_arrays(self, step: int, counters: dict[str, int]) -> bool:
        return counters["count"] > 0

    def _reset_counters(self) -> None:
        self._average.reset()

    def _clone_around(self, inner: Any) -> Averaged:
        return Averaged(inner, self._average._fresh())

    def __repr__(self) -> str:
        return f"Averaged({self._inner!r}, {self._average!r})"
