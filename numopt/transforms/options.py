"""``minimize``'s options for the transforms: checked, and turned into wrappers.

``minimize`` calls :func:`wrap` with its options and gets back the optimizer to
step (the rule, wrapped from the inside out by :class:`ParamGroups`,
:class:`Lookahead` and :class:`Averaged`) and the number of micro-batches per update
(``accumulate``, done by the objective: :class:`numopt.transforms.accumulate.MicroBatches`).
:func:`describe` is what a checkpoint records of them (a resumed run must match),
:func:`compiled_reason` why the compiled loop steps aside, :func:`average_of` the
result's ``x_average``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from numopt._checks import boolean, choice, integer, interval
from numopt._checks import decay as decay_rate
from numopt.transforms._wrapper import Wrapper, chain
from numopt.transforms.accumulate import MultiSteps
from numopt.transforms.averaging import EMA, Averaged, Polyak
from numopt.transforms.groups import ParamGroups
from numopt.transforms.lookahead import Lookahead

#: The options and their defaults (``None``: not given; see ``minimize``'s docstring).
OPTIONS: dict[str, Any] = {
    "accumulate": None,
    "average": None,
    "ema_decay": None,
    "ema_debias": None,
    "average_start": None,
    "lookahead": None,
    "lookahead_alpha": None,
    "param_groups": None,
}

#: Option that turns each kind of wrapper on.
_OPTION_OF = {
    "param_groups": "param_groups",
    "lookahead": "lookahead",
    "average": "average",
    "accumulate": "accumulate",
}


def wrap(opt: Any, options: dict, structure: Any, batched: bool) -> tuple[Any, int]:
    """``(optimizer to step, micro-batches per update)`` from ``minimize``'s options.

    ``options`` holds every key of :data:`OPTIONS`; ``structure`` is the run's
    :class:`numopt._structure.Structure` of ``x0``; ``batched`` whether there are
    mini-batches.
    """
    if any(isinstance(link, MultiSteps) for link in chain(opt)):
        raise ValueError(
            "method is a MultiSteps: minimize accumulates with options['accumulate'] (one "
            "update per that many mini-batches, nit counting updates); pass the wrapped "
            "optimizer as method"
        )
    accumulate = 1
    if options["accumulate"] is not None:
        accumulate = integer("accumulate", options["accumulate"], 1)
        if not batched:
            raise ValueError(
                "accumulate needs batch_size: each update uses the mean gradient of "
                "`accumulate` mini-batches, and a full-batch run has none"
            )
    given = [link for link in chain(opt) if isinstance(link, ParamGroups)]
    if given:  # method=ParamGroups(...): bound here to the flat buffer of x0's arrays
        if structure.kind == "array" or given[0]._binding is not None:
            raise ValueError(
                "method is a ParamGroups: it needs x0 as a dict, list or tuple of arrays, and "
                "a fresh ParamGroups (not yet stepped)"
            )
        given[0].bind_flat(structure.keys, structure.sizes)
    groups = options["param_groups"]
    if groups is not None:
        if structure.kind == "array":
            raise ValueError(
                "param_groups needs x0 as a dict, list or tuple of arrays (a group names "
                "keys or indices of x0); x0 is one array"
            )
        if opt.step_count:
            raise ValueError(
                "param_groups needs a method without state: the optimizer object given has "
                f"taken {opt.step_count} steps"
            )
        opt = ParamGroups(opt, groups)
        opt.bind_flat(structure.keys, structure.sizes)
    k, alpha = options["lookahead"], options["lookahead_alpha"]
    if k is None and alpha is not None:
        raise ValueError("lookahead_alpha needs lookahead (the updates between synchronisations)")
    if k is not None:
        k = integer("lookahead", k, 1)
        alpha = 0.5 if alpha is None else interval("lookahead_alpha", alpha, "(0, 1]")
        opt = Lookahead(opt, k, alpha)
    average = options["average"]
    if average is not None:
        average = choice("average", average, ("ema", "polyak"))
    for key in ("ema_decay", "ema_debias"):
        if options[key] is not None and average != "ema":
            raise ValueError(f"{key} needs average='ema'")
    if options["average_start"] is not None and average is None:
        raise ValueError("average_start needs average ('ema' or 'polyak')")
    if average is not None:
        start = options["average_start"]
        start = 0 if start is None else integer("average_start", start, 0)
        if average == "ema":
            decay = options["ema_decay"]
            debias = options["ema_debias"]
            tracker: EMA | Polyak = EMA(
                0.999 if decay is None else decay_rate("ema_decay", decay),
                debias=True if debias is None else boolean("ema_debias", debias),
                start=start,
            )
        else:
            tracker = Polyak(start=start)
        opt = Averaged(opt, tracker)
    return opt, accumulate


def describe(opt: Any, accumulate: int) -> dict | None:
    """The transforms of a run as JSON data (``None`` without any): a checkpoint's record.

    Examples
    --------
    >>> import numopt
    >>> describe(numopt.Lookahead(numopt.Adam(), k=3), 4)
    {'accumulate': 4, 'lookahead': {'k': 3, 'alpha': 0.5}}
    """
    out: dict[str, Any] = {}
    if accumulate > 1:
        out["accumulate"] = accumulate
    for link in chain(opt):
        if isinstance(link, Wrapper):
            out[link.kind] = link._config()
    return json.loads(json.dumps(out, default=repr)) if out else None


def compiled_reason(run: Any) -> str | None:
    """Why ``run`` (a ``minimize`` run) needs the Python loop, or ``None``."""
    active = ["accumulate"] if getattr(run, "accumulate", 1) > 1 else []
    active += [_OPTION_OF[link.kind] for link in chain(run.opt) if isinstance(link, Wrapper)]
    if not active:
        return None
    return f"gradient/parameter transforms run in the Python loop ({', '.join(sorted(active))})"


def average_of(opt: Any, x: np.ndarray) -> np.ndarray | None:
    """The flat average of the :class:`Averaged` in ``opt``'s chain, a host copy (a copy
    of the flat host ``x`` when no point was averaged yet); ``None`` without one."""
    for link in chain(opt):
        if isinstance(link, Averaged):
            if link.averager.count == 0:
                return x.copy()
            rows = link._rows
            return rows.host_arrays()["mean"].reshape(-1, order=rows.layout.order)
    return None
