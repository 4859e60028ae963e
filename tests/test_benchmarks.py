"""Smoke test of the asv suite: every benchmark runs once at its smallest size.

CI runs this (asv itself is in the test extra), so a broken benchmark fails CI
instead of showing up as a gap in the benchmark history.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODULES = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))
PREFIXES = ("time_", "peakmem_", "track_", "mem_")


def _cases():
    for name in MODULES:
        module = importlib.import_module(f"benchmarks.{name}")
        for attr, obj in vars(module).items():
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                methods = [m for m in vars(obj) if m.startswith(PREFIXES)]
                params = getattr(obj, "params", ())
                grid = list(itertools.product(*params)) if params else [()]
                # every rule (the first parameter where there is one), at the smallest sizes
                firsts = params[0] if params else [None]
                for first, m in itertools.product(firsts, methods):
                    combos = [p for p in grid if not p or p[0] == first]
                    small = min(combos, key=lambda p: [v for v in p if isinstance(v, int)])
                    yield pytest.param(obj, m, small, id=f"{name}.{attr}.{m}{list(small)}")
            elif attr.startswith("timeraw_"):
                yield pytest.param(None, obj, (), id=f"{name}.{attr}")


@pytest.mark.parametrize(("cls", "method", "params"), list(_cases()))
def test_benchmark_runs_once(cls, method, params, monkeypatch):
    if cls is None:  # timeraw_: code for a fresh interpreter
        code = method()
        compile(code, method.__name__, "exec")
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
        return
    module = sys.modules[cls.__module__]
    if hasattr(module, "PEAKMEM_N"):
        monkeypatch.setattr(module, "PEAKMEM_N", 1000)
    bench = cls()
    try:
        if hasattr(bench, "setup"):
            bench.setup(*params)
    except NotImplementedError as exc:
        pytest.skip(f"benchmark skips itself: {exc}")
    getattr(bench, method)(*params)


def test_asv_check():
    pytest.importorskip("asv", reason="asv comes with the 'test' extra")
    proc = subprocess.run(
        [sys.executable, "-m", "asv", "check", "--python=same"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and "No problems found" in proc.stdout, proc.stdout + proc.stderr
