"""ReduceLROnPlateau: the learning rate that drops when a monitored loss stops improving."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from numopt import _checks
from numopt.schedules.base import Node, Schedule, Tree, _set

# The kind of node ReduceLROnPlateau lowers to (program._leaf and observe read it).
PLATEAU = 11


# -- the formula (shared with the compiled loop; see the rules in base.py) ------------
def _plateau_update(
    a: float,
    lr: float,
    best: float,
    num_bad: int,
    cooldown_counter: int,
    minimize: bool,
    relative: bool,
    threshold: float,
    patience: int,
    cooldown: int,
    factor: float,
    min_lr: float,
    eps: float,
) -> tuple[float, float, int, int]:
    """ReduceLROnPlateau's rule for one finite loss ``a`` (not counting the update)."""
    if minimize:
        better = a < best * (1.0 - threshold) if relative else a < best - threshold
    else:
        better = a > best * (threshold + 1.0) if relative else a > best + threshold
    if better:
        best = a
        num_bad = 0
    else:
        num_bad += 1
    if cooldown_counter > 0:
        cooldown_counter -= 1
        num_bad = 0  # bad updates during cooldown are ignored
    if num_bad > patience:
        new = lr * factor
        if min_lr > new:  # max(lr * factor, min_lr), as Python's max picks
            new = min_lr
        if lr - new > eps:
            lr = new
        cooldown_counter = cooldown
        num_bad = 0
    return lr, best, num_bad, cooldown_counter


# -- the plateau rule ----------------------------------------------------------------
class ReduceLROnPlateau(Schedule):
    """Reduce the learning rate when a monitored loss stops improving (PyTorch's rule).

    The learning rate starts at ``initial``.  Each :meth:`update` with a loss ``a``
    does, exactly as PyTorch's ``ReduceLROnPlateau.step``:

    1. if ``a`` is better than ``best`` (``mode="min"``, ``"rel"``:
       ``a < best * (1 - threshold)``; ``"abs"``: ``a < best - threshold``;
       ``mode="max"``: ``a > best * (1 + threshold)`` / ``a > best + threshold``):
       ``best = a``, ``num_bad_epochs = 0``; else ``num_bad_epochs += 1``;
    2. if ``cooldown_counter > 0``: ``cooldown_counter -= 1``, ``num_bad_epochs = 0``;
    3. if ``num_bad_epochs > patience``: ``new = max(lr * factor, min_lr)``, taken
       only if ``lr - new > eps``; then ``cooldown_counter = cooldown`` and
       ``num_bad_epochs = 0``.

    ``best`` starts at ``inf`` (``-inf`` for ``mode="max"``), so the first loss is
    always an improvement.  As in PyTorch, the ``"rel"`` test scales ``best``, so for
    a negative ``best`` in ``"min"`` mode a slightly worse loss counts as better.

    Calling the schedule returns the current learning rate, whatever the step.  The
    caller decides the cadence of :meth:`update` (once per epoch, or per iteration);
    ``patience`` and ``cooldown`` count updates.

    Parameters
    ----------
    initial : float
        The learning rate before any reduction, > 0.
    factor : float
        The factor of each reduction, in (0, 1).
    patience : int
        Updates without improvement tolerated before a reduction, >= 0.
    threshold : float
        The margin of an improvement, >= 0 (< 1 with ``threshold_mode="rel"``).
    threshold_mode : {"rel", "abs"}
        Whether ``threshold`` is relative to ``best`` or absolute.
    cooldown : int
        Updates after a reduction during which bad updates are not counted, >= 0.
    min_lr : float
        The floor of the learning rate, in [0, initial].
    eps : float
        Reductions smaller than ``eps`` are skipped, >= 0.
    mode : {"min", "max"}
        Whether the monitored quantity should decrease (a loss) or increase.

    Examples
    --------
    >>> lr = ReduceLROnPlateau(1.0, factor=0.5, patience=1)
    >>> lrs = []
    >>> for loss in [3.0, 2.0, 2.5, 2.5, 2.5, 2.5]:
    ...     lr.update(loss)
    ...     lrs.append(lr(0))
    >>> lrs
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]
    >>> lr.state_dict()
    {'lr': 0.25, 'best': 2.0, 'num_bad_epochs': 0, 'cooldown_counter': 0, 'num_updates': 6}
    """

    __slots__ = (
        "_best",
        "_cooldown_counter",
        "_lr",
        "_num_bad_epochs",
        "_num_updates",
        "cooldown",
        "eps",
        "factor",
        "initial",
        "min_lr",
        "mode",
        "patience",
        "threshold",
        "threshold_mode",
    )

    _STATE_KEYS = ("lr", "best", "num_bad_epochs", "cooldown_counter", "num_updates")

    def __init__(
        self,
        initial: float,
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
        mode: str = "min",
    ) -> None:
        initial = _checks.positive("initial", initial)
        threshold_mode = _checks.choice("threshold_mode", threshold_mode, ("rel", "abs"))
        threshold = _checks.nonnegative("threshold", threshold)
        if threshold_mode == "rel" and not threshold < 1:
            raise ValueError(
                f"threshold must be in [0, 1) when threshold_mode='rel', got {threshold!r}"
            )
        min_lr = _checks.nonnegative("min_lr", min_lr)
        if min_lr > initial:
            raise ValueError(f"min_lr must be <= initial ({initial!r}), got {min_lr!r}")
        _set(self, "initial", initial)
        _set(self, "factor", _checks.interval("factor", factor, "(0, 1)"))
        _set(self, "patience", _checks.integer("patience", patience, 0))
        _set(self, "threshold", threshold)
        _set(self, "threshold_mode", threshold_mode)
        _set(self, "cooldown", _checks.integer("cooldown", cooldown, 0))
        _set(self, "min_lr", min_lr)
        _set(self, "eps", _checks.nonnegative("eps", eps))
        _set(self, "mode", _checks.choice("mode", mode, ("min", "max")))
        self.reset()

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            raise AttributeError(
                f"cannot set {name!r}: the parameters of ReduceLROnPlateau are fixed when "
                "it is built"
            )
        object.__setattr__(self, name, value)

    def __setstate__(self, state: Any) -> None:
        # copy and pickle restore the slots through setattr, which the guard above
        # refuses for the parameters: restore them directly
        _, slots = state if isinstance(state, tuple) else (None, state)
        for name, value in (slots or {}).items():
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(initial={self.initial!r}, factor={self.factor!r}, "
            f"patience={self.patience!r}, threshold={self.threshold!r}, "
            f"threshold_mode={self.threshold_mode!r}, cooldown={self.cooldown!r}, "
            f"min_lr={self.min_lr!r}, eps={self.eps!r}, mode={self.mode!r})"
        )

    # -- the state -----------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The current learning rate."""
        return self._lr

    @property
    def best(self) -> float:
        """The best loss seen (``inf``, or ``-inf`` in ``"max"`` mode, before any)."""
        return self._best

    @property
    def num_bad_epochs(self) -> int:
        """Updates since the last improvement (PyTorch's name)."""
        return self._num_bad_epochs

    @property
    def cooldown_counter(self) -> int:
        """Updates of cooldown left."""
        return self._cooldown_counter

    @property
    def num_updates(self) -> int:
        """Number of :meth:`update` calls so far (PyTorch's ``last_epoch``)."""
        return self._num_updates

    def reset(self) -> None:
        """Back to ``initial``, with no history."""
        self._lr = self.initial
        self._best = math.inf if self.mode == "min" else -math.inf
        self._num_bad_epochs = 0
        self._cooldown_counter = 0
        self._num_updates = 0

    # -- the schedule ----------------------------------------------------------------
    def _at(self, step: int) -> float:
        return self._lr

    @property
    def needs_loss(self) -> bool:
        """Always true: :meth:`update` must be fed losses."""
        return True

    def update(self, loss: float) -> None:
        """Take the monitored ``loss`` (finite) into account; may reduce the rate."""
        if isinstance(loss, (bool, np.bool_, str, bytes)):
            raise _checks.type_error("loss", "a real number", loss)
        try:
            current = float(loss)
        except (TypeError, ValueError):
            raise _checks.type_error("loss", "a real number", loss) from None
        if not math.isfinite(current):
            raise ValueError(f"loss must be finite, got {current!r}")
        lr, best, num_bad, cooldown_counter = _plateau_update(
            current,
            self._lr,
            self._best,
            self._num_bad_epochs,
            self._cooldown_counter,
            self.mode == "min",
            self.threshold_mode == "rel",
            self.threshold,
            self.patience,
            self.cooldown,
            self.factor,
            self.min_lr,
            self.eps,
        )
        # object.__setattr__: this class's __setattr__ (which guards the parameters) is
        # slow Python code, and update runs once per iteration in full-batch runs
        set_ = object.__setattr__
        set_(self, "_num_updates", self._num_updates + 1)
        set_(self, "_lr", lr)
        set_(self, "_best", best)
        set_(self, "_num_bad_epochs", num_bad)
        set_(self, "_cooldown_counter", cooldown_counter)

    def state_dict(self) -> dict[str, Any]:
        """The counters and the current rate, as Python scalars.

        Keys: ``lr``, ``best`` (possibly ``±inf``), ``num_bad_epochs``,
        ``cooldown_counter``, ``num_updates``.  The parameters are not included:
        load into a rule built with the same ones.
        """
        return {
            "lr": self._lr,
            "best": self._best,
            "num_bad_epochs": self._num_bad_epochs,
            "cooldown_counter": self._cooldown_counter,
            "num_updates": self._num_updates,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (checked before anything changes)."""
        if not isinstance(state_dict, Mapping):
            raise _checks.type_error("state_dict", "a dict", state_dict)
        keys = set(state_dict)
        if keys != set(self._STATE_KEYS):
            raise ValueError(
                f"state_dict must have exactly the keys {sorted(self._STATE_KEYS)}, got "
                f"{sorted(map(str, keys))}"
            )
        lr = _checks.nonnegative("state_dict['lr']", state_dict["lr"])
        best = state_dict["best"]
        if isinstance(best, (bool, np.bool_)) or not isinstance(best, numbers.Real):
            raise _checks.type_error("state_dict['best']", "a real number", best)
        best = float(best)
        if math.isnan(best):
            raise ValueError(f"state_dict['best'] must not be NaN, got {best!r}")
        counters = {
            key: _checks.integer(f"state_dict[{key!r}]", state_dict[key], 0)
            for key in ("num_bad_epochs", "cooldown_counter", "num_updates")
        }
        self._lr = lr
        self._best = best
        self._num_bad_epochs = counters["num_bad_epochs"]
        self._cooldown_counter = counters["cooldown_counter"]
        self._num_updates = counters["num_updates"]

    # -- the encoding for the compiled loop ------------------------------------------
    def _encode(self, node: Node, tree: Tree, where: str) -> None:
        # The state, in the order program.observe reads it: lr, best, num_bad_epochs,
        # cooldown_counter, num_updates (one slice per distinct rule).
        state = (
            self._lr,
            self._best,
            self._num_bad_epochs,
            self._cooldown_counter,
            self._num_updates,
        )
        offset = tree.stateful(self, state, node)
        node.set(
            PLATEAU,
            ints=(
                offset,
                self.patience,
                self.cooldown,
                int(self.mode == "min"),
                int(self.threshold_mode == "rel"),
            ),
            floats=(self.threshold, self.factor, self.min_lr, self.eps),
        )

    def _load_state(self, values: list[float]) -> None:
        lr, best, num_bad_epochs, cooldown_counter, num_updates = values
        self.load_state_dict(
            {
                "lr": lr,
                "best": best,
                "num_bad_epochs": int(num_bad_epochs),
                "cooldown_counter": int(cooldown_counter),
                "num_updates": int(num_updates),
            }
        )
