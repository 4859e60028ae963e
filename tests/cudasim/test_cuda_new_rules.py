"""CUDA kernels of the rules of issue 11 where the common table's 4 steps fall short.

RAdam switches to its rectified step only at step 6; Adagrad and Rprop start from
state that is not zero (built on the host, then copied to the device); NAdam's μ
product is recomputed after a state dict moves a run from the CPU to the GPU.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import config, cuda

import numopt

MAXULP = 4 if config.ENABLE_CUDASIM else 64

CASES = {
    "radam-switch": (numopt.RAdam, {"learning_rate": 0.01, "beta2": 0.9, "weight_decay": 0.1}),
    "radam-decoupled": (
        numopt.RAdam,
        {"learning_rate": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
    ),
    "adagrad-init": (numopt.Adagrad, {"learning_rate": 0.05, "initial_accumulator_value": 2.0}),
    "rprop-init": (numopt.Rprop, {"learning_rate": 0.03, "step_sizes": (1e-4, 0.1)}),
    "nadam": (numopt.NAdam, {"learning_rate": 0.01, "momentum_decay": 0.05}),
    "lion": (numopt.Lion, {"learning_rate": 0.01, "weight_decay": 0.1, "maximize": True}),
}


def problem(n, dtype, steps=10, seed=0):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal(n).astype(dtype)
    return x0, [rng.standard_normal(n).astype(dtype) for _ in range(steps)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ten_steps_match_reference(case, dtype):
    cls, hp = CASES[case]
    x0, grads = problem(70, dtype)
    ref, x = cls(backend="numpy", **hp), x0.copy()
    gpu, d_x = cls(**hp), cuda.to_device(x0)
    for g in grads:
        ref.step(x, g)
        gpu.step(d_x, cuda.to_device(g))
    np.testing.assert_array_max_ulp(d_x.copy_to_host(), x, maxulp=MAXULP)
    for name, a in ref.state.items():
        np.testing.assert_array_max_ulp(gpu.state[name].copy_to_host(), a, maxulp=MAXULP)


@pytest.mark.parametrize("case", ["nadam", "rprop-init", "radam-switch"])
def test_cpu_state_dict_resumes_on_device(case):
    cls, hp = CASES[case]
    x0, grads = problem(17, np.float64)
    cpu, x_cpu = cls(**hp), x0.copy()
    for g in grads[:4]:
        cpu.step(x_cpu, g)
    gpu = cls(**hp)
    gpu.load_state_dict(cpu.state_dict())
    d_x = cuda.to_device(x_cpu)
    for g in grads[4:]:
        cpu.step(x_cpu, g)
        gpu.step(d_x, cuda.to_device(g))
    np.testing.assert_array_max_ulp(d_x.copy_to_host(), x_cpu, maxulp=MAXULP)
