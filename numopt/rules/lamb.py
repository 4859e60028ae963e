"""LAMB: Adam's direction, scaled per layer by the trust ratio ‖θ‖/‖u‖.

You et al. 2019, "Large Batch Optimization for Deep Learning: Training BERT in 76
minutes", Algorithm 2 with φ the identity, as optax's ``lamb`` writes it
(``scale_by_adam``, ``add_decayed_weights``, ``scale_by_trust_ratio``; torch has
no LAMB):

    m_t = β1 m_{t-1} + (1 - β1) g_t
    v_t = β2 v_{t-1} + (1 - β2) g_t²
    u_t = (m_t / (1 - β1^t)) / (sqrt(v_t / (1 - β2^t)) + ε) + λ θ_t
    r_ℓ = ‖θ_ℓ‖ / ‖u_ℓ‖ for each layer ℓ   (1 when either norm is 0)
    θ_ℓ ← θ_ℓ - η r_ℓ u_ℓ

A *layer* is a part of θ with its own ratio: for a list/dict ``x0`` in
``minimize``, each of its arrays; a single array is one layer; ``layers=`` gives
the sizes of consecutive layers of one flat array in the stateful API.  The
weight decay λ is decoupled (added to ``u``, so it is scaled by ``η r`` as in the
paper and optax, not by ``1/sqrt(v̂)`` as Adam's L2).

Defaults are optax's: β1 = 0.9, β2 = 0.999, ε = 1e-6, λ = 0; optax has no default
η, numopt takes Adam's 1e-3.

Two passes over memory per step, because every ``u_i`` of a layer is needed
before the first ``θ_i`` of it can move:

1. for each element, update ``m``, ``v`` (stored), compute ``u_i`` and add ``θ_i²``
   and ``u_i²`` to the layer's sums (:func:`moments`; fixed-order blocked sums,
   :mod:`numopt.backends.reduce`: the same bits on any thread count and on the
   GPU);
2. for each element, recompute ``u_i`` from the stored ``m``, ``v`` and ``θ_i``
   (the same arithmetic: the same bits) and step ``θ_i -= fl(η r_ℓ) u_i``
   (:func:`apply`).

Traffic: pass 1 reads θ, g, m, v and writes m, v; pass 2 reads θ, m, v and writes
θ — 10 arrays against Adam's 7.  Storing ``u`` instead of recomputing it would
cost as much (a write in pass 1, a read in pass 2, and an extra state array).
The ratio ``η r_ℓ`` is computed on the host in float64 from the sums and cast to
θ's dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from numopt import _clip
from numopt._arrays import FlatPair
from numopt.backends import reduce
from numopt.optimizer import Optimizer
from numopt.rules._bias import saturation_step
from numopt.rules.adam import factors as adam_factors


def trust_ratio(theta_norm: float, update_norm: float) -> float:
    """``‖θ‖/‖u‖``, or 1 when either norm is 0 (optax's ``scale_by_trust_ratio``)."""
    if theta_norm == 0.0 or update_norm == 0.0:
        return 1.0
    return theta_norm / update_norm


def reference(
    theta,
    g,
    m,
    v,
    *,
    t,
    learning_rate,
    beta1,
    beta2,
    eps,
    weight_decay,
    maximize=False,
    layers=None,
):
    """NumPy reference of one step, in place on flat ``theta``, ``m``, ``v``.

    ``layers``: the sizes of the consecutive layers of ``theta`` (None: one layer).
    The norms are summed in the fixed order of the kernels
    (:func:`numopt.backends.reduce.sum_squares_numpy`), so the reference and the
    kernels agree bit for bit.
    """
    dt = theta.dtype.type
    g = -g if maximize else g
    m[:] = dt(beta1) * m + dt(1 - beta1) * g
    v[:] = dt(beta2) * v + dt(1 - beta2) * g**2
    m_hat = m / dt(1 - beta1**t)
    v_hat = v / dt(1 - beta2**t)
    u = m_hat / (np.sqrt(v_hat) + dt(eps)) + dt(weight_decay) * theta
    sizes = (theta.size,) if layers is None else tuple(layers)
    theta_sq = reduce.sum_squares_numpy(theta, sizes)
    u_sq = reduce.sum_squares_numpy(u, sizes)
    start = 0
    for size, p, q in zip(sizes, theta_sq, u_sq, strict=True):
        r = trust_ratio(math.sqrt(p), math.sqrt(q))
        theta[start : start + size] -= dt(learning_rate * r) * u[start : start + size]
        start += size


def moments(i, theta, g, state, c):
    """Pass 1, element ``i``: update ``m``, ``v``; return ``u_i`` (its square is summed).

    ``c = (η, β1, 1-β1, β2, 1-β2, 1-β1^t, 1-β2^t, ε, λ, ±1)`` (Adam's factors),
    ``state = (m, v)``.
    """
    gi = g[i] * c[-1]
    m = c[1] * state[0, i] + c[2] * gi
    v = c[3] * state[1, i] + c[4] * (gi * gi)
    state[0, i] = m
    state[1, i] = v
    return (m / c[5]) / (math.sqrt(v / c[6]) + c[7]) + c[8] * theta[i]


def apply(i, theta, g, state, c, step):
    """Pass 2, element ``i``: ``θ_i -= step · u_i``, ``step = fl(η r)`` of ``i``'s layer."""
    th = theta[i]
    u = (state[0, i] / c[5]) / (math.sqrt(state[1, i] / c[6]) + c[7]) + c[8] * th
    theta[i] = th - step * u


def _steps(learning_rate: float, sums: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``fl(η r_ℓ)`` per layer from the sums of squares ``(Σθ², Σu²)`` (float64 rows)."""
    return np.array(
        [
            learning_rate * trust_ratio(math.sqrt(p), math.sqrt(q))
            for p, q in zip(sums[0].tolist(), sums[1].tolist(), strict=True)
        ],
        dtype,
    )


def _checked_layers(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(
            f"layers must be None or a sequence of layer sizes (integers >= 0), got {value!r}"
        )
    sizes = []
    for k, size in enumerate(value):
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)):
            raise TypeError(f"layers[{k}] must be an integer >= 0, got {size!r}")
        if size < 0:
            raise ValueError(f"layers[{k}] must be an integer >= 0, got {size!r}")
        sizes.append(int(size))
    if not sizes:
        raise ValueError("layers is empty; give None for one layer")
    return tuple(sizes)


class Lamb(Optimizer):
    """LAMB: Adam's direction plus decoupled decay, scaled per layer by ‖θ‖/‖u‖.

    Parameters
    ----------
    learning_rate : float or callable, default 1e-3
        η > 0, or a schedule ``step -> η`` called with the 0-based step.
    beta1, beta2 : float, default 0.9, 0.999
        Decays of the first and second moments, each in [0, 1).
    eps : float, default 1e-6
        ε > 0, added outside the root (optax's default).
    weight_decay : float, default 0
        λ >= 0, decoupled: ``λθ`` is added to the Adam direction before the trust
        ratio.
    maximize : bool, default False
        Maximise the objective (the gradient negated inside the kernel).
    layers : sequence of int, optional
        The sizes of the consecutive layers that ``x`` (viewed flat, in its memory
        order) is made of, each with its own trust ratio; None (default): ``x`` is
        one layer.  ``minimize`` sets it from a list/dict ``x0`` (one layer per
        array) when it is None.  A checked attribute, not part of
        :meth:`state_dict`.
    backend : str, default "auto"
        See :class:`numopt.optimizer.Optimizer`.

    Notes
    -----
    A step is two passes over memory (see the module's docstring), so ``minimize``
    runs LAMB in its Python loop, not the compiled one.

    Examples
    --------
    >>> import numpy as np, numopt
    >>> x = np.array([3.0, 4.0])                  # ‖θ‖ = 5
    >>> opt = numopt.Lamb(learning_rate=0.1)
    >>> opt.step(x, np.array([1.0, -1.0]))        # u ≈ (1, -1): r ≈ 5/√2
    array([2.64644661, 4.35355339])
    >>> opt = numopt.Lamb(learning_rate=0.1, layers=[1, 1])
    >>> opt.step(np.array([3.0, 4.0]), np.array([1.0, -1.0]))  # r = 3 and 4
    array([2.7, 4.4])
    """

    name = "lamb"
    state_names = ("m", "v")
    reference = staticmethod(reference)
    #: Passes over memory per step: ``minimize``'s compiled loop runs one-pass rules only.
    passes: ClassVar[int] = 2

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = 1e-3,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        maximize: bool = False,
        layers: Sequence[int] | None = None,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            learning_rate=learning_rate,
            beta1=beta1,
            beta2=beta2,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            backend=backend,
        )
        self.layers = layers

    @property
    def layers(self) -> tuple[int, ...] | None:
        """The layer sizes (a tuple), or None: ``x`` is one layer."""
        return self._layers

    @layers.setter
    def layers(self, value: Any) -> None:
        self._layers = _checked_layers(value)

    def reset(self) -> None:
        """Forget the state and the step count (and the passes' scratch buffers)."""
        super().reset()
        self._scratch: tuple | None = None  # ((dtype, sizes), reduce.Scratch) of pass 1

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "layers":  # the property checks it
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def __repr__(self) -> str:
        text = super().__repr__()
        if self._layers is None:
            return text
        return f"{text[:-1]}, layers={list(self._layers)!r})"

    def _element(self) -> Callable:
        raise NotImplementedError(
            "LAMB's step is two passes (moments and norms, then the update), not one "
            "element body: see numopt.rules.lamb.moments and apply"
        )

    def _loops(self) -> list:
        """The compiled CPU loops a step runs (without clipping), for tests."""
        return [reduce.two_sum_loops(moments), reduce.segment_loops(apply)]

    def _factors(self, t: int, lr: float) -> tuple[float, ...]:
        """Adam's factors (:func:`numopt.rules.adam.factors`): the same ``m``, ``v``, ``u``."""
        hp = self._hyperparameters
        b1, b2 = hp["beta1"], hp["beta2"]
        h = (b1, b2, hp["eps"], hp["weight_decay"], saturation_step(b1), saturation_step(b2))
        return adam_factors(t, lr, h)

    def _sizes(self, n: int) -> tuple[int, ...]:
        layers = self._layers
        if layers is None:
            return (n,)
        if sum(layers) != n:
            raise ValueError(
                f"layers {list(layers)} sum to {sum(layers)} elements but x has {n}; give "
                "the sizes of the layers x is made of (or None for one layer)"
            )
        return layers

    def _apply(self, pair: FlatPair, box: Any = None) -> None:
        """One step on validated flat arrays: the two passes (see the module docstring).

        The base class's step runs one element body; this follows it (the step
        count, the learning rate, the backend, the state, clipping, bounds) with
        two passes instead.
        """
        t = self._t + 1
        lr = self.learning_rate_at(t)  # checks first: a failed step changes nothing
        n = pair.x.size
        backend = self._backend_for(pair.layout.device, n)
        sizes = self._sizes(n)
        state = self._state_for(pair.layout, n)
        hp = self._hyperparameters
        if backend == "numpy":
            ref = {k: v for k, v in hp.items() if k != "learning_rate" and k not in _clip.NAMES}
            g = _clip.reference_gradient(pair.g, hp)
            self.reference(pair.x, g, *state, t=t, learning_rate=lr, layers=sizes, **ref)
            if box is not None:
                np.clip(pair.x, box.lo, box.hi, out=pair.x)
        else:
            dtype = pair.layout.dtype
            factors = self._step_factors(t, lr, pair.g, backend)
            first = _clip.kernel_body(moments, hp)
            if backend == "cuda":
                from numopt.backends import cuda_reduce

                c = tuple(dtype.type(f) for f in factors)
                sums = cuda_reduce.two_sums(first, pair.x, pair.g, state, c, sizes)
                steps = _steps(lr, sums, dtype)
                cuda_reduce.segments(apply, pair.x, pair.g, state, c, sizes, steps, box)
            else:
                c = np.array(factors, dtype)
                table = reduce.blocks(sizes)
                buffers = self._scratch
                if buffers is None or buffers[0] != (dtype, sizes):
                    buffers = self._scratch = ((dtype, sizes), reduce.scratch(dtype, sizes))
                work = buffers[1]
                blocks = (table.start, table.stop, table.first)
                getattr(reduce.two_sum_loops(first), backend)(
                    pair.x, pair.g, state, c, *blocks, *work
                )
                steps = _steps(lr, work.out, dtype)
                args = (pair.x, pair.g, state, c, table.start, table.segment, table.stop, steps)
                if box is None:
                    getattr(reduce.segment_loops(apply), backend)(*args)
                else:
                    getattr(reduce.segment_bounded_loops(apply), backend)(*args, box.lo, box.hi)
        self._t = t
        self._loaded_on_host = False
