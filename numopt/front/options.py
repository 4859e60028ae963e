"""Every option of ``minimize`` besides the rule's hyperparameters, declared once.

Each :class:`Option` has its name, default, check and documentation; the front door
checks the options against this table (an unknown key is an error), parses them into
typed configuration (:mod:`numopt.front.config`), and builds the Options section of
``minimize``'s docstring and the table of ``docs/options.md`` from it
(:func:`docstring_section`, :func:`markdown_table`), so the documentation cannot
drift from the code.  The rule's own hyperparameters are declared by the rule
(:class:`numopt.rules.spec.Hyper`).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from numopt import _checks


class Option(NamedTuple):
    """One option of ``minimize``.

    Attributes
    ----------
    name : str
        The key in ``options``.
    default : Any
        Its value when not given (``None``: not given; see the documentation).
    check : callable
        ``check(name, value) -> value``: raises a clear error, or returns the value
        normalised.  Not called for ``None`` where ``None`` is allowed (the default).
    group : str
        The heading it is documented under.
    doc : str
        Its documentation (reStructuredText, for the docstring and the docs page).
    """

    name: str
    default: Any
    check: Callable[[str, Any], Any]
    group: str
    doc: str


def _count(name: str, value: Any) -> int:
    return _checks.integer(name, value, 0)


def _positive_count(name: str, value: Any) -> int:
    return _checks.integer(name, value, 1)


def _path(name: str, value: Any) -> Any:
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), got {value!r}")
    return value


def _compiled(name: str, value: Any) -> Any:
    if value not in ("auto", True, False) or not isinstance(value, (bool, str)):
        raise ValueError(f"{name} must be 'auto', True or False, got {value!r}")
    return value


def _any(name: str, value: Any) -> Any:  # checked where it is used (needs args or x0)
    return value


def _progress(name: str, value: Any) -> Any:
    """True, False, or a dict of tqdm keywords (its keys checked here, its values by tqdm)."""
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"{name}'s keys must be tqdm's keyword names, got {key!r}")
        return dict(value)
    if not isinstance(value, (bool, np.bool_)):
        raise _checks.type_error(name, "True, False or a dict of tqdm keywords", value)
    return bool(value)


def _checkpoint_every(name: str, value: Any) -> Any:
    """An integer >= 1, or ``"epoch"``."""
    expected = "an integer >= 1 or 'epoch'"
    if isinstance(value, str):
        if value != "epoch":
            raise ValueError(f"{name} must be {expected}, got {value!r}")
        return value
    try:
        return _checks.integer(name, value, 1)
    except TypeError:
        raise _checks.type_error(name, expected, value) from None
    except ValueError:
        raise ValueError(f"{name} must be {expected}, got {value!r}") from None


def _choice(*choices: str) -> Callable[[str, Any], str]:
    def check(name: str, value: Any) -> str:
        return _checks.choice(name, value, choices)

    return check


def _interval(bounds: str) -> Callable[[str, Any], float]:
    def check(name: str, value: Any) -> float:
        return _checks.interval(name, value, bounds)

    return check


STOPPING, OUTPUT, BATCHES, PLACEMENT, CHECKPOINTS, TRANSFORMS = (
    "Stopping",
    "Output",
    "Mini-batches",
    "Where it runs",
    "Checkpoints",
    "Transforms",
)

#: Every option, in the order of the documentation.
OPTIONS: tuple[Option, ...] = (
    Option(
        "maxiter",
        None,
        _count,
        STOPPING,
        "Maximum number of updates (default 1000, or unbounded when ``epochs`` is given; "
        "15000 for ``l-bfgs-b``, as SciPy).",
    ),
    Option(
        "maxfev",
        None,
        _count,
        STOPPING,
        "Maximum number of ``fun`` evaluations: the run stops once ``nfev >= maxfev`` "
        "(tested between updates; a line search may pass it).",
    ),
    Option(
        "maxfun",
        None,
        _count,
        STOPPING,
        "SciPy's L-BFGS-B spelling: stop once ``nfev > maxfun`` (default 15000 for "
        "``l-bfgs-b``; give ``maxfev`` or ``maxfun``, not both).",
    ),
    Option(
        "gtol",
        None,
        _checks.nonnegative,
        STOPPING,
        "Stop when ``max|g| <= gtol`` (default 1e-5 full-batch, off with mini-batches, "
        "where it would test one batch's gradient); with ``bounds``, the projected "
        "gradient's ``max|P(x - g) - x|``.",
    ),
    Option(
        "ftol",
        0.0,
        _checks.nonnegative,
        STOPPING,
        "Stop when ``|f_k - f_{k-1}| <= ftol * max(|f_k|, |f_{k-1}|, 1)`` (default 0: off; "
        "2.220446049250313e-09 for ``l-bfgs-b``, as SciPy, whose ``ftol=0`` still stops "
        "when f did not change at all).",
    ),
    Option(
        "xtol",
        0.0,
        _checks.nonnegative,
        STOPPING,
        "Stop when ``max|x_k - x_{k-1}| <= xtol`` (default 0: off; costs a copy of x per update).",
    ),
    Option(
        "max_time", None, _checks.nonnegative, STOPPING, "Seconds of wall time after which to stop."
    ),
    Option(
        "disp",
        False,
        _checks.boolean,
        OUTPUT,
        "Print a compact iteration table and the final message.",
    ),
    Option(
        "progress",
        False,
        _progress,
        OUTPUT,
        "Show a progress bar (``tqdm.auto``: a widget in notebooks; needs the "
        "``progress`` extra) over the planned updates, starting where a resumed run "
        "resumes, with the loss (with mini-batches, the mean batch loss of the epoch so "
        "far; else the last update's), the epoch and the learning rate, refreshed "
        "between chunks of updates (about every 20 ms), and left on screen at the end.  "
        'A dict of tqdm keywords turns it on and passes them to tqdm: ``{"leave": '
        'False}`` removes it at the end; ``{"file": sys.stdout}``, ``{"desc": "fit"}``, '
        '``{"mininterval": 1.0}``.',
    ),
    Option(
        "history",
        False,
        _checks.boolean,
        OUTPUT,
        "Record ``fun``, ``grad_norm`` (the gradient measure of ``gtol``) and "
        "``learning_rate`` per update (and ``epoch_fun`` per epoch) in "
        "``result.history``.",
    ),
    Option(
        "callback_every",
        1,
        _positive_count,
        OUTPUT,
        "Call the callbacks every this many updates (default 1: after each).",
    ),
    Option(
        "batch_size",
        None,
        _any,  # checked against the number of samples (numopt.problem.batching)
        BATCHES,
        "Samples per mini-batch: the data arrays in ``args`` are shuffled once per "
        "epoch and cut into batches (see :class:`numopt.problem.batching.Batches`).",
    ),
    Option(
        "epochs",
        None,
        _count,
        BATCHES,
        "Passes over the mini-batches; bounds the run (needs ``batch_size``).",
    ),
    Option(
        "seed",
        None,
        _any,
        BATCHES,
        "Seed of the shuffling generator (an int or a ``numpy.random.Generator``; "
        "None: fresh entropy).",
    ),
    Option(
        "drop_last", False, _checks.boolean, BATCHES, "Drop the last, smaller batch of each epoch."
    ),
    Option(
        "shuffle",
        True,
        _checks.boolean,
        BATCHES,
        "Shuffle each epoch (False: batches in data order).",
    ),
    Option(
        "data_args",
        None,
        _any,
        BATCHES,
        "Positions in ``args`` of the data arrays (default: every array argument).",
    ),
    Option(
        "on_nonfinite",
        "stop",
        _choice("stop", "skip"),
        BATCHES,
        '``"stop"`` (default): a non-finite loss or gradient ends the run (status 3) '
        'with the best point.  ``"skip"`` (mini-batches only): drop that batch, make no '
        "update, count it in ``result.skipped`` (and towards ``maxiter``).  A run that "
        "skips keeps its own status and last point when the final loss on the whole data "
        "is not finite (the skipped rows): ``fun``/``jac`` are then the mean loss and "
        "gradient at ``x`` over the batches of an epoch in data order whose loss is "
        "finite (two more passes, in ``nfev``), and the message says so.  Non-finite "
        "parameters, or no finite batch at the final point, still end with status 3 and "
        "the best point.",
    ),
    Option(
        "backend",
        "auto",
        _any,  # checked by the rule's constructor, as for the stateful API
        PLACEMENT,
        "The kernels' backend (see :class:`numopt.Optimizer`).",
    ),
    Option(
        "device",
        "auto",
        _choice("auto", "cpu", "cuda"),
        PLACEMENT,
        "Where ``x``, the gradient, the best point and the optimizer's state live: "
        '``"cpu"``, ``"cuda"`` (one GPU, through numba-cuda) or ``"auto"`` (default: '
        '``"cuda"`` when ``x0`` holds a CUDA device array — Numba, CuPy, PyTorch — or '
        '``backend="cuda"``, else ``"cpu"``).  On the GPU, ``fun``/``jac`` get device '
        "views of ``x`` (CuPy arrays or torch tensors when ``x0`` is one, Numba device "
        "arrays otherwise; do not write into them); a device gradient is copied "
        "device-to-device, a NumPy one from the host (a transfer per evaluation), "
        '``jac="inplace"`` copies nothing; the loss may be a 1-element device array; '
        "callbacks get device copies; finite differences are refused.  ``res.x`` is "
        "NumPy.  See ``docs/gpu.md``.",
    ),
    Option(
        "return_device",
        False,
        _checks.boolean,
        PLACEMENT,
        'With ``device="cuda"``: also return the final point as device arrays '
        "structured like ``x0``, ``res.x_device`` (the run's own buffer, no copy).",
    ),
    Option(
        "compiled",
        "auto",
        _compiled,
        PLACEMENT,
        'Run the whole loop compiled when ``fun``/``jac`` are Numba functions: ``"auto"`` '
        "(default: when it can and it pays: a module's function compiles at its first "
        "call; a closure's full-batch run starts in the Python loop and moves to the "
        "compiled loop mid-run once the rest of the run, or the function's calls "
        "together, would cost more in Python than compiling; ``res.compiled`` and "
        "``res.compiled_reason`` say what ran), True (raise with the reason when it "
        "cannot) or False.  See ``docs/compiled-loop.md``.",
    ),
    Option(
        "checkpoint",
        None,
        _path,
        CHECKPOINTS,
        "A file to save the run's state to (see :mod:`numopt.loop.checkpoint`): every "
        "``checkpoint_every`` updates and/or ``checkpoint_seconds`` seconds, and always "
        "when the run ends (Ctrl-C included), written atomically.",
    ),
    Option(
        "checkpoint_every",
        None,
        _checkpoint_every,
        CHECKPOINTS,
        'Updates between two checkpoints, or ``"epoch"``: at the end of each epoch '
        "(needs ``batch_size``); needs ``checkpoint``.",
    ),
    Option(
        "checkpoint_seconds",
        None,
        _checks.nonnegative,
        CHECKPOINTS,
        "Seconds between two checkpoints (needs ``checkpoint``).",
    ),
    Option(
        "resume",
        None,
        _path,
        CHECKPOINTS,
        "A checkpoint file to continue from (same method, shape and dtype; the other "
        "options as before, or a larger ``maxiter``/``epochs``).  A run stopped by "
        "``maxiter``, ``max_time``, Ctrl-C, a ``KeyboardInterrupt`` from the objective "
        "or a callback, and resumed, ends with the same ``x`` bit for bit as a run never "
        "stopped.  ``nfev`` may differ by the evaluation that was interrupted.  The "
        "transforms below must match the checkpoint's; their state is in it.",
    ),
    Option(
        "accumulate",
        None,
        _positive_count,
        TRANSFORMS,
        "Gradient accumulation (needs ``batch_size``): each update evaluates this many "
        "consecutive mini-batches of an epoch at the same point and steps with their "
        "mean gradient (the last group of an epoch may hold fewer).  ``nit``, "
        "``maxiter``, callbacks, ``history`` (the group's mean loss and ``max|mean g|``), "
        '``gtol``/``ftol``, ``on_nonfinite="skip"`` (a whole group) and checkpoints '
        "count updates, not batches; ``nfev`` counts evaluations.",
    ),
    Option(
        "average",
        None,
        _choice("ema", "polyak"),
        TRANSFORMS,
        'Average x after each update: ``"ema"`` (decay 0.999, debiased by default; see '
        ':class:`numopt.EMA`) or ``"polyak"`` (the running mean).  ``res.x_average`` is '
        "the average (structured like x0; x itself when nothing was averaged); "
        "``res.x`` stays the last point.",
    ),
    Option(
        "ema_decay",
        None,
        _checks.decay,
        TRANSFORMS,
        'The EMA\'s decay (default 0.999; needs ``average="ema"``).',
    ),
    Option(
        "ema_debias",
        None,
        _checks.boolean,
        TRANSFORMS,
        'Whether the EMA is debiased (default True; needs ``average="ema"``).',
    ),
    Option(
        "average_start",
        None,
        _count,
        TRANSFORMS,
        "Updates not averaged at the start (default 0; needs ``average``).",
    ),
    Option(
        "lookahead",
        None,
        _positive_count,
        TRANSFORMS,
        "Lookahead around the rule (:class:`numopt.Lookahead`): every ``lookahead`` "
        "updates, ``slow += lookahead_alpha * (x - slow)`` and ``x = slow``.",
    ),
    Option(
        "lookahead_alpha",
        None,
        _interval("(0, 1]"),
        TRANSFORMS,
        "Lookahead's slow step size α (default 0.5; needs ``lookahead``).",
    ),
    Option(
        "sam",
        None,
        _checks.positive,
        TRANSFORMS,
        "Sharpness-aware minimisation around the rule (:class:`numopt.SAM`) with radius "
        "ρ = ``sam`` (0.05 is Foret et al.'s default): each update evaluates the gradient "
        "again at ``x + ρ g/‖g‖₂`` (clamped into the bounds; the same mini-batch) and "
        "steps ``x`` with it.  ``nfev`` counts both evaluations; ``fun``, ``jac``, the "
        "history and the stopping tests are those at ``x``.",
    ),
    Option(
        "sam_adaptive",
        None,
        _checks.boolean,
        TRANSFORMS,
        "ASAM: scale SAM's climb by ``|x|``, ``x + ρ x² g/‖x g‖₂`` (default False; needs ``sam``).",
    ),
    Option(
        "param_groups",
        None,
        _any,
        TRANSFORMS,
        'For a list/tuple/dict ``x0``: ``[{"params": [keys or indices], name: value, '
        "...}, ...]``, the rule's hyperparameters for those arrays (e.g. "
        '``{"params": ["b"], "weight_decay": 0.0}``); the other arrays take the '
        "method's options.  See :class:`numopt.ParamGroups`.",
    ),
)

#: The options by name.
BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}


def docstring_section(indent: str = "        ") -> str:
    """The options as the items of ``minimize``'s docstring, grouped by heading."""
    out: list[str] = []
    group = None
    for option in OPTIONS:
        if option.group != group:
            if group is not None:
                out.append("")
            group = option.group
            out.append(f"{indent}*{group}*\n")
        out.append(f"{indent}``{option.name}``")
        out.extend(textwrap.wrap(option.doc, 84 - len(indent), initial_indent=indent + "    ",
                                 subsequent_indent=indent + "    "))  # fmt: skip
    return "\n".join(out)


def markdown_table() -> str:
    """The options as the Markdown table of ``docs/options.md``.

    Examples
    --------
    >>> markdown_table().splitlines()[2].startswith("| `maxiter` |")
    True
    """
    rows = ["| option | default | group | what it does |", "|---|---|---|---|"]
    for option in OPTIONS:
        doc = option.doc.replace("|", "\\|").replace("``", "`")
        # where the default depends on the method or other options, the text says it
        default = "in the text" if "default" in doc else f"`{option.default!r}`"
        rows.append(f"| `{option.name}` | {default} | {option.group} | {doc} |")
    return "\n".join(rows)


def page() -> str:
    """The whole ``docs/options.md`` page, regenerated with ``python -c "from
    numopt.front.options import page; print(page(), end='')" > docs/options.md``."""
    return (
        "# `minimize`'s options\n\n"
        "<!-- generated from the declarations in numopt/front/options.py by its page();\n"
        "tests/front/test_options.py checks that it is current -->\n\n"
        "Every key of `options` besides the rule's hyperparameters (each rule's are listed\n"
        "in its docstring: `help(numopt.Adam)`).  An unknown key is an error.\n\n"
        f"{markdown_table()}\n"
    )


if __name__ == "__main__":  # python -m numopt.front.options > docs/options.md
    import sys

    sys.stdout.write(page())
