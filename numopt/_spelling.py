"""Other libraries' spellings of numopt's names, and the "did you mean" of their errors.

One table (:data:`ALIASES`) serves ``minimize``'s options and the rules' hyperparameters
(:mod:`numopt.front.config`), the rules' constructors (:mod:`numopt.rules.optimizer`),
so ``lr`` is answered with ``learning_rate`` wherever it is given; :func:`closest`
also serves ``method=`` names.  Nothing is accepted under another name: an unknown
name stays an error, and the suggestion is part of its message.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

#: Names of torch.optim, optax, Keras and SciPy's older functions → numopt's (a
#: tuple: one name given as several, ``betas=(b1, b2)`` as ``beta1=b1, beta2=b2``).
#: Suggested only where every target is a valid name (``momentum`` is ``beta`` for
#: the momentum rule; RMSprop has a ``momentum`` of its own).
ALIASES: dict[str, tuple[str, ...]] = {
    "lr": ("learning_rate",),  # torch.optim
    "betas": ("beta1", "beta2"),  # torch.optim's Adam family
    "b1": ("beta1",),  # optax
    "b2": ("beta2",),
    "b3": ("beta3",),  # optax.contrib.ademamix
    "epsilon": ("eps",),  # Keras
    "momentum": ("beta",),  # torch.optim.SGD(momentum=...): the momentum rule's beta
    "alpha": ("beta",),  # torch.optim.RMSprop(alpha=...): RMSprop's beta
    "max_iter": ("maxiter",),  # torch.optim.LBFGS, scikit-learn
    "max_eval": ("maxfev",),  # torch.optim.LBFGS
    "tolerance_grad": ("gtol",),  # torch.optim.LBFGS
    "tolerance_change": ("ftol",),
    "history_size": ("maxcor",),
    "memory_size": ("maxcor",),  # optax.lbfgs
    "m": ("maxcor",),  # scipy.optimize.fmin_l_bfgs_b
    "pgtol": ("gtol",),
    "factr": ("ftol",),  # ftol = factr * machine epsilon
    "max_grad_norm": ("clip_norm",),
    "verbose": ("disp",),
    "iprint": ("disp",),  # scipy.optimize L-BFGS-B
    "random_state": ("seed",),
    "num_epochs": ("epochs",),
    "n_epochs": ("epochs",),
}


def _key(name: str) -> str:
    """``name`` without case, spaces, dashes and underscores: ``"Max_Iter "`` → ``"maxiter"``."""
    return "".join(c for c in name.lower() if c not in "-_" and not c.isspace())


_BY_KEY = {_key(alias): targets for alias, targets in ALIASES.items()}

#: Other libraries' names with no numopt name to suggest: what to do instead.  Given
#: where they are not valid, their hint replaces a guess from spelling alone (which
#: would answer ``weight_decay`` with ``ema_decay``).
HINTS: dict[str, str] = {
    "weight_decay": "this rule has no weight_decay: add (λ/2)‖x‖² to the objective, or "
    "choose a rule that has one (adamw, lion, lamb, ...)",
    "warmup_steps": "a warm-up is a learning-rate schedule here: learning_rate="
    "numopt.schedules.Warmup(<rate or schedule>, warmup_steps=<W>)",
    "alpha_scheduler": "numopt's AdEMAMix takes a constant alpha, not a schedule",
    "b3_scheduler": "numopt's AdEMAMix takes a constant beta3, not a schedule",
}
_HINT_BY_KEY = {_key(name): hint for name, hint in HINTS.items()}


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``name`` most likely means: the same but for case, spaces, dashes and
    underscores, else :func:`difflib.get_close_matches`' best; None if none is close.

    Examples
    --------
    >>> closest("Adam ", ["adam", "adamw"]), closest("max_iter", ["maxiter", "maxfev"])
    ('adam', 'maxiter')
    >>> closest("learnin_rate", ["learning_rate", "eps"]), closest("xyz", ["adam"])
    ('learning_rate', None)
    """
    candidates = list(candidates)
    key = _key(name)
    for candidate in candidates:
        if _key(candidate) == key:
            return candidate
    close = difflib.get_close_matches(name.strip().lower(), candidates, n=1)
    return close[0] if close else None


def meant(name: str, valid: Iterable[str]) -> tuple[str, ...]:
    """The valid names ``name`` stands for: :data:`ALIASES`' (when all are valid), else
    :func:`closest`'s; ``()`` if none."""
    valid = list(valid)
    targets = _BY_KEY.get(_key(name))
    if targets and all(t in valid for t in targets):
        return targets
    best = closest(name, valid)
    return () if best is None else (best,)


_UNSHOWN = object()  # a name given without its value (an options key listed alone)


def _shown(value: Any) -> str:
    text = "..." if value is _UNSHOWN else repr(value)
    return text if len(text) <= 30 else "..."


def did_you_mean(given: Mapping[str, Any] | Iterable[str], valid: Iterable[str],
                 keyword: bool = False) -> str:  # fmt: skip
    """``" (did you mean ...?)"`` for the unknown names ``given`` (with their values, if a
    mapping), or ``""`` when none resembles a ``valid`` one.

    ``keyword``: the names are keyword arguments (``learning_rate=0.1``), else options
    (``'learning_rate'``).  A name given as several (``betas``) shows its value split.

    Examples
    --------
    >>> did_you_mean(["lr"], ["learning_rate", "beta1", "beta2"])
    " (did you mean 'learning_rate'?)"
    >>> did_you_mean({"lr": 0.1, "betas": (0.9, 0.99)}, ["learning_rate", "beta1", "beta2"],
    ...              keyword=True)
    ' (did you mean learning_rate=0.1 for lr; beta1=0.9, beta2=0.99 for betas=(0.9, 0.99)?)'
    >>> did_you_mean(["zzz"], ["learning_rate"])
    ''
    >>> did_you_mean(["b3", "warmup_steps"], ["beta3"])  # doctest: +ELLIPSIS
    " (did you mean 'beta3' for 'b3'?) (warmup_steps: a warm-up is a learning-rate schedule ...)"
    """
    valid = list(valid)
    values = dict(given) if isinstance(given, Mapping) else dict.fromkeys(given, _UNSHOWN)
    parts, hints = [], []
    for name, value in values.items():
        hint = _HINT_BY_KEY.get(_key(name))
        if hint is not None:
            hints.append(f"{name}: {hint}" if len(values) > 1 else hint)
            continue
        targets = meant(name, valid)
        if not targets:
            continue
        split = len(targets) > 1
        if split and isinstance(value, (tuple, list)) and len(value) == len(targets):
            shown = [_shown(v) for v in value]
        else:
            shown = [_shown(value if not split else _UNSHOWN)] * len(targets)
        if keyword:
            part = ", ".join(f"{t}={v}" for t, v in zip(targets, shown, strict=True))
        elif split:
            part = ", ".join(f"{t!r}: {v}" for t, v in zip(targets, shown, strict=True))
        else:
            part = repr(targets[0])
        if split and keyword:  # betas=(b1, b2) → beta1=b1, beta2=b2
            part += f" for {name}={_shown(value)}"
        elif len(values) > 1 or split:
            part += f" for {name}" if keyword else f" for {name!r}"
        parts.append(part)
    out = f" (did you mean {'; '.join(parts)}?)" if parts else ""
    return out + "".join(f" ({hint})" for hint in hints)


def unexpected_keywords(owner: str, unknown: Mapping[str, Any], keywords: list[str]) -> TypeError:
    """The ``TypeError`` of ``owner()`` called with the ``unknown`` keyword arguments, in
    Python's words, with the names meant (:func:`did_you_mean`) and the valid ``keywords``.

    Examples
    --------
    >>> unexpected_keywords("LBFGS", {"history_size": 5}, ["maxcor", "maxls"])
    TypeError("LBFGS() got an unexpected keyword argument 'history_size' (did you mean \
maxcor=5?); its keywords are ['maxcor', 'maxls']")
    """
    names = list(unknown)
    which = (
        f"an unexpected keyword argument {names[0]!r}"
        if len(names) == 1
        else f"unexpected keyword arguments {names}"
    )
    return TypeError(
        f"{owner}() got {which}{did_you_mean(unknown, keywords, keyword=True)}; its keywords "
        f"are {keywords}"
    )
