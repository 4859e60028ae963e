"""The element-wise kernels of the transforms, and where each one runs.

Each kernel is an element body ``body(i, theta, g, state, c)`` like a rule's, so the
same CPU loops (serial and ``prange``, :func:`numopt.kernels.cpu.cpu_loops`) and the
same CUDA grid-stride kernel (:func:`numopt.kernels.cuda.cuda_kernel`) run it: one
pass over memory, in place, no temporaries.  ``state`` is the transform's own
buffer, shape ``(1, n)``; ``c`` holds its per-call factors (computed on the host in
float64, cast to the arrays' dtype).  Each body has a NumPy reference, run by
``backend="numpy"`` and used by the tests:

============  ==========================================  ==============
body          update (element ``i``)                      ``c``
============  ==========================================  ==============
``load``      ``s = theta``                               —
``add``       ``s = s + g``                               —
``mean``      ``s = (s + g) / m``                         ``(m,)``
``mean_g``    ``g = (s + g) / m``                         ``(m,)``
``ema``       ``s = c0 s + c1 theta``                     ``(c0, c1)``
``polyak``    ``s = s + (theta - s) / (n + 1)``           ``(n + 1,)``
``lookahead`` ``s = s + α (theta - s); theta = s``        ``(α,)``
``product``   ``s = theta g``                             —
``ascend``    ``s = theta; theta = theta + c0 g``         ``(ρ/‖g‖,)``
``ascend_x2`` ``s = theta; theta = theta + c0 theta² g``  ``(ρ/‖x⊙g‖,)``
``restore``   ``theta = s``                               —
============  ==========================================  ==============

(``s`` is ``state[0, i]``.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numopt.kernels import launch as kernels


# -- element bodies (compiled for the CPU and CUDA loops) ------------------------------
def load_body(i, theta, g, state, c):
    """``s = theta``: start a buffer from an array (Lookahead's slow weights)."""
    state[0, i] = theta[i]


def add_body(i, theta, g, state, c):
    """``s = s + g``: accumulate a micro-batch gradient."""
    state[0, i] = state[0, i] + g[i]


def mean_body(i, theta, g, state, c):
    """``s = (s + g) / m``: the last micro-batch, and the mean of ``m`` gradients."""
    state[0, i] = (state[0, i] + g[i]) / c[0]


def mean_into_g_body(i, theta, g, state, c):
    """``g = (s + g) / m``: as :func:`mean_body`, written into ``g`` (``minimize``'s buffer)."""
    g[i] = (state[0, i] + g[i]) / c[0]


def ema_body(i, theta, g, state, c):
    """``s = c0 s + c1 theta``: one exponential-moving-average step of the point."""
    state[0, i] = c[0] * state[0, i] + c[1] * theta[i]


def polyak_body(i, theta, g, state, c):
    """``s = s + (theta - s) / (n + 1)``: the running mean of the points, ``c0 = n + 1``."""
    s = state[0, i]
    state[0, i] = s + (theta[i] - s) / c[0]


def lookahead_body(i, theta, g, state, c):
    """``s = s + α (theta - s); theta = s``: Lookahead's synchronisation, ``c0 = α``."""
    s = state[0, i]
    s = s + c[0] * (theta[i] - s)
    state[0, i] = s
    theta[i] = s


def product_body(i, theta, g, state, c):
    """``s = theta g``: ASAM's scaled gradient, whose norm sets the step (SAM)."""
    state[0, i] = theta[i] * g[i]


def ascend_body(i, theta, g, state, c):
    """``s = theta; theta = theta + c0 g``: SAM's ascent, the point kept in ``s``."""
    t = theta[i]
    state[0, i] = t
    theta[i] = t + g[i] * c[0]


def ascend_x2_body(i, theta, g, state, c):
    """``s = theta; theta = theta + c0 theta² g``: adaptive SAM's ascent."""
    t = theta[i]
    state[0, i] = t
    theta[i] = t + (t * t) * g[i] * c[0]


def restore_body(i, theta, g, state, c):
    """``theta = s``: back to the point SAM's ascent left."""
    theta[i] = state[0, i]


# -- NumPy references (backend="numpy"; the tests compare the kernels with them) ------
def _load(theta, g, state, c):
    state[0] = theta


def _add(theta, g, state, c):
    state[0] += g


def _mean(theta, g, state, c):
    state[0] = (state[0] + g) / c[0]


def _mean_into_g(theta, g, state, c):
    g[:] = (state[0] + g) / c[0]


def _ema(theta, g, state, c):
    state[0] = c[0] * state[0] + c[1] * theta


def _polyak(theta, g, state, c):
    state[0] = state[0] + (theta - state[0]) / c[0]


def _lookahead(theta, g, state, c):
    state[0] = state[0] + c[0] * (theta - state[0])
    theta[:] = state[0]


def _product(theta, g, state, c):
    state[0] = theta * g


def _ascend(theta, g, state, c):
    state[0] = theta
    theta += g * c[0]


def _ascend_x2(theta, g, state, c):
    state[0] = theta
    theta += (theta * theta) * g * c[0]


def _restore(theta, g, state, c):
    theta[:] = state[0]


#: body → its NumPy reference.
REFERENCES: dict[Callable, Callable] = {
    load_body: _load,
    add_body: _add,
    mean_body: _mean,
    mean_into_g_body: _mean_into_g,
    ema_body: _ema,
    polyak_body: _polyak,
    lookahead_body: _lookahead,
    product_body: _product,
    ascend_body: _ascend,
    ascend_x2_body: _ascend_x2,
    restore_body: _restore,
}


def launch(
    body: Callable, theta: Any, g: Any, state: Any, c: tuple, backend: str, box: Any = None
) -> None:
    """Run ``body`` over every element of ``theta`` with the resolved ``backend``.

    ``c`` holds float64 factors; they are cast to ``theta``'s dtype first.  ``box``
    (a :class:`numopt.kernels.box.Box`, or None) clamps ``theta`` into ``[lo, hi]`` after
    the body, in the same pass (the bounded loops of :mod:`numopt.kernels.cpu` and
    :mod:`numopt.kernels.cuda`).

    Examples
    --------
    >>> import numpy as np
    >>> s, x = np.zeros((1, 3)), np.array([1.0, 2.0, 4.0])
    >>> launch(ema_body, x, x, s, (0.5, 0.5), "serial")
    >>> s
    array([[0.5, 1. , 2. ]])
    """
    dtype = np.dtype(theta.dtype)
    if backend == "numpy":
        REFERENCES[body](theta, g, state, tuple(dtype.type(f) for f in c))
        if box is not None:
            np.clip(theta, box.lo, box.hi, out=theta)
        return
    kernels.launch(body, theta, g, state, kernels.typed_factors(c, dtype, backend), backend, box)
