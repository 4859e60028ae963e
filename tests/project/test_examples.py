"""Every script in examples/ runs (in its quick ``--smoke`` mode) and writes what it promises.

Each script runs in a fresh interpreter, as a user would run it, with ``--out`` in a
temporary folder.  Scripts that need an optional package (matplotlib: the ``plot``
extra; scikit-learn) are skipped, with the reason, where it is missing.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

#: script -> (files written under --out in smoke mode, optional modules it needs)
SCRIPTS = {
    "rosenbrock.py": (["paths.png", "history.png"], ["matplotlib"]),
    "logistic_regression.py": (["training.png"], ["matplotlib", "sklearn"]),
    "adam_l2_vs_adamw.py": (["decay.png"], ["matplotlib"]),
    "schedules.py": (["schedules.png"], ["matplotlib"]),
    "custom_loop.py": (["training.png", "checkpoint.npz"], ["matplotlib"]),
    "curve_fit_port.py": (["convergence.png"], ["matplotlib"]),
    "pixel_fit.py": (["maps.png"], ["matplotlib"]),
}
INSTALL = {"matplotlib": "pip install 'numopt[plot]'", "sklearn": "pip install scikit-learn"}


def _run(args: list[str], tmp_path: Path, code: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, *args]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)


def _skip_without(modules: list[str]) -> None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"needs {module}: {INSTALL[module]}")


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_runs_in_smoke_mode(script, tmp_path):
    files, needs = SCRIPTS[script]
    _skip_without(needs)
    out = tmp_path / "out"
    proc = _run([str(EXAMPLES / script), "--smoke", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    for name in files:
        path = out / name
        assert path.is_file() and path.stat().st_size > 1000, f"{script} did not write {name}"
    if any(name.endswith(".png") for name in files):
        assert "wrote" in proc.stdout
    assert not list(out.glob("*.tmp"))


def test_quickstart_runs(tmp_path):
    proc = _run([str(EXAMPLES / "quickstart.py")], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    heads = [line.split(":")[0].strip() for line in lines if line[:1] not in (" ", "")]
    assert heads[:3] == ["L-BFGS-B", "Adam", "mini-batch"], proc.stdout
    assert "terminated successfully" in lines[0], proc.stdout


def test_logistic_regression_without_sklearn_skips_cleanly(tmp_path):
    """Where scikit-learn is missing, a smoke run says what to install and exits 0."""
    hide = (
        "import runpy, sys; sys.modules['sklearn'] = None; "
        "sys.argv = sys.argv[1:]; sys.path.insert(0, sys.argv[0].rpartition('/')[0]); "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    script = str(EXAMPLES / "logistic_regression.py")
    proc = _run([script, "--smoke", "--out", str(tmp_path)], tmp_path, code=hide)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "scikit-learn" in proc.stderr and "pip install" in proc.stderr
    full = _run([script, "--out", str(tmp_path)], tmp_path, code=hide)
    assert full.returncode == 1


@pytest.mark.parametrize("script", sorted([*SCRIPTS, "quickstart.py"]))
def test_example_says_what_it_shows_and_how_to_run_it(script):
    doc = ast.get_docstring(ast.parse((EXAMPLES / script).read_text()))
    assert doc and f"python examples/{script}" in doc
    if script != "quickstart.py":
        assert "--smoke" in doc and "--out" in doc


def test_every_example_is_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == {*SCRIPTS, "quickstart.py"}
