"""Smoke test of the asv suite (``benchmarks/bench_*.py``), so a broken benchmark fails CI.

Every benchmark runs ``setup`` and its body once, at its smallest parameter
combination and at each value of every non-numeric parameter (every rule, every
backend, every dtype, one at a time); numeric parameters (sizes) only at their
smallest.  A ``setup`` that raises ``NotImplementedError`` (asv's "skip this
combination", e.g. CUDA without a GPU) skips the case.  ``timeraw_`` benchmarks
must return code that compiles and runs.  Then ``asv check`` imports the suite as
asv does.  The scripts outside the suite have their own smoke tests (here
``benchmarks/bounds.py`` and ``benchmarks/lbfgs.py``; ``test_loop_peers_benchmark.py``).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODULES = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))
PREFIXES = ("time_", "peakmem_", "mem_", "track_")
#: Module constants shrunk for the smoke test (module -> {name: value}).
SMALL = {"bench_minimize": {"PEAKMEM_N": 1000, "ALLOC_N": 10_000, "LARGE_N": 10_000}}


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _combinations(params) -> list[tuple]:
    """The smallest combination, then each other value of each non-numeric parameter."""
    if not params:
        return [()]
    if not isinstance(params[0], (list, tuple)):  # a single parameter, given flat
        params = (params,)
    base = [min(values) if _numeric(values) else values[0] for values in params]
    combos = [tuple(base)]
    for i, values in enumerate(params):
        if not _numeric(values):
            combos += [(*base[:i], v, *base[i + 1 :]) for v in values[1:]]
    return combos


def _cases():
    for name in MODULES:
        module = importlib.import_module(f"benchmarks.{name}")
        for attr, obj in vars(module).items():
            if attr.startswith("timeraw_") and inspect.isfunction(obj):
                yield pytest.param(name, None, attr, (), id=f"{name}.{attr}")
            elif inspect.isfunction(obj) and attr.startswith(PREFIXES):
                for combo in _combinations(getattr(obj, "params", ())):
                    yield pytest.param(name, None, attr, combo, id=f"{name}.{attr}{list(combo)}")
            elif inspect.isclass(obj) and obj.__module__ == module.__name__:
                methods = [m for m in vars(obj) if m.startswith((*PREFIXES, "timeraw_"))]
                for combo in _combinations(getattr(obj, "params", ())):
                    for m in methods:
                        ident = f"{name}.{attr}.{m}{list(combo)}"
                        yield pytest.param(name, attr, m, combo, id=ident)


def _timeraw_script(code) -> str:
    """A script running a ``timeraw_`` benchmark's (stmt, setup) as asv would."""
    stmt, setup = code if isinstance(code, tuple) else (code, "")
    for part in (stmt, setup):
        assert isinstance(part, str), f"timeraw_ must return code (str), got {part!r}"
        compile(textwrap.dedent(part), "<timeraw>", "exec")
    return textwrap.dedent(setup) + "\n" + textwrap.dedent(stmt)


@pytest.mark.parametrize(("module", "cls", "name", "params"), list(_cases()))
def test_benchmark_runs_once(module, cls, name, params, monkeypatch):
    mod = importlib.import_module(f"benchmarks.{module}")
    for constant, value in SMALL.get(module, {}).items():
        monkeypatch.setattr(mod, constant, value)
    if cls is None and name.startswith("timeraw_"):
        script = _timeraw_script(getattr(mod, name)())
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        return
    owner = getattr(mod, cls)() if cls else mod
    setup = getattr(owner, "setup", None)
    try:
        if setup is not None:
            setup(*params)
    except NotImplementedError as exc:
        pytest.skip(f"setup skips this combination: {exc}")
    try:
        result = getattr(owner, name)(*params)
    finally:
        teardown = getattr(owner, "teardown", None)
        if teardown is not None:
            teardown(*params)
    if name.startswith("track_"):
        assert isinstance(result, (int, float)) and result == result, result  # a number, not NaN


def test_every_rule_has_tuned_settings():
    from benchmarks.common import SETTINGS, rule_names, settings

    for problem in SETTINGS:
        # "logistic" is run with mini-batches only, which full-batch rules (Rprop) refuse
        rules = rule_names(batched=True)
        if problem != "logistic":
            rules += rule_names()
        for rule in rules:
            settings(problem, rule)  # NotImplementedError names the missing entry


def test_fused_steps_allocate_no_temporaries(monkeypatch):
    """The claim ``bench_minimize.StepAllocation`` tracks: the kernels allocate no arrays."""
    from benchmarks import bench_minimize
    from benchmarks.common import rule_names

    n = 10_000
    monkeypatch.setattr(bench_minimize, "ALLOC_N", n)
    for rule in rule_names():
        for backend in ("serial", "parallel", "numpy"):
            bench = bench_minimize.StepAllocation()
            bench.setup(rule, backend)
            peak = bench.track_peak_bytes(rule, backend)
            if backend == "numpy":  # the reference: the meter sees its temporaries
                assert peak >= 8 * n, (rule, backend, peak)
            else:
                assert peak < 4096, (rule, backend, peak)


def test_asv_check():
    if importlib.util.find_spec("asv") is None:
        pytest.skip("asv is not installed (it comes with the 'test' and 'bench' extras)")
    proc = subprocess.run(
        [sys.executable, "-m", "asv", "check", "--python=same"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Traceback" not in out, out


def test_bounds_script_runs(capsys):
    import runpy

    script = ROOT / "benchmarks" / "bounds.py"
    runpy.run_path(str(script), run_name="bench")["main"](1000, 2)
    out = capsys.readouterr().out
    assert "Adam parallel bounded (fused)" in out and "projected_grad_norm" in out


def test_lbfgs_script_runs(tmp_path, capsys):
    """``benchmarks/lbfgs.py --smoke``: the table, the own-cost lines, the results file."""
    from benchmarks import lbfgs

    out = tmp_path / "lbfgs.txt"
    only = ["numopt compiled", "numopt python", "scipy"]  # the peers: seconds of compiling
    record = lbfgs.main(["--smoke", "--out", str(out), "--only", *only])
    rows = record["results"][0]["rows"]
    assert set(rows) == set(only), record["results"][0]
    # the same iterations as SciPy's L-BFGS-B (36 iterations, 44 evaluations in 2-D)
    assert rows["numopt compiled"]["nit"] == rows["numopt python"]["nit"] == rows["scipy"]["nit"]
    assert rows["numopt compiled"]["nfev"] == rows["scipy"]["nfev"]
    assert all(r["fun"] < 1e-10 for r in rows.values())
    assert "own_per_iter_s" in rows["numopt python"] and "own_per_iter_s" in rows["scipy"]
    text = out.read_text()
    assert text.startswith("# benchmarks/lbfgs.py, ") and "| numopt compiled |" in text
    assert "### Targets" in text and "Python loop's own cost" in text
    assert "| scipy |" in capsys.readouterr().out


def test_many_script_runs(tmp_path, capsys):
    """``benchmarks/many.py --smoke``: both tables, the scaling table, the results file."""
    from benchmarks import many

    out = tmp_path / "many.txt"
    only = ["numopt many", "numopt many, 1 thread", "scipy loop"]  # the peers: compiling
    record = many.main(["--smoke", "--out", str(out), "--only", *only])
    adam, lbfgs = record["adam"]["rows"], record["lbfgs"]["rows"]
    assert set(adam) == {"numopt many", "numopt many, 1 thread"}
    assert set(lbfgs) == set(only)
    # the threads change nothing; SciPy's L-BFGS-B makes the same iterations
    np.testing.assert_array_equal(adam["numopt many"]["X"], adam["numopt many, 1 thread"]["X"])
    np.testing.assert_array_equal(lbfgs["numopt many"]["nit"][:8], lbfgs["scipy loop"]["nit"])
    assert lbfgs["numopt many"]["gtol_met"] > 0.9
    assert set(record["scaling"]) == {16, 64}
    text = out.read_text()
    assert text.startswith("# benchmarks/many.py, ") and "| numopt many |" in text
    assert "### The issue's targets" in text and "| scipy loop | 8 |" in capsys.readouterr().out


def test_startup_script_runs(tmp_path):
    """``benchmarks/startup.py --smoke``: every snippet timed in a fresh interpreter."""
    from benchmarks import startup

    out = tmp_path / "startup.txt"
    times = startup.main(["--smoke", "--out", str(out)])
    assert set(times) == set(startup.SNIPPETS)
    assert all(len(ts) == 1 and 0 < ts[0] < 60 for ts in times.values())
    text = out.read_text()
    assert text.startswith("# benchmarks/startup.py, ") and "| import numopt |" in text


def test_muon_script_runs(tmp_path):
    """``benchmarks/muon.py --smoke``: numopt's step and the bare matrix products, n = 64."""
    from benchmarks import muon

    out = tmp_path / "muon.txt"
    record = muon.main(["--smoke", "--out", str(out)])
    assert set(record[64]) == {"numopt float32", "matmuls only"}
    text = out.read_text()
    assert text.startswith("# benchmarks/muon.py, ") and "numopt float32 / matmuls only" in text


def test_sparse_adam_script_runs(tmp_path):
    """``benchmarks/sparse_adam.py --smoke``: numopt's sparse step and dense Adam, no torch."""
    from benchmarks import sparse_adam

    out = tmp_path / "sparse.txt"
    record = sparse_adam.main(["--smoke", "--out", str(out)])
    assert set(record[(1000, 64)]) == {"numopt sparse", "numopt Adam, dense"}
    text = out.read_text()
    assert text.startswith("# benchmarks/sparse_adam.py, ") and "## R = 1000, k = 64" in text


def test_adafactor_script_runs(tmp_path):
    """``benchmarks/adafactor.py --smoke``: numopt's Adafactor and Adam steps, n = 64."""
    from benchmarks import adafactor

    out = tmp_path / "adafactor.txt"
    record = adafactor.main(["--smoke", "--out", str(out)])
    assert set(record[64]) == {"numopt", "numopt Adam"}
    assert out.read_text().startswith("# benchmarks/adafactor.py, ")


def test_prodigy_script_runs(tmp_path):
    """``benchmarks/prodigy.py --smoke``: numopt's Prodigy and AdamW steps, N = 1000."""
    from benchmarks import prodigy

    out = tmp_path / "prodigy.txt"
    record = prodigy.main(["--smoke", "--out", str(out)])
    assert set(record[1000]) == {"numopt", "numopt AdamW"}
    assert out.read_text().startswith("# benchmarks/prodigy.py, ")
