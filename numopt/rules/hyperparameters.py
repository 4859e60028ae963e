"""The hyperparameters several rules share, declared once (a rule adjusts default or wording).

A rule lists these in its :class:`~numopt.rules.spec.RuleSpec`, e.g.
``LEARNING_RATE.but(default=1e-2)``; its own hyperparameters it declares in its file.
:data:`FRAMEWORK` are every rule's and are appended by the framework.
"""

from __future__ import annotations

from numopt import _checks
from numopt.rules.spec import Hyper

LEARNING_RATE = Hyper(
    "learning_rate",
    1e-3,
    _checks.learning_rate,
    "float or callable",
    "η > 0, or a schedule ``step -> η`` called with the 0-based step (see\n"
    ":mod:`numopt.schedules`).",
)
BETA1 = Hyper("beta1", 0.9, _checks.decay, "float", "Decay of the first moment, in [0, 1).")
BETA2 = Hyper("beta2", 0.999, _checks.decay, "float", "Decay of the second moment, in [0, 1).")
BETA3 = Hyper("beta3", 0.9999, _checks.decay, "float", "A third decay rate, in [0, 1).")
EPS = Hyper("eps", 1e-8, _checks.positive, "float", "ε > 0, added outside the root.")
EPS_ROOT = Hyper(
    "eps_root",
    0.0,
    _checks.nonnegative,
    "float",
    "ε_root >= 0, added inside the root (optax's ``eps_root``).",
)
NESTEROV = Hyper("nesterov", False, _checks.boolean, "bool", "Nesterov's look-ahead step.")
WEIGHT_DECAY = Hyper(
    "weight_decay",
    0.0,
    _checks.nonnegative,
    "float",
    "λ >= 0, L2 decay added to the gradient: ``g ← g + λθ`` (as torch).",
)
DECOUPLED_WEIGHT_DECAY = Hyper(
    "decoupled_weight_decay",
    False,
    _checks.boolean,
    "bool",
    "Decay the weights by ``ηλθ`` instead of adding ``λθ`` to the gradient.",
)
AMSGRAD = Hyper(
    "amsgrad",
    False,
    _checks.boolean,
    "bool",
    "AMSGrad: divide by the running maximum of ``v`` (bias-corrected), kept in the\n"
    "state array ``v_max``; fixed once the state exists.",
)

MAXIMIZE = Hyper(
    "maximize",
    False,
    _checks.boolean,
    "bool",
    "Maximise the objective: step along ``+g`` (the gradient negated inside the\n"
    "kernel, before any weight decay is added, as ``torch.optim``'s ``maximize``).",
)
CLIP_NORM = Hyper(
    "clip_norm",
    None,
    _checks.optional_positive,
    "float or None",
    "Scale the gradient by ``min(1, clip_norm/‖g‖)`` before the update, ``‖g‖`` its\n"
    "Euclidean norm (optax's ``clip_by_global_norm``); None: off.",
)
CLIP_VALUE = Hyper(
    "clip_value",
    None,
    _checks.optional_positive,
    "float or None",
    "Clamp each gradient entry to ``[-clip_value, clip_value]`` before the update\n"
    "(and before ``clip_norm``'s norm); None: off.",
)

#: Every rule's, after its own: the gradient's sign and clipping act through
#: ``grad(i, g, c)`` (:mod:`numopt.kernels.element`), not in the rule's arithmetic.
FRAMEWORK = (MAXIMIZE, CLIP_NORM, CLIP_VALUE)

#: Every ``Optimizer`` takes ``backend=`` too (not a hyperparameter: where it runs).
BACKEND_DOC = """backend : {"auto", "serial", "parallel", "numpy", "cuda"}, default "auto"
    Which implementation runs :meth:`step`: ``"auto"`` the CUDA kernel for device
    arrays, else the serial CPU loop for small arrays and the ``prange`` loop for
    large ones; ``"numpy"`` the reference (slow, allocating, to check the kernels)."""
