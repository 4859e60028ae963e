"""What the loop shows and calls besides the update: callbacks, progress, disp, Ctrl-C.

Callbacks take SciPy's two forms (:func:`callbacks`): ``callback(intermediate_result)``
(SciPy ≥ 1.11, chosen when the parameter is named ``intermediate_result``) or
``callback(xk)``; raising ``StopIteration`` or returning ``True`` stops the run.
"""

from __future__ import annotations

import _signal
import inspect
import math
import signal
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

#: The disp table's header and row format.
DISP_HEADER = f"{'iter':>8} {'f':>14} {'max|g|':>11} {'lr':>10}"


def callbacks(callback: Any) -> list[tuple[Callable, bool]]:
    """``callback`` (None, a callable or a list of them) as ``(callable, new_style)`` pairs."""
    if callback is None:
        return []
    items = list(callback) if isinstance(callback, (list, tuple)) else [callback]
    out = []
    for cb in items:
        if not callable(cb):
            raise TypeError(f"callback must be callable or a list of callables, got {cb!r}")
        try:
            params = inspect.signature(cb).parameters
        except (TypeError, ValueError):  # builtins without a signature: legacy form
            params = {}
        out.append((cb, "intermediate_result" in params))
    return out


def call(items: list[tuple[Callable, bool]], x: Any, f: Any, nit: int, **more: Any) -> str | None:
    """Call each callback at ``x`` (structured like x0); the reason to stop, or None.

    ``more``: further fields of the ``intermediate_result`` (``minimize_many``'s
    ``problems``).
    """
    for cb, new_style in items:
        try:
            if new_style:
                out = cb(intermediate_result=OptimizeResult(x=x, fun=f, nit=nit, **more))
            else:
                out = cb(x)
        except StopIteration:
            return "`callback` raised `StopIteration`."
        if out is True or (isinstance(out, np.bool_) and out):
            return "`callback` returned True."
    return None


def disp_loop(compiled: bool, reason: str | None) -> str:
    """The line printed above the ``disp`` table: which loop runs, and why not compiled.

    Examples
    --------
    >>> disp_loop(True, None)
    'compiled loop'
    >>> disp_loop(False, "compiled=False")
    'Python loop (compiled=False)'
    >>> disp_loop(False, "fun is not a Numba @njit function")
    'Python loop (the compiled loop cannot run: fun is not a Numba @njit function)'
    """
    if compiled:
        return "compiled loop"
    if reason == "compiled=False":
        return "Python loop (compiled=False)"
    return f"Python loop (the compiled loop cannot run: {reason})"


def disp_row(nit: float, f: float, gnorm: float, lr: float) -> str:
    """One row of the ``disp`` table."""
    return f"{int(nit):>8} {f:>14.6e} {gnorm:>11.3e} {lr:>10.3e}"


def progress_bar(total: int | None, initial: int = 0, keywords: dict | None = None) -> Any:
    """A tqdm progress bar over ``total`` updates (needs the ``progress`` extra).

    ``tqdm.auto``: a widget in notebooks, text elsewhere.  It starts at ``initial``
    (a resumed run's updates) and stays on screen at the end; ``keywords`` (the dict
    given as ``options["progress"]``) are tqdm's, given after these (``{"leave":
    False}`` removes it at the end).
    """
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(
            "options['progress']=True needs tqdm: pip install 'numopt[progress]'"
        ) from None
    settings = {"total": total, "initial": initial, "unit": "it", "leave": True}
    return tqdm(**{**settings, **(keywords or {})})


def progress_postfix(
    loss: float, epoch: int, epochs: int | None, lr: float | None
) -> dict[str, str]:
    """The progress bar's postfix: the loss, the epoch (0: none) and the learning rate
    (None: none); a loss that is NaN (none yet) is left out.

    Examples
    --------
    >>> progress_postfix(0.0123456, 3, 10, 1e-3)
    {'loss': '0.01235', 'epoch': '3/10', 'lr': '0.001'}
    >>> progress_postfix(float("nan"), 2, None, None)
    {'epoch': '2'}
    """
    out = {}
    if not math.isnan(loss):
        out["loss"] = f"{loss:.4g}"
    if epoch:
        out["epoch"] = f"{epoch}/{epochs}" if epochs is not None else f"{epoch}"
    if lr is not None:
        out["lr"] = f"{lr:.3g}"
    return out


class deferred_sigint:  # (lower case: used as a function, ``with deferred_sigint() as ...``)
    """Turn a first Ctrl-C into a request to stop at the next consistent point.

    The run then ends with status 8 between two updates (where a checkpoint resumes
    exactly); a second Ctrl-C raises KeyboardInterrupt at once.  Only in the main
    thread, and only where Python's default handler is installed.  ``with
    deferred_sigint() as interrupted``: ``interrupted()`` says whether Ctrl-C was
    pressed.  (A class, not a generator under ``contextlib``: this runs at every
    ``minimize`` call.)
    """

    __slots__ = ("install", "old", "pressed")

    def __init__(self) -> None:
        self.pressed = False
        self.old: Any = None
        # _signal's functions are signal's without the conversion of handlers to enums:
        # the same calls, a fifth of the cost
        self.install = (
            threading.current_thread() is threading.main_thread()
            and _signal.getsignal(_signal.SIGINT) is signal.default_int_handler
        )

    def _handler(self, signum: int, frame: Any) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True

    def _pressed(self) -> bool:
        return self.pressed

    def __enter__(self) -> Callable[[], bool]:
        if self.install:
            self.old = _signal.signal(_signal.SIGINT, self._handler)
        return self._pressed

    def __exit__(self, *exc: object) -> None:
        if self.install:
            _signal.signal(_signal.SIGINT, self.old)
