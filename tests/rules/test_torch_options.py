"""torch.optim's options on the seed rules (issue 11): dampening and weight decay for
Momentum, weight decay / centered / momentum for RMSprop, amsgrad for Adam and AdamW,
maximize everywhere.

Three kinds of checks: numbers worked by hand from the formulas (each rule file's
docstring) on every CPU backend; every option combination against ``torch.optim``
itself in float64; convergence on a convex quadratic through ``numopt.minimize``.
The options that add state arrays (``amsgrad``, ``centered``, ``momentum > 0``)
against ``state_dict`` and checkpoint resume are in tests/rules/test_option_layouts.py.
The kernels against the NumPy reference, serial against parallel and the CUDA
simulator come from the variants in ``tests/rule_table.py``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hand_cases import CPU_BACKENDS, Case, Step, run_case

import numopt

SQ = math.sqrt

# -- values worked by hand ---------------------------------------------------------------

CASES: dict[str, Case] = {
    # maximize: the gradient is negated before λθ is added, so the decay still shrinks θ:
    # θ ← θ - η(-g + λθ), η = 0.1, λ = 0.5
    "gd-maximize-weight-decay": Case(
        numopt.GD,
        {"learning_rate": 0.1, "weight_decay": 0.5, "maximize": True},
        [1.0, -2.0],
        [[1.0, 1.0], [-2.0, 0.5]],
        [
            # a: 1 - 0.1·(-1 + 0.5) = 1.05;  b: -2 - 0.1·(-1 - 1) = -1.8
            Step([1.05, -1.8], {}),
            # a: 1.05 - 0.1·(2 + 0.525) = 0.7975;  b: -1.8 - 0.1·(-0.5 - 0.9) = -1.66
            Step([0.7975, -1.66], {}),
        ],
    ),
    # v_1 = g_1 (never dampened); then v ← βv + (1-τ)g; θ ← θ - ηv; η = 0.1, β = 0.5,
    # τ = 0.5.  The gradients of the spec's "momentum" hand case, for comparison.
    "momentum-dampening": Case(
        numopt.Momentum,
        {"learning_rate": 0.1, "beta": 0.5, "dampening": 0.5},
        [1.0, -1.0],
        [[1.0, 2.0], [1.0, -2.0], [0.0, 4.0]],
        [
            Step([0.9, -1.2], {"v": [1.0, 2.0]}),  # v = g; θ = [1 - 0.1, -1 - 0.2]
            # v = [0.5 + 0.5, 1 - 1] = [1, 0]; θ = [0.9 - 0.1, -1.2 - 0]
            Step([0.8, -1.2], {"v": [1.0, 0.0]}),
            # v = [0.5 + 0, 0 + 2] = [0.5, 2]; θ = [0.8 - 0.05, -1.2 - 0.2]
            Step([0.75, -1.4], {"v": [0.5, 2.0]}),
        ],
    ),
    # g' = g + λθ feeds the momentum; η = 0.1, β = 0.5, λ = 0.5
    "momentum-weight-decay": Case(
        numopt.Momentum,
        {"learning_rate": 0.1, "beta": 0.5, "weight_decay": 0.5},
        [1.0, -2.0],
        [[1.0, 1.0], [-2.0, 0.5], [0.0, 0.0]],
        [
            # g' = [1 + 0.5, 1 - 1] = [1.5, 0]; v = g'; θ = [1 - 0.15, -2]
            Step([0.85, -2.0], {"v": [1.5, 0.0]}),
            # g' = [-2 + 0.425, 0.5 - 1] = [-1.575, -0.5]; v = [0.75 - 1.575, 0 - 0.5]
            # θ = [0.85 + 0.0825, -2 + 0.05]
            Step([0.9325, -1.95], {"v": [-0.825, -0.5]}),
            # g' = [0.46625, -0.975]; v = [-0.4125 + 0.46625, -0.25 - 0.975]
            # θ = [0.9325 - 0.005375, -1.95 + 0.1225]
            Step([0.927125, -1.8275], {"v": [0.05375, -1.225]}),
        ],
    ),
    # All three: g' = g + λθ; v_1 = g'_1, then v ← βv + (1-τ)g'; θ ← θ - η(g' + βv)
    # η = 0.1, β = 0.5, τ = 0.5, λ = 0.5 (torch refuses Nesterov with dampening; numopt
    # computes the formula as written)
    "nesterov-dampening-weight-decay": Case(
        numopt.Momentum,
        {
            "learning_rate": 0.1,
            "beta": 0.5,
            "dampening": 0.5,
            "weight_decay": 0.5,
            "nesterov": True,
        },
        [1.0, -2.0],
        [[1.0, 1.0], [-2.0, 0.5], [0.0, 0.0]],
        [
            # g' = [1.5, 0]; v = [1.5, 0]; θ = [1 - 0.1·(1.5 + 0.75), -2 - 0]
            Step([0.775, -2.0], {"v": [1.5, 0.0]}),
            # g' = [-2 + 0.3875, 0.5 - 1] = [-1.6125, -0.5]
            # v = [0.75 - 0.80625, 0 - 0.25] = [-0.05625, -0.25]
            # θ = [0.775 - 0.1·(-1.6125 - 0.028125), -2 - 0.1·(-0.5 - 0.125)]
            Step([0.9390625, -1.9375], {"v": [-0.05625, -0.25]}),
            # g' = λθ = [0.46953125, -0.96875]
            # v = [-0.028125 + 0.234765625, -0.125 - 0.484375] = [0.206640625, -0.609375]
            # θ = [0.9390625 - 0.1·(0.46953125 + 0.1033203125),
            #      -1.9375 - 0.1·(-0.96875 - 0.3046875)]
            Step([0.88177734375, -1.81015625], {"v": [0.206640625, -0.609375]}),
        ],
    ),
    # RMSprop with g' = g + λθ in S and in the step; η = 0.1, β = 0.75, ε = 1 outside
    # (denominator sqrt(S) + 1), λ = 0.5
    "rmsprop-weight-decay": Case(
        numopt.RMSprop,
        {
            "learning_rate": 0.1,
            "beta": 0.75,
            "eps": 1.0,
            "eps_placement": "outside",
            "weight_decay": 0.5,
        },
        [2.0, -2.0],
        [[1.0, 5.0], [0.0, 0.0]],
        [
            # g' = [1 + 1, 5 - 1] = [2, 4]; S = 0.25·[4, 16] = [1, 4]; D = [2, 3]
            # θ = [2 - 0.1·2/2, -2 - 0.1·4/3]
            Step([1.9, -2.0 - 0.4 / 3], {"s": [1.0, 4.0]}),
            # g = 0: g' = λθ = [0.95, -1.0666…]; S = 0.75·S + 0.25·g'²
            #   = [0.75 + 0.225625, 3 + 0.25·(16/15)²]; θ ← θ - 0.1·g'/(sqrt(S) + 1)
            Step(
                [
                    1.9 - 0.095 / (SQ(0.975625) + 1),
                    -2.0 - 0.4 / 3 + 0.1 * (16 / 15) / (SQ(3 + (16 / 15) ** 2 / 4) + 1),
                ],
                {"s": [0.975625, 3 + (16 / 15) ** 2 / 4]},
            ),
        ],
    ),
    # Centered: A ← βA + (1-β)g, denominator sqrt(S - A²) + ε (ε = 1 outside);
    # η = 0.1, β = 0.5
    "rmsprop-centered-outside": Case(
        numopt.RMSprop,
        {
            "learning_rate": 0.1,
            "beta": 0.5,
            "eps": 1.0,
            "eps_placement": "outside",
            "centered": True,
        },
        [1.0, -1.0],
        [[2.0, -4.0], [0.0, 2.0], [2.0, 2.0]],
        [
            # S = 0.5·[4, 16] = [2, 8]; A = 0.5·[2, -4] = [1, -2]; S - A² = [1, 4]
            # D = [1 + 1, 2 + 1]; θ = [1 - 0.1·2/2, -1 + 0.1·4/3]
            Step([0.9, -1.0 + 0.4 / 3], {"s": [2.0, 8.0], "grad_avg": [1.0, -2.0]}),
            # S = [1 + 0, 4 + 2] = [1, 6]; A = [0.5, -1 + 1] = [0.5, 0]; S - A² = [0.75, 6]
            # a: g = 0, unchanged;  b: θb - 0.1·2/(sqrt(6) + 1)
            Step(
                [0.9, -1.0 + 0.4 / 3 - 0.2 / (SQ(6) + 1)],
                {"s": [1.0, 6.0], "grad_avg": [0.5, 0.0]},
            ),
            # S = [0.5 + 2, 3 + 2] = [2.5, 5]; A = [0.25 + 1, 0 + 1] = [1.25, 1]
            # S - A² = [2.5 - 1.5625, 5 - 1] = [0.9375, 4]
            # θ = [0.9 - 0.1·2/(sqrt(0.9375) + 1), θb - 0.1·2/3]
            Step(
                [0.9 - 0.2 / (SQ(0.9375) + 1), -1.0 + 0.4 / 3 - 0.2 / (SQ(6) + 1) - 0.2 / 3],
                {"s": [2.5, 5.0], "grad_avg": [1.25, 1.0]},
            ),
        ],
    ),
    # The same with ε inside the root: denominator sqrt(S - A² + 1)
    "rmsprop-centered-inside": Case(
        numopt.RMSprop,
        {"learning_rate": 0.1, "beta": 0.5, "eps": 1.0, "centered": True},
        [1.0, -1.0],
        [[2.0, -4.0], [0.0, 2.0]],
        [
            # S - A² = [1, 4] as above; θ = [1 - 0.2/sqrt(2), -1 + 0.4/sqrt(5)]
            Step([1 - 0.2 / SQ(2), -1 + 0.4 / SQ(5)], {"s": [2.0, 8.0], "grad_avg": [1.0, -2.0]}),
            # S - A² = [0.75, 6]; a unchanged; b: θb - 0.1·2/sqrt(7)
            Step(
                [1 - 0.2 / SQ(2), -1 + 0.4 / SQ(5) - 0.2 / SQ(7)],
                {"s": [1.0, 6.0], "grad_avg": [0.5, 0.0]},
            ),
        ],
    ),
    # Momentum: B ← μB + g/D; θ ← θ - ηB.  η = 0.1, β = 0.75, ε = 1 outside, μ = 0.5, the
    # gradients of the "rmsprop-outside" hand case: S = [1, 4], [1, 4], [0.75, 4], so
    # D = [2, 3], [2, 3], [sqrt(0.75) + 1, 3]
    "rmsprop-momentum": Case(
        numopt.RMSprop,
        {
            "learning_rate": 0.1,
            "beta": 0.75,
            "eps": 1.0,
            "eps_placement": "outside",
            "momentum": 0.5,
        },
        [1.0, -1.0],
        [[2.0, 4.0], [1.0, -2.0], [0.0, 2.0]],
        [
            # B = [2/2, 4/3]; θ = [1 - 0.1, -1 - 0.4/3]
            Step([0.9, -1.0 - 0.4 / 3], {"s": [1.0, 4.0], "momentum_buffer": [1.0, 4 / 3]}),
            # B = [0.5 + 1/2, 2/3 - 2/3] = [1, 0]; θ = [0.9 - 0.1, θb]
            Step([0.8, -1.0 - 0.4 / 3], {"s": [1.0, 4.0], "momentum_buffer": [1.0, 0.0]}),
            # B = [0.5 + 0, 0 + 2/3]; θ = [0.8 - 0.05, θb - 0.2/3]
            Step([0.75, -1.2], {"s": [0.75, 4.0], "momentum_buffer": [0.5, 2 / 3]}),
        ],
    ),
    # Centered and momentum: the centered case's denominators
    # D = [2, 3], [sqrt(0.75) + 1, sqrt(6) + 1], [sqrt(0.9375) + 1, 3]; μ = 0.5
    "rmsprop-centered-momentum": Case(
        numopt.RMSprop,
        {
            "learning_rate": 0.1,
            "beta": 0.5,
            "eps": 1.0,
            "eps_placement": "outside",
            "centered": True,
            "momentum": 0.5,
        },
        [1.0, -1.0],
        [[2.0, -4.0], [0.0, 2.0], [2.0, 2.0]],
        [
            # B = [2/2, -4/3]; θ = [1 - 0.1, -1 + 0.4/3]
            Step(
                [0.9, -1.0 + 0.4 / 3],
                {"s": [2.0, 8.0], "grad_avg": [1.0, -2.0], "momentum_buffer": [1.0, -4 / 3]},
            ),
            # B = [0.5 + 0, -2/3 + 2/(sqrt(6) + 1)]; θ ← θ - 0.1·B
            Step(
                [0.85, -1.0 + 0.4 / 3 - 0.1 * (-2 / 3 + 2 / (SQ(6) + 1))],
                {
                    "s": [1.0, 6.0],
                    "grad_avg": [0.5, 0.0],
                    "momentum_buffer": [0.5, -2 / 3 + 2 / (SQ(6) + 1)],
                },
            ),
            # B = [0.25 + 2/(sqrt(0.9375) + 1), 0.5·B2b + 2/3]; θ ← θ - 0.1·B
            Step(
                [
                    0.85 - 0.1 * (0.25 + 2 / (SQ(0.9375) + 1)),
                    -1.0
                    + 0.4 / 3
                    - 0.1 * (-2 / 3 + 2 / (SQ(6) + 1))
                    - 0.1 * (0.5 * (-2 / 3 + 2 / (SQ(6) + 1)) + 2 / 3),
                ],
                {
                    "s": [2.5, 5.0],
                    "grad_avg": [1.25, 1.0],
                    "momentum_buffer": [
                        0.25 + 2 / (SQ(0.9375) + 1),
                        0.5 * (-2 / 3 + 2 / (SQ(6) + 1)) + 2 / 3,
                    ],
                },
            ),
        ],
    ),
    # AMSGrad: v_max ← max(v_max, v); v̂ = v_max/(1-β2^t).  η = 0.1, β1 = 0.5, β2 = 0.75,
    # ε = 1e-30 (negligible: the numbers stay exact).  Bias corrections 1-β1^t = 0.5,
    # 0.75, 0.875 and 1-β2^t = 0.25, 0.4375, 0.578125.  Element a's v falls after step 1
    # (so v_max differs from v); element b has a constant gradient (m̂ = 1, v̂ = 1).
    "adam-amsgrad": Case(
        numopt.Adam,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": 1e-30, "amsgrad": True},
        [1.0, -1.0],
        [[2.0, 1.0], [0.0, 1.0], [0.0, 1.0]],
        [
            # m = [1, 0.5]; v = v_max = [1, 0.25]; m̂ = [2, 1]; v̂ = [4, 1]
            # θ = [1 - 0.1·2/2, -1 - 0.1·1/1]
            Step([0.9, -1.1], {"m": [1.0, 0.5], "v": [1.0, 0.25], "v_max": [1.0, 0.25]}),
            # m = [0.5, 0.75]; v = [0.75, 0.4375]; v_max = [max(1, 0.75), 0.4375]
            # m̂ = [2/3, 1]; v̂ = [1/0.4375 = 16/7, 1]; θa = 0.9 - 0.1·(2/3)/sqrt(16/7)
            Step(
                [0.9 - SQ(7) / 60, -1.2],
                {"m": [0.5, 0.75], "v": [0.75, 0.4375], "v_max": [1.0, 0.4375]},
            ),
            # m = [0.25, 0.875]; v = [0.5625, 0.578125]; v_max = [1, 0.578125]
            # m̂ = [2/7, 1]; v̂ = [64/37, 1]; θa -= 0.1·(2/7)/sqrt(64/37) = sqrt(37)/280
            Step(
                [0.9 - SQ(7) / 60 - SQ(37) / 280, -1.3],
                {"m": [0.25, 0.875], "v": [0.5625, 0.578125], "v_max": [1.0, 0.578125]},
            ),
        ],
    ),
    # AdamW's AMSGrad: the same moments, θ ← θ(1 - ηλ) - η m̂/(sqrt(v̂) + ε), 1 - ηλ = 0.95
    "adamw-amsgrad": Case(
        numopt.AdamW,
        {
            "learning_rate": 0.1,
            "beta1": 0.5,
            "beta2": 0.75,
            "eps": 1e-30,
            "weight_decay": 0.5,
            "amsgrad": True,
        },
        [1.0, -1.0],
        [[2.0, 1.0], [0.0, 1.0]],
        [
            # m̂ = [2, 1], v̂ = [4, 1]: θ = [0.95 - 0.1·2/2, -0.95 - 0.1·1/1]
            Step([0.85, -1.05], {"m": [1.0, 0.5], "v": [1.0, 0.25], "v_max": [1.0, 0.25]}),
            # θ = [0.95·0.85 - sqrt(7)/60, 0.95·(-1.05) - 0.1]
            Step(
                [0.8075 - SQ(7) / 60, -1.0975],
                {"m": [0.5, 0.75], "v": [0.75, 0.4375], "v_max": [1.0, 0.4375]},
            ),
        ],
    ),
}

#: Cases also run in float32 (same numbers, looser tolerance).
FLOAT32_CASES = ("momentum-dampening", "rmsprop-centered-momentum", "adam-amsgrad")


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_values_float64(case, backend):
    run_case(CASES[case], backend, np.float64, rel=1e-12)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("case", FLOAT32_CASES)
def test_hand_values_float32(case, backend):
    run_case(CASES[case], backend, np.float32, rel=1e-6)


def test_amsgrad_hand_case_differs_from_plain_adam():
    """v_max matters in the AMSGrad case: plain Adam gives other numbers at step 2."""
    x = np.array([1.0, -1.0])
    opt = numopt.Adam(0.1, beta1=0.5, beta2=0.75, eps=1e-30)
    for g in ([2.0, 1.0], [0.0, 1.0]):
        opt.step(x, np.array(g))
    # v̂ = 0.75/0.4375 = 12/7 instead of 16/7
    assert x[0] == pytest.approx(0.9 - 0.1 * (2 / 3) / SQ(12 / 7), rel=1e-14)
    assert abs(x[0] - CASES["adam-amsgrad"].steps[1].theta[0]) > 1e-3


def test_default_dampening_is_the_spec_momentum():
    """dampening=0 (the default) keeps the spec's v ← βv + g, bit for bit."""
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal(9)
    grads = [rng.standard_normal(9) for _ in range(4)]
    for nesterov in (False, True):
        a, b = x0.copy(), x0.copy()
        plain = numopt.Momentum(0.1, beta=0.8, nesterov=nesterov)
        zero = numopt.Momentum(0.1, beta=0.8, nesterov=nesterov, dampening=0.0)
        for g in grads:
            plain.step(a, g)
            zero.step(b, g)
        np.testing.assert_array_equal(a, b)


# -- against torch.optim -----------------------------------------------------------------


LR = 0.05


def _torch_combinations():
    """``(numopt class, its hyperparameters, torch.optim class name, torch's kwargs)``."""
    for wd, maximize in itertools.product((0.0, 0.1), (False, True)):
        common = {"weight_decay": wd, "maximize": maximize}
        yield numopt.GD, common, "SGD", common
    for nesterov, damp, wd, maximize in itertools.product(
        (False, True), (0.0, 0.3), (0.0, 0.1), (False, True)
    ):
        if nesterov and damp:
            continue  # torch refuses Nesterov with dampening
        common = {"dampening": damp, "weight_decay": wd, "nesterov": nesterov, "maximize": maximize}
        yield numopt.Momentum, {"beta": 0.8, **common}, "SGD", {"momentum": 0.8, **common}
    for centered, mom, wd, maximize in itertools.product(
        (False, True), (0.0, 0.5), (0.0, 0.1), (False, True)
    ):
        common = {
            "eps": 1e-3,
            "weight_decay": wd,
            "momentum": mom,
            "centered": centered,
            "maximize": maximize,
        }
        hp = {"beta": 0.9, "eps_placement": "outside", **common}
        yield numopt.RMSprop, hp, "RMSprop", {"alpha": 0.9, **common}
    for cls, amsgrad, wd, maximize in itertools.product(
        (numopt.Adam, numopt.AdamW), (False, True), (0.0, 0.1), (False, True)
    ):
        common = {"eps": 1e-6, "weight_decay": wd, "amsgrad": amsgrad, "maximize": maximize}
        hp = {"beta1": 0.8, "beta2": 0.95, **common}
        yield cls, hp, cls.__name__, {"betas": (0.8, 0.95), **common}


#: numopt's state name -> torch's, per rule.
TORCH_STATE = {
    "gd": {},
    "momentum": {"v": "momentum_buffer"},
    "rmsprop": {"s": "square_avg", "grad_avg": "grad_avg", "momentum_buffer": "momentum_buffer"},
    "adam": {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"},
    "adamw": {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"},
}
TORCH_CASES = list(_torch_combinations())


def _case_id(case):
    cls, hp, _, _ = case
    keys = ("dampening", "weight_decay", "nesterov", "momentum", "centered", "amsgrad", "maximize")
    on = [f"{k}={hp[k]}" for k in keys if hp.get(k)]
    return "-".join([cls.__name__, *on])


@pytest.mark.parametrize("backend", ["numpy", "serial"])
@pytest.mark.parametrize("case", TORCH_CASES, ids=[_case_id(c) for c in TORCH_CASES])
def test_matches_torch_optim(case, backend):
    """Six float64 steps against torch.optim's single-tensor implementation."""
    torch = pytest.importorskip("torch")
    cls, hp, torch_name, torch_kwargs = case
    rng = np.random.default_rng(42)
    x0 = rng.standard_normal(11)
    grads = [rng.standard_normal(11) * 10.0 ** rng.integers(-2, 2) for _ in range(6)]
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    reference = getattr(torch.optim, torch_name)([p], lr=LR, foreach=False, **torch_kwargs)
    opt = cls(LR, backend=backend, **hp)
    x = x0.copy()
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        reference.step()
        opt.step(x, g)
        np.testing.assert_allclose(x, p.detach().numpy(), rtol=1e-12, atol=1e-14)
    state, names = reference.state[p], TORCH_STATE[cls.name]
    assert {names[n] for n in opt.state_names} == set(state) & set(names.values())
    for name in opt.state_names:
        np.testing.assert_allclose(
            opt.state[name], state[names[name]].numpy(), rtol=1e-12, atol=1e-14, err_msg=name
        )


# -- convergence on a convex quadratic, through minimize -----------------------------------

CURVATURE = np.array([0.5, 1.0, 2.0, 4.0])
TARGET = np.array([1.0, -2.0, 0.5, 3.0])


def quadratic(x):
    r = x - TARGET
    return 0.5 * float(CURVATURE @ r**2), CURVATURE * r


def _annealed(lr):
    """RMSprop's steps do not shrink with the gradient: anneal η so the run settles."""
    return numopt.schedules.cosine_annealing(lr, decay_steps=5000)


#: case -> (method, options, where the run must end: coupled L2 moves the optimum to
#: c·x*/(c + λ), and the loop then stops at maxiter, its gtol watching f's gradient alone)
CONVERGENCE = {
    "momentum-dampening": ("momentum", {"learning_rate": 0.05, "dampening": 0.5}, TARGET),
    "nesterov-dampening": (
        "momentum",
        {"learning_rate": 0.05, "dampening": 0.5, "nesterov": True},
        TARGET,
    ),
    "momentum-weight-decay": (
        "momentum",
        {"learning_rate": 0.05, "weight_decay": 0.2},
        CURVATURE * TARGET / (CURVATURE + 0.2),
    ),
    "rmsprop-weight-decay": (
        "rmsprop",
        {"learning_rate": _annealed(0.01), "weight_decay": 0.2},
        CURVATURE * TARGET / (CURVATURE + 0.2),
    ),
    "rmsprop-centered": ("rmsprop", {"learning_rate": _annealed(0.01), "centered": True}, TARGET),
    "rmsprop-centered-outside": (
        "rmsprop",
        {"learning_rate": _annealed(0.01), "centered": True, "eps_placement": "outside"},
        TARGET,
    ),
    "rmsprop-momentum": ("rmsprop", {"learning_rate": _annealed(0.005), "momentum": 0.5}, TARGET),
    "rmsprop-centered-momentum": (
        "rmsprop",
        {"learning_rate": _annealed(0.005), "centered": True, "momentum": 0.5},
        TARGET,
    ),
    "adam-amsgrad": ("adam", {"learning_rate": 0.05, "amsgrad": True}, TARGET),
    "adamw-amsgrad": (
        "adamw",
        {"learning_rate": 0.05, "amsgrad": True, "weight_decay": 0.0},
        TARGET,
    ),
}


@pytest.mark.parametrize("case", sorted(CONVERGENCE))
def test_converges_on_a_convex_quadratic(case):
    method, options, optimum = CONVERGENCE[case]
    res = numopt.minimize(
        quadratic, np.zeros(4), jac=True, method=method, options={"maxiter": 5000, **options}
    )
    assert res.status in (0, 1), res.message
    np.testing.assert_allclose(res.x, optimum, atol=1e-4)


def test_maximize_converges_through_minimize():
    """maximize=True climbs -f to f's minimiser (torch's convention)."""

    def negated(x):
        f, g = quadratic(x)
        return -f, -g

    for method in ("momentum", "rmsprop", "adam"):
        opts = {"learning_rate": 0.01, "maximize": True, "maxiter": 20000, "gtol": 0.0}
        res = numopt.minimize(negated, np.zeros(4), jac=True, method=method, options=opts)
        np.testing.assert_allclose(res.x, TARGET, atol=1e-2)
