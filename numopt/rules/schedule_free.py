"""Schedule-Free SGD and AdamW: no schedule, an average of the iterates instead.

Defazio et al. 2024, "The Road Less Scheduled", as optax writes it
(``optax.contrib.schedule_free_sgd`` / ``schedule_free_adamw``; torch has neither).
Three sequences: ``z`` takes the base steps, ``x`` is a weighted average of the
``z``'s, and ``y`` — where the gradient is taken — interpolates them.  θ (the array
that is stepped, and that the objective sees) is ``y``; the state keeps ``z``:

    d_t = g_t + λ y_{t-1}                                   (SGD)
    d_t = g_t / (sqrt(v_t / (1 - β2^t)) + ε) + λ y_{t-1}     (AdamW; v_t = β2 v + (1-β2) g²)
    z_t = z_{t-1} - η d_t                                    (z_0 = y_0)
    x_{t-1} = (y_{t-1} - (1 - β1) z_{t-1}) / β1
    x_t = (1 - c_t) x_{t-1} + c_t z_t,   c_t = w_t / Σ_{s<=t} w_s,   w_t = max_{s<=t} η_s^p
    y_t = β1 x_t + (1 - β1) z_t

``x`` is the point to use: :meth:`ScheduleFreeSGD.averaged` computes it from θ = y and
the state, and ``minimize`` returns it as ``x`` (evaluating the objective there once
more), with the last iterate as ``x_iterate``.  With a constant η, ``c_t = 1/t``: ``x``
is the plain average of the ``z``'s.  ``w_t`` uses the largest η so far to the power
``p`` (``weight_lr_power``), so a warm-up does not overweight its early points; the
running ``max η`` and ``Σ w`` are kept in :meth:`state_dict`.  They live in the
optimizer's own ``h`` (:func:`factor_args`), one small float64 array that
:func:`mix` moves on in place from Python and from compiled code alike (the compiled
loop of ``minimize``, ``step()``'s fast path), so either leaves the same weights.

Defaults are optax's: SGD η = 1, β1 = 0.9; AdamW η = 0.0025, β1 = 0.9, β2 = 0.999,
ε = 1e-8; λ = 0, p = 2.  optax's ``warmup_steps`` is a schedule here
(:mod:`numopt.schedules`).  With a schedule, numopt's base step and weight both use
η of the current step; optax's weight reads its schedule one step later than its
base step.

The per-step constants are folded on the host in float64 (as torch's fused Adam folds
its own) and passed to the kernels, cast to θ's dtype: ``1/β1`` and
``r_t = 1/(1 - β2^t)``, so that an element of AdamW costs one square root and one
division, and an element of SGD none:

    d_t = g_t / (sqrt(v_t r_t) + ε) + λ y_{t-1}             (AdamW)
    x_{t-1} = (y_{t-1} - (1 - β1) z_{t-1}) · (1/β1)

which is the step above, rounded differently (within a few ulps of it; the NumPy
reference makes the same operations, so every backend gives its bits).
:meth:`~ScheduleFreeSGD.averaged`, once per call on the host, still divides by β1.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
from numba.extending import register_jitable

from numopt import _checks
from numopt.kernels.element import grad
from numopt.kernels.generate import source_digest
from numopt.rules.hyperparameters import BETA2, EPS, LEARNING_RATE, WEIGHT_DECAY
from numopt.rules.optimizer import Optimizer
from numopt.rules.spec import Hyper, RuleSpec, always, factor_layout

F = factor_layout(
    "lr", "weight_decay", "beta1", "one_minus_beta1", "mix", "one_minus_mix", "first",
    "beta2", "one_minus_beta2", "bias2", "eps", "inv_beta1", "inv_bias2",
)  # fmt: skip


@register_jitable
def factors(t, lr, h, mix):
    """The factors of step ``t`` (float64) from ``h`` (:func:`factor_args`) and ``c_t =
    mix`` (:func:`mix`: ``c_t`` depends on the η's so far)."""
    b1, wd, b2, eps = h[0], h[1], h[2], h[3]
    bias2 = 1 - math.pow(b2, float(t))
    return (
        lr, wd, b1, 1 - b1, mix, 1 - mix, 1.0 if t == 1 else 0.0, b2, 1 - b2, bias2, eps,
        1 / b1, 1 / bias2,
    )  # fmt: skip


#: The length of ``h``: five hyperparameters, then the three weights.
H_LENGTH = 8


def factor_args(hp):
    """``h`` of :func:`factors` from the hyperparameters: ``(β1, λ, β2, ε, p)`` (SGD's
    β2 = ε = 0), then the average's weights ``(t, max η, Σ w)`` after step ``t``, which
    :func:`mix` moves on (zeros here: the optimizer's own ``h`` holds them)."""
    return (
        hp["beta1"], hp["weight_decay"], hp.get("beta2", 0.0), hp.get("eps", 0.0),
        hp["weight_lr_power"], 0.0, 0.0, 0.0,
    )  # fmt: skip


@register_jitable
def mix(t, lr, h):
    """``c_t = w_t / Σ w``, the weights ``(t, max η, Σ w)`` in ``h[5:8]`` moved on from step
    ``t - 1`` (or left at step ``t``: asked again for the same step)."""
    done, top, total = h[5], h[6], h[7]
    if done == t:  # asked again for the same step (the factors, then the reference)
        weight = math.pow(top, h[4])
    elif done == t - 1:
        top = lr if lr > top else top  # (Python's max(top, lr))
        weight = math.pow(top, h[4])
        total = total + weight
        h[5] = t
        h[6] = top
        h[7] = total
    else:
        raise RuntimeError("the Schedule-Free weights are not at the step before this one")
    return weight / total if total > 0 else 0.0


def compiled_factors(t, lr, h):
    """The rules' ``factor_fn``: :func:`factors` of step ``t`` with :func:`mix`, whose
    weights ``h`` carries (the optimizer's own array, shared with compiled code)."""
    return factors(t, lr, h, mix(t, lr, h))


# the compiled copies' cache tag: the helpers above are in its source, not only this one's
compiled_factors.__numopt_digest__ = source_digest(sys.modules[__name__])


def reference(
    theta, g, z, *v, t, learning_rate, beta1, weight_decay, weight_lr_power, mix, beta2=0.0,
    eps=0.0, maximize=False,
):  # fmt: skip
    """NumPy reference of one step, in place on flat ``theta`` (= y) and ``z`` (and
    AdamW's ``v``); ``mix`` is ``c_t``."""
    dt = theta.dtype.type
    g = -g if maximize else g
    h = factor_args(
        dict(beta1=beta1, weight_decay=weight_decay, beta2=beta2, eps=eps, weight_lr_power=0.0)
    )
    c = factors(t, learning_rate, h, mix)
    y = theta.copy()
    z_old = y.copy() if t == 1 else z.copy()
    if v:
        v[0][:] = dt(beta2) * v[0] + dt(1 - beta2) * (g * g)
        g = g / (np.sqrt(v[0] * dt(c[F.inv_bias2])) + dt(eps))
    z[:] = z_old - dt(learning_rate) * (g + dt(weight_decay) * y)
    x_prev = (y - dt(1 - beta1) * z_old) * dt(c[F.inv_beta1])
    x = dt(1 - mix) * x_prev + dt(mix) * z
    theta[:] = dt(beta1) * x + dt(1 - beta1) * z


def sgd_body(i, theta, g, state, c):
    """Element ``i`` of a Schedule-Free SGD step; ``state = (z,)``."""
    y = theta[i]
    gi = grad(i, g, c)
    z_state = state[0, i]  # (read before the select, which then vectorises)
    z_old = y if c[F.first] != 0 else z_state
    z = z_old - c[F.lr] * (gi + c[F.weight_decay] * y)
    x_prev = (y - c[F.one_minus_beta1] * z_old) * c[F.inv_beta1]
    x = c[F.one_minus_mix] * x_prev + c[F.mix] * z
    state[0, i] = z
    theta[i] = c[F.beta1] * x + c[F.one_minus_beta1] * z


def adamw_body(i, theta, g, state, c):
    """Element ``i`` of a Schedule-Free AdamW step; ``state = (z, v)``."""
    y = theta[i]
    gi = grad(i, g, c)
    v = c[F.beta2] * state[1, i] + c[F.one_minus_beta2] * (gi * gi)
    state[1, i] = v
    d = gi / (math.sqrt(v * c[F.inv_bias2]) + c[F.eps])
    z_state = state[0, i]  # (read before the select, which then vectorises)
    z_old = y if c[F.first] != 0 else z_state
    z = z_old - c[F.lr] * (d + c[F.weight_decay] * y)
    x_prev = (y - c[F.one_minus_beta1] * z_old) * c[F.inv_beta1]
    x = c[F.one_minus_mix] * x_prev + c[F.mix] * z
    state[0, i] = z
    theta[i] = c[F.beta1] * x + c[F.one_minus_beta1] * z


def interpolation(name: str, value: Any) -> float:
    """β1 in (0, 1]: 0 would divide by zero in ``x = (y - (1-β1) z)/β1``."""
    return _checks.interval(name, value, "(0, 1]")


BETA1 = Hyper(
    "beta1", 0.9, interpolation, "float",
    "β1 in (0, 1]: ``y`` interpolates the average ``x`` (weight β1) and ``z``.",
)  # fmt: skip
WEIGHT_LR_POWER = Hyper(
    "weight_lr_power", 2.0, _checks.nonnegative, "float",
    "p >= 0: each point's weight in the average is ``max η^p`` so far.",
)  # fmt: skip


def _spec(name: str, body: Any, adam: bool) -> RuleSpec:
    own = (BETA2, EPS) if adam else ()
    return RuleSpec(
        name=name,
        hyperparameters=(
            LEARNING_RATE.but(default=0.0025 if adam else 1.0),
            BETA1,
            *own,
            WEIGHT_DECAY.but(doc="λ >= 0, added to the base direction (as optax)."),
            WEIGHT_LR_POWER,
        ),
        factors=F,
        factor_fn=compiled_factors,
        factor_args=factor_args,
        body=always(body),
        reference=reference,
        state=always(("z", "v") if adam else ("z",)),
        allows_bounds=False,  # z is not projected, and x is made of the z's
    )


class _ScheduleFree(Optimizer):
    """What both Schedule-Free rules add to a rule: the average's weights on the host,
    in :meth:`state_dict`, and the averaged point."""

    def reset(self) -> None:
        """Forget the state, the step count and the average's weights."""
        super().reset()
        self._weights = (0, 0.0, 0.0)

    def _live(self) -> np.ndarray:
        """This optimizer's ``h`` (:func:`factor_args`): the one array that holds the
        average's weights, which the compiled loop and ``step()``'s fast path move on
        in place."""
        h = self.__dict__.get("_h")
        if h is None:
            h = self.__dict__["_h"] = np.zeros(H_LENGTH)
        return h

    @property
    def _weights(self) -> tuple[int, float, float]:
        """``(t, max η so far, Σ w)`` after step ``t``."""
        h = self._live()
        return int(h[5]), float(h[6]), float(h[7])

    @_weights.setter
    def _weights(self, value: tuple[int, float, float]) -> None:
        self._live()[5:8] = value

    def _factor_args(self) -> np.ndarray:
        """The live ``h``, its hyperparameters as they are now."""
        h = self._live()
        h[:5] = self._planned().h[:5]
        return h

    def _mix(self, t: int, lr: float) -> float:
        """``c_t``, advancing the running ``max η`` and ``Σ w`` from step ``t - 1``."""
        done = self._weights[0]
        if done != t and done != t - 1:
            raise RuntimeError(
                f"{type(self).__name__}: the average's weights are at step {done}, not "
                f"{t - 1}; restore them with load_state_dict"
            )
        return mix(t, lr, self._factor_args())

    def _factors(self, t: int, lr: float) -> tuple[float, ...]:
        return factors(t, lr, self._factor_args(), self._mix(t, lr))

    def _reference_extras(self, t: int, lr: float) -> dict[str, Any]:
        return {"mix": self._mix(t, lr)}

    def state_dict(self) -> dict[str, Any]:
        """As every rule's, plus the average's weights (``"averaging"``)."""
        out = super().state_dict()
        _, top, total = self._weights
        out["averaging"] = {"max_learning_rate": top, "weight_sum": total}
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """As every rule's; the average's weights come back too."""
        averaging = state_dict.get("averaging") if isinstance(state_dict, dict) else None
        if isinstance(state_dict, dict) and state_dict.get("step", 0) and averaging is None:
            raise ValueError("state_dict lacks 'averaging' (the Schedule-Free weights)")
        super().load_state_dict(state_dict)
        if averaging is None:
            self._weights = (0, 0.0, 0.0)
        else:
            top = _checks.nonnegative("averaging max_learning_rate", averaging["max_learning_rate"])
            total = _checks.nonnegative("averaging weight_sum", averaging["weight_sum"])
            self._weights = (self._t, top, total)

    def averaged(self, x: Any) -> Any:
        """The point to use, ``(y - (1 - β1) z)/β1``, from the iterate ``x`` (= y) this
        optimizer steps: a new array like ``x`` (a copy of ``x`` before the first step).

        ``x`` is a NumPy array, or a CUDA device array (the result is then one too; the
        arithmetic runs on the host, once).  For a list/dict of arrays, ``minimize``
        returns the average structured like ``x0``.
        """
        if isinstance(x, (list, tuple, dict)):
            raise TypeError(
                "x must be the array this optimizer steps (a NumPy or CUDA array), got a "
                f"{type(x).__name__}; for a list/dict of arrays, minimize returns the average"
            )
        device = hasattr(x, "copy_to_host")
        y = x.copy_to_host() if device else np.array(x, copy=True)
        if self._layout is not None and y.shape != tuple(self._layout.shape):
            raise ValueError(
                f"x has shape {y.shape} but this optimizer steps an array of shape "
                f"{tuple(self._layout.shape)}; give averaged() the array it steps"
            )
        if self._t > 0 and self._state is not None:
            z = self._state[0]
            z = z.copy_to_host() if hasattr(z, "copy_to_host") else z
            order = self._layout.order
            flat = y.reshape(-1, order=order)
            dt = flat.dtype.type
            b1 = self._hyperparameters["beta1"]
            y = ((flat - dt(1 - b1) * z) / dt(b1)).reshape(y.shape, order=order)
        if not device:
            return y
        from numba import cuda

        return cuda.to_device(y)


class ScheduleFreeSGD(_ScheduleFree, spec=_spec("schedule_free_sgd", sgd_body, adam=False)):
    """Schedule-Free SGD: steps ``z`` by ``η g``, averages the ``z``'s into ``x``, and
    takes the gradient at ``y = β1 x + (1-β1) z``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> y = np.array([1.0, -1.0])
    >>> opt = numopt.ScheduleFreeSGD(learning_rate=0.1)
    >>> opt.step(y, np.array([2.0, -1.0]))   # step 1: x = z = y - ηg, y = z
    array([ 0.8, -0.9])
    >>> opt.step(y, np.array([1.0, 1.0]))    # c = 1/2: x = mean of the z's
    array([ 0.745, -0.955])
    >>> opt.averaged(y)
    array([ 0.75, -0.95])
    """


class ScheduleFreeAdamW(_ScheduleFree, spec=_spec("schedule_free_adamw", adamw_body, adam=True)):
    """Schedule-Free AdamW: AdamW's normalised step (no momentum) on ``z``, the average
    ``x`` of the ``z``'s, the gradient at ``y = β1 x + (1-β1) z``.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> y = np.array([1.0, -1.0])
    >>> opt = numopt.ScheduleFreeAdamW(learning_rate=0.1)
    >>> opt.step(y, np.array([2.0, -1.0])).round(6)   # the first step is η·sign(g)
    array([ 0.9, -0.9])
    """
