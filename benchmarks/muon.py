"""Muon against torch.optim.Muon on the CPU: one step on an n×n matrix.

Contenders, each timed once per round, round-robin, in one process (medians):

* ``numopt float32``: ``numopt.Muon().step(W, G)`` on float32 arrays (Newton–Schulz
  in float32, NumPy's BLAS);
* ``matmuls only``: the same step's matrix products alone (``ns_steps`` times ``X Xᵀ``,
  ``G G`` and ``(bG + cG²) X`` in NumPy), the work any implementation must do — the
  ratio ``numopt / matmuls`` is what the rest of the step costs;
* ``torch (bfloat16 NS)``: ``torch.optim.Muon`` as shipped, float32 parameters, its
  Newton–Schulz in bfloat16;
* ``torch float32``: torch's step with its Newton–Schulz patched to stay in float32
  (its own source, the bfloat16 cast removed), the same arithmetic as numopt's.

Usage::

    python benchmarks/muon.py [--sizes 512,1024,2048,4096] [--rounds 5]
        [--threads N] [--out FILE] [--smoke]

Writes ``benchmarks/results/muon-<date>.txt`` unless ``--smoke``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

import numopt
from numopt.rules.muon import NS_COEFFICIENTS

if __package__:
    from .machine import Unavailable
    from .side_by_side import arguments, run, sizes
else:  # run as a script: benchmarks/ is on sys.path
    from machine import Unavailable
    from side_by_side import arguments, run, sizes


def matmuls(u: np.ndarray, steps: int = 5) -> np.ndarray:
    """The Newton–Schulz matrix products alone (no normalisation, no element-wise step)."""
    a, b, c = (u.dtype.type(k) for k in NS_COEFFICIENTS)
    x = u
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x


def torch_steppers(w0: np.ndarray, g: np.ndarray) -> dict[str, Callable[[], object]]:
    """torch.optim.Muon as shipped, and with its Newton–Schulz kept in float32."""
    try:
        import torch
        from torch.optim import _muon
    except ImportError as exc:
        raise Unavailable(f"torch is not installed ({exc})") from None
    shipped = _muon._zeropower_via_newtonschulz
    source = inspect.getsource(shipped).replace("grad.bfloat16()", "grad.clone()")
    namespace = dict(vars(_muon))
    exec(source, namespace)
    float32 = namespace["_zeropower_via_newtonschulz"]
    out = {}
    for label, ns in (("torch (bfloat16 NS)", shipped), ("torch float32", float32)):
        p = torch.nn.Parameter(torch.tensor(w0))
        p.grad = torch.tensor(g)
        opt = torch.optim.Muon([p], lr=1e-3)

        def step(opt=opt, ns=ns):
            _muon._zeropower_via_newtonschulz = ns
            try:
                opt.step()
            finally:
                _muon._zeropower_via_newtonschulz = shipped

        out[label] = step
    return out


def contenders(n: int, with_torch: bool) -> tuple[dict[str, Callable[[], object]], list[str]]:
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((n, n)).astype(np.float32) / np.float32(np.sqrt(n))
    g = (1e-3 * rng.standard_normal((n, n))).astype(np.float32)
    w, opt = w0.copy(), numopt.Muon()
    out: dict[str, Callable[[], object]] = {
        "numopt float32": lambda: opt.step(w, g),
        "matmuls only": lambda: matmuls(g),
    }
    notes = []
    if with_torch:
        try:
            out.update(torch_steppers(w0, g))
        except Unavailable as exc:
            notes.append(f"# torch skipped: {exc}")
    return out, notes


def main(argv: list[str] | None = None) -> dict[int, dict[str, float]]:
    """Run the table; returns the medians (seconds) by n and contender."""
    parser = arguments(__doc__, {"sizes": "512,1024,2048,4096"}, 5, "n = 64, 1 round, no file")
    args = parser.parse_args(argv)
    return run(
        "benchmarks/muon.py",
        args,
        argv,
        title="one Muon step on an n×n float32 matrix",
        cases=sizes(args, 64),
        label=lambda n: f"n = {n}",
        contenders=contenders,
        ratios=[
            ("numopt float32", "matmuls only"),
            ("torch (bfloat16 NS)", "numopt float32"),
            ("torch float32", "numopt float32"),
        ],
    )


if __name__ == "__main__":
    main()
