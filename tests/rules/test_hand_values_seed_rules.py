"""The seed rules (GD, Momentum, RMSprop, Adam, AdamW) against numbers worked by hand
from their formulas (each rule module states them).

Each case is a tiny float64 problem: a starting θ, the gradient of each step (given
explicitly, or ``g = 2θ`` for the quadratic ``‖θ‖²``) and, after every step, the θ and
the state arrays that the spec's formulas give.  The hyperparameters are picked so the
arithmetic stays tractable (β = 0.5 or 0.75, η = 0.1); the arithmetic of each number
is written next to it.  The numbers come from the formulas, never from numopt, so a
rule that drifts from the spec (a swapped β, a bias correction off by one step, ε on
the wrong side of the root, decay coupled where it should not be) fails here on every
backend.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hand_cases import CPU_BACKENDS, Case, Step, run_case

import numopt

EPS = 1e-8  # written "ε" in the comments below


CASES: dict[str, Case] = {
    # θ ← θ - ηg with g = 2θ: θ is multiplied by 1 - 2η = 0.8 at every step.
    "gd-quadratic": Case(
        numopt.GD,
        {"learning_rate": 0.1},
        [1.0, -2.0, 0.5],
        None,
        [
            Step([0.8, -1.6, 0.4], {}),  # g = [2, -4, 1]; θ = [1-0.2, -2+0.4, 0.5-0.1]
            Step([0.64, -1.28, 0.32], {}),  # g = [1.6, -3.2, 0.8]; θ = 0.8·θ
            Step([0.512, -1.024, 0.256], {}),  # g = [1.28, -2.56, 0.64]; θ = 0.8·θ
        ],
    ),
    # θ ← θ - η(g + λθ), η = 0.1, λ = 0.5 (so ηλ = 0.05)
    "gd-weight-decay": Case(
        numopt.GD,
        {"learning_rate": 0.1, "weight_decay": 0.5},
        [1.0, -2.0],
        [[1.0, 1.0], [-2.0, 0.5], [0.0, 0.0]],
        [
            # a: 1 - 0.1·(1 + 0.5·1) = 0.85;  b: -2 - 0.1·(1 + 0.5·(-2)) = -2
            Step([0.85, -2.0], {}),
            # a: 0.85 - 0.1·(-2 + 0.425) = 1.0075;  b: -2 - 0.1·(0.5 - 1) = -1.95
            Step([1.0075, -1.95], {}),
            # g = 0, pure decay θ·(1 - 0.05): a: 1.0075·0.95;  b: -1.95·0.95
            Step([0.957125, -1.8525], {}),
        ],
    ),
    # v ← βv + g; θ ← θ - ηv, η = 0.1, β = 0.5
    "momentum": Case(
        numopt.Momentum,
        {"learning_rate": 0.1, "beta": 0.5},
        [1.0, -1.0],
        [[1.0, 2.0], [1.0, -2.0], [0.0, 4.0]],
        [
            Step([0.9, -1.2], {"v": [1.0, 2.0]}),  # v = g; θ = [1-0.1, -1-0.2]
            # v = [0.5+1, 1-2] = [1.5, -1]; θ = [0.9-0.15, -1.2+0.1]
            Step([0.75, -1.1], {"v": [1.5, -1.0]}),
            # v = [0.75+0, -0.5+4] = [0.75, 3.5]; θ = [0.75-0.075, -1.1-0.35]
            Step([0.675, -1.45], {"v": [0.75, 3.5]}),
        ],
    ),
    # Same gradients; θ ← θ - η(g + βv) with the new v.
    "nesterov": Case(
        numopt.Momentum,
        {"learning_rate": 0.1, "beta": 0.5, "nesterov": True},
        [1.0, -1.0],
        [[1.0, 2.0], [1.0, -2.0], [0.0, 4.0]],
        [
            # v = [1, 2]; θ = [1 - 0.1·(1 + 0.5), -1 - 0.1·(2 + 1)]
            Step([0.85, -1.3], {"v": [1.0, 2.0]}),
            # v = [1.5, -1]; θ = [0.85 - 0.1·(1 + 0.75), -1.3 - 0.1·(-2 - 0.5)]
            Step([0.675, -1.05], {"v": [1.5, -1.0]}),
            # v = [0.75, 3.5]; θ = [0.675 - 0.1·(0 + 0.375), -1.05 - 0.1·(4 + 1.75)]
            Step([0.6375, -1.625], {"v": [0.75, 3.5]}),
        ],
    ),
    # S ← βS + (1-β)g²; θ ← θ - ηg/sqrt(S + ε), η = 0.1, β = 0.75, ε = 1 (ε large on
    # purpose: the two placements then give visibly different numbers).
    # S1 = 0.25·[4, 16] = [1, 4];  S2 = [0.75 + 0.25, 3 + 1] = [1, 4];
    # S3 = [0.75 + 0, 3 + 1] = [0.75, 4]
    "rmsprop-inside": Case(
        numopt.RMSprop,
        {"learning_rate": 0.1, "beta": 0.75, "eps": 1.0, "eps_placement": "inside"},
        [1.0, -1.0],
        [[2.0, 4.0], [1.0, -2.0], [0.0, 2.0]],
        [
            # a: 1 - 0.1·2/sqrt(1+1);  b: -1 - 0.1·4/sqrt(4+1)
            Step([0.8585786437626906, -1.1788854381999831], {"s": [1.0, 4.0]}),
            # a: θa - 0.1·1/sqrt(2);  b: θb + 0.1·2/sqrt(5)
            Step([0.7878679656440358, -1.0894427190999916], {"s": [1.0, 4.0]}),
            # a: g = 0, unchanged;  b: θb - 0.1·2/sqrt(5)
            Step([0.7878679656440358, -1.1788854381999831], {"s": [0.75, 4.0]}),
        ],
    ),
    # The same run with θ ← θ - ηg/(sqrt(S) + ε): denominators sqrt(S) + 1 = [2, 3].
    "rmsprop-outside": Case(
        numopt.RMSprop,
        {"learning_rate": 0.1, "beta": 0.75, "eps": 1.0, "eps_placement": "outside"},
        [1.0, -1.0],
        [[2.0, 4.0], [1.0, -2.0], [0.0, 2.0]],
        [
            # a: 1 - 0.1·2/(1+1) = 0.9;  b: -1 - 0.1·4/(2+1) = -1 - 0.4/3
            Step([0.9, -1.1333333333333333], {"s": [1.0, 4.0]}),
            # a: 0.9 - 0.1·1/2 = 0.85;  b: θb + 0.1·2/3 = -1 - 0.2/3
            Step([0.85, -1.0666666666666667], {"s": [1.0, 4.0]}),
            # a: g = 0, unchanged;  b: θb - 0.1·2/3 = -1 - 0.4/3
            Step([0.85, -1.1333333333333333], {"s": [0.75, 4.0]}),
        ],
    ),
    # m ← β1 m + (1-β1) g; v ← β2 v + (1-β2) g²; m̂ = m/(1-β1^t); v̂ = v/(1-β2^t);
    # θ ← θ - η m̂/(sqrt(v̂) + ε), η = 0.1, β1 = 0.5, β2 = 0.75 (different, so a swap
    # shows), ε = 1e-8.  Bias corrections: 1-β1^t = 0.5, 0.75, 0.875;
    # 1-β2^t = 0.25, 0.4375, 0.578125.  Element a has a constant gradient (then
    # m̂ = g and v̂ = g² exactly), element c starts at g = 0 (0/(0 + ε) = 0).
    "adam": Case(
        numopt.Adam,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": EPS},
        [1.0, -1.0, 0.5],
        [[3.0, -0.5, 0.0], [3.0, 0.5, 2.0], [3.0, 0.0, -2.0]],
        [
            # m = 0.5·g; v = 0.25·g²; m̂ = g = [3, -0.5, 0]; v̂ = g² = [9, 0.25, 0]
            # θ = [1 - 0.1·3/(3+ε), -1 + 0.1·0.5/(0.5+ε), 0.5 - 0.1·0/(0+ε)]
            Step(
                [0.9000000003333333, -0.900000002, 0.5],
                {"m": [1.5, -0.25, 0.0], "v": [2.25, 0.0625, 0.0]},
            ),
            # m = [0.75+1.5, -0.125+0.25, 0+1]; v = [1.6875+2.25, 0.046875+0.0625, 0+1]
            # m̂ = m/0.75 = [3, 1/6, 4/3]; v̂ = v/0.4375 = [9, 0.25, 16/7]
            # θ = [θa - 0.1·3/(3+ε), θb - 0.1·(1/6)/(0.5+ε), 0.5 - 0.1·(4/3)/(sqrt(16/7)+ε)]
            Step(
                [0.8000000006666665, -0.9333333346666667, 0.41180829021451365],
                {"m": [2.25, 0.125, 1.0], "v": [3.9375, 0.109375, 1.0]},
            ),
            # m = [1.125+1.5, 0.0625+0, 0.5-1]; v = [2.953125+2.25, 0.08203125+0, 0.75+1]
            # m̂ = m/0.875 = [3, 1/14, -4/7]; v̂ = v/0.578125 = [9, 21/148, 112/37]
            # θ = [θa - 0.1·3/(3+ε), θb - 0.1·(1/14)/(sqrt(21/148)+ε),
            #      θc + 0.1·(4/7)/(sqrt(112/37)+ε)]
            Step(
                [0.7000000009999998, -0.9522957285370971, 0.444652120514373],
                {"m": [2.625, 0.0625, -0.5], "v": [5.203125, 0.08203125, 1.75]},
            ),
        ],
    ),
    # Coupled L2: the gradient becomes g' = g + λθ before the moments, λ = 0.5.  ε is
    # negligible here (1e-30 next to 1 or 2), so the numbers stay exact decimals; the
    # gradients are picked so that g' is [1, -2] and then its negation [-1, 2].
    "adam-weight-decay": Case(
        numopt.Adam,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": 1e-30, "weight_decay": 0.5},
        [1.0, -2.0],
        [[0.5, -1.0], [-1.45, 2.95]],
        [
            # g' = [0.5 + 0.5·1, -1 + 0.5·(-2)] = [1, -2]; m = [0.5, -1]; v = [0.25, 1]
            # m̂ = [1, -2]; v̂ = [1, 4]; θ = [1 - 0.1·1/1, -2 + 0.1·2/2]
            Step([0.9, -1.9], {"m": [0.5, -1.0], "v": [0.25, 1.0]}),
            # g' = [-1.45 + 0.5·0.9, 2.95 + 0.5·(-1.9)] = [-1, 2]
            # m = [0.25 - 0.5, -0.5 + 1] = [-0.25, 0.5]; v = [0.1875 + 0.25, 0.75 + 1]
            # m̂ = m/0.75 = [-1/3, 2/3]; v̂ = v/0.4375 = [1, 4]
            # θ = [0.9 + 0.1·(1/3)/1, -1.9 - 0.1·(2/3)/2]
            Step(
                [0.9333333333333333, -1.9333333333333333],
                {"m": [-0.25, 0.5], "v": [0.4375, 1.75]},
            ),
        ],
    ),
    # Decoupled: θ ← θ(1 - ηλ) - η m̂/(sqrt(v̂) + ε) with Adam's moments of the plain
    # gradient; η = 0.1, λ = 0.5 so 1 - ηλ = 0.95; β1 = 0.5, β2 = 0.75, ε = 1e-8.
    "adamw": Case(
        numopt.AdamW,
        {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": EPS, "weight_decay": 0.5},
        [1.0, -2.0],
        [[3.0, -1.0], [3.0, 1.0], [3.0, 0.0]],
        [
            # m = [1.5, -0.5]; v = [2.25, 0.25]; m̂ = [3, -1]; v̂ = [9, 1]
            # θ = [0.95·1 - 0.1·3/(3+ε), 0.95·(-2) + 0.1·1/(1+ε)]
            Step(
                [0.8500000003333332, -1.800000001],
                {"m": [1.5, -0.5], "v": [2.25, 0.25]},
            ),
            # m = [0.75+1.5, -0.25+0.5]; v = [1.6875+2.25, 0.1875+0.25]
            # m̂ = m/0.75 = [3, 1/3]; v̂ = v/0.4375 = [9, 1]
            # θ = [0.95·θa - 0.1·3/(3+ε), 0.95·θb - 0.1·(1/3)/(1+ε)]
            Step(
                [0.7075000006499998, -1.74333333395],
                {"m": [2.25, 0.25], "v": [3.9375, 0.4375]},
            ),
            # m = [1.125+1.5, 0.125+0]; v = [2.953125+2.25, 0.328125+0]
            # m̂ = m/0.875 = [3, 1/7]; v̂ = v/0.578125 = [9, 21/37]
            # θ = [0.95·θa - 0.1·3/(3+ε), 0.95·θb - 0.1·(1/7)/(sqrt(21/37)+ε)]
            Step(
                [0.5721250009508331, -1.6751290613746308],
                {"m": [2.625, 0.125], "v": [5.203125, 0.328125]},
            ),
        ],
    ),
}

#: Cases also run in float32 (same numbers, looser tolerance).
FLOAT32_CASES = ("gd-quadratic", "nesterov", "rmsprop-outside", "adam", "adamw")


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_values_float64(case, backend):
    run_case(CASES[case], backend, np.float64, rel=1e-12)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("case", FLOAT32_CASES)
def test_hand_values_float32(case, backend):
    run_case(CASES[case], backend, np.float32, rel=1e-6)


def test_rmsprop_placements_differ_by_more_than_rounding():
    """The two ε placements are two different formulas, not a rounding difference."""
    inside, outside = CASES["rmsprop-inside"], CASES["rmsprop-outside"]
    for a, b in zip(inside.steps, outside.steps, strict=True):
        assert all(abs(p - q) > 1e-2 for p, q in zip(a.theta, b.theta, strict=True))


def test_hand_arithmetic_is_consistent():
    """Re-derive a few of the written numbers from their comments (guards typos)."""
    assert CASES["adam"].steps[0].theta[0] == pytest.approx(1 - 0.1 * 3 / (3 + EPS), rel=1e-15)
    assert CASES["adam"].steps[1].theta[2] == pytest.approx(
        0.5 - 0.1 * (4 / 3) / (math.sqrt(16 / 7) + EPS), rel=1e-15
    )
    assert CASES["rmsprop-inside"].steps[0].theta[1] == pytest.approx(
        -1 - 0.4 / math.sqrt(5), rel=1e-15
    )
    assert CASES["adamw"].steps[2].theta[1] == pytest.approx(
        0.95 * -1.74333333395 - 0.1 * (1 / 7) / (math.sqrt(21 / 37) + EPS), rel=1e-12
    )


# -- identities between rules ------------------------------------------------------------


def _random_problem(seed: int, n: int, dtype: type, steps: int):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(n).astype(dtype)
    grads = [rng.standard_normal(n).astype(dtype) for _ in range(steps)]
    return x0, grads


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adamw_without_decay_is_adam_bit_for_bit(backend, dtype):
    hp = {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6}
    adam = numopt.Adam(backend=backend, **hp)
    adamw = numopt.AdamW(backend=backend, weight_decay=0.0, **hp)
    x0, grads = _random_problem(3, 37, dtype, steps=6)
    xa, xw = x0.copy(), x0.copy()
    for g in grads:
        adam.step(xa, g)
        adamw.step(xw, g)
        np.testing.assert_array_equal(xa, xw)
        np.testing.assert_array_equal(adam.state["m"], adamw.state["m"])
        np.testing.assert_array_equal(adam.state["v"], adamw.state["v"])
    assert not np.array_equal(xa, x0)  # it did move


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_gd_weight_decay_is_spec_formula(backend):
    """GD with λ is the spec's ``θ - ηg - ηλθ`` (to rounding), at every step."""
    lr, wd = 0.1, 0.5
    opt = numopt.GD(lr, weight_decay=wd, backend=backend)
    rng = np.random.default_rng(5)
    x = rng.uniform(1.0, 2.0, 29)  # θ in [1, 2], |g| <= 1: no cancellation
    for _ in range(5):
        g = rng.uniform(-1.0, 1.0, x.size)
        want = x - lr * g - lr * wd * x
        opt.step(x, g)
        np.testing.assert_allclose(x, want, rtol=4e-16 * 8, atol=0)
