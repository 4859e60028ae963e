"""The documentation site builds with warnings as errors: every page, the API
reference of every public name, and the gallery running each example (quick mode)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("sphinx", reason="the docs extra is not installed: pip install -e '.[docs]'")


def test_site_builds_without_warnings(tmp_path):
    env = {**os.environ, "NUMOPT_DOCS_SMOKE": "1", "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    run = subprocess.run(
        [*command, str(ROOT / "docs"), str(tmp_path / "html")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    html = tmp_path / "html"
    for page in (
        "index.html",
        "reference/generated/numopt.minimize.html",
        "reference/generated/numopt.Adam.html",
        "auto_examples/index.html",
        "options.html",
        "benchmarks.html",
    ):
        assert (html / page).exists(), page
