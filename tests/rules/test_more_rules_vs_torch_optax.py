"""The rules of issue 11 side by side with ``torch.optim`` and ``optax.lion``.

``torch.optim`` single-tensor, foreach and fused where torch has them, and
``optax.lion``, in float64, a few dozen steps, with every option, to 1e-12
relative error, on the NumPy reference and both CPU loops.
"""

from __future__ import annotations

import numpy as np
import pytest
from hand_cases import CPU_BACKENDS

import numopt

TORCH = [
    (
        "Adagrad",
        {
            "learning_rate": 0.1,
            "lr_decay": 0.05,
            "weight_decay": 0.1,
            "initial_accumulator_value": 0.3,
            "eps": 1e-10,
        },
        {
            "lr": 0.1,
            "lr_decay": 0.05,
            "weight_decay": 0.1,
            "initial_accumulator_value": 0.3,
            "eps": 1e-10,
        },
    ),
    (
        "Adadelta",
        {"learning_rate": 0.5, "rho": 0.8, "eps": 1e-6, "weight_decay": 0.1},
        {"lr": 0.5, "rho": 0.8, "eps": 1e-6, "weight_decay": 0.1},
    ),
    (
        "Adamax",
        {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.1},
        {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.1},
    ),
    (
        "NAdam",
        {
            "learning_rate": 0.01,
            "beta1": 0.8,
            "beta2": 0.95,
            "weight_decay": 0.1,
            "momentum_decay": 0.01,
        },
        {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.1, "momentum_decay": 0.01},
    ),
    (
        "NAdam",
        {"learning_rate": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
    (
        "RAdam",
        {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.9, "weight_decay": 0.1},
        {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1},
    ),
    (
        "RAdam",
        {"learning_rate": 0.01, "beta2": 0.9, "weight_decay": 0.1, "decoupled_weight_decay": True},
        {"lr": 0.01, "betas": (0.9, 0.9), "weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
    (
        "Rprop",
        {"learning_rate": 0.05, "etas": (0.4, 1.3), "step_sizes": (1e-3, 0.2)},
        {"lr": 0.05, "etas": (0.4, 1.3), "step_sizes": (1e-3, 0.2)},
    ),
]


@pytest.fixture
def torch64():
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch's step scalars (NAdam's μ product) too
    yield torch
    torch.set_default_dtype(before)


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize(
    "name, hp, torch_hp", TORCH, ids=[f"{t[0]}-{i}" for i, t in enumerate(TORCH)]
)
def test_matches_torch_optim(name, hp, torch_hp, maximize, torch64):
    torch = torch64
    rng = np.random.default_rng(1)
    n, steps = 40, 25  # RAdam (β2 = 0.9) switches at step 6
    x0 = rng.standard_normal(n)
    grads = [rng.standard_normal(n) * 10.0 ** rng.integers(-2, 2) for _ in range(steps)]
    impls = [{"foreach": False}, {"foreach": True}]
    if name == "Adagrad":
        impls.append({"fused": True})
    for flags in impls:
        p = torch.tensor(x0.copy(), requires_grad=True)
        ref = getattr(torch.optim, name)([p], maximize=maximize, **torch_hp, **flags)
        ours = {
            b: (getattr(numopt, name)(backend=b, maximize=maximize, **hp), x0.copy())
            for b in CPU_BACKENDS
        }
        for g in grads:
            p.grad = torch.tensor(g)
            ref.step()
            for opt, x in ours.values():
                opt.step(x, g)
        want = p.detach().numpy()
        for backend, (_, x) in ours.items():
            np.testing.assert_allclose(
                x, want, rtol=1e-12, atol=1e-14, err_msg=f"{flags} {backend}"
            )


@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
def test_lion_matches_optax(weight_decay):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal(40)
    grads = [rng.standard_normal(40) for _ in range(25)]
    with jax.enable_x64(True):
        tx = optax.lion(learning_rate=0.01, b1=0.8, b2=0.95, weight_decay=weight_decay)
        p = jax.numpy.asarray(x0)
        state = tx.init(p)
        for g in grads:
            updates, state = tx.update(jax.numpy.asarray(g), state, p)
            p = optax.apply_updates(p, updates)
        want = np.asarray(p)
    assert want.dtype == np.float64
    for backend in CPU_BACKENDS:
        opt = numopt.Lion(0.01, beta1=0.8, beta2=0.95, weight_decay=weight_decay, backend=backend)
        x = x0.copy()
        for g in grads:
            opt.step(x, g)
        np.testing.assert_allclose(x, want, rtol=1e-12, atol=1e-14)
