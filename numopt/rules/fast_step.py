"""``opt.step(x, g)``'s fast path: a step like the last ones, as one compiled call.

A step through :meth:`~numopt.rules.optimizer.Optimizer._apply` checks ``x`` and
``g``, chooses the backend, computes the rule's factors in Python and copies them
into the factors' buffer before it calls the compiled loop: about 5 µs, four times
the serial loop itself at N = 10³.  Most loops step the same arrays again and again,
so once :data:`AFTER` steps in a row have been alike — host arrays, C-contiguous, of
the same shape, strides and dtype; the same rule plan and state buffer; a constant
learning rate; no bounds, no ``clip_norm``; a CPU loop; a rule whose factors are
its ``factor_fn``'s alone — the optimizer keeps a :class:`FastStep`, and the
next steps that match it are one call of a compiled *stepper*.  The stepper computes
the factors with the same ``factor_fn`` compiled (the arithmetic the compiled loop of
``minimize`` uses, bit for bit that of the Python function), writes them into its
buffer and calls the same loop (serial or ``prange``): the bits of the slow path.

Changing anything the key holds (a hyperparameter, ``backend``, ``bounds``,
``load_state_dict``, ``reset``) makes the next step take the slow path, which
builds the key again.  The stepper compiles once per loop, factor function and
argument types (about 0.2 s; loaded from Numba's disk cache later, a few ms): the
fast path saves about 4 µs a step, so :data:`AFTER` keeps the runs too short to
earn that back from paying it.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import numba
import numpy as np
from numba import njit

from numopt.kernels.generate import specialise
from numopt.kernels.launch import resolve

#: Slow steps in a row, alike, before the fast path is built (it saves ~4 µs a step).
AFTER = 1000


class FastStep(NamedTuple):
    """What a step must match to take the fast path, and what it runs (unpacked in order)."""

    plan: Any  # the optimizer's _Plan (a hyperparameter change replaces it)
    state: np.ndarray  # the state buffer (reset / load_state_dict replace it)
    shape: tuple[int, ...]  # x's (the stepper checks g's; its types, dtype and layout)
    c: np.ndarray  # the factors' buffer: the rule's (written per step), the framework's
    lr: float
    h: np.ndarray  # factor_fn's hyperparameters (float64)
    run: Any  # the compiled stepper: (x, g, state, c, t, lr, h) -> whether it stepped


def _template(theta, g, state, c, t, lr, h):  # pragma: no cover - compiled
    if g.shape != theta.shape:  # the slow path says what is wrong
        return False
    fs = factors(t, lr, h)  # noqa: F821 - bound by stepper()
    for j in range(len(fs)):
        c[j] = fs[j]
    n = theta.size
    loop(theta.reshape(n), g.reshape(n), state, c)  # noqa: F821
    return True


@functools.cache
def stepper(loop: Any, factor_fn: Any) -> Any:
    """The compiled stepper of a CPU ``loop`` (serial or ``prange``) and a ``factor_fn``."""
    fn = specialise(_template, "fast_step", loop=loop, factors=njit(inline="always")(factor_fn))
    return njit(cache=True, nogil=True, error_model="numpy")(fn)


def eligible(opt: Any, x: Any, g: Any) -> bool:
    """Whether the step just taken on ``x``, ``g`` could have taken the fast path.

    A rule without a ``factor_fn`` (none of numopt's own) computes its factors on
    the host, as it does for the compiled loop of ``minimize``.
    """
    plan = opt._plan
    return (
        type(x) is np.ndarray
        and type(g) is np.ndarray
        and plan is not None
        and plan.framework is not None  # clip_norm: factors from ‖g‖
        and opt.spec.passes is None
        and opt.spec.factor_fn is not None
        and opt._bounds is None
        and not callable(opt._hyperparameters["learning_rate"])
        and x.flags.c_contiguous
        and g.flags.c_contiguous
        and g.strides == x.strides
        and resolve(opt.backend, False, x.size) in ("serial", "parallel")
    )


def after_step(opt: Any, x: np.ndarray, g: np.ndarray) -> FastStep | None:
    """Count a slow step; the :class:`FastStep` once :data:`AFTER` in a row were alike."""
    if not eligible(opt, x, g):
        opt._fast_seen = None
        return None
    key = (opt._plan, opt._state, x.shape, x.strides, x.dtype)
    seen = opt._fast_seen
    count = seen[1] + 1 if seen is not None and _same(seen[0], key) else 1
    opt._fast_seen = (key, count)
    if count < AFTER:
        return None
    plan = opt._plan
    c = np.empty(plan.n, x.dtype)
    c[len(opt.spec.factors.rule) :] = plan.framework
    # (a fresh array, or the optimizer's own when its factor function keeps state there)
    h = np.asarray(opt._factor_args(), np.float64)
    backend = resolve(opt.backend, False, x.size)
    run = stepper(getattr(plan.cpu_loops(False, False), backend), opt.spec.factor_fn)
    signature = tuple(numba.typeof(a) for a in (x, g, opt._state, c, 1, 1.0, h))
    if signature not in run.overloads:  # compiled here; a call of other types: TypeError
        run.disable_compile(False)
        try:
            run.compile(signature)
        finally:
            run.disable_compile(True)
    lr = float(opt._hyperparameters["learning_rate"])
    return FastStep(plan, opt._state, x.shape, c, lr, h, run)


def _same(a: tuple, b: tuple) -> bool:
    return a[0] is b[0] and a[1] is b[1] and a[2:] == b[2:]
