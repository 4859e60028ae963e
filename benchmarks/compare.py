"""Every rule next to the memory roofline, NumPy and torch.optim, measured in one process.

For each rule of :data:`numopt.RULES`, dtype (float32, float64) and N (10**6,
10**7) this script times one update step of:

* numopt's fused kernel (``backend="auto"``: the parallel loop at these sizes);
* the rule written the obvious way in NumPy (allocating temporaries);
* ``torch.optim`` on the CPU — single-tensor (``foreach=False``), ``foreach=True``
  and ``fused=True`` where torch offers them — when torch is installed
  (``pip install -e ".[peers]"``);
* optax (JAX on the CPU, 64-bit types enabled) when jax and optax are installed:
  ``tx.update`` + ``optax.apply_updates`` in one ``jax.jit`` function whose
  parameters and state are donated (``donate_argnums``), so XLA updates them in
  place, the gradient fixed; each call waits for its result
  (``block_until_ready``);

and STREAM-style kernels (triad ``a = b + s*c``, copy, in-place ``a += s*b``;
Numba, parallel, the same threads) whose best bandwidth is the roofline: a rule
that reads ``2 + k`` arrays and writes ``1 + k`` (k state arrays) must move
``(3 + 2k) · N · itemsize`` bytes, so its fraction of the roofline is
``bytes / time / roofline bandwidth`` (LAMB, two passes, moves 10 arrays where
Adam moves 7: :data:`EXTRA_TRAFFIC`).

A second roofline, ``same``, times a kernel with exactly the rule's traffic (the
same number of arrays read and written in place, trivial arithmetic) in the same
rounds as the rule: it suffers the same cache state, which the STREAM kernels,
timed back to back on their own arrays, do not (at N = 10**6 the arrays of one
kernel stay in cache between its calls; round-robin evicts them).

Contenders run round-robin (each round times every contender once) so that drift
and noise on a shared machine hit them alike; the table shows medians and ratios.

The rules compared are those written out here for NumPy, torch and optax
(:data:`COMPARED`); ``--rules`` picks a subset.

Usage::

    python benchmarks/compare.py [--sizes 1e6 1e7] [--rounds 11] [--csv out.csv] [--plot out.png]
    python benchmarks/compare.py --small   # N = 10**3: per-step cost without thread penalty
    python benchmarks/compare.py --rules adam adamw   # a subset of the rules
    python benchmarks/compare.py --sizes 1e8 --dtypes float32   # one dtype
"""

from __future__ import annotations

import argparse
import csv
import datetime
import functools
import platform
import time
from collections.abc import Callable

import numba
import numpy as np
from numba import njit, prange

import numopt
from numopt.kernels.launch import resolve
from numopt.rules import fast_step

try:
    import torch
except ImportError:  # torch is an optional peer
    torch = None

#: The rules of issue 19 (torch has ASGD only; optax has the rest).
NEW_RULES = ("asgd", "adabelief", "yogi", "adan", "adopt", "ademamix", "sign_sgd", "signum")
#: Rules optax does not have.
NO_OPTAX = ("asgd",)
#: The rules this script writes out for NumPy, torch.optim and optax.
COMPARED = (
    "gd",
    "momentum",
    "rmsprop",
    "adam",
    "adamw",
    *("adagrad", "adadelta", "adamax", "nadam", "radam", "rprop", "lion"),
    "lamb",
    *NEW_RULES,
)
#: Rules whose naive NumPy step is numopt's own NumPy reference (``backend="numpy"``:
#: the formula written the obvious way, allocating temporaries), not written out here.
REFERENCE_AS_NUMPY = (
    *("adagrad", "adadelta", "adamax", "nadam", "radam", "rprop", "lion"),
    *NEW_RULES,
)


# -- the roofline: STREAM triad and copy -------------------------------------------------
@njit(parallel=True, cache=True)
def _triad(a, b, c, s):  # pragma: no cover - compiled
    for i in prange(a.size):
        a[i] = b[i] + s * c[i]


@njit(parallel=True, cache=True)
def _copy(a, b):  # pragma: no cover - compiled
    for i in prange(a.size):
        a[i] = b[i]


@njit(parallel=True, cache=True)
def _axpy(a, b, s):  # pragma: no cover - compiled
    for i in prange(a.size):
        a[i] = a[i] + s * b[i]


@njit(parallel=True, cache=True)
def _traffic0(theta, g, s):  # pragma: no cover - compiled
    for i in prange(theta.size):
        theta[i] = theta[i] + s * g[i]


@njit(parallel=True, cache=True)
def _traffic1(theta, g, a, s):  # pragma: no cover - compiled
    for i in prange(theta.size):
        gi = g[i]
        a[i] = a[i] * s + gi
        theta[i] = theta[i] + s * gi


@njit(parallel=True, cache=True)
def _traffic2(theta, g, a, b, s):  # pragma: no cover - compiled
    for i in prange(theta.size):
        gi = g[i]
        a[i] = a[i] * s + gi
        b[i] = b[i] * s + gi
        theta[i] = theta[i] + s * gi


@njit(parallel=True, cache=True)
def _traffic3(theta, g, a, b, c, s):  # pragma: no cover - compiled
    for i in prange(theta.size):
        gi = g[i]
        a[i] = a[i] * s + gi
        b[i] = b[i] * s + gi
        c[i] = c[i] * s + gi
        theta[i] = theta[i] + s * gi


@njit(parallel=True, cache=True)
def _traffic4(theta, g, a, b, c, d, s):  # pragma: no cover - compiled
    for i in prange(theta.size):
        gi = g[i]
        a[i] = a[i] * s + gi
        b[i] = b[i] * s + gi
        c[i] = c[i] * s + gi
        d[i] = d[i] * s + gi
        theta[i] = theta[i] + s * gi


@njit(parallel=True, cache=True)
def _two_pass1(theta, g, a, b, s):  # pragma: no cover - compiled
    for i in prange(theta.size):
        gi = g[i] + s * theta[i]
        a[i] = a[i] * s + gi
        b[i] = b[i] * s + gi


@njit(parallel=True, cache=True)
def _two_pass2(theta, a, b, s):  # pragma: no cover - compiled
    for i in prange(theta.size):
        theta[i] = theta[i] + s * (a[i] + b[i])


#: Arrays a rule moves beyond ``3 + 2k``: LAMB's two passes (read θ, g, m, v, write
#: m, v; then read θ, m, v, write θ) move 10 where Adam's one moves 7.
EXTRA_TRAFFIC = {"lamb": 3}


def same_traffic(theta, g, state, s, method: str = "") -> None:
    """A rule's memory traffic with trivial arithmetic: read θ, g, state; write θ, state
    (LAMB: its two passes' traffic)."""
    if method == "lamb":
        _two_pass1(theta, g, *state, s)
        _two_pass2(theta, *state, s)
    else:
        (_traffic0, _traffic1, _traffic2, _traffic3, _traffic4)[len(state)](theta, g, *state, s)


def traffic(method: str, k: int) -> int:
    """Arrays of N elements a step of ``method`` (``k`` state arrays) reads or writes."""
    return 3 + 2 * k + EXTRA_TRAFFIC.get(method, 0)


# -- NumPy, written the obvious way -------------------------------------------------------
def numpy_step(method: str, hp: dict) -> Callable:
    """A naive NumPy step ``step(x, g, state, t)`` for ``method``."""
    if method in REFERENCE_AS_NUMPY:  # its own state, initialised as the rule says
        reference = numopt.RULES[method](**hp, backend="numpy")
        return lambda x, g, s, t: reference.step(x, g)
    lr = hp["learning_rate"]
    if method == "gd":
        return lambda x, g, s, t: x.__isub__(lr * g)
    if method == "momentum":
        beta = hp["beta"]

        def momentum(x, g, s, t):
            s[0][:] = beta * s[0] + g
            x -= lr * s[0]

        return momentum
    if method == "rmsprop":
        beta, eps = hp["beta"], hp["eps"]

        def rmsprop(x, g, s, t):
            s[0][:] = beta * s[0] + (1 - beta) * g**2
            x -= lr * g / np.sqrt(s[0] + eps)

        return rmsprop
    b1, b2, eps, wd = hp["beta1"], hp["beta2"], hp["eps"], hp["weight_decay"]
    if method == "lamb":

        def lamb(x, g, s, t):
            m, v = s
            m[:] = b1 * m + (1 - b1) * g
            v[:] = b2 * v + (1 - b2) * g**2
            u = m / (1 - b1**t) / (np.sqrt(v / (1 - b2**t)) + eps) + wd * x
            norm_x, norm_u = np.linalg.norm(x), np.linalg.norm(u)
            x -= lr * (norm_x / norm_u if norm_x > 0 and norm_u > 0 else 1.0) * u

        return lamb

    def adam(x, g, s, t):
        if method == "adamw":
            x *= 1 - lr * wd
        m, v = s
        m[:] = b1 * m + (1 - b1) * g
        v[:] = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        x -= lr * m_hat / (np.sqrt(v_hat) + eps)

    return adam


# -- torch.optim ---------------------------------------------------------------------------
def torch_optimizers(method: str, hp: dict, param) -> dict[str, object]:
    """torch.optim's implementations of ``method`` on ``param`` (single, foreach, fused)."""
    lr = hp["learning_rate"]
    if method == "gd":
        cls, kwargs = torch.optim.SGD, {"lr": lr}
    elif method == "momentum":
        cls, kwargs = torch.optim.SGD, {"lr": lr, "momentum": hp["beta"]}
    elif method == "rmsprop":  # torch puts ε outside the root
        cls, kwargs = torch.optim.RMSprop, {"lr": lr, "alpha": hp["beta"], "eps": hp["eps"]}
    elif method in TORCH_NAMES:  # numopt's names are torch's, but for lr and betas
        cls = getattr(torch.optim, TORCH_NAMES[method])
        kwargs = {
            "lr": lr,
            **{k: v for k, v in hp.items() if k not in ("learning_rate", "beta1", "beta2")},
        }
        if "beta1" in hp:
            kwargs["betas"] = (hp["beta1"], hp["beta2"])
    elif method not in ("adam", "adamw"):  # torch has no Lion, LAMB, nor optax's others
        return {}
    else:
        cls = torch.optim.AdamW if method == "adamw" else torch.optim.Adam
        kwargs = {
            "lr": lr,
            "betas": (hp["beta1"], hp["beta2"]),
            "eps": hp["eps"],
            "weight_decay": hp["weight_decay"],
        }
    out = {}
    for impl, flags in (
        ("torch single", {"foreach": False}),
        ("torch foreach", {"foreach": True}),
        ("torch fused", {"fused": True}),
    ):
        try:
            opt = cls([param], **kwargs, **flags)
            opt.step()  # fused may only fail at the first step on an unsupported device
        except (RuntimeError, TypeError, ValueError):
            continue
        out[impl] = opt
    return out


#: torch.optim's class of each rule whose hyperparameters carry torch's names.
TORCH_NAMES = {
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "adamax": "Adamax",
    "nadam": "NAdam",
    "radam": "RAdam",
    "rprop": "Rprop",
    "asgd": "ASGD",
}


# -- optax ----------------------------------------------------------------------------------
def _jax():
    """jax and optax with 64-bit types enabled, or None when they are not installed."""
    try:
        import jax
        import optax
    except ImportError:  # optional peers
        return None
    jax.config.update("jax_enable_x64", True)  # before any array is made: float64 stays
    return jax, optax


def optax_transform(method: str, hp: dict):
    """optax's implementation of ``method`` with numopt's hyperparameters ``hp``."""
    _, optax = _jax()
    lr = hp["learning_rate"]
    if method == "gd":
        return optax.sgd(lr)
    if method == "momentum":
        return optax.sgd(lr, momentum=hp["beta"], nesterov=False)
    if method == "rmsprop":  # optax: ε inside the root, as numopt's default
        return optax.rmsprop(lr, decay=hp["beta"], eps=hp["eps"])
    if method in OPTAX_MORE:  # the same rule in optax, defaults aside (see OPTAX_MORE)
        return OPTAX_MORE[method](optax, hp)
    kwargs = {"b1": hp["beta1"], "b2": hp["beta2"], "eps": hp["eps"]}
    if method == "adamw":  # decoupled: θ ← θ(1 − ηλ) − η m̂/(√v̂ + ε), as numopt
        return optax.adamw(lr, **kwargs, weight_decay=hp["weight_decay"])
    return optax.adam(lr, **kwargs)


#: optax's version of the rules added in issue 11 (the same update up to details:
#: optax's Adagrad puts ε inside the root; its NAdam has no momentum schedule μ_t;
#: weight decay is left out where optax has none).
OPTAX_MORE = {
    "adagrad": lambda optax, hp: optax.adagrad(
        hp["learning_rate"],
        initial_accumulator_value=hp["initial_accumulator_value"],
        eps=hp["eps"],
    ),
    "adadelta": lambda optax, hp: optax.adadelta(
        hp["learning_rate"], rho=hp["rho"], eps=hp["eps"], weight_decay=hp["weight_decay"]
    ),
    "adamax": lambda optax, hp: optax.adamax(
        hp["learning_rate"], b1=hp["beta1"], b2=hp["beta2"], eps=hp["eps"]
    ),
    "nadam": lambda optax, hp: optax.nadam(
        hp["learning_rate"], b1=hp["beta1"], b2=hp["beta2"], eps=hp["eps"]
    ),
    "radam": lambda optax, hp: optax.radam(
        hp["learning_rate"], b1=hp["beta1"], b2=hp["beta2"], eps=hp["eps"]
    ),
    "rprop": lambda optax, hp: optax.rprop(
        hp["learning_rate"],
        eta_minus=hp["etas"][0],
        eta_plus=hp["etas"][1],
        min_step_size=hp["step_sizes"][0],
        max_step_size=hp["step_sizes"][1],
    ),
    "lamb": lambda optax, hp: optax.lamb(
        hp["learning_rate"],
        b1=hp["beta1"],
        b2=hp["beta2"],
        eps=hp["eps"],
        weight_decay=hp["weight_decay"],
    ),
    "lion": lambda optax, hp: optax.lion(
        hp["learning_rate"], b1=hp["beta1"], b2=hp["beta2"], weight_decay=hp["weight_decay"]
    ),
    # issue 19: the same rules, with the same hyperparameters (optax's b1 is beta1, ...)
    "adabelief": lambda optax, hp: optax.adabelief(
        hp["learning_rate"],
        b1=hp["beta1"],
        b2=hp["beta2"],
        eps=hp["eps"],
        eps_root=hp["eps_root"],
        nesterov=hp["nesterov"],
    ),
    "yogi": lambda optax, hp: optax.yogi(
        hp["learning_rate"], b1=hp["beta1"], b2=hp["beta2"], eps=hp["eps"]
    ),
    "adan": lambda optax, hp: optax.adan(
        hp["learning_rate"],
        b1=hp["beta1"],
        b2=hp["beta2"],
        b3=hp["beta3"],
        eps=hp["eps"],
        eps_root=hp["eps_root"],
        weight_decay=hp["weight_decay"],
    ),
    "adopt": lambda optax, hp: optax.contrib.adopt(
        hp["learning_rate"],
        b1=hp["beta1"],
        b2=hp["beta2"],
        eps=hp["eps"],
        nesterov=hp["nesterov"],
        use_clipping=hp["clipping"],
    ),
    "ademamix": lambda optax, hp: optax.contrib.ademamix(
        hp["learning_rate"],
        b1=hp["beta1"],
        b2=hp["beta2"],
        b3=hp["beta3"],
        alpha=hp["alpha"],
        eps=hp["eps"],
        eps_root=hp["eps_root"],
        weight_decay=hp["weight_decay"],
    ),
    "sign_sgd": lambda optax, hp: optax.sign_sgd(hp["learning_rate"]),
    "signum": lambda optax, hp: optax.signum(hp["learning_rate"], beta=hp["beta"]),
    "prodigy": lambda optax, hp: optax.contrib.prodigy(
        hp["learning_rate"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"]
    ),
}


def optax_step(method: str, hp: dict, x: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    """One jitted optax update of a copy of ``x`` by ``g``; parameters and state donated."""
    jax, optax = _jax()
    tx = optax_transform(method, hp)

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def update(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    params = jax.device_put(x.copy())
    box = [params, tx.init(jax.device_put(x.copy()))]  # a state that keeps x₀ (Prodigy)
    # holds its own buffer: params and state are both donated
    grads = jax.device_put(g)

    def call():
        box[0], box[1] = update(box[0], box[1], grads)
        jax.block_until_ready(box[0])

    return call


# -- measurement ----------------------------------------------------------------------------
def round_robin(
    contenders: dict[str, Callable[[], object]], rounds: int, warm: int = 1, calls: int = 1
) -> dict[str, float]:
    """Median seconds per call of each contender, timed in turn each round over ``calls``
    calls in a row, after ``warm`` calls each (compile or load the cache, warm the
    pages; steady state)."""
    for fn in contenders.values():
        for _ in range(warm):
            fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            times[name].append((time.perf_counter() - start) / calls)
    return {name: float(np.median(ts)) for name, ts in times.items()}


def bandwidth(n: int, dtype, rounds: int) -> dict[str, float]:
    """Bandwidth in bytes/s at size ``n`` of STREAM's triad and copy and of an in-place axpy.

    STREAM counts the bytes a kernel names; triad and copy also pay a hidden read
    of the line they write (write-allocate), which in-place updates — every rule
    here — do not.  The roofline is the best of the three.
    """
    a, b, c = (np.full(n, 1.0, dtype) for _ in range(3))
    s = dtype(0.5)
    med = round_robin(
        {
            "triad": lambda: _triad(a, b, c, s),
            "copy": lambda: _copy(a, b),
            "axpy": lambda: _axpy(a, b, s),
        },
        rounds,
    )
    size = np.dtype(dtype).itemsize * n
    out = {"triad": 3 * size / med["triad"], "copy": 2 * size / med["copy"]}
    out["axpy"] = 3 * size / med["axpy"]
    out["roofline"] = max(out.values())
    return out


def methods(rules=COMPARED) -> dict[str, type]:
    """The rules named (:data:`COMPARED` by default): their ``method=`` name and class."""
    unknown = sorted(set(rules) - set(COMPARED))
    if unknown:
        raise ValueError(f"rules {unknown} are not written out here; valid: {list(COMPARED)}")
    return {name: numopt.RULES[name] for name in rules}


def measure(n: int, dtype, rounds: int, rules=COMPARED) -> list[dict]:
    rows = []
    roof = bandwidth(n, dtype, rounds)
    rng = np.random.default_rng(0)
    g = (rng.standard_normal(n) * 1e-3).astype(dtype)
    for method, cls in methods(rules).items():
        opt = cls()
        hp = {k: v for k, v in opt.hyperparameters.items()}
        k = len(cls.state_names)
        x = rng.standard_normal(n).astype(dtype)
        x_np, state_np = x.copy(), [np.zeros(n, dtype) for _ in range(k)]
        naive = numpy_step(method, hp)
        t_np = [0]

        def numpy_call(naive=naive, x_np=x_np, state_np=state_np, t_np=t_np):
            t_np[0] += 1
            naive(x_np, g, state_np, t_np[0])

        x_roof, state_roof = x.copy(), [np.zeros(n, dtype) for _ in range(k)]
        contenders: dict[str, Callable[[], object] | None] = {
            "numopt": lambda opt=opt, x=x: opt.step(x, g),
            "kernel": bare_kernel(cls, x.copy(), g),
            "roofline": lambda x=x_roof, st=state_roof, m=method: same_traffic(
                x, g, st, dtype(0.5), m
            ),
            "numpy": numpy_call,
        }
        if torch is not None:
            param = torch.from_numpy(x.copy())
            param.grad = torch.from_numpy(g.copy())
            for impl, topt in torch_optimizers(method, hp, param).items():
                contenders[impl] = topt.step
        if _jax() is not None and method not in NO_OPTAX:
            contenders["optax"] = optax_step(method, hp, x, g)
        timed = {name: fn for name, fn in contenders.items() if fn is not None}
        med = round_robin(
            timed, rounds, WARM_STEPS if n <= 10**5 else 1, CALLS if n <= 10**4 else 1
        )
        moved = traffic(method, k) * n * np.dtype(dtype).itemsize
        row = {
            "rule": method,
            "dtype": np.dtype(dtype).name,
            "n": n,
            "numopt_ms": med["numopt"] * 1e3,
            "GB/s": moved / med["numopt"] / 1e9,
            "same_traffic_GB/s": moved / med["roofline"] / 1e9,
            "of_same_traffic": med["roofline"] / med["numopt"],
            "roofline_GB/s": roof["roofline"] / 1e9,
            "triad_GB/s": roof["triad"] / 1e9,
            "copy_GB/s": roof["copy"] / 1e9,
            "axpy_GB/s": roof["axpy"] / 1e9,
            "of_roofline": moved / med["numopt"] / roof["roofline"],
            "numpy_ms": med["numpy"] * 1e3,
            "kernel_ms": med.get("kernel", float("nan")) * 1e3,
        }
        for impl in PEERS:
            row[f"{impl}_ms"] = med[impl] * 1e3 if impl in med else float("nan")
        rows.append(row)
    return rows


def bare_kernel(cls: type, x: np.ndarray, g: np.ndarray) -> Callable[[], object] | None:
    """numopt's own compiled loop called directly on a stepped optimizer's state and
    factors (what ``step()`` adds is the difference), or None for a rule without one
    loop (LAMB's passes, factors computed in Python)."""
    opt = cls()
    opt.step(x, g)
    if opt.spec.passes is not None or opt._c is None:
        return None
    backend = resolve(opt.backend, False, x.size)
    loop = getattr(opt._planned().cpu_loops(False, False), backend)
    state, c = opt._state, opt._c.copy()
    return lambda: loop(x, g, state, c)


#: Calls of each contender before timing at N <= 10**5: the steady state of a
#: training loop (``step()`` takes its fast path after ``numopt.rules.fast_step.AFTER``
#: alike steps).
WARM_STEPS = fast_step.AFTER + 1
#: Calls in a row per timing at N <= 10**4, where one call takes microseconds: the
#: loop of a training step, not one cold call after the other contenders'.
CALLS = 100

#: Peers timed beside numopt (a column each; NaN where one is missing).
PEERS = ("torch single", "torch foreach", "torch fused", "optax")


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'rule':>9} {'dtype':>7} {'N':>6} {'numopt ms':>10} {'GB/s':>6} {'roof':>5} {'same':>5} "
        f"{'×numpy':>7} {'×t-single':>9} {'×t-foreach':>10} {'×t-fused':>9} {'×optax':>7} "
        f"{'+µs':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        t = r["numopt_ms"]

        # what step() adds to the bare loop: microseconds, meaningful where a step is short
        extra = f"{(t - r['kernel_ms']) * 1e3:.2f}" if r["n"] <= 10**4 else "—"

        def ratio(key, t=t, r=r):
            v = r[key] / t
            return "—" if np.isnan(v) else f"{v:.2f}"

        print(
            f"{r['rule']:>9} {r['dtype']:>7} {r['n']:>6.0e} {t:>10.3f} {r['GB/s']:>6.1f} "
            f"{r['of_roofline']:>5.2f} {r['of_same_traffic']:>5.2f} {ratio('numpy_ms'):>7} "
            f"{ratio('torch single_ms'):>9} "
            f"{ratio('torch foreach_ms'):>10} {ratio('torch fused_ms'):>9} "
            f"{ratio('optax_ms'):>7} {extra:>6}"
        )


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [(d, n) for d in ("float32", "float64") for n in sorted({r["n"] for r in rows})]
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 4), sharey=True)
    for ax, (dtype, n) in zip(np.atleast_1d(axes), groups, strict=True):
        sel = [r for r in rows if r["dtype"] == dtype and r["n"] == n]
        labels = [r["rule"] for r in sel]
        xs = np.arange(len(sel))
        series = [("numopt", "numopt_ms"), ("numpy", "numpy_ms")]
        series += [(k, f"{k}_ms") for k in PEERS]
        width = 0.8 / len(series)
        for j, (name, key) in enumerate(series):
            vals = [r[key] for r in sel]
            ax.bar(xs + j * width, vals, width, label=name)
        roof_ms = [
            traffic(r["rule"], len(numopt.RULES[r["rule"]].state_names))
            * r["n"]
            * np.dtype(r["dtype"]).itemsize
            / (r["roofline_GB/s"] * 1e9)
            * 1e3
            for r in sel
        ]
        ax.scatter(xs + 0.4 - width / 2, roof_ms, marker="_", s=400, c="k", label="roofline")
        ax.set_xticks(xs + 0.4 - width / 2, labels, rotation=30)
        ax.set_yscale("log")
        ax.set_title(f"{dtype}, N = {n:.0e}")
    np.atleast_1d(axes)[0].set_ylabel("ms per step (log)")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--small", action="store_true", help="N = 10**3 instead")
    parser.add_argument("--rules", nargs="+", default=list(COMPARED), choices=COMPARED)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--csv", help="write the rows to this CSV file")
    parser.add_argument("--plot", help="draw the table to this PNG (needs matplotlib)")
    args = parser.parse_args()
    sizes = [1000] if args.small else [int(s) for s in args.sizes]
    rounds = max(args.rounds, 21) if args.small else args.rounds
    jax_optax = _jax()
    print(
        f"# {datetime.date.today()}, {platform.machine()} {platform.processor() or ''}, "
        f"numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads), "
        f"numpy {np.__version__}, "
        + (
            f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
            if torch
            else "no torch"
        )
        + (
            f", jax {jax_optax[0].__version__}, optax {jax_optax[1].__version__}"
            if jax_optax
            else ", no jax/optax"
        )
    )
    print(
        f"# median of {rounds} round-robin rounds, after {WARM_STEPS} calls at N <= 1e5 "
        f"(at N <= 1e4 each timing covers {CALLS} calls in a row); ratios are (their "
        "time / numopt's time)"
    )
    print(
        "# roof: fraction of the best STREAM-style bandwidth; same: fraction of a kernel "
        "with the rule's own traffic and trivial arithmetic, timed in the same rounds; "
        "+µs: step() minus numopt's own loop called bare"
    )
    rows = []
    dtypes = [np.dtype(d).type for d in args.dtypes]
    for dtype in dtypes:
        for n in sizes:
            rows += measure(n, dtype, rounds, args.rules)
    for n in sizes:
        for dtype in (np.dtype(d).name for d in dtypes):
            r = next(r for r in rows if r["n"] == n and r["dtype"] == dtype)
            print(
                f"# bandwidth N={n:.0e} {dtype}: triad {r['triad_GB/s']:.1f}, copy "
                f"{r['copy_GB/s']:.1f}, in-place axpy {r['axpy_GB/s']:.1f} GB/s → roofline "
                f"{r['roofline_GB/s']:.1f} GB/s"
            )
    print_table(rows)
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
