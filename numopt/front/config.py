"""``minimize``'s options parsed once, at the door, into typed configuration.

:func:`parse` checks the ``options`` dict against the declarations
(:mod:`numopt.front.options`) and the rule's hyperparameters, applies the defaults
that depend on other options (``maxiter``, ``gtol``), checks the options that need
each other, and returns a :class:`Config`.  Nothing below the door reads the raw
dict.  Checks that need the arrays (``x0``, ``args``: the device, Dask data) are
made where the run is assembled (:mod:`numopt.loop.run`).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

from numopt import _spelling
from numopt.front.options import BY_NAME, OPTIONS
from numopt.quasi_newton import ALIASES, LBFGS, METHODS
from numopt.rules import RULES, Optimizer
from numopt.transforms import Wrapper

#: What ``method=`` may be besides a name: a stateful method object, used as it is.
METHOD_OBJECTS = (Optimizer, Wrapper, LBFGS)

#: ``method=None``: SciPy's choice for a deterministic objective on the host; Adam
#: with mini-batches (a line search needs the whole objective) and, for now, on the GPU.
DEFAULT_METHOD, DEFAULT_STOCHASTIC_METHOD = "l-bfgs-b", "adam"

#: ``maxiter`` without ``epochs``, and ``gtol`` full-batch, when not given.
DEFAULT_MAXITER = 1000
DEFAULT_GTOL = 1e-5
#: Options whose ``None`` means their default (the tolerances that are off at 0).
_NONE_IS_DEFAULT = ("ftol", "xtol")


@dataclasses.dataclass(frozen=True)
class Stopping:
    """When the run stops (besides epochs and callbacks)."""

    maxiter: int | None
    maxfev: int | None
    gtol: float | None
    ftol: float
    xtol: float
    max_time: float | None


@dataclasses.dataclass(frozen=True)
class Output:
    """What the run shows and records."""

    disp: bool
    #: The progress bar's tqdm keywords given in ``options["progress"]`` (``{}`` for
    #: True), or None: no bar.
    progress: dict | None
    history: bool
    callback_every: int


@dataclasses.dataclass(frozen=True)
class Batching:
    """Mini-batches over the data in ``args`` (``batch_size`` None: full batch)."""

    batch_size: int | None
    epochs: int | None
    seed: Any
    drop_last: bool
    shuffle: bool
    data_args: Any
    skip_nonfinite: bool


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where the run's arrays live and which loop runs."""

    device: str
    backend: str
    return_device: bool
    compiled: Any


@dataclasses.dataclass(frozen=True)
class Checkpointing:
    """Checkpoint files: where, how often, and the one to resume from."""

    path: Any
    every: int | None
    seconds: float | None
    resume: Any
    #: ``checkpoint_every="epoch"``: a checkpoint at the end of each epoch (``every`` None).
    every_epoch: bool = False


@dataclasses.dataclass(frozen=True)
class TransformOptions:
    """The transforms around the rule (:mod:`numopt.transforms`); None: off."""

    accumulate: int
    average: str | None
    ema_decay: float | None
    ema_debias: bool | None
    average_start: int | None
    lookahead: int | None
    lookahead_alpha: float | None
    sam: float | None
    sam_adaptive: bool | None
    param_groups: Any

    @property
    def wrapping(self) -> bool:
        """Whether any transform wraps the rule or the objective."""
        return (
            self.accumulate > 1
            or self.average is not None
            or self.lookahead is not None
            or self.sam is not None
            or self.param_groups is not None
        )


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything ``minimize`` was asked, checked: the parts above and the rule's options."""

    stopping: Stopping
    output: Output
    batching: Batching
    placement: Placement
    checkpointing: Checkpointing
    transforms: TransformOptions
    #: The rule's hyperparameters given in ``options`` (checked by the rule itself).
    hyperparameters: dict[str, Any]
    #: The method to run: ``method=`` as given, or the default chosen for this run.
    method: Any = None


#: Configurations already parsed, by :func:`_memo_key` (a ``minimize`` call repeated
#: in a loop parses its options once): at most :data:`_MEMO_SIZE` of them.
_MEMO: dict[tuple, Config] = {}
_MEMO_SIZE = 256
_SCALARS = (bool, int, float, str, type(None))


def _memo_key(options: Any, method: Any, tol: Any, device_arrays: bool) -> tuple | None:
    """A key for :data:`_MEMO` when every input is a plain scalar (None otherwise: a
    schedule, a dict or an optimizer object is parsed every time).  Each value enters
    with its type, so ``1``, ``1.0`` and ``True`` stay three keys (``disp=1`` is an
    error, ``disp=True`` is not)."""
    if not isinstance(method, _SCALARS) or not isinstance(tol, _SCALARS):
        return None
    if options is None:
        items: tuple = ()
    elif type(options) is dict:
        items = tuple((k, type(v), v) for k, v in options.items())
        if not all(type(v) in _SCALARS for _, _, v in items):
            return None
    else:
        return None
    return (type(method), method, type(tol), tol, bool(device_arrays), items)


def parse(options: Any, method: Any, tol: float | None, device_arrays: bool = False) -> Config:
    """``options`` parsed (see :func:`parse_new`); the same inputs of plain scalars give
    the same, immutable, :class:`Config` without parsing again."""
    key = _memo_key(options, method, tol, device_arrays)
    if key is None:
        return parse_new(options, method, tol, device_arrays)
    config = _MEMO.get(key)
    if config is None:
        config = parse_new(options, method, tol, device_arrays)
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        _MEMO[key] = config
    return config


def parse_new(options: Any, method: Any, tol: float | None, device_arrays: bool = False) -> Config:
    """Check ``options`` for ``method`` and parse them into a :class:`Config`.

    ``method=None`` chooses :data:`DEFAULT_METHOD`, or :data:`DEFAULT_STOCHASTIC_METHOD`
    with ``batch_size`` or on the GPU (``device_arrays``: ``x0`` holds CUDA arrays).

    Examples
    --------
    >>> c = parse({"learning_rate": 0.1, "batch_size": 8}, "adam", None)
    >>> c.stopping.maxiter, c.stopping.gtol, c.batching.batch_size, c.hyperparameters
    (1000, None, 8, {'learning_rate': 0.1})
    >>> parse({}, None, None).method, parse({"batch_size": 8}, None, None).method
    ('l-bfgs-b', 'adam')
    >>> parse({"lr": 0.1}, "adam", None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown option(s) ['lr'] for method 'adam' (did you mean 'learning_rate'?); ...
    """
    options = _checked_dict(options)
    defaulted = method is None
    if defaulted:
        stochastic = options.get("batch_size") is not None
        gpu = device_arrays or options.get("device") == "cuda" or options.get("backend") == "cuda"
        method = DEFAULT_STOCHASTIC_METHOD if stochastic or gpu else DEFAULT_METHOD
    hyperparameters = _split(options, method, defaulted)
    given = {k: v for k, v in options.items() if k in BY_NAME}
    if "maxfev" in given and "maxfun" in given:
        raise ValueError("give maxfev or maxfun (SciPy's L-BFGS-B name), not both")
    cls = type(method) if isinstance(method, METHOD_OBJECTS) else method_class(method)
    for name, value in getattr(cls, "loop_defaults", {}).items():  # the method's own
        if given.get(name) is None and not (name == "maxfun" and "maxfev" in given):
            given[name] = value
    o = {}
    for option in OPTIONS:
        value = given.get(option.name, option.default)
        if value is None and (option.default is None or option.name in _NONE_IS_DEFAULT):
            value = option.default
        elif option.name in given or value is not None:
            value = option.check(option.name, value)
        o[option.name] = value
    if o["maxfun"] is not None:  # SciPy stops once nfev > maxfun
        o["maxfev"] = o["maxfun"] + 1
    if tol is not None and o["gtol"] is None:
        o["gtol"] = BY_NAME["gtol"].check("gtol", tol)
    if tol is not None and "ftol" in getattr(cls, "loop_defaults", {}) and "ftol" not in options:
        o["ftol"] = BY_NAME["ftol"].check("ftol", tol)  # SciPy's L-BFGS-B: tol is both
    batched = o["batch_size"] is not None
    if o["epochs"] is not None and not batched:
        raise ValueError("epochs needs batch_size (an epoch is one pass over the batches)")
    if o["maxiter"] is None and o["epochs"] is None:
        o["maxiter"] = DEFAULT_MAXITER
    if o["gtol"] is None and not batched:
        o["gtol"] = DEFAULT_GTOL
    if o["checkpoint"] is None and (o["checkpoint_every"] or o["checkpoint_seconds"]):
        raise ValueError("checkpoint_every and checkpoint_seconds need options['checkpoint']")
    every_epoch = o["checkpoint_every"] == "epoch"
    if every_epoch and not batched:
        raise ValueError(
            "checkpoint_every='epoch' needs batch_size (an epoch is one pass over the "
            "mini-batches); give a number of updates instead"
        )
    skip = o["on_nonfinite"] == "skip"
    if skip and not batched:
        raise ValueError(
            "on_nonfinite='skip' needs batch_size: full-batch would evaluate the same point again"
        )
    return Config(
        stopping=Stopping(
            o["maxiter"], o["maxfev"], o["gtol"], o["ftol"], o["xtol"], o["max_time"]
        ),
        output=Output(o["disp"], _progress(o["progress"]), o["history"], o["callback_every"]),
        batching=Batching(
            o["batch_size"],
            o["epochs"],
            o["seed"],
            o["drop_last"],
            o["shuffle"],
            o["data_args"],
            skip,
        ),
        placement=Placement(o["device"], o["backend"], o["return_device"], o["compiled"]),
        checkpointing=Checkpointing(
            o["checkpoint"],
            None if every_epoch else o["checkpoint_every"],
            o["checkpoint_seconds"],
            o["resume"],
            every_epoch,
        ),
        transforms=_transforms(o, batched),
        hyperparameters=hyperparameters,
        method=method,
    )


def _progress(value: bool | dict) -> dict | None:
    """``options["progress"]`` as the bar's tqdm keywords (None: no bar)."""
    if value is False:
        return None
    return {} if value is True else value


def _checked_dict(options: Any) -> dict:
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    for key in options:
        if not isinstance(key, str):
            raise TypeError(f"options keys must be strings, got {key!r}")
    return options


def _split(options: dict, method: Any, defaulted: bool = False) -> dict[str, Any]:
    """The rule's hyperparameters among ``options``; unknown keys are errors."""
    if isinstance(method, METHOD_OBJECTS):
        extra = sorted(set(options) - set(BY_NAME))
        if extra:
            raise ValueError(
                f"unknown option(s) {extra} for an optimizer object (set hyperparameters on "
                f"the object itself){_did_you_mean(options, extra, BY_NAME)}; valid options: "
                f"{sorted(BY_NAME)}"
            )
        if "backend" in options:
            raise ValueError("backend is set on the optimizer object, not in options")
        return {}
    cls = method_class(method)
    names = cls.option_names()
    unknown = sorted(set(options) - set(names) - set(BY_NAME))
    if unknown:
        hint = ""
        if defaulted and method == DEFAULT_METHOD:
            ruled = sorted(u for u in unknown if any(u in r.option_names() for r in RULES.values()))
            if ruled:
                hint = (
                    f" ({ruled} belong to the first-order rules: without batch_size the "
                    f"default method is {DEFAULT_METHOD!r}, as SciPy's; pass "
                    f"method={DEFAULT_STOCHASTIC_METHOD!r} or another rule)"
                )
        valid = names + list(BY_NAME)
        raise ValueError(
            f"unknown option(s) {unknown} for method {canonical(method)!r}"
            f"{_did_you_mean(options, unknown, valid)}{hint}; valid options: {sorted(valid)}"
        )
    return {k: v for k, v in options.items() if k in names}


def _did_you_mean(options: dict, unknown: list[str], valid: Any) -> str:
    return _spelling.did_you_mean({k: options[k] for k in unknown}, valid)


#: Every ``method=`` name: the rules and the quasi-Newton methods.
NAMES = (*RULES, *METHODS)

#: SciPy's methods for general constraints, named when ``constraints=`` is given.
CONSTRAINED_METHODS = ("trust-constr", "SLSQP")


def scipy_only_arguments(method: Any, hess: Any, hessp: Any, constraints: Any) -> None:
    """Answer SciPy's ``hess``, ``hessp`` and ``constraints`` as SciPy does for a method
    that cannot use them: a ``RuntimeWarning`` for a Hessian (ignored), SciPy's own
    words; for constraints an error (SciPy warns and drops them), naming what to use.

    ``method`` is the method to run (``Config.method``).  Empty constraints (``()``,
    ``[]``, ``{}``, ``None``) are no constraints.

    Examples
    --------
    >>> scipy_only_arguments("adam", None, None, [])
    >>> scipy_only_arguments("adam", None, None, {"type": "eq", "fun": sum})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Method adam cannot handle constraints: numopt's methods take box bounds ...
    """
    name = canonical(method) if isinstance(method, str) else type(method).__name__
    for given, what in ((hess, "Hessian information (hess)"),
                        (hessp, "Hessian-vector product information (hessp)")):  # fmt: skip
        if given is not None:  # SciPy's RuntimeWarning, word for word
            warnings.warn(f"Method {name} does not use {what}.", RuntimeWarning, stacklevel=3)
    empty = constraints is None or (
        isinstance(constraints, (list, tuple, dict)) and len(constraints) == 0
    )
    if not empty:
        raise ValueError(
            f"Method {name} cannot handle constraints: numopt's methods take box bounds "
            "only, lo <= x <= hi, given as bounds= (a scipy.optimize.Bounds or (lo, hi) "
            "pairs); for general constraints use scipy.optimize.minimize with method="
            f"{CONSTRAINED_METHODS[0]!r} or {CONSTRAINED_METHODS[1]!r}"
        )


def canonical(method: str) -> str:
    """The method's name in lower case, aliases resolved (``"L-BFGS"`` → ``"l-bfgs-b"``)."""
    name = method.lower()
    return ALIASES.get(name, name)


def method_class(method: Any) -> Any:
    """The class a ``method=`` name names (case-insensitive); clear errors otherwise."""
    if isinstance(method, type) and issubclass(method, (Optimizer, LBFGS)):
        example = "" if method is LBFGS else "learning_rate=..."
        raise TypeError(
            f"method is the class {method.__name__}; pass an instance, e.g. "
            f"method=numopt.{method.__name__}({example}), or the name {method.name!r}"
        )
    if not isinstance(method, str):
        raise TypeError(
            f"method must be a name {sorted(NAMES)} or a numopt optimizer object, got "
            f"{type(method).__name__}"
        )
    name = canonical(method)
    cls = RULES.get(name) or METHODS.get(name)
    if cls is None:  # SciPy lower-cases the name but strips nothing: neither do we
        close = _spelling.closest(method, (*NAMES, *ALIASES))
        hint = "" if close is None else f" (did you mean {canonical(close)!r}?)"
        raise ValueError(
            f"unknown method {method!r}{hint}; valid methods: {sorted(NAMES)} (and the "
            f"spellings {sorted(ALIASES)})"
        )
    return cls


def _transforms(o: dict, batched: bool) -> TransformOptions:
    if o["accumulate"] is not None and not batched:
        raise ValueError(
            "accumulate needs batch_size: each update uses the mean gradient of "
            "`accumulate` mini-batches, and a full-batch run has none"
        )
    if o["lookahead"] is None and o["lookahead_alpha"] is not None:
        raise ValueError("lookahead_alpha needs lookahead (the updates between synchronisations)")
    if o["sam"] is None and o["sam_adaptive"] is not None:
        raise ValueError("sam_adaptive needs sam (the radius rho of SAM's climb)")
    for key in ("ema_decay", "ema_debias"):
        if o[key] is not None and o["average"] != "ema":
            raise ValueError(f"{key} needs average='ema'")
    if o["average_start"] is not None and o["average"] is None:
        raise ValueError("average_start needs average ('ema' or 'polyak')")
    return TransformOptions(
        accumulate=o["accumulate"] or 1,
        average=o["average"],
        ema_decay=o["ema_decay"],
        ema_debias=o["ema_debias"],
        average_start=o["average_start"],
        lookahead=o["lookahead"],
        lookahead_alpha=o["lookahead_alpha"],
        sam=o["sam"],
        sam_adaptive=o["sam_adaptive"],
        param_groups=o["param_groups"],
    )
