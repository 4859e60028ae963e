"""The rules of issue 11 against numbers worked by hand.

Each case is a tiny float64 problem: a starting θ, the gradient of each step and,
after every step, the θ and the state arrays that the rule's formula (its
docstring: torch.optim's algorithm box, or the paper) gives.  Hyperparameters are
picked so that the arithmetic stays tractable (β = 0.5 or 0.75, η = 0.1; ε = 1e-30
where it would only blur exact decimals, or ε = 1 where its placement matters); the
arithmetic of each number is written next to it.  The numbers come from the
formulas, never from numopt.  Every case runs on the NumPy reference and on the
serial and parallel CPU loops.

The same rules against ``torch.optim`` and ``optax.lion`` are in
tests/rules/test_more_rules_vs_torch_optax.py; resumption, options and ``minimize``
in tests/rules/test_more_rules_resume_options.py.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pytest
from hand_cases import CPU_BACKENDS

import numopt

TINY = 1e-30  # an ε that changes no digit below


class Step(NamedTuple):
    theta: list[float]  # θ after the step
    state: dict[str, list[float]]  # the state arrays after the step ({} = not checked)


class Case(NamedTuple):
    cls: type[numopt.Optimizer]
    hp: dict[str, Any]
    x0: list[float]
    grads: list[list[float]]
    steps: list[Step]


# NAdam's μ_t = β1 (1 - ½·0.96^(tψ)); with ψ = ln ½ / ln 0.96, 0.96^(tψ) = 2^-t, so with
# β1 = 0.5: μ_1 = 0.375, μ_2 = 0.4375, μ_3 = 0.46875 (a step off in t shows).
PSI_HALF = math.log(0.5) / math.log(0.96)

# RAdam with β2 = 0.9: ρ_∞ = 2/(1-0.9) - 1 = 19, ρ_t = 19 - 2t·0.9^t/(1-0.9^t):
# ρ_5 = 4.5806 (≤ 5: unrectified), ρ_6 = 5.38956 (> 5: rectified), ρ_7 = 6.16481;
# r_t = sqrt((ρ_t-4)(ρ_t-2)·19 / ((19-4)(19-2)·ρ_t)): r_6 = 0.2551768065466866,
# r_7 = 0.33010701906068685.
R6, R7 = 0.2551768065466866, 0.33010701906068685

CASES: dict[str, Case] = {
    # Adagrad: S ← S + g²; θ ← θ - η/(1 + (t-1)δ) · g/(sqrt(S) + ε); η = 0.1, δ = 0.5,
    # so the rates are 0.1, 0.1/1.5 = 1/15, 0.1/2 = 0.05.
    "adagrad": Case(
        numopt.Adagrad,
        {"learning_rate": 0.1, "lr_decay": 0.5, "eps": TINY},
        [1.0, -1.0],
        [[3.0, 4.0], [4.0, -3.0], [12.0, 0.0]],
        [
            # S = [9, 16]; θ = [1 - 0.1·3/3, -1 - 0.1·4/4]
            Step([0.9, -1.1], {"sum": [9.0, 16.0]}),
            # S = [25, 25]; θ = [0.9 - (1/15)·4/5, -1.1 + (1/15)·3/5] = [0.9 - 4/75, -1.1 + 3/75]
            Step([0.8466666666666667, -1.06], {"sum": [25.0, 25.0]}),
            # S = [169, 25]; θ = [θa - 0.05·12/13, θb - 0]
            Step([0.8005128205128205, -1.06], {"sum": [169.0, 25.0]}),
        ],
    ),
    # S starts at τ = 5; coupled L2 λ = 0.5: g' = g + λθ; ε = 1 outside the root.
    "adagrad-init-l2-eps": Case(
        numopt.Adagrad,
        {"learning_rate": 0.1, "initial_accumulator_value": 5.0, "weight_decay": 0.5, "eps": 1.0},
        [2.0, -2.0],
        [[1.0, 3.0], [3.025, 1.025]],
        [
            # g' = [1 + 1, 3 - 1] = [2, 2]; S = 5 + 4 = [9, 9]; θ = θ - 0.1·2/(3 + 1)
            Step([1.95, -2.05], {"sum": [9.0, 9.0]}),
            # g' = [3.025 + 0.975, 1.025 - 1.025] = [4, 0]; S = [9 + 16, 9];
            # θ = [1.95 - 0.1·4/(5 + 1), -2.05 - 0]
            Step([1.8833333333333333, -2.05], {"sum": [25.0, 9.0]}),
        ],
    ),
    # Adadelta: v ← ρv + (1-ρ)g²; Δ = sqrt(u + ε)/sqrt(v + ε)·g; u ← ρu + (1-ρ)Δ²;
    # θ ← θ - ηΔ; η = 1, ρ = 0.75, ε = 1.
    "adadelta": Case(
        numopt.Adadelta,
        {"learning_rate": 1.0, "rho": 0.75, "eps": 1.0},
        [1.0, -1.0],
        [[2.0, 0.0], [2.0, 4.0]],
        [
            # v = 0.25·[4, 0] = [1, 0]; Δ = [sqrt(1)/sqrt(2)·2, 0] = [√2, 0];
            # u = 0.25·[2, 0]; θ = [1 - √2, -1]
            Step([-0.41421356237309515, -1.0], {"square_avg": [1.0, 0.0], "acc_delta": [0.5, 0.0]}),
            # v = [0.75 + 1, 0 + 4] = [1.75, 4]; Δ = [sqrt(1.5)/sqrt(2.75)·2, 1/sqrt(5)·4];
            # u = [0.375 + 0.25·24/11, 0 + 0.25·16/5] = [81/88, 0.8];
            # θ = [1 - √2 - 2·sqrt(1.5/2.75), -1 - 4/√5]
            Step(
                [-1.8913114541250877, -2.7888543819998315],
                {"square_avg": [1.75, 4.0], "acc_delta": [81 / 88, 0.8]},
            ),
        ],
    ),
    # η = 0.5 and coupled L2 λ = 0.5 (g' = g + λθ); ρ = 0.75, ε = 1.
    "adadelta-lr-l2": Case(
        numopt.Adadelta,
        {"learning_rate": 0.5, "rho": 0.75, "eps": 1.0, "weight_decay": 0.5},
        [2.0],
        [[1.0], [0.0]],
        [
            # g' = 1 + 1 = 2; v = 1; Δ = 2/√2 = √2; u = 0.5; θ = 2 - 0.5√2
            Step([1.2928932188134525], {"square_avg": [1.0], "acc_delta": [0.5]}),
            # g' = q = 0.5·θ1 = 0.6464466094067263; v = 0.75 + 0.25q² = 0.8544733047033631;
            # Δ = sqrt(1.5)/sqrt(v + 1)·q; u = 0.375 + 0.25Δ²; θ = θ1 - 0.5Δ
            Step(
                [1.002197923699902],
                {"square_avg": [0.8544733047033631], "acc_delta": [0.45950375460115434]},
            ),
        ],
    ),
    # Adamax: m ← β1 m + (1-β1)g; u ← max(β2 u, |g| + ε); θ ← θ - η m/((1-β1^t) u);
    # η = 0.1, β1 = 0.5, β2 = 0.75; 1-β1^t = 0.5, 0.75, 0.875.
    "adamax": Case(
        numopt.Adamax,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": TINY},
        [1.0, -1.0, 0.5],
        [[3.0, -0.5, 0.0], [1.0, 0.5, 2.0], [0.0, 0.0, -4.0]],
        [
            # m = [1.5, -0.25, 0]; u = [3, 0.5, ε]; θ = θ - 0.1·m/(0.5u) = [1 - 0.1, -1 + 0.1, 0.5]
            Step([0.9, -0.9, 0.5], {"m": [1.5, -0.25, 0.0], "u": [3.0, 0.5, TINY]}),
            # m = [0.75 + 0.5, -0.125 + 0.25, 0 + 1]; u = [max(2.25, 1), max(0.375, 0.5),
            # max(~0, 2)]; θ = [0.9 - 0.1·1.25/(0.75·2.25), -0.9 - 0.1·0.125/(0.75·0.5),
            # 0.5 - 0.1·1/(0.75·2)]
            Step(
                [0.825925925925926, -0.9333333333333333, 0.43333333333333335],
                {"m": [1.25, 0.125, 1.0], "u": [2.25, 0.5, 2.0]},
            ),
            # m = [0.625, 0.0625, 0.5 - 2]; u = [max(1.6875, ε), max(0.375, ε), max(1.5, 4)];
            # θ = [θa - 0.1·0.625/(0.875·1.6875), θb - 0.1·0.0625/(0.875·0.375),
            # θc + 0.1·1.5/(0.875·4)]
            Step(
                [0.7835978835978836, -0.9523809523809524, 0.4761904761904762],
                {"m": [0.625, 0.0625, -1.5], "u": [1.6875, 0.375, 4.0]},
            ),
        ],
    ),
    # Coupled L2 λ = 0.5; gradients picked so that g' = 1 and then -1.
    "adamax-l2": Case(
        numopt.Adamax,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": TINY, "weight_decay": 0.5},
        [1.0],
        [[0.5], [-1.45]],
        [
            # g' = 0.5 + 0.5 = 1; m = 0.5; u = 1; θ = 1 - 0.1·0.5/(0.5·1)
            Step([0.9], {"m": [0.5], "u": [1.0]}),
            # g' = -1.45 + 0.45 = -1; m = 0.25 - 0.5; u = max(0.75, 1); θ = 0.9 + 0.1·0.25/0.75
            Step([0.9333333333333333], {"m": [-0.25], "u": [1.0]}),
        ],
    ),
    # NAdam: m̂ = μ_{t+1} m/(1 - Π_{t+1}) + (1 - μ_t) g/(1 - Π_t); θ ← θ - η m̂/(sqrt(v̂) + ε);
    # η = 0.1, β1 = 0.5, β2 = 0.75, ψ = PSI_HALF (μ = 0.375, 0.4375, 0.46875), so
    # Π_1 = 0.375, Π_2 = 0.1640625, Π_3 = 0.076904296875.
    "nadam": Case(
        numopt.NAdam,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.75,
            "eps": TINY,
            "momentum_decay": PSI_HALF,
        },
        [1.0, -1.0],
        [[2.0, -1.0], [2.0, 1.0]],
        [
            # m = [1, -0.5]; v = [1, 0.25]; v̂ = v/0.25 = [4, 1];
            # m̂ = 0.4375/0.8359375·m + 0.625·g/0.625 = (56/107)·m + g
            #   = [2 + 56/107, -1 - 28/107]; θ = [1 - 0.1·m̂a/2, -1 - 0.1·m̂b/1]
            Step(
                [0.8738317757009346, -0.8738317757009346],
                {"m": [1.0, -0.5], "v": [1.0, 0.25]},
            ),
            # m = [0.5 + 1, -0.25 + 0.5] = [1.5, 0.25]; v = [0.75 + 1, 0.1875 + 0.25];
            # v̂ = v/0.4375 = [4, 1]; m̂ = 0.46875/(1 - Π_3)·m + 0.5625/(1 - Π_2)·g
            #   = 0.507802168738429·m + 0.6728971962616822·g; θ = θ - 0.1·m̂/[2, 1]
            Step(
                [0.7684568934193843, -0.9538165495455636],
                {"m": [1.5, 0.25], "v": [1.75, 0.4375]},
            ),
        ],
    ),
    # Decoupled: θ(1 - ηλ) first (η = 0.1, λ = 0.5: ×0.95); ψ = 0: μ_t = 0.5·0.5 = 0.25
    # for every t, Π_t = 0.25^t.
    "nadam-decoupled": Case(
        numopt.NAdam,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.75,
            "eps": TINY,
            "weight_decay": 0.5,
            "momentum_decay": 0.0,
            "decoupled_weight_decay": True,
        },
        [2.0],
        [[1.0], [1.0]],
        [
            # m = 0.5, v = 0.25, v̂ = 1; m̂ = 0.25·0.5/(1 - 0.0625) + 0.75·1/(1 - 0.25)
            #   = 2/15 + 1; θ = 0.95·2 - 0.1·17/15
            Step([1.7866666666666666], {"m": [0.5], "v": [0.25]}),
            # m = 0.75, v = 0.4375, v̂ = 1; m̂ = 0.25·0.75/(1 - 0.015625) + 0.75/(1 - 0.0625)
            #   = 4/21 + 0.8; θ = 0.95·θ1 - 0.1·(0.8 + 4/21)
            Step([1.598285714285714], {"m": [0.75], "v": [0.4375]}),
        ],
    ),
    # Coupled (the default): g' = g + λθ; the second gradient cancels λθ (g' = 0).
    "nadam-l2": Case(
        numopt.NAdam,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.75,
            "eps": TINY,
            "weight_decay": 0.5,
            "momentum_decay": 0.0,
        },
        [1.0],
        [[0.5], [-0.44333333333333336]],
        [
            # g' = 1: as above, m̂ = 17/15 and v̂ = 1; θ = 1 - 0.1·17/15 (no decay of θ)
            Step([0.8866666666666667], {"m": [0.5], "v": [0.25]}),
            # g' = -0.5·θ1 + 0.5·θ1 = 0; m = 0.25; v = 0.1875, v̂ = 0.1875/0.4375 = 3/7;
            # m̂ = 0.25·0.25/(1 - 0.015625) + 0 = 4/63; θ = θ1 - 0.1·(4/63)/sqrt(3/7)
            Step([0.8769680937672892], {"m": [0.25], "v": [0.1875]}),
        ],
    ),
    # RAdam with a constant gradient g = [2, -0.5]: m_t = g(1 - β1^t), so m̂_t = g, and
    # v_t = g²(1 - β2^t).  Unrectified (t ≤ 5): θ ← θ - η m̂ = θ - ηg.  Rectified:
    # θ ← θ - η m̂ r_t sqrt(1-β2^t)/(sqrt(v_t) + ε) = θ - η r_t sign(g).  η = 0.01,
    # β1 = 0.5, β2 = 0.9 (see R6, R7).
    "radam-switch": Case(
        numopt.RAdam,
        {"learning_rate": 0.01, "beta1": 0.5, "beta2": 0.9, "eps": TINY},
        [1.0, -1.0],
        [[2.0, -0.5]] * 7,
        [
            Step([0.98, -0.995], {"m": [1.0, -0.25], "v": [0.4, 0.025]}),  # θ - 0.01·g
            Step([0.96, -0.99], {"m": [1.5, -0.375], "v": [0.76, 0.0475]}),
            Step([0.94, -0.985], {}),
            Step([0.92, -0.98], {}),
            Step([0.9, -0.975], {}),  # t = 5: ρ_5 = 4.58, still momentum SGD
            # t = 6: ρ_6 = 5.39 > 5; θ = [0.9 - 0.01·r_6, -0.975 + 0.01·r_6]
            Step([0.8974482319345332, -0.9724482319345331], {}),
            # t = 7: θ = θ - 0.01·r_7·sign(g)
            Step([0.8941471617439263, -0.9691471617439262], {}),
        ],
    ),
    # Unrectified steps (t = 1, 2) with coupled L2 λ = 0.5: g' = g + λθ = [1, -2], then
    # [-1, 2]; β1 = 0.5 (1-β1^t = 0.5, 0.75), η = 0.1.
    "radam-l2": Case(
        numopt.RAdam,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "weight_decay": 0.5},
        [1.0, -2.0],
        [[0.5, -1.0], [-1.45, 2.9]],
        [
            # m = [0.5, -1]; m̂ = [1, -2]; θ = [1 - 0.1, -2 + 0.2]
            Step([0.9, -1.8], {"m": [0.5, -1.0], "v": [0.25, 1.0]}),
            # g' = [-1.45 + 0.45, 2.9 - 0.9]; m = [0.25 - 0.5, -0.5 + 1]; m̂ = m/0.75;
            # θ = [0.9 + 0.1/3, -1.8 - 0.2/3]
            Step(
                [0.9333333333333333, -1.8666666666666667],
                {"m": [-0.25, 0.5], "v": [0.4375, 1.75]},
            ),
        ],
    ),
    # Decoupled: θ(1 - ηλ) - η m̂ with the plain gradient; 1 - ηλ = 0.95.
    "radam-decoupled": Case(
        numopt.RAdam,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.75,
            "weight_decay": 0.5,
            "decoupled_weight_decay": True,
        },
        [1.0, -2.0],
        [[1.0, -2.0], [-1.0, 2.0]],
        [
            # m̂ = g; θ = [0.95 - 0.1, -1.9 + 0.2]
            Step([0.85, -1.7], {"m": [0.5, -1.0], "v": [0.25, 1.0]}),
            # m = [-0.25, 0.5]; m̂ = [-1/3, 2/3]; θ = [0.95·0.85 + 0.1/3, -0.95·1.7 - 0.2/3]
            Step([0.8408333333333333, -1.6816666666666666], {"m": [-0.25, 0.5]}),
        ],
    ),
    # Rprop: Δ_0 = η = 0.1; η₋ = 0.5, η₊ = 1.2; Δ clamped to [0.01, 0.15].  Element a keeps
    # its sign (Δ: 0.1, 0.12, 0.144, min(0.1728, 0.15)); b flips once (no step, then a
    # fresh start at the halved Δ); c flips later; d starts at g = 0 (no step).
    "rprop": Case(
        numopt.Rprop,
        {"learning_rate": 0.1, "etas": (0.5, 1.2), "step_sizes": (0.01, 0.15)},
        [1.0, 1.0, 1.0, 1.0],
        [[1.0, 1.0, 1.0, 0.0], [2.0, -1.0, 1.0, 5.0], [3.0, -1.0, -1.0, -5.0], [1, -1, 1, 1]],
        [
            # g_prev = 0: Δ = 0.1 everywhere; θ = 1 - 0.1·sign(g)
            Step(
                [0.9, 0.9, 0.9, 1.0],
                {"prev": [1.0, 1.0, 1.0, 0.0], "step_size": [0.1, 0.1, 0.1, 0.1]},
            ),
            # a: same sign, Δ = 0.12; b: flipped, Δ = 0.05, g ← 0 (no step);
            # c: Δ = 0.12; d: g_prev = 0, Δ stays 0.1
            Step(
                [0.78, 0.9, 0.78, 0.9],
                {"prev": [2.0, 0.0, 1.0, 5.0], "step_size": [0.12, 0.05, 0.12, 0.1]},
            ),
            # a: Δ = 0.144; b: g_prev = 0, Δ = 0.05, θ = 0.9 + 0.05; c: flipped, Δ = 0.06,
            # no step; d: flipped, Δ = 0.05, no step
            Step(
                [0.636, 0.95, 0.78, 0.9],
                {"prev": [3.0, -1.0, 0.0, 0.0], "step_size": [0.144, 0.05, 0.06, 0.05]},
            ),
            # a: Δ = min(0.1728, 0.15) = 0.15; b: same sign, Δ = 0.06, θ = 0.95 + 0.06;
            # c: g_prev = 0, Δ = 0.06; d: g_prev = 0, Δ = 0.05
            Step(
                [0.486, 1.01, 0.72, 0.85],
                {"prev": [1.0, -1.0, 1.0, 1.0], "step_size": [0.15, 0.06, 0.06, 0.05]},
            ),
        ],
    ),
    # A learning rate below Γ_min is clamped at the first step: Δ = max(0.005, 0.01).
    "rprop-clamped-start": Case(
        numopt.Rprop,
        {"learning_rate": 0.005, "step_sizes": (0.01, 1.0)},
        [1.0],
        [[1.0], [1.0]],
        [
            Step([0.99], {"prev": [1.0], "step_size": [0.01]}),  # θ = 1 - 0.01
            Step([0.978], {"prev": [1.0], "step_size": [0.012]}),  # Δ = 0.012
        ],
    ),
    # Lion: c = β1 m + (1-β1) g; θ ← θ(1 - ηλ) - η sign(c); m ← β2 m + (1-β2) g;
    # η = 0.1, β1 = 0.5, β2 = 0.75.  Step 2: element a's momentum and gradient disagree
    # and c follows the gradient; element b's c follows the momentum (a rule that took
    # the sign of the new m, or of g, would step the other way).
    "lion": Case(
        numopt.Lion,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75},
        [1.0, -1.0, 0.5],
        [[3.0, -0.5, 0.0], [-1.0, 0.1, 0.4], [0.0, 0.0, 0.0]],
        [
            # c = 0.5·g = [1.5, -0.25, 0] → sign [1, -1, 0]; m = 0.25·g
            Step([0.9, -0.9, 0.5], {"m": [0.75, -0.125, 0.0]}),
            # c = 0.5·m + 0.5·g = [-0.125, -0.0125, 0.2] → sign [-1, -1, 1];
            # m = 0.75·m + 0.25·g = [0.5625 - 0.25, -0.09375 + 0.025, 0.1]
            Step([1.0, -0.8, 0.4], {"m": [0.3125, -0.06875, 0.1]}),
            # c = 0.5·m = [0.15625, -0.034375, 0.05] → sign [1, -1, 1]; m = 0.75·m
            Step([0.9, -0.7, 0.3], {"m": [0.234375, -0.0515625, 0.075]}),
        ],
    ),
    # Decoupled decay: θ(1 - ηλ) - η sign(c), η = 0.1, λ = 0.5 (×0.95).
    "lion-decay": Case(
        numopt.Lion,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "weight_decay": 0.5},
        [2.0, -2.0],
        [[1.0, 1.0], [0.0, -1.0]],
        [
            # c = [0.5, 0.5]; θ = [1.9 - 0.1, -1.9 - 0.1]; m = [0.25, 0.25]
            Step([1.8, -2.0], {"m": [0.25, 0.25]}),
            # c = [0.125, 0.125 - 0.5]; θ = [0.95·1.8 - 0.1, 0.95·(-2) + 0.1]
            Step([1.6099999999999999, -1.8], {"m": [0.1875, -0.0625]}),
        ],
    ),
    # maximize: the same run as "lion" with the gradient's sign flipped inside:
    # c = [-1.5, 0.25, 0] → θ = [1.1, -1.1, 0.5]; m = -0.25·g.  Step 2: c = 0.5·m - 0.5·g
    # = [0.125, 0.0125, -0.2] → θ = [1.1 - 0.1, -1.1 - 0.1, 0.5 + 0.1].
    "lion-maximize": Case(
        numopt.Lion,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "maximize": True},
        [1.0, -1.0, 0.5],
        [[3.0, -0.5, 0.0], [-1.0, 0.1, 0.4]],
        [
            Step([1.1, -1.1, 0.5], {"m": [-0.75, 0.125, 0.0]}),
            Step([1.0, -1.2, 0.6], {"m": [-0.3125, 0.06875, -0.1]}),
        ],
    ),
    # maximize for a rule with state that does not start at zero: Adagrad ascends.
    "adagrad-maximize": Case(
        numopt.Adagrad,
        {"learning_rate": 0.1, "initial_accumulator_value": 7.0, "eps": TINY, "maximize": True},
        [1.0],
        [[3.0], [-4.0]],
        [
            Step([1.075], {"sum": [16.0]}),  # S = 7 + 9; θ = 1 + 0.1·3/4
            Step([1.0042893218813451], {"sum": [32.0]}),  # S = 16 + 16; θ = 1.075 - 0.1·4/√32
        ],
    ),
}

#: Cases also run in float32 (same numbers, looser tolerance).
FLOAT32_CASES = ("adagrad", "adadelta", "adamax", "nadam", "radam-switch", "rprop", "lion")


def close(actual: np.ndarray, expected: list[float], rel: float) -> bool:
    """Element-wise relative comparison; an expected 0 must be exactly 0."""
    return np.asarray(actual).tolist() == pytest.approx(expected, rel=rel, abs=0)


def run_case(case: Case, backend: str, dtype: type, rel: float) -> None:
    opt = case.cls(backend=backend, **case.hp)
    x = np.array(case.x0, dtype=dtype)
    for t, want in enumerate(case.steps, start=1):
        g = np.array(case.grads[t - 1], dtype=dtype)
        assert opt.step(x, g) is x
        assert x.dtype == dtype
        assert opt.step_count == t
        assert close(x, want.theta, rel), (t, x.tolist(), want.theta)
        for name, values in want.state.items():
            assert opt.state[name].dtype == dtype
            assert close(opt.state[name], values, rel), (t, name, opt.state[name], values)
    assert set(opt.state) == set(case.cls.state_names)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_values_float64(case, backend):
    run_case(CASES[case], backend, np.float64, rel=1e-12)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("case", FLOAT32_CASES)
def test_hand_values_float32(case, backend):
    c = CASES[case]
    if c.hp.get("eps") == TINY:  # 1e-30 is 0 in float32: use a float32 ε as negligible
        steps = [
            s._replace(
                state={k: [1e-38 if v == TINY else v for v in vs] for k, vs in s.state.items()}
            )
            for s in c.steps
        ]
        c = c._replace(hp={**c.hp, "eps": 1e-38}, steps=steps)
    run_case(c, backend, np.float32, rel=2e-6)


def test_hand_arithmetic_is_consistent():
    """Re-derive a few of the written numbers from their comments (guards typos)."""
    rho_inf = 2 / (1 - 0.9) - 1
    for t, r in ((6, R6), (7, R7)):
        rho = rho_inf - 2 * t * 0.9**t / (1 - 0.9**t)
        want = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        assert r == pytest.approx(want, rel=1e-15)
    rho5 = rho_inf - 10 * 0.9**5 / (1 - 0.9**5)
    assert rho5 < 5 < rho_inf - 12 * 0.9**6 / (1 - 0.9**6)
    mus = [0.5 * (1 - 0.5 * 0.96 ** (t * PSI_HALF)) for t in (1, 2, 3)]
    assert mus == pytest.approx([0.375, 0.4375, 0.46875], rel=1e-15)
    assert CASES["nadam"].steps[0].theta[0] == pytest.approx(1 - 0.1 * (2 + 56 / 107) / 2)
    assert CASES["adadelta"].steps[1].theta[1] == pytest.approx(-1 - 4 / math.sqrt(5))
    adagrad = CASES["adagrad-maximize"].steps
    assert adagrad[1].theta[0] == pytest.approx(1.075 - 0.1 * 4 / math.sqrt(32), rel=1e-15)
