"""``minimize``'s transform options turned into wrappers, and what a run reports of them.

``minimize`` calls :func:`wrap` with its (checked) transform options and gets back
the optimizer to step (the rule, wrapped from the inside out by :class:`ParamGroups`,
:class:`Lookahead`, :class:`Averaged` and :class:`SAM`); ``accumulate`` is done by the objective
(:class:`numopt.transforms.accumulate.MicroBatches`).
:func:`describe` is what a checkpoint records of them (a resumed run must match),
:func:`compiled_reason` why the compiled loop steps aside, :func:`average_of` the
result's ``x_average``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from numopt.transforms._wrapper import Wrapper, chain
from numopt.transforms.accumulate import MultiSteps
from numopt.transforms.averaging import EMA, Averaged, Polyak
from numopt.transforms.groups import ParamGroups
from numopt.transforms.lookahead import Lookahead
from numopt.transforms.sam import SAM

#: Option that turns each kind of wrapper on.
_OPTION_OF = {
    "param_groups": "param_groups",
    "lookahead": "lookahead",
    "average": "average",
    "accumulate": "accumulate",
    "sam": "sam",
}


def wrap(opt: Any, options: Any, structure: Any) -> Any:
    """The optimizer to step: ``opt`` wrapped as the transform options ask.

    ``options`` is the run's :class:`numopt.front.config.TransformOptions` (checked at
    the door); ``structure`` the run's :class:`numopt.problem.structure.Structure`.
    ``accumulate`` is done by the objective
    (:class:`numopt.transforms.accumulate.MicroBatches`), not here.
    """
    if any(isinstance(link, MultiSteps) for link in chain(opt)):
        raise ValueError(
            "method is a MultiSteps: minimize accumulates with options['accumulate'] (one "
            "update per that many mini-batches, nit counting updates); pass the wrapped "
            "optimizer as method"
        )
    given = [link for link in chain(opt) if isinstance(link, ParamGroups)]
    if given:  # method=ParamGroups(...): bound here to the flat buffer of x0's arrays
        if structure.kind == "array" or given[0]._binding is not None:
            raise ValueError(
                "method is a ParamGroups: it needs x0 as a dict, list or tuple of arrays, and "
                "a fresh ParamGroups (not yet stepped)"
            )
        given[0].bind_flat(structure.keys, structure.sizes, structure.shapes)
    groups = options.param_groups
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
        opt.bind_flat(structure.keys, structure.sizes, structure.shapes)
    if options.lookahead is not None:
        alpha = options.lookahead_alpha
        opt = Lookahead(opt, options.lookahead, 0.5 if alpha is None else alpha)
    if options.average is not None:
        start = options.average_start or 0
        if options.average == "ema":
            decay, debias = options.ema_decay, options.ema_debias
            tracker: EMA | Polyak = EMA(
                0.999 if decay is None else decay,
                debias=True if debias is None else debias,
                start=start,
            )
        else:
            tracker = Polyak(start=start)
        opt = Averaged(opt, tracker)
    if options.sam is not None:  # outermost: every link steps with the gradient at x + ε
        opt = SAM(opt, options.sam, bool(options.sam_adaptive))
    return opt


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


def compiled_reason(opt: Any, accumulate: int) -> str | None:
    """Why a run of ``opt`` (and ``accumulate`` micro-batches) needs the Python loop, or None."""
    active = ["accumulate"] if accumulate > 1 else []
    active += [_OPTION_OF[link.kind] for link in chain(opt) if isinstance(link, Wrapper)]
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
