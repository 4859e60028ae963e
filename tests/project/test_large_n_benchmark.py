"""Smoke test of ``benchmarks/large_n.py`` (minimize against a hand-written loop at
large N): its three modes run on a small size and write their results file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.mark.parametrize("mode", [[], ["--memory"], ["--parts"]], ids=["time", "memory", "parts"])
def test_large_n_runs_and_writes_its_table(tmp_path, mode):
    from benchmarks import large_n

    out = tmp_path / "large-n.txt"
    args = ["--sizes", "1e4", "--rules", "gd", "--rounds", "1", "--out", str(out)]
    lines = large_n.main(args + mode)
    rows = [line for line in lines if line.lstrip().startswith("1e+04")]
    assert len(rows) == 1 and "gd" in rows[0]
    assert out.read_text().splitlines() == lines
