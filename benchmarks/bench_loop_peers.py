"""Whole Adam loops on the 2-D and 100-D Rosenbrock function: numopt next to its peers.

``time_run`` times one whole run of ``STEPS`` (2000) Adam updates (η = 1e-3,
float64, the loss recorded at every step) from (-1.2, 1, ...): **divide by 2000
for the time per iteration.**  The contenders are those of
``benchmarks/loop_peers.py`` (see its docstring; that script runs them side by
side for 10⁵ steps and prints ratios):

* ``numopt compiled`` — ``minimize(..., options={"compiled": True})`` on the
  Numba objectives of ``benchmarks/_numba_objectives.py`` (skipped while the
  option does not exist);
* ``numopt python`` — the same call through the Python loop;
* ``numba loop`` — a hand-written ``@njit`` Adam loop, the floor;
* ``optax scan`` — ``optax.adam`` in ``jax.lax.scan`` with ``value_and_grad``,
  compiled ahead of time (JAX with 64-bit types);
* ``optax jit step`` — a jitted step called from a Python loop;
* ``torch autograd`` — ``torch.optim.Adam`` in a Python loop, float64 tensors.

A peer that is not installed (the ``peers`` extra: torch, jax, optax) is skipped:
``setup`` raises ``NotImplementedError``.  ``setup`` builds and compiles the
contender and runs it once, so compile time is not in the timing (the script's
``--latency`` mode measures first calls).
"""

from __future__ import annotations

from .loop_peers import Unavailable, build, compiled_status, rosenbrock_x0

#: Updates per timed run.
STEPS = 2000

CONTENDERS = [
    "numopt compiled",
    "numopt python",
    "numba loop",
    "optax scan",
    "optax jit step",
    "torch autograd",
]


class RosenbrockAdamLoop:
    """2000 Adam updates, the loss recorded at every step (divide by 2000 per iteration)."""

    params = (CONTENDERS, [2, 100])
    param_names = ["contender", "n"]

    def setup(self, contender, n):
        self._x64 = None
        if contender.startswith("optax"):
            try:
                import jax
            except ImportError as exc:
                raise NotImplementedError(f"jax is not installed ({exc})") from None
            self._x64 = jax.config.read("jax_enable_x64")  # build() turns 64-bit types on
        status = compiled_status() if contender.startswith("numopt") else None
        if status is not None and status.startswith("failed"):  # exists but broken: an error
            raise RuntimeError(f"numopt's compiled loop: {status}")
        try:
            self.run = build(contender, rosenbrock_x0(n), STEPS, status, {})
        except Unavailable as exc:
            raise NotImplementedError(f"{contender}: {exc}") from None
        _x, losses = self.run()
        if len(losses) != STEPS:
            raise RuntimeError(f"{contender} recorded {len(losses)} losses, not {STEPS}")

    def teardown(self, contender, n):
        if self._x64 is not None:
            import jax

            jax.config.update("jax_enable_x64", self._x64)

    def time_run(self, contender, n):
        self.run()
