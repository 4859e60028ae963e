"""The eight newer rules (ASGD, AdaBelief, Yogi, Adan, ADOPT, AdEMAMix, sign SGD,
Signum) against numbers worked by hand.

Each case is a tiny float64 problem: a starting θ, the gradient of each step and,
after every step, the θ and the state arrays that the rule's formula (its module
docstring) gives.  Hyperparameters are picked so that the arithmetic stays tractable
(β = 0.5, 0.75 or 0.875, η = 0.1; ε = 1e-30 where it would only blur exact decimals,
or ε = 1 where its placement matters); the arithmetic of each number is written next
to it, as a fraction or a root where the decimal would hide it.  The numbers come
from the formulas, never from numopt.  Every case runs on the NumPy reference and on
the serial and parallel CPU loops.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pytest
from hand_cases import CPU_BACKENDS

import numopt

TINY = 1e-30  # an ε that changes no digit below
Q2 = 2**0.25  # ADOPT's clip at t = 3: (t-1)^{1/4} = 2^{1/4} = 1.189207115002721


class Step(NamedTuple):
    theta: list[float]  # θ after the step
    state: dict[str, list[float]]  # every state array after the step


class Case(NamedTuple):
    cls: type[numopt.Optimizer]
    hp: dict[str, Any]
    x0: list[float]
    grads: list[list[float]]
    steps: list[Step]


# AdaBelief θ after step 1 (used again at step 2)
AB1 = [1 - 0.1 * (8 / 3) / (math.sqrt(3) + 1), -1 + 0.1 * (16 / 3) / (math.sqrt(6) + 1)]
AB_PLAIN2 = [0.8 - 0.1 * (10 / 3) / math.sqrt(12 / 7), -0.8 + 0.1 * (4 / 3) / math.sqrt(16 / 7)]
# Yogi θ after step 1
YOGI1 = [1 - 0.1 * 5 / math.sqrt(15), -1.02, 0.35]
# Adan θ after step 2
ADAN2 = [0.8, -0.9 - 0.1 / math.sqrt(19 / 7)]
# ADOPT (clipping) θ after step 2
ADOPT2 = [0.975, -0.95, 0.45]

CASES: dict[str, Case] = {
    # ASGD with λ = 0 (η_t = η, no shrink) and t0 = 0: μ_t = 1/max(1, t-1) = 1, 1, 1/2,
    # 1/3, so ax = θ for two steps, then the mean of θ_2, θ_3, ...
    "asgd-average": Case(
        numopt.ASGD,
        {"learning_rate": 0.1, "lambd": 0.0, "alpha": 0.75, "t0": 0.0},
        [1.0, -1.0],
        [[2.0, -4.0], [1.0, 3.0], [-2.0, 0.0], [3.0, -3.0]],
        [
            # θ = [1 - 0.2, -1 + 0.4]; μ_1 = 1: ax = θ
            Step([0.8, -0.6], {"ax": [0.8, -0.6]}),
            # θ = [0.8 - 0.1, -0.6 - 0.3]; μ_2 = 1: ax = θ
            Step([0.7, -0.9], {"ax": [0.7, -0.9]}),
            # θ = [0.7 + 0.2, -0.9 - 0]; μ_3 = 1/2: ax = [0.7 + 0.2/2, -0.9 + 0/2]
            Step([0.9, -0.9], {"ax": [0.8, -0.9]}),
            # θ = [0.9 - 0.3, -0.9 + 0.3]; μ_4 = 1/3: ax = [0.8 - 0.2/3, -0.9 + 0.3/3]
            # (= the mean of θ_2, θ_3, θ_4: [(0.7 + 0.9 + 0.6)/3, (-0.9 - 0.9 - 0.6)/3])
            Step([0.6, -0.6], {"ax": [2.2 / 3, -0.8]}),
        ],
    ),
    # λ = 5, η = 0.1 (λη = 0.5), α = 2: η_t = 0.1/(1 + 0.5(t-1))² = 0.1, 0.1/2.25 = 2/45,
    # 0.1/4 = 0.025; the shrink 1 - λη_t = 0.5, 1 - 10/45 = 7/9, 0.875.  t0 = 0: μ_3 = 1/2.
    "asgd-decay": Case(
        numopt.ASGD,
        {"learning_rate": 0.1, "lambd": 5.0, "alpha": 2.0, "t0": 0.0},
        [1.0, -2.0],
        [[1.0, 2.0], [-3.0, 0.0], [2.0, 4.0]],
        [
            # θ = [0.5·1 - 0.1·1, 0.5·(-2) - 0.1·2]; ax = θ
            Step([0.4, -1.2], {"ax": [0.4, -1.2]}),
            # θ = [(7/9)·0.4 + (2/45)·3, (7/9)·(-1.2) - 0] = [14/45 + 6/45, -8.4/9]; ax = θ
            Step([4 / 9, -14 / 15], {"ax": [4 / 9, -14 / 15]}),
            # θ = [0.875·4/9 - 0.025·2, 0.875·(-14/15) - 0.025·4] = [7/18 - 1/20, -49/60 - 6/60];
            # ax = (θ_2 + θ_3)/2 = [(80/180 + 61/180)/2, (-56/60 - 55/60)/2]
            Step([61 / 180, -11 / 12], {"ax": [141 / 360, -111 / 120]}),
        ],
    ),
    # maximize with coupled L2 wd = 0.5: the gradient is negated first, then wd·θ is added,
    # g' = -g + 0.5θ.  λ = 0, η = 0.1; t0 = 1: μ_t = 1/max(1, t-2) = 1, 1, 1, 1/2.
    "asgd-l2-maximize": Case(
        numopt.ASGD,
        {
            "learning_rate": 0.1,
            "lambd": 0.0,
            "t0": 1.0,
            "weight_decay": 0.5,
            "maximize": True,
        },
        [2.0, -1.0],
        [[1.0, 1.0], [0.5, -2.0], [-1.0, 0.0], [0.0, 0.0]],
        [
            # g' = [-1 + 1, -1 - 0.5] = [0, -1.5]; θ = [2, -1 + 0.15]; ax = θ
            Step([2.0, -0.85], {"ax": [2.0, -0.85]}),
            # g' = [-0.5 + 1, 2 - 0.425] = [0.5, 1.575]; θ = [2 - 0.05, -0.85 - 0.1575]; ax = θ
            Step([1.95, -1.0075], {"ax": [1.95, -1.0075]}),
            # g' = [1 + 0.975, 0 - 0.50375]; θ = [1.95 - 0.1975, -1.0075 + 0.050375]; ax = θ
            Step([1.7525, -0.957125], {"ax": [1.7525, -0.957125]}),
            # g' = 0.5θ: θ = 0.95θ = [1.664875, -0.90926875]; μ_4 = 1/2:
            # ax = [(1.7525 + 1.664875)/2, (-0.957125 - 0.90926875)/2]
            Step([1.664875, -0.90926875], {"ax": [1.7086875, -0.933196875]}),
        ],
    ),
    # AdaBelief: m ← β1 m + (1-β1) g; s ← β2 s + (1-β2)(g - m)² + ε_root; θ ← θ - η m̂/(√ŝ + ε);
    # η = 0.1, β1 = 0.5, β2 = 0.75 (1-β1^t = 0.5, 0.75, 0.875; 1-β2^t = 0.25, 0.4375,
    # 0.578125 = 37/64); ε_root = 0.
    "adabelief": Case(
        numopt.AdaBelief,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": TINY, "eps_root": 0.0},
        [1.0, -1.0],
        [[2.0, -4.0], [4.0, 0.0], [1.0, -2.0]],
        [
            # m = [1, -2]; g - m = [1, -2]; s = 0.25·[1, 4]; m̂ = [2, -4]; ŝ = [1, 4];
            # θ = [1 - 0.1·2/1, -1 + 0.1·4/2]
            Step([0.8, -0.8], {"m": [1.0, -2.0], "s": [0.25, 1.0]}),
            # m = [0.5 + 2, -1 + 0]; g - m = [1.5, 1]; s = [0.1875 + 0.5625, 0.75 + 0.25];
            # m̂ = m/0.75 = [10/3, -4/3]; ŝ = s/0.4375 = [12/7, 16/7]; θ = θ - 0.1·m̂/√ŝ
            Step(AB_PLAIN2, {"m": [2.5, -1.0], "s": [0.75, 1.0]}),
            # m = [1.25 + 0.5, -0.5 - 1]; g - m = [-0.75, -0.5];
            # s = [0.5625 + 0.25·0.5625, 0.75 + 0.25·0.25] = [45/64, 52/64];
            # m̂ = m/0.875 = [2, -12/7]; ŝ = s/(37/64) = [45/37, 52/37]
            Step(
                [
                    AB_PLAIN2[0] - 0.1 * 2 / math.sqrt(45 / 37),
                    AB_PLAIN2[1] + 0.1 * (12 / 7) / math.sqrt(52 / 37),
                ],
                {"m": [1.75, -1.5], "s": [0.703125, 0.8125]},
            ),
        ],
    ),
    # Nesterov: m̂ = β1 m/(1-β1^{t+1}) + (1-β1) g/(1-β1^t) = (2/3)m + g at t = 1 and
    # (4/7)m + (2/3)g at t = 2; ε_root = 0.5 added to s at each step; ε = 1 outside the root.
    "adabelief-nesterov": Case(
        numopt.AdaBelief,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.75,
            "eps": 1.0,
            "eps_root": 0.5,
            "nesterov": True,
        },
        [1.0, -1.0],
        [[2.0, -4.0], [4.0, 0.0]],
        [
            # m = [1, -2]; s = 0.25·[1, 4] + 0.5 = [0.75, 1.5]; ŝ = s/0.25 = [3, 6];
            # m̂ = (2/3)·[1, -2] + [2, -4] = [8/3, -16/3]; θ = θ - 0.1·m̂/(√ŝ + 1)
            Step(AB1, {"m": [1.0, -2.0], "s": [0.75, 1.5]}),
            # m = [2.5, -1]; g - m = [1.5, 1]; s = [0.5625 + 0.5625 + 0.5, 1.125 + 0.25 + 0.5];
            # ŝ = s/0.4375 = [26/7, 30/7]; m̂ = (4/7)·[2.5, -1] + (2/3)·[4, 0] = [86/21, -4/7]
            Step(
                [
                    AB1[0] - 0.1 * (86 / 21) / (math.sqrt(26 / 7) + 1),
                    AB1[1] + 0.1 * (4 / 7) / (math.sqrt(30 / 7) + 1),
                ],
                {"m": [2.5, -1.0], "s": [1.625, 1.875]},
            ),
        ],
    ),
    # Yogi: m and v start at 4; m ← β1 m + (1-β1) g; v ← v - (1-β2) sign(v - g²) g²;
    # η = 0.1, β1 = 0.5, β2 = 0.75.  Step 1: v - g² = [3, -5, 0] (v falls, rises, stays);
    # step 2: v - g² = [-0.25, 2.25, 3] (rises, falls, falls).
    "yogi": Case(
        numopt.Yogi,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.75,
            "eps": TINY,
            "initial_accumulator_value": 4.0,
        },
        [1.0, -1.0, 0.5],
        [[1.0, -3.0, 2.0], [2.0, -2.0, -1.0]],
        [
            # m = 2 + 0.5g = [2.5, 0.5, 3]; v = [4 - 0.25·1, 4 + 0.25·9, 4]; m̂ = m/0.5 = [5, 1, 6];
            # v̂ = v/0.25 = [15, 25, 16]; θ = [1 - 0.5/√15, -1 - 0.1·1/5, 0.5 - 0.1·6/4]
            Step(YOGI1, {"m": [2.5, 0.5, 3.0], "v": [3.75, 6.25, 4.0]}),
            # m = [1.25 + 1, 0.25 - 1, 1.5 - 0.5]; v = [3.75 + 1, 6.25 - 1, 4 - 0.25];
            # m̂ = m/0.75 = [3, -1, 4/3]; v̂ = v/0.4375 = [76/7, 12, 60/7]
            Step(
                [
                    YOGI1[0] - 0.1 * 3 / math.sqrt(76 / 7),
                    -1.02 + 0.1 / math.sqrt(12),
                    0.35 - 0.1 * (4 / 3) / math.sqrt(60 / 7),
                ],
                {"m": [2.25, -0.75, 1.0], "v": [4.75, 5.25, 3.75]},
            ),
        ],
    ),
    # maximize with a state that starts at 4: the negated gradients [1], [2] give element
    # a of "yogi" (ignoring maximize would give m = 2 - 0.5 = 1.5 at step 1).
    "yogi-maximize": Case(
        numopt.Yogi,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.75,
            "eps": TINY,
            "initial_accumulator_value": 4.0,
            "maximize": True,
        },
        [1.0],
        [[-1.0], [-2.0]],
        [
            Step([YOGI1[0]], {"m": [2.5], "v": [3.75]}),
            Step([YOGI1[0] - 0.1 * 3 / math.sqrt(76 / 7)], {"m": [2.25], "v": [4.75]}),
        ],
    ),
    # Adan: d = g - g_prev (0 at t = 1); m ← β1 m + (1-β1) g; v ← β2 v + (1-β2) d;
    # n ← β3 n + (1-β3)(g + (1-β2) d)²; u = (m̂ + (1-β2) v̂)/(sqrt(n̂ + ε_root) + ε).
    # η = 0.1, β1 = β2 = 0.5, β3 = 0.75 (1-β1^t = 1-β2^t = 0.5, 0.75, 0.875;
    # 1-β3^t = 0.25, 0.4375 = 7/16, 0.578125 = 37/64); ε_root = 0.
    "adan": Case(
        numopt.Adan,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.5,
            "beta3": 0.75,
            "eps": TINY,
            "eps_root": 0.0,
        },
        [1.0, -1.0],
        [[2.0, -1.0], [4.0, 1.0], [1.0, 1.0]],
        [
            # d = 0; m = [1, -0.5]; v = 0; n = 0.25·[4, 1]; u = [2, -1]/sqrt([4, 1]) = [1, -1]
            Step(
                [0.9, -0.9],
                {"m": [1.0, -0.5], "v": [0.0, 0.0], "n": [1.0, 0.25], "g_prev": [2.0, -1.0]},
            ),
            # d = [2, 2]; m = [0.5 + 2, -0.25 + 0.5]; v = [1, 1]; g + 0.5d = [5, 2];
            # n = [0.75 + 6.25, 0.1875 + 1]; u = ([2.5, 0.25] + 0.5·[1, 1])/0.75
            # / sqrt(n/0.4375) = [4, 1]/[√16, sqrt(19/7)]
            Step(
                ADAN2,
                {"m": [2.5, 0.25], "v": [1.0, 1.0], "n": [7.0, 1.1875], "g_prev": [4.0, 1.0]},
            ),
            # d = [-3, 0]; m = [1.25 + 0.5, 0.125 + 0.5]; v = [0.5 - 1.5, 0.5 + 0];
            # g + 0.5d = [-0.5, 1]; n = [5.25 + 0.0625, 0.890625 + 0.25] = [340/64, 73/64];
            # u = ([1.75, 0.625] + 0.5·[-1, 0.5])/0.875 / sqrt(n/(37/64))
            #   = [10/7, 1]/[sqrt(340/37), sqrt(73/37)]
            Step(
                [
                    0.8 - 0.1 * (10 / 7) / math.sqrt(340 / 37),
                    ADAN2[1] - 0.1 / math.sqrt(73 / 37),
                ],
                {
                    "m": [1.75, 0.625],
                    "v": [-1.0, 0.5],
                    "n": [5.3125, 1.140625],
                    "g_prev": [1.0, 1.0],
                },
            ),
        ],
    ),
    # Decoupled λ = 0.5 (θ ← θ - η(u + λθ), θ before the step) and ε_root = 3 inside the root.
    "adan-decay": Case(
        numopt.Adan,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.5,
            "beta3": 0.75,
            "eps": TINY,
            "eps_root": 3.0,
            "weight_decay": 0.5,
        },
        [2.0, -2.0],
        [[1.0, 1.0], [3.0, -1.0]],
        [
            # m = [0.5, 0.5]; n = 0.25·[1, 1]; n̂ = [1, 1]; u = [1, 1]/sqrt(1 + 3) = [0.5, 0.5];
            # θ = [2 - 0.1·(0.5 + 1), -2 - 0.1·(0.5 - 1)]
            Step(
                [1.85, -1.95],
                {"m": [0.5, 0.5], "v": [0.0, 0.0], "n": [0.25, 0.25], "g_prev": [1.0, 1.0]},
            ),
            # d = [2, -2]; m = [1.75, -0.25]; v = [1, -1]; g + 0.5d = [4, -2];
            # n = [0.1875 + 4, 0.1875 + 1]; n̂ = n/0.4375 = [67/7, 19/7];
            # u = ([1.75, -0.25] + 0.5·[1, -1])/0.75 / sqrt(n̂ + 3) = [3, -1]/sqrt([88/7, 40/7]);
            # θ = [1.85 - 0.1·(u_a + 0.925), -1.95 - 0.1·(u_b - 0.975)]
            Step(
                [
                    1.85 - 0.1 * (3 / math.sqrt(88 / 7) + 0.925),
                    -1.95 - 0.1 * (-1 / math.sqrt(40 / 7) - 0.975),
                ],
                {"m": [1.75, -0.25], "v": [1.0, -1.0], "n": [4.1875, 1.1875], "g_prev": [3, -1]},
            ),
        ],
    ),
    # ADOPT: step 1 only sets v = g²; then q = clip(g/max(√v_prev, ε), ±(t-1)^{1/4});
    # m ← β1 m + (1-β1) q; v ← β2 v + (1-β2) g²; θ ← θ - ηm.  η = 0.1, β1 = 0.5, β2 = 0.75,
    # ε = 1e-6.  Element c starts with g = 0, so √v = 0 and q = g/ε is clipped.
    "adopt-clip": Case(
        numopt.ADOPT,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": 1e-6},
        [1.0, -1.0, 0.5],
        [[2.0, -1.0, 0.0], [1.0, -3.0, 0.5], [-1.0, -3.0, 1.0]],
        [
            # v = g²; θ and m untouched
            Step([1.0, -1.0, 0.5], {"m": [0.0, 0.0, 0.0], "v": [4.0, 1.0, 0.0]}),
            # clip 1^{1/4} = 1: q = [1/2, -3/1 → -1, 0.5/1e-6 → 1]; m = 0.5q;
            # v = [3 + 0.25, 0.75 + 2.25, 0 + 0.0625]; θ = θ - 0.1·[0.25, -0.5, 0.5]
            Step(ADOPT2, {"m": [0.25, -0.5, 0.5], "v": [3.25, 3.0, 0.0625]}),
            # clip 2^{1/4}: q = [-1/√3.25 (inside), -3/√3 = -√3 → -Q2, 1/0.25 = 4 → Q2];
            # m = [0.125 + q_a/2, -0.25 - Q2/2, 0.25 + Q2/2];
            # v = [2.4375 + 0.25, 2.25 + 2.25, 0.046875 + 0.25]
            Step(
                [
                    0.975 - 0.1 * (0.125 - 0.5 / math.sqrt(3.25)),
                    -0.95 - 0.1 * (-0.25 - Q2 / 2),
                    0.45 - 0.1 * (0.25 + Q2 / 2),
                ],
                {
                    "m": [0.125 - 0.5 / math.sqrt(3.25), -0.25 - Q2 / 2, 0.25 + Q2 / 2],
                    "v": [2.6875, 4.5, 0.296875],
                },
            ),
        ],
    ),
    # clipping off: q = g/√v_prev unbounded (3 and -3 here, where the clip would give ±1).
    "adopt-noclip": Case(
        numopt.ADOPT,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": TINY, "clipping": False},
        [1.0, -1.0],
        [[2.0, -1.0], [6.0, -3.0], [1.0, 2.0]],
        [
            Step([1.0, -1.0], {"m": [0.0, 0.0], "v": [4.0, 1.0]}),
            # q = [6/2, -3/1]; m = [1.5, -1.5]; v = [3 + 9, 0.75 + 2.25]; θ = θ - 0.1m
            Step([0.85, -0.85], {"m": [1.5, -1.5], "v": [12.0, 3.0]}),
            # q = [1/√12, 2/√3]; m = [0.75 + 0.5/√12, -0.75 + 1/√3]; v = [9 + 0.25, 2.25 + 1]
            Step(
                [
                    0.85 - 0.1 * (0.75 + 0.5 / math.sqrt(12)),
                    -0.85 - 0.1 * (-0.75 + 1 / math.sqrt(3)),
                ],
                {
                    "m": [0.75 + 0.5 / math.sqrt(12), -0.75 + 1 / math.sqrt(3)],
                    "v": [9.25, 3.25],
                },
            ),
        ],
    ),
    # Nesterov: θ ← θ - η(β1 m + (1-β1) q) with the new m; clipping on (binds for a at t = 3).
    "adopt-nesterov": Case(
        numopt.ADOPT,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": TINY, "nesterov": True},
        [1.0, -1.0],
        [[2.0, -1.0], [1.0, -0.5], [-3.0, 1.0]],
        [
            Step([1.0, -1.0], {"m": [0.0, 0.0], "v": [4.0, 1.0]}),
            # q = [0.5, -0.5]; m = [0.25, -0.25]; step = 0.5m + 0.5q = [0.375, -0.375];
            # v = [3 + 0.25, 0.75 + 0.0625]
            Step([0.9625, -0.9625], {"m": [0.25, -0.25], "v": [3.25, 0.8125]}),
            # q = [-3/√3.25 = -1.664 → -Q2, 1/√0.8125 = 1.109 (inside)];
            # m = [0.125 - Q2/2, -0.125 + q_b/2]; step = 0.5m + 0.5q;
            # v = [2.4375 + 2.25, 0.609375 + 0.25]
            Step(
                [
                    0.9625 - 0.1 * (0.5 * (0.125 - Q2 / 2) - 0.5 * Q2),
                    -0.9625
                    - 0.1 * (0.5 * (-0.125 + 0.5 / math.sqrt(0.8125)) + 0.5 / math.sqrt(0.8125)),
                ],
                {
                    "m": [0.125 - Q2 / 2, -0.125 + 0.5 / math.sqrt(0.8125)],
                    "v": [4.6875, 0.859375],
                },
            ),
        ],
    ),
    # AdEMAMix: m1 ← β1 m1 + (1-β1) g; m2 ← β3 m2 + (1-β3) g; ν ← β2 ν + (1-β2) g²;
    # u = (m1/(1-β1^t) + α m2)/(sqrt(ν/(1-β2^t) + ε_root) + ε); θ ← θ - η(u + λθ).
    # η = 0.1, β1 = 0.5, β2 = 0.75, β3 = 0.875, α = 2.
    "ademamix": Case(
        numopt.AdEMAMix,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.75,
            "beta3": 0.875,
            "alpha": 2.0,
            "eps": TINY,
        },
        [1.0, -1.0],
        [[2.0, -1.0], [4.0, 1.0]],
        [
            # m1 = [1, -0.5]; m2 = 0.125g; ν = 0.25g² = [1, 0.25]; ν̂ = [4, 1];
            # u = ([2, -1] + 2·[0.25, -0.125])/[2, 1] = [1.25, -1.25]
            Step(
                [0.875, -0.875],
                {"m1": [1.0, -0.5], "m2": [0.25, -0.125], "nu": [1.0, 0.25]},
            ),
            # m1 = [0.5 + 2, -0.25 + 0.5]; m2 = [0.21875 + 0.5, -0.109375 + 0.125];
            # ν = [0.75 + 4, 0.1875 + 0.25]; m̂1 = m1/0.75 = [10/3, 1/3]; ν̂ = ν/0.4375 = [76/7, 1];
            # u = [(10/3 + 1.4375)/sqrt(76/7), 1/3 + 0.03125]
            Step(
                [
                    0.875 - 0.1 * (10 / 3 + 1.4375) / math.sqrt(76 / 7),
                    -0.875 - 0.1 * (1 / 3 + 0.03125),
                ],
                {"m1": [2.5, 0.25], "m2": [0.71875, 0.015625], "nu": [4.75, 0.4375]},
            ),
        ],
    ),
    # Decoupled λ = 0.5, ε_root = 3 inside the root and ε = 1 outside; β3 = 0.5, α = 1.
    "ademamix-decay-eps": Case(
        numopt.AdEMAMix,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.75,
            "beta3": 0.5,
            "alpha": 1.0,
            "eps": 1.0,
            "eps_root": 3.0,
            "weight_decay": 0.5,
        },
        [2.0],
        [[1.0], [-1.0]],
        [
            # m1 = m2 = 0.5; ν = 0.25, ν̂ = 1; u = (1 + 0.5)/(sqrt(1 + 3) + 1) = 0.5;
            # θ = 2 - 0.1·(0.5 + 1)
            Step([1.85], {"m1": [0.5], "m2": [0.5], "nu": [0.25]}),
            # m1 = m2 = 0.25 - 0.5; ν = 0.1875 + 0.25, ν̂ = 1; u = (-1/3 - 0.25)/3 = -7/36;
            # θ = 1.85 - 0.1·(-7/36 + 0.925)
            Step([1.85 - 0.1 * (-7 / 36 + 0.925)], {"m1": [-0.25], "m2": [-0.25], "nu": [0.4375]}),
        ],
    ),
    # sign SGD: θ ← θ - η sign(g), sign(0) = sign(-0) = 0; a subnormal gradient moves by η.
    "sign-sgd": Case(
        numopt.SignSGD,
        {"learning_rate": 0.1},
        [1.0, -1.0, 0.5],
        [[3.0, -0.5, 0.0], [-5e-324, -0.0, 7.0]],
        [
            Step([0.9, -0.9, 0.5], {}),  # θ = [1 - 0.1, -1 + 0.1, 0.5 - 0]
            Step([1.0, -0.9, 0.4], {}),  # θ = [0.9 + 0.1, -0.9 - 0, 0.5 - 0.1]
        ],
    ),
    # Signum: m ← βm + (1-β)g; θ ← θ - η sign(m); β = 0.5, η = 0.1.  a's m crosses zero at
    # step 2; b's m is exactly 0 at step 2 (no move); c's m stays positive at step 3 while
    # g < 0 (sign(g) would step the other way).
    "signum": Case(
        numopt.Signum,
        {"learning_rate": 0.1, "beta": 0.5},
        [1.0, -1.0, 0.5],
        [[2.0, -1.0, 0.0], [-2.0, 0.5, 1.0], [1.0, -1.0, -0.4]],
        [
            # m = [1, -0.5, 0] → sign [1, -1, 0]
            Step([0.9, -0.9, 0.5], {"m": [1.0, -0.5, 0.0]}),
            # m = [0.5 - 1, -0.25 + 0.25, 0 + 0.5] → sign [-1, 0, 1]
            Step([1.0, -0.9, 0.4], {"m": [-0.5, 0.0, 0.5]}),
            # m = [-0.25 + 0.5, 0 - 0.5, 0.25 - 0.2] → sign [1, -1, 1]
            Step([0.9, -0.8, 0.3], {"m": [0.25, -0.5, 0.05]}),
        ],
    ),
    # Schedule-Free SGD, η = 0.1, β1 = 0.9, constant η: c_t = 1/t.  z_0 = y_0.
    "schedule-free-sgd": Case(
        numopt.ScheduleFreeSGD,
        {"learning_rate": 0.1},
        [1.0, -1.0],
        [[2.0, -1.0], [1.0, 1.0]],
        [
            # z = y - ηg = [0.8, -0.9]; c = 1: x = z; y = 0.9x + 0.1z = z
            Step([0.8, -0.9], {"z": [0.8, -0.9]}),
            # z = [0.7, -1.0]; x_prev = (y - 0.1 z_old)/0.9 = [0.8, -0.9];
            # c = 1/2: x = [0.75, -0.95]; y = 0.9x + 0.1z = [0.745, -0.955]
            Step([0.745, -0.955], {"z": [0.7, -1.0]}),
        ],
    ),
    # Schedule-Free AdamW, η = 0.1, β1 = 0.5, β2 = 0.5, ε = 1e-30, λ = 0.5 (added to the
    # normalised direction, at y before the step), p = 1: w = η, c_t = 1/t.
    "schedule-free-adamw": Case(
        numopt.ScheduleFreeAdamW,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.5,
            "eps": TINY,
            "weight_decay": 0.5,
            "weight_lr_power": 1.0,
        },
        [2.0, -2.0],
        [[3.0, -4.0], [4.0, 3.0]],
        [
            # v = 0.5g² = [4.5, 8]; v̂ = v/0.5 = g²: d = sign(g) + 0.5y = [1 + 1, -1 - 1];
            # z = y - 0.1d = [1.8, -1.8]; c = 1: x = z, y = z
            Step([1.8, -1.8], {"z": [1.8, -1.8], "v": [4.5, 8.0]}),
            # v = 0.5·[4.5, 8] + 0.5·[16, 9] = [10.25, 8.5]; v̂ = v/0.75;
            # d = g/√v̂ + 0.5y; z = y - 0.1d; x_prev = (y - 0.5 z_old)/0.5 = y = [1.8, -1.8];
            # x = (x_prev + z)/2; y = (x + z)/2 = 0.25 x_prev + 0.75 z
            Step(
                [
                    0.25 * 1.8 + 0.75 * (1.8 - 0.1 * (4 / math.sqrt(10.25 / 0.75) + 0.9)),
                    0.25 * -1.8 + 0.75 * (-1.8 - 0.1 * (3 / math.sqrt(8.5 / 0.75) - 0.9)),
                ],
                {
                    "z": [
                        1.8 - 0.1 * (4 / math.sqrt(10.25 / 0.75) + 0.9),
                        -1.8 - 0.1 * (3 / math.sqrt(8.5 / 0.75) - 0.9),
                    ],
                    "v": [10.25, 8.5],
                },
            ),
        ],
    ),
    # LARS, one layer: θ = [3, 4] (‖θ‖ = 5), η = 1, τ = 0.1, ε = 0, μ = 0.5.
    "lars": Case(
        numopt.LARS,
        {"learning_rate": 1.0, "trust_coefficient": 0.1, "momentum": 0.5},
        [3.0, 4.0],
        [[0.6, 0.8], [0.0, 1.0]],
        [
            # ‖u‖ = 1: r = 0.1·5/1 = 0.5; s = 0.5u = [0.3, 0.4] = m; θ = [2.7, 3.6]
            Step([2.7, 3.6], {"m": [0.3, 0.4]}),
            # ‖θ‖ = √(7.29 + 12.96) = 4.5: r = 0.45; s = [0, 0.45]; m = s + 0.5m
            Step([2.55, 2.95], {"m": [0.15, 0.65]}),
        ],
    ),
    # Nesterov: θ ← θ - (s + μ m_new), the same s and m as above until θ differs.
    "lars-nesterov": Case(
        numopt.LARS,
        {"learning_rate": 1.0, "trust_coefficient": 0.1, "momentum": 0.5, "nesterov": True},
        [3.0, 4.0],
        [[0.6, 0.8], [0.0, 1.0]],
        [
            # s = m = [0.3, 0.4]; θ -= [0.3 + 0.15, 0.4 + 0.2]
            Step([2.55, 3.4], {"m": [0.3, 0.4]}),
            # ‖θ‖ = √(6.5025 + 11.56) = 4.25: r = 0.425, s = [0, 0.425];
            # m = [0.15, 0.2 + 0.425]; θ -= [0 + 0.075, 0.425 + 0.3125]
            Step([2.475, 2.6625], {"m": [0.15, 0.625]}),
        ],
    ),
    # Two layers of one element, coupled decay λ = 0.5, τ = 1, η = 0.1, μ = 0.
    "lars-layers-decay": Case(
        numopt.LARS,
        {
            "learning_rate": 0.1,
            "trust_coefficient": 1.0,
            "momentum": 0.0,
            "weight_decay": 0.5,
            "layers": [1, 1],
        },
        [3.0, -4.0],
        [[1.0, 2.0], [0.15, -1.0]],
        [
            # u = [1 + 1.5, 2 - 2] = [2.5, 0]: r = [3/2.5, 1 (‖u‖ = 0)];
            # s = [0.1·1.2·2.5, 0] = [0.3, 0]
            Step([2.7, -4.0], {"m": [0.3, 0.0]}),
            # u = [0.15 + 1.35, -1 - 2] = [1.5, -3]: r = [2.7/1.5, 4/3];
            # s = [0.1·1.8·1.5, 0.1·(4/3)·(-3)] = [0.27, -0.4]
            Step([2.43, -3.6], {"m": [0.27, -0.4]}),
        ],
    ),
}

REL = 1e-13


def close(actual: np.ndarray, expected: list[float], rel: float) -> bool:
    """Element-wise relative comparison; an expected 0 must be exactly 0."""
    return np.asarray(actual).tolist() == pytest.approx(expected, rel=rel, abs=0)


def run_case(case: Case, backend: str) -> None:
    opt = case.cls(backend=backend, **case.hp)
    x = np.array(case.x0, dtype=np.float64)
    for t, want in enumerate(case.steps, start=1):
        g = np.array(case.grads[t - 1], dtype=np.float64)
        assert opt.step(x, g) is x
        assert opt.step_count == t
        assert close(x, want.theta, REL), (t, x.tolist(), want.theta)
        assert set(opt.state) == set(want.state) == set(case.cls.state_names)
        for name, values in want.state.items():
            assert opt.state[name].dtype == np.float64
            assert close(opt.state[name], values, REL), (t, name, opt.state[name], values)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_values_float64(case, backend):
    run_case(CASES[case], backend)


def test_every_new_rule_has_a_case():
    rules = {c.cls for c in CASES.values()}
    assert rules == {
        numopt.ASGD,
        numopt.AdaBelief,
        numopt.Yogi,
        numopt.Adan,
        numopt.ADOPT,
        numopt.AdEMAMix,
        numopt.SignSGD,
        numopt.Signum,
        numopt.LARS,
        numopt.ScheduleFreeSGD,
        numopt.ScheduleFreeAdamW,
    }
    assert any(c.hp.get("maximize") for c in CASES.values())


def test_hand_arithmetic_is_consistent():
    """Re-derive a few of the written fractions from their comments (guards typos)."""
    # ASGD decay: η_2 = 0.1/(1 + 5·0.1)² = 2/45, η_3 = 0.1/(1 + 5·0.1·2)² = 0.025
    assert 0.1 / 1.5**2 == pytest.approx(2 / 45, rel=1e-15)
    assert 0.875 * 4 / 9 - 0.05 == pytest.approx(61 / 180, rel=1e-15)
    assert (4 / 9 + 61 / 180) / 2 == pytest.approx(141 / 360, rel=1e-15)
    # the mean of θ_2, θ_3, θ_4 in "asgd-average"
    assert (0.7 + 0.9 + 0.6) / 3 == pytest.approx(2.2 / 3, rel=1e-15)
    # the 37/64 and 7/16 of the bias corrections
    assert 1 - 0.75**3 == 37 / 64 and 1 - 0.75**2 == 7 / 16
    assert 4.1875 / (7 / 16) == pytest.approx(67 / 7, rel=1e-15)
    # ADOPT: the clip at t = 3 binds where |q| > 2^{1/4} and not where it is below
    assert math.sqrt(3) > Q2 > 1 / math.sqrt(0.8125) and 3 / math.sqrt(3.25) > Q2
    assert 1 / math.sqrt(3.25) < Q2
