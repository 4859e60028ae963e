"""Transforms that compose with any rule: accumulation, averages, Lookahead, param groups, SAM.

Each wraps a numopt optimizer (a rule, or another transform) and behaves like one
(``step``, ``state_dict``/``load_state_dict``, ``reset``, ``step_count``), or tracks
the point (:class:`EMA`, :class:`Polyak`).  ``minimize`` exposes them as options
(``accumulate``, ``average``, ``lookahead``, ``param_groups``, ``sam``; see
``docs/transforms.md``).  Their element-wise arithmetic runs in fused kernels
(:mod:`numopt.transforms._kernels`), on the CPU or the GPU like the rules.

=================================================  ===========================================
:class:`MultiSteps`                                gradient accumulation (optax ``MultiSteps``)
:class:`EMA`, :class:`Polyak`, :class:`Averaged`   averages of x (torch ``swa_utils``, optax
                                                   ``ema``)
:class:`Lookahead`                                 slow and fast weights (Zhang et al. 2019)
:class:`ParamGroups`                               per-group hyperparameters (torch param
                                                   groups)
:class:`SAM`                                       sharpness-aware minimisation (Foret et al.
                                                   2021)
=================================================  ===========================================
"""

from numopt.transforms._wrapper import Wrapper
from numopt.transforms.accumulate import MultiSteps
from numopt.transforms.averaging import EMA, Averaged, Polyak
from numopt.transforms.groups import ParamGroups
from numopt.transforms.lookahead import Lookahead
from numopt.transforms.sam import SAM

__all__ = ["EMA", "SAM", "Averaged", "Lookahead", "MultiSteps", "ParamGroups", "Polyak", "Wrapper"]
