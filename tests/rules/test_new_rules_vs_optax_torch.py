"""The rules of issue 19 side by side with their originals: optax 0.2.8 and torch.optim.

Trajectories of 300 steps in float64 on a noisy quadratic (the gradient is taken at
the current point, so a wrong step changes every later gradient), to 1e-10 relative,
with a few option combinations each, on the NumPy reference and both CPU loops.
The sign rules (sign SGD, Signum) are compared on a fixed gradient sequence instead:
their step is discontinuous in the gradient, so a last-bit difference in a point
could flip a sign and say nothing about the rule.  Skipped where the ``peers`` extra
(jax, optax, torch) is absent.
"""

from __future__ import annotations

import numpy as np
import pytest
from hand_cases import CPU_BACKENDS

import numopt

N, STEPS = 24, 300


def problem(seed: int = 3):
    """``g(x) = a (x - b) + noise_t``: a quadratic with a fixed sequence of noise."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 3.0, N)
    b = rng.standard_normal(N)
    noise = 0.3 * rng.standard_normal((STEPS, N))
    return rng.standard_normal(N) * 2.0, lambda x, t: a * (x - b) + noise[t]


def fixed_gradients(seed: int = 4):
    rng = np.random.default_rng(seed)
    grads = rng.standard_normal((STEPS, N)) * 10.0 ** rng.integers(-2, 2, (STEPS, 1))
    return rng.standard_normal(N), lambda x, t: grads[t]


def numopt_trajectory(cls, hp, x0, grad, backend):
    opt = cls(backend=backend, **hp)
    x = x0.copy()
    for t in range(STEPS):
        opt.step(x, grad(x, t))
    return x


def optax_trajectory(make, x0, grad):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    with jax.enable_x64(True):
        tx = make(optax)
        p = jax.numpy.asarray(x0)
        state = tx.init(p)
        for t in range(STEPS):
            g = jax.numpy.asarray(grad(np.asarray(p), t))
            updates, state = tx.update(g, state, p)
            p = optax.apply_updates(p, updates)
        out = np.asarray(p)
    assert out.dtype == np.float64
    return out


def _yogi(lr, b1, b2, eps, init):
    def make(optax):
        return optax.chain(
            optax.scale_by_yogi(b1=b1, b2=b2, eps=eps, initial_accumulator_value=init),
            optax.scale_by_learning_rate(lr),
        )

    return make


#: (id, numopt class, numopt hyperparameters, optax constructor, gradients)
OPTAX = [
    (
        "adabelief",
        numopt.AdaBelief,
        {"learning_rate": 0.05},
        lambda o: o.adabelief(0.05),
        problem,
    ),
    (
        "adabelief-options",
        numopt.AdaBelief,
        {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.95, "eps": 1e-8, "eps_root": 1e-10},
        lambda o: o.adabelief(0.02, b1=0.8, b2=0.95, eps=1e-8, eps_root=1e-10),
        problem,
    ),
    (
        "adabelief-nesterov",
        numopt.AdaBelief,
        {"learning_rate": 0.02, "beta1": 0.7, "nesterov": True},
        lambda o: o.adabelief(0.02, b1=0.7, nesterov=True),
        problem,
    ),
    ("yogi", numopt.Yogi, {"learning_rate": 0.05}, lambda o: o.yogi(0.05), problem),
    (
        "yogi-options",
        numopt.Yogi,
        {
            "learning_rate": 0.02,
            "beta1": 0.8,
            "beta2": 0.9,
            "eps": 1e-6,
            "initial_accumulator_value": 0.5,
        },
        _yogi(0.02, 0.8, 0.9, 1e-6, 0.5),
        problem,
    ),
    ("adan", numopt.Adan, {"learning_rate": 0.02}, lambda o: o.adan(0.02), problem),
    (
        "adan-options",
        numopt.Adan,
        {
            "learning_rate": 0.01,
            "beta1": 0.9,
            "beta2": 0.8,
            "beta3": 0.95,
            "eps_root": 0.0,
            "weight_decay": 0.05,
        },
        lambda o: o.adan(0.01, b1=0.9, b2=0.8, b3=0.95, eps_root=0.0, weight_decay=0.05),
        problem,
    ),
    ("adopt", numopt.ADOPT, {"learning_rate": 0.02}, lambda o: o.contrib.adopt(0.02), problem),
    (
        "adopt-nesterov-unclipped",
        numopt.ADOPT,
        {"learning_rate": 0.02, "beta2": 0.99, "nesterov": True, "clipping": False},
        lambda o: o.contrib.adopt(0.02, b2=0.99, nesterov=True, use_clipping=False),
        problem,
    ),
    (
        "ademamix",
        numopt.AdEMAMix,
        {"learning_rate": 0.005},
        lambda o: o.contrib.ademamix(0.005),
        problem,
    ),
    (
        "ademamix-options",
        numopt.AdEMAMix,
        {
            "learning_rate": 0.005,
            "beta3": 0.99,
            "alpha": 2.0,
            "eps_root": 1e-12,
            "weight_decay": 0.1,
        },
        lambda o: o.contrib.ademamix(0.005, b3=0.99, alpha=2.0, eps_root=1e-12, weight_decay=0.1),
        problem,
    ),
    (
        "sign_sgd",
        numopt.SignSGD,
        {"learning_rate": 0.01},
        lambda o: o.sign_sgd(0.01),
        fixed_gradients,
    ),
    ("signum", numopt.Signum, {"learning_rate": 0.01}, lambda o: o.signum(0.01), fixed_gradients),
    (
        "signum-beta",
        numopt.Signum,
        {"learning_rate": 0.01, "beta": 0.5},
        lambda o: o.signum(0.01, beta=0.5),
        fixed_gradients,
    ),
]


@pytest.mark.parametrize(
    "cls, hp, make, gradients", [c[1:] for c in OPTAX], ids=[c[0] for c in OPTAX]
)
def test_matches_optax(cls, hp, make, gradients):
    x0, grad = gradients()
    want = optax_trajectory(make, x0, grad)
    assert not np.allclose(want, x0)  # the run moved
    for backend in CPU_BACKENDS:
        got = numopt_trajectory(cls, hp, x0, grad, backend)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=backend)


@pytest.fixture
def torch64():
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # ASGD keeps η and μ as default-dtype tensors
    yield torch
    torch.set_default_dtype(before)


TORCH_ASGD = [
    ({"learning_rate": 0.05}, {"lr": 0.05}),
    (
        {"learning_rate": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 100.0, "weight_decay": 0.1},
        {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 100.0, "weight_decay": 0.1},
    ),
    ({"learning_rate": 0.02, "t0": 0.0}, {"lr": 0.02, "t0": 0.0}),
]


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("hp, torch_hp", TORCH_ASGD)
def test_asgd_matches_torch(hp, torch_hp, maximize, torch64):
    torch = torch64
    x0, grad = problem()
    sign = -1.0 if maximize else 1.0
    for flags in ({"foreach": False}, {"foreach": True}):
        p = torch.tensor(x0.copy(), dtype=torch.float64, requires_grad=True)
        ref = torch.optim.ASGD([p], maximize=maximize, **torch_hp, **flags)
        for t in range(STEPS):
            p.grad = torch.tensor(sign * grad(p.detach().numpy(), t))
            ref.step()
        want = p.detach().numpy()
        want_ax = ref.state[p]["ax"].numpy()
        for backend in CPU_BACKENDS:
            opt = numopt.ASGD(backend=backend, maximize=maximize, **hp)
            x = x0.copy()
            for t in range(STEPS):
                opt.step(x, sign * grad(x, t))
            np.testing.assert_allclose(x, want, rtol=1e-10, atol=1e-12, err_msg=f"{flags}")
            np.testing.assert_allclose(
                opt.state["ax"], want_ax, rtol=1e-10, atol=1e-12, err_msg=f"{flags} ax"
            )


@pytest.mark.parametrize(
    "hp",
    [
        {"learning_rate": 1.0},
        {
            "learning_rate": 2.0,
            "weight_decay": 0.01,
            "trust_coefficient": 0.01,
            "eps": 1e-3,
            "momentum": 0.8,
            "nesterov": True,
        },
    ],
    ids=["defaults", "options"],
)
def test_lars_matches_optax_per_layer(hp):
    """Two layers: optax's pytree of two arrays, numopt's flat array with ``layers``."""
    optax = pytest.importorskip("optax")
    sizes = (10, N - 10)
    x0, grad = problem()
    kw = {k: v for k, v in hp.items() if k != "learning_rate"}  # optax's names too

    def split(v):
        return {"a": v[: sizes[0]], "b": v[sizes[0] :]}

    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        tx = optax.lars(hp["learning_rate"], **kw)
        p = jax.tree.map(jax.numpy.asarray, split(x0))
        state = tx.init(p)
        for t in range(STEPS):
            flat = np.concatenate([np.asarray(p["a"]), np.asarray(p["b"])])
            g = jax.tree.map(jax.numpy.asarray, split(grad(flat, t)))
            updates, state = tx.update(g, state, p)
            p = optax.apply_updates(p, updates)
        want = np.concatenate([np.asarray(p["a"]), np.asarray(p["b"])])
    assert not np.allclose(want, x0)
    for backend in CPU_BACKENDS:
        opt = numopt.LARS(backend=backend, layers=sizes, **hp)
        x = x0.copy()
        for t in range(STEPS):
            opt.step(x, grad(x, t))
        np.testing.assert_allclose(x, want, rtol=1e-10, atol=1e-12, err_msg=backend)


SCHEDULE_FREE = [
    (
        numopt.ScheduleFreeSGD,
        {"learning_rate": 0.1},
        lambda o: o.contrib.schedule_free_sgd(0.1),
    ),
    (
        numopt.ScheduleFreeSGD,
        {"learning_rate": 0.05, "beta1": 0.7, "weight_decay": 0.01, "weight_lr_power": 1.0},
        lambda o: o.contrib.schedule_free_sgd(0.05, b1=0.7, weight_decay=0.01, weight_lr_power=1.0),
    ),
    (
        numopt.ScheduleFreeAdamW,
        {"learning_rate": 0.02},
        lambda o: o.contrib.schedule_free_adamw(0.02),
    ),
    (
        numopt.ScheduleFreeAdamW,
        {"learning_rate": 0.05, "beta1": 0.95, "beta2": 0.9, "eps": 1e-6, "weight_decay": 0.05},
        lambda o: o.contrib.schedule_free_adamw(0.05, b1=0.95, b2=0.9, eps=1e-6, weight_decay=0.05),
    ),
]


@pytest.mark.parametrize(
    "cls, hp, make", SCHEDULE_FREE, ids=["sgd", "sgd-options", "adamw", "adamw-options"]
)
def test_schedule_free_matches_optax_iterate_and_average(cls, hp, make):
    """Both points: the iterate y (θ) and the average x (optax's
    ``schedule_free_eval_params``, numopt's ``averaged``)."""
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    x0, grad = problem()
    with jax.enable_x64(True):
        tx = make(optax)
        p = jax.numpy.asarray(x0)
        state = tx.init(p)
        for t in range(STEPS):
            updates, state = tx.update(jax.numpy.asarray(grad(np.asarray(p), t)), state, p)
            p = optax.apply_updates(p, updates)
        want_y = np.asarray(p)
        want_x = np.asarray(optax.contrib.schedule_free_eval_params(state, p))
    assert not np.allclose(want_x, want_y)  # two different points
    for backend in CPU_BACKENDS:
        opt = cls(backend=backend, **hp)
        y = x0.copy()
        for t in range(STEPS):
            opt.step(y, grad(y, t))
        np.testing.assert_allclose(y, want_y, rtol=1e-10, atol=1e-12, err_msg=backend)
        np.testing.assert_allclose(opt.averaged(y), want_x, rtol=1e-10, atol=1e-12)
