"""Per-group hyperparameters for a structure of arrays (torch param groups, optax ``masked``).

:class:`ParamGroups` steps a dict, list or tuple of arrays: each group names some
of the arrays (keys of a dict, indices of a list/tuple) and overrides some of the
rule's hyperparameters for them; every other array takes the optimizer's own
settings.  The classic use is no weight decay on biases::

    opt = numopt.ParamGroups(
        numopt.AdamW(learning_rate=1e-3, weight_decay=0.01),
        [{"params": ["b1", "b2"], "weight_decay": 0.0}],
    )
    opt.step({"w1": w1, "b1": b1, ...}, {"w1": g_w1, "b1": g_b1, ...})

Underneath, each group runs its own optimizer (a fresh copy of the one given, with
the group's settings) on its arrays: in your own loop one per array; inside
``minimize`` (``options["param_groups"]``), where ``x0``'s arrays are contiguous
segments of one flat buffer, one per run of neighbouring arrays of the same group.
Rules are element-wise, so the result is the same either way, bit for bit.

The optimizer given may itself be a transform (``Lookahead(Adam(...))``): each group
then gets its own copy of the whole chain.

A group may also bring its own optimizer, another rule (``{"params": ["b"],
"optimizer": numopt.AdamW(...)}``): Muon for the matrices, AdamW for the biases, as
torch users pair two optimizers.  Its arrays then run a copy of that optimizer (with
the group's overrides, checked by its rule), and setting a hyperparameter on the
ParamGroups leaves them alone.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

from numopt.kernels.arrays import FlatPair, Layout, flat_pair
from numopt.transforms._wrapper import Wrapper, chain, count, updated


def clone(optimizer: Any, overrides: dict | None = None) -> Any:
    """A fresh copy of ``optimizer`` (a rule or a chain of transforms), no state.

    ``overrides`` replaces some of the rule's hyperparameters (checked by the rule).
    """
    if isinstance(optimizer, Wrapper):
        return optimizer._clone_around(clone(optimizer.inner, overrides))
    hp = {**optimizer.hyperparameters, **(overrides or {})}
    return type(optimizer)(**hp, backend=optimizer.backend)


class _Unit(NamedTuple):
    group: int  # index in param_groups, or len(param_groups): the other arrays
    keys: tuple  # the arrays it steps
    span: slice | None  # its segment of minimize's flat buffer
    opt: Any


def _describe(value: Any) -> Any:
    return "a schedule" if callable(value) else value


class ParamGroups(Wrapper):
    """Step a dict/list/tuple of arrays, some groups of them with their own hyperparameters.

    Parameters
    ----------
    optimizer : numopt optimizer
        A fresh rule (``numopt.AdamW(...)``) or chain of transforms: its settings apply
        to every array that no group names.
    param_groups : list of dict
        Each ``{"params": [key, ...], name: value, ...}``: the arrays (keys of a dict,
        indices of a list/tuple; each in at most one group) and the rule's
        hyperparameters to override for them (checked as the rule checks them).  A
        key that names no array is an error at the first step.

    Notes
    -----
    ``step(params, grads)`` updates each array of ``params`` in place.
    ``step_count`` counts steps; ``hyperparameters`` are the optimizer's (the
    defaults); setting one (``opt.learning_rate = 0.01``) changes it for every group
    that does not override it.  A group may override ``learning_rate`` with a number
    or a schedule, but not with ``ReduceLROnPlateau`` (``minimize`` feeds the loss to
    the optimizer's own schedule only).

    Examples
    --------
    >>> import numpy as np, numopt
    >>> params = {"w": np.array([1.0, 1.0]), "b": np.array([1.0])}
    >>> opt = numopt.ParamGroups(
    ...     numopt.GD(learning_rate=0.5, weight_decay=1.0),
    ...     [{"params": ["b"], "weight_decay": 0.0}],
    ... )
    >>> zero = {"w": np.zeros(2), "b": np.zeros(1)}
    >>> opt.step(params, zero)["w"], params["b"]  # w decays, b does not
    (array([0.5, 0.5]), array([1.]))
    """

    kind = "param_groups"

    def __init__(self, optimizer: Any, param_groups: Sequence[dict]) -> None:
        super().__init__(optimizer)
        if optimizer.step_count:
            raise ValueError(
                "ParamGroups builds one optimizer per group from this one's settings; pass a "
                f"fresh optimizer (this one has taken {optimizer.step_count} steps)"
            )
        _no_sam(optimizer, "ParamGroups' optimizer")
        if chain(optimizer)[-1].bounds is not None:
            raise ValueError(
                "ParamGroups takes an optimizer without bounds (each group's copy would not "
                "know its arrays' part of them); minimize(..., bounds=...) applies bounds"
            )
        if chain(optimizer)[-1].hyperparameters.get("clip_norm") is not None:
            raise ValueError(
                "ParamGroups takes an optimizer without clip_norm: each group's copy would "
                "clip by the norm of its own arrays, not the global norm; clip the gradient "
                "before stepping, or use clip_value (per entry)"
            )
        self._groups, self._own = _checked_groups(param_groups, optimizer)
        self._units: list[_Unit] = []
        self._binding: str | None = None  # "leaves" (step) or "flat" (minimize)
        self._keys: list | None = None
        self._pairs: tuple | None = None  # minimize's buffer and box, the units' views

    # -- settings ----------------------------------------------------------------------
    @property
    def param_groups(self) -> list[dict]:
        """The groups as given (copies): ``{"params": [...], overrides...}`` (and the
        group's ``"optimizer"``, if it has its own)."""
        return [
            {"params": list(keys), **hp, **({} if own is None else {"optimizer": own})}
            for (keys, hp), own in zip(self._groups, self._own, strict=True)
        ]

    def _config(self) -> dict[str, Any]:
        return {
            "param_groups": [
                {
                    "params": list(keys),
                    **{k: _describe(v) for k, v in hp.items()},
                    **({} if own is None else {"optimizer": repr(own)}),
                }
                for (keys, hp), own in zip(self._groups, self._own, strict=True)
            ]
        }

    def _base(self, group: int) -> Any:
        """The optimizer that ``group``'s arrays run copies of (the group's own, or the
        one given to ParamGroups)."""
        own = self._own[group] if group < len(self._own) else None
        return self._inner if own is None else own

    def _clone_around(self, inner: Any) -> Wrapper:  # pragma: no cover - refused by __init__
        raise TypeError("ParamGroups cannot be nested")

    def __setattr__(self, name: str, value: Any) -> None:
        if name[0] == "_":
            object.__setattr__(self, name, value)
            return
        if name == "bounds":
            raise AttributeError(
                "ParamGroups takes no bounds in your own loop; minimize(..., bounds=...) "
                "applies bounds to a structure of arrays"
            )
        if name == "clip_norm":
            raise AttributeError(
                "ParamGroups takes no clip_norm (each group would clip by its own norm, not "
                "the global one)"
            )
        super().__setattr__(name, value)  # the defaults (checked), or AttributeError
        for unit in self._units:
            if name == "backend" or unit.group == len(self._groups):
                setattr(unit.opt, name, value)
            elif self._own[unit.group] is None and name not in self._groups[unit.group][1]:
                setattr(unit.opt, name, value)

    def __repr__(self) -> str:
        return f"ParamGroups({self._inner!r}, {self.param_groups!r})"

    # -- binding the groups to arrays --------------------------------------------------
    def _bind(self, keys: list, sizes: list[int] | None, shapes: list | None = None) -> None:
        """Build the units: one per array (``sizes`` None), or per run of one group's
        neighbouring arrays of minimize's flat buffer (``sizes`` and ``shapes`` given)."""
        where = {key: i for i, (group, _) in enumerate(self._groups) for key in group}
        known = set(keys)
        for i, (group, _) in enumerate(self._groups):
            for key in group:
                if key not in known:
                    raise ValueError(
                        f"param_groups[{i}]['params'] names {key!r}, which is not an array of "
                        f"x (its keys: {keys})"
                    )
        default = len(self._groups)
        runs: list[tuple[int, list, int, int]] = []
        start = 0
        for j, key in enumerate(keys):
            group = where.get(key, default)
            stop = start + (sizes[j] if sizes is not None else 0)
            if sizes is not None and runs and runs[-1][0] == group:
                runs[-1] = (group, [*runs[-1][1], key], runs[-1][2], stop)
            else:
                runs.append((group, [key], start, stop))
            start = stop
        for base in {id(self._base(g)): self._base(g) for g in range(default + 1)}.values():
            _check_per_array(base, sizes)
        units = []
        for group, run_keys, a, b in runs:
            overrides = self._groups[group][1] if group < default else {}
            span = slice(a, b) if sizes is not None else None
            opt = clone(self._base(group), overrides)
            if sizes is not None:  # LAMB's layers, Muon's matrices: the unit's arrays
                index = [keys.index(key) for key in run_keys]
                _give_per_array(opt, [sizes[j] for j in index], [shapes[j] for j in index])
            units.append(_Unit(group, tuple(run_keys), span, opt))
        self._units, self._keys = units, list(keys)
        self._binding = "leaves" if sizes is None else "flat"
        self._pairs = None

    def bind_flat(self, keys: list, sizes: list[int], shapes: list) -> None:
        """Bind to a flat buffer holding the arrays ``keys`` of ``sizes`` elements and
        ``shapes`` in order (what ``minimize`` does with ``x0``'s structure)."""
        if self._binding is not None:
            raise ValueError("this ParamGroups is already bound to arrays")
        self._bind(list(keys), list(sizes), list(shapes))

    # -- steps -----------------------------------------------------------------------
    def step(self, params: Any, grads: Any) -> Any:
        """Update each array of ``params`` (a dict, list or tuple of arrays) in place.

        ``grads`` has the same structure; each gradient the shape and dtype of its
        array.  Everything is checked before any array changes.  Returns ``params``.
        """
        if isinstance(params, dict):
            keys = list(params)
            if not isinstance(grads, dict) or set(grads) != set(keys):
                got = sorted(map(repr, grads)) if isinstance(grads, dict) else type(grads).__name__
                raise ValueError(f"grads must be a dict with the keys of params {keys}, got {got}")
        elif isinstance(params, (list, tuple)):
            keys = list(range(len(params)))
            if not isinstance(grads, (list, tuple)) or len(grads) != len(params):
                raise ValueError(f"grads must be a list or tuple of {len(params)} arrays")
        else:
            raise TypeError(
                "ParamGroups steps a dict, list or tuple of arrays (the groups name its keys "
                f"or indices), got {type(params).__name__}"
            )
        if self._binding is None:
            self._bind(keys, None)
        elif self._binding != "leaves":
            raise TypeError("this ParamGroups is bound to minimize's flat buffer")
        elif keys != self._keys:
            raise ValueError(
                f"params has the arrays {keys}, but this ParamGroups stepped {self._keys}; "
                "build a new ParamGroups for other arrays"
            )
        pairs = []
        for unit in self._units:
            (key,) = unit.keys
            try:
                pairs.append(flat_pair(params[key], grads[key]))
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"params[{key!r}]: {exc}") from None
        self._run(pairs, [None] * len(pairs))
        return params

    def _apply(self, pair: FlatPair, box: Any = None) -> None:
        if self._binding != "flat":
            raise TypeError(
                "ParamGroups steps a structure of arrays: call step(params, grads) "
                "(minimize binds it to its flat buffer)"
            )
        cached = self._pairs
        if cached is None or cached[0] is not pair.x or cached[1] is not box:
            dtype, device = pair.layout.dtype, pair.layout.device
            views, boxes = [], []
            for unit in self._units:
                x, g = pair.x[unit.span], pair.g[unit.span]
                views.append(FlatPair(x, g, Layout((x.size,), dtype, "C", device)))
                boxes.append(None if box is None else type(box)(*(a[unit.span] for a in box)))
            cached = self._pairs = (pair.x, box, views, boxes)
        self._run(cached[2], cached[3])

    def _run(self, pairs: list[FlatPair], boxes: list) -> None:
        for unit, pair, box in zip(self._units, pairs, boxes, strict=True):
            unit.opt._apply(pair, box)
        self._updated = bool(self._units) and updated(self._units[0].opt)
        if self._updated:
            self._t += 1

    def _reset_counters(self) -> None:
        for unit in self._units:
            unit.opt.reset()

    # -- state ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A rule-shaped state dict: the rule's name and default hyperparameters, the step
        count, each unit's arrays in ``"state"`` as ``"u<unit>_<name>"``, and under
        ``"transforms"["param_groups"]`` the groups and each unit's other state."""
        out = chain(self._inner)[-1].state_dict()  # a fresh rule: name, hyperparameters
        out["step"] = self._t
        state, units = {}, []
        for u, unit in enumerate(self._units):
            sd = unit.opt.state_dict()
            state.update({f"u{u}_{k}": v for k, v in sd.pop("state", {}).items()})
            units.append({"group": unit.group, "keys": list(unit.keys), "state_dict": sd})
        entry = {**self._config(), "step": self._t, "binding": self._binding, "units": units}
        out["transforms"] = {"param_groups": entry}
        if state:
            out["state"] = state
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (checked before anything changes)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        entries = state_dict.get("transforms")
        entry = entries.get("param_groups") if isinstance(entries, dict) else None
        if not isinstance(entry, dict):
            raise ValueError(
                "state_dict has no 'param_groups' entry: it was not saved by ParamGroups"
            )
        mine = self._config()["param_groups"]
        if entry.get("param_groups") != mine:
            raise ValueError(
                f"state_dict was saved with param_groups={entry.get('param_groups')!r}; this "
                f"ParamGroups has {mine!r}"
            )
        rule = chain(self._inner)[-1].name
        if state_dict.get("rule") != rule:
            raise ValueError(f"state_dict is for rule {state_dict.get('rule')!r}, not {rule!r}")
        step = count("step", state_dict.get("step"))
        binding, saved = entry.get("binding"), entry.get("units") or []
        state = dict(state_dict.get("state") or {})
        layout = [(u["group"], tuple(u["keys"])) for u in saved]
        if binding not in (None, "leaves", "flat") or (binding is None and saved):
            raise ValueError(f"state_dict's param_groups binding {binding!r} is not valid")
        if self._binding is not None:
            if binding not in (None, self._binding) or (
                binding is not None and layout != [(u.group, u.keys) for u in self._units]
            ):
                raise ValueError(
                    f"state_dict's param_groups cover the arrays as {layout}, this "
                    f"ParamGroups as {[(u.group, u.keys) for u in self._units]}"
                )
        elif binding == "flat":
            raise ValueError(
                "state_dict was saved inside minimize (one flat buffer); load it into a "
                "ParamGroups that minimize bound the same way"
            )
        units = []
        own = self._units if self._binding is not None else []
        for u, (group, keys) in enumerate(layout):
            prefix = f"u{u}_"
            sd = dict(saved[u]["state_dict"])
            arrays = {k[len(prefix) :]: state.pop(k) for k in list(state) if k.startswith(prefix)}
            if arrays:
                sd["state"] = arrays
            overrides = self._groups[group][1] if group < len(self._groups) else {}
            opt = clone(self._base(group), overrides)
            rule = chain(opt)[-1]
            if own:  # LAMB's layers, Muon's shapes: as _bind gave them
                for name, value in chain(own[u].opt)[-1]._attributes.items():
                    setattr(rule, name, value)
            try:
                opt.load_state_dict(sd)
            except (TypeError, ValueError) as exc:
                what = f"state_dict's param_groups unit {u} ({list(keys)})"
                raise type(exc)(f"{what}: {exc}") from None
            span = own[u].span if own else None
            units.append(_Unit(group, keys, span, opt))
        if state:
            raise ValueError(f"state_dict['state'] has arrays of no unit: {sorted(state)}")
        if binding is not None:
            self._units = units
            if self._binding is None:
                self._keys = [key for unit in units for key in unit.keys]
                self._binding = binding
        else:
            for unit in self._units:
                unit.opt.reset()
        self._pairs = None
        self._t = step
        self._updated = False


def _check_per_array(optimizer: Any, sizes: list[int] | None) -> None:
    """A rule that works per array (LAMB's ``layers``, Muon's ``shapes``) must take x's
    arrays as they are: in your own loop each array is a unit (the attribute must be
    None); in minimize each unit gets its arrays (what the user set must be them)."""
    rule = chain(optimizer)[-1]
    layers = rule._attributes.get("layers")
    if layers is not None and (sizes is None or list(layers) != list(sizes)):
        raise ValueError(
            f"the optimizer's layers {list(layers)} are not x's arrays: with ParamGroups "
            "each array is a layer (leave layers=None)"
        )


def _give_per_array(opt: Any, sizes: list[int], shapes: list) -> None:
    """Give a unit's rule its arrays: as LAMB's/LARS's layers, as Muon's matrices."""
    from numopt.rules.structured import per_array

    rule = chain(opt)[-1]
    given = per_array(sizes, shapes)
    for name in rule._attributes:
        setattr(rule, name, given[name])


def _checked_groups(groups: Any, optimizer: Any) -> tuple[list[tuple[tuple, dict]], list]:
    """``param_groups`` checked: keys, no array twice, each override checked by the rule
    (the group's own optimizer's, if it has one).  Returns ``[(keys, overrides)]`` and
    the groups' own optimizers (None where a group has none)."""
    if isinstance(groups, (str, bytes, dict)) or not isinstance(groups, Sequence):
        raise TypeError(
            "param_groups must be a list of dicts like {'params': [keys...], "
            f"'weight_decay': 0.0}}, got {type(groups).__name__}"
        )
    seen: dict[Any, int] = {}
    out, own = [], []
    for i, group in enumerate(groups):
        if not isinstance(group, dict):
            raise TypeError(
                f"param_groups[{i}] must be a dict with 'params' and hyperparameters, got "
                f"{type(group).__name__}"
            )
        if "params" not in group:
            raise ValueError(f"param_groups[{i}] has no 'params' (the arrays it names)")
        keys = group["params"]
        if isinstance(keys, (str, bytes)) or not isinstance(keys, (list, tuple)) or not keys:
            raise TypeError(
                f"param_groups[{i}]['params'] must be a non-empty list of keys (of a dict x) "
                f"or indices (of a list/tuple x), got {keys!r}"
            )
        for key in keys:
            if isinstance(key, bool) or not isinstance(key, (str, numbers.Integral)):
                raise TypeError(
                    f"param_groups[{i}]['params'] holds {key!r}; keys are strings (of a dict "
                    "x) or integers (indices of a list/tuple x)"
                )
            if key in seen:
                where = "twice in it" if seen[key] == i else f"in param_groups[{seen[key]}] too"
                raise ValueError(
                    f"param_groups[{i}]['params'] names {key!r}, which is {where}: an array "
                    "belongs to one group"
                )
            seen[key] = i
        overrides = {k: v for k, v in group.items() if k not in ("params", "optimizer")}
        base = _own_optimizer(group.get("optimizer"), i) if "optimizer" in group else None
        own.append(base)
        base = optimizer if base is None else base
        rule = chain(base)[-1]
        names = sorted(rule.declarations)  # all declared (``hyperparameters`` hides clipping)
        unknown = sorted(set(overrides) - set(names) | set(overrides) & {"clip_norm"})
        if unknown:
            valid = [name for name in names if name != "clip_norm"]
            raise ValueError(
                f"param_groups[{i}] sets {unknown}, not hyperparameters of {rule.name!r} a "
                f"group can set; valid: {valid} (clip_norm is global, not per group)"
            )
        if getattr(overrides.get("learning_rate"), "needs_loss", False):
            raise ValueError(
                f"param_groups[{i}]: learning_rate cannot be a ReduceLROnPlateau (it needs "
                "the loss, which goes to the optimizer's own learning_rate only); give the "
                "group a number or a schedule of the step"
            )
        try:
            probe = clone(base, overrides)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"param_groups[{i}]: {exc}") from None
        checked = {k: chain(probe)[-1]._hyperparameters[k] for k in overrides}
        out.append((tuple(int(k) if not isinstance(k, str) else k for k in keys), checked))
    return out, own


def _no_sam(optimizer: Any, what: str) -> None:
    """SAM climbs along the whole gradient: it goes around the groups, not inside one."""
    if any(isinstance(link, Wrapper) and link.kind == "sam" for link in chain(optimizer)):
        raise ValueError(
            f"{what} is wrapped in SAM, whose climb uses the gradient of every array: put "
            "SAM around the groups (numopt.SAM(numopt.ParamGroups(...)), or minimize's "
            "options['sam'])"
        )


def _own_optimizer(value: Any, i: int) -> Any:
    """A group's ``"optimizer"``: a fresh numopt optimizer, without bounds or clip_norm."""
    from numopt.rules.optimizer import Optimizer

    rule = chain(value)[-1] if isinstance(value, Wrapper) else value
    if not isinstance(rule, Optimizer) or isinstance(value, ParamGroups):
        raise TypeError(
            f"param_groups[{i}]['optimizer'] must be a numopt optimizer such as "
            f"numopt.AdamW(learning_rate=3e-4), got {type(value).__name__}"
        )
    _no_sam(value, f"param_groups[{i}]['optimizer']")
    if value.step_count or rule.bounds is not None or rule._hyperparameters["clip_norm"]:
        raise ValueError(
            f"param_groups[{i}]['optimizer'] must be fresh (no steps taken), without bounds "
            "and without clip_norm (minimize's bounds and clipping apply to every group), "
            f"got {value!r}"
        )
    return value
