"""Plots of a run's history: loss, gradient norm and learning rate per iteration.

Needs matplotlib (the ``plot`` extra: ``pip install 'numopt[plot]'``); it is imported
when a function is called, never by ``import numopt``.  The functions read
``result.history``, which :func:`numopt.minimize` records with
``options={"history": True}``:

* ``fun`` — the loss evaluated before each update (the batch loss with
  mini-batches), plus the final point's when the run stops on its own test;
* ``grad_norm`` — ``max|g|`` of the same evaluations;
* ``learning_rate`` — the rate each update used;
* ``epoch_fun`` — with mini-batches, each epoch's mean batch loss.

Iteration ``k`` on the x axis is the number of updates taken before the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_histories", "plot_history"]

#: The panels :func:`plot_history` can draw, with their y-axis labels.
PANELS = {
    "fun": "loss",
    "grad_norm": "gradient norm  max|g|",
    "learning_rate": "learning rate",
}

_HOW = "run minimize with options={'history': True}"


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("numopt.plotting needs matplotlib: pip install 'numopt[plot]'") from None
    return plt


def _history(result: Any) -> Mapping[str, np.ndarray]:
    history = result.get("history") if isinstance(result, Mapping) else None
    if history is None:
        history = getattr(result, "history", None)
    if history is None:
        raise ValueError(f"the result has no history: {_HOW}")
    if not isinstance(history, Mapping):
        raise TypeError(
            f"result.history must be a dict of arrays ({_HOW}), got {type(history).__name__}"
        )
    return history


def _panels(panels: Sequence[str]) -> tuple[str, ...]:
    if isinstance(panels, str):
        panels = (panels,)
    panels = tuple(panels)
    unknown = [p for p in panels if p not in PANELS]
    if unknown or not panels:
        raise ValueError(f"panels must be a non-empty sequence of {list(PANELS)}, got {panels!r}")
    return panels


def _axes_for(ax: Any, n: int, plt: Any, figsize: tuple[float, float] | None) -> list[Axes]:
    if ax is None:
        size = figsize if figsize is not None else (4.2 * n, 3.4)
        _, axes = plt.subplots(1, n, figsize=size, squeeze=False, layout="constrained")
        return list(axes[0])
    axes = list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != n:
        raise ValueError(f"ax must hold one Axes per panel ({n}), got {len(axes)}")
    return axes


def _auto_log(values: np.ndarray) -> bool:
    """Log scale for positive values spanning more than a decade (else linear reads better)."""
    finite = values[np.isfinite(values)]
    return bool(finite.size and np.all(finite > 0) and finite.max() >= 10 * finite.min())


def _positive(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(finite.size and np.all(finite > 0))


def _scale(name: str, values: np.ndarray, logy: bool | None, log_lr: bool | None) -> str:
    if name == "learning_rate":  # linear unless asked: most schedules are read linearly
        return "log" if log_lr and _positive(values) else "linear"
    if logy is None:
        return "log" if _auto_log(values) else "linear"
    return "log" if logy and _positive(values) else "linear"


def plot_history(
    result: Any,
    ax: Axes | Sequence[Axes] | None = None,
    *,
    panels: Sequence[str] = ("fun", "grad_norm", "learning_rate"),
    label: str | None = None,
    logy: bool | None = None,
    log_lr: bool | None = None,
    epoch_means: bool = True,
    figsize: tuple[float, float] | None = None,
    **line_kwargs: Any,
) -> tuple[Figure, list[Axes]]:
    """Draw a run's loss, gradient norm and learning rate against the iteration.

    Parameters
    ----------
    result : scipy.optimize.OptimizeResult
        What :func:`numopt.minimize` returned with ``options={"history": True}``.
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per panel to draw into (to overlay runs or place the panels in
        your own figure).  By default a new figure with one row of panels.
    panels : sequence of {"fun", "grad_norm", "learning_rate"}
        Which curves to draw, one panel each, in this order.
    label : str, optional
        The legend label of this run's lines (a legend is drawn on the first
        panel when given).
    logy : bool, optional
        Log-scale the y axes of the loss and gradient-norm panels.  By default
        each one is log-scaled when all its values are positive and span more
        than a decade.
    log_lr : bool, optional
        Log-scale the learning-rate panel (default: linear, as schedules are
        usually drawn).
    epoch_means : bool
        With mini-batches, also draw each epoch's mean batch loss (``epoch_fun``)
        as white dots at the epochs' ends on the loss panel, for runs that
        completed their epochs (status 7), where the epochs' ends are known.
    figsize : (float, float), optional
        The size of a new figure (ignored when ``ax`` is given).
    **line_kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (``color``, ``lw``, ...).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : list of matplotlib.axes.Axes
        One per panel.

    Raises
    ------
    ValueError
        If ``result`` has no history (run ``minimize`` with
        ``options={'history': True}``) or ``panels``/``ax`` do not fit.
    ImportError
        If matplotlib is missing (``pip install 'numopt[plot]'``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")  # draw off-screen
    >>> import numpy as np, numopt
    >>> from numopt.plotting import plot_history
    >>> from scipy.optimize import rosen, rosen_der
    >>> res = numopt.minimize(rosen, [-1.2, 1.0], jac=rosen_der, method="adam",
    ...                       options={"learning_rate": 0.02, "maxiter": 500,
    ...                                "history": True})
    >>> fig, axes = plot_history(res, label="adam")
    >>> [a.get_ylabel() for a in axes]
    ['loss', 'gradient norm  max|g|', 'learning rate']
    >>> len(axes[0].lines[0].get_xdata()) == res.nit + 1
    True
    >>> fig.savefig("history.png")  # doctest: +SKIP
    """
    plt = _pyplot()
    history = _history(result)
    names = _panels(panels)
    axes = _axes_for(ax, len(names), plt, figsize)
    fig = axes[0].figure
    if label is not None:
        line_kwargs.setdefault("label", label)
    color = line_kwargs.pop("color", None)
    for a, name in zip(axes, names, strict=True):
        values = np.asarray(history.get(name, ()), dtype=float)
        steps = np.arange(values.size)
        (line,) = a.plot(steps, values, color=color, **line_kwargs)
        color = line.get_color()  # the same colour on every panel
        a.set_yscale(_scale(name, values, logy, log_lr))
        a.set_xlabel("iteration")
        a.set_ylabel(PANELS[name])
        a.grid(True, which="major", alpha=0.3)
        if name == "fun" and epoch_means:
            _epoch_means(a, result, history, color, label)
    if label is not None:
        axes[0].legend(fontsize="small")
    return fig, axes


def _epoch_means(ax: Axes, result: Any, history: Mapping, color: str, label: str | None) -> None:
    epoch_fun = np.asarray(history.get("epoch_fun", ()), dtype=float)
    nit = int(result.get("nit", 0)) if isinstance(result, Mapping) else 0
    if epoch_fun.size == 0 or result.get("status") != 7 or nit % epoch_fun.size:
        return
    per_epoch = nit // epoch_fun.size
    ends = per_epoch * np.arange(1, epoch_fun.size + 1)
    name = "epoch means" if label is None else f"{label}: epoch means"
    ax.plot(ends, epoch_fun, "o-", color=color, mfc="white", ms=4, lw=0.8, label=name, zorder=3)


def plot_histories(
    results: Mapping[str, Any],
    ax: Axes | Sequence[Axes] | None = None,
    *,
    panels: Sequence[str] = ("fun", "grad_norm", "learning_rate"),
    logy: bool | None = None,
    log_lr: bool | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    **line_kwargs: Any,
) -> tuple[Figure, list[Axes]]:
    """Overlay several runs' histories, one colour and legend entry per run.

    Parameters
    ----------
    results : mapping of str to OptimizeResult
        The runs by legend label, each run with ``options={"history": True}``.
    ax, panels, logy, figsize, **line_kwargs
        As for :func:`plot_history` (``logy`` is decided on all runs together).
    log_lr : bool, optional
        Log-scale the learning-rate panel.  By default it is log-scaled when the
        runs' peak learning rates differ by a factor of 10 or more.
    title : str, optional
        The figure's title.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : list of matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``results`` is empty or a run has no history (the message names it).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numopt
    >>> from numopt.plotting import plot_histories
    >>> from scipy.optimize import rosen, rosen_der
    >>> runs = {
    ...     m: numopt.minimize(rosen, [-1.2, 1.0], jac=rosen_der, method=m,
    ...                        options={"learning_rate": lr, "maxiter": 300, "history": True})
    ...     for m, lr in [("adam", 0.02), ("rmsprop", 0.002)]
    ... }
    >>> fig, axes = plot_histories(runs, panels=["fun", "learning_rate"], title="Rosenbrock")
    >>> [line.get_label() for line in axes[0].get_lines()]
    ['adam', 'rmsprop']
    """
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty dict {label: OptimizeResult}")
    plt = _pyplot()
    names = _panels(panels)
    axes = _axes_for(ax, len(names), plt, figsize)
    for label, result in results.items():
        try:
            _history(result)
        except ValueError:
            raise ValueError(f"run {label!r} has no history: {_HOW}") from None
    for label, result in results.items():
        plot_history(result, axes, panels=names, label=str(label), **line_kwargs)
    # the scales are decided on all runs together: one scale per panel for every run
    for a, name in zip(axes, names, strict=True):
        values = [np.asarray(_history(r).get(name, ()), dtype=float) for r in results.values()]
        if name == "learning_rate" and log_lr is None:
            peaks = np.array([np.max(v, initial=0.0) for v in values])
            log_lr = bool(np.all(peaks > 0) and peaks.max() >= 10 * peaks.min())
        a.set_yscale(_scale(name, np.concatenate(values), logy, log_lr))
    if title is not None:
        axes[0].figure.suptitle(title)
    return axes[0].figure, axes
