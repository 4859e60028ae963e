"""``benchmarks/gpu_compare.py`` and ``gpu_loop.py`` keep working: their ``--smoke``
mode in the simulator.

On a real GPU (``NUMOPT_TEST_GPU=1``) the same tests make tiny real runs instead
(N = 10⁴, 2 rounds), which check the event timing and torch's contenders too.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from numba import config

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numopt  # noqa: E402
from benchmarks import gpu_compare, gpu_loop  # noqa: E402


def test_gpu_benchmark_runs(tmp_path, capsys):
    if config.ENABLE_CUDASIM:
        argv = ["--smoke", "--dtypes", "float32"]
    else:  # pragma: no cover - real GPU
        argv = ["--sizes", "1e4", "--rounds", "2"]
    record = gpu_compare.main([*argv, "--out", str(tmp_path)])
    names = gpu_compare.rule_names()
    assert {r["rule"] for r in record["rows"]} == set(names) <= set(numopt.RULES)
    for row in record["rows"]:
        assert row["numopt_s"] > 0 and row["bytes"] >= 3 * row["n"] * 4
    out = capsys.readouterr().out
    assert "| rule | dtype | N |" in out and record["device"]["name"] in out
    written = sorted(p.suffix for p in tmp_path.iterdir())
    assert written == [".json", ".md"]
    saved = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert saved["smoke"] == bool(config.ENABLE_CUDASIM) and len(saved["rows"]) == len(names)


def test_gpu_loop_benchmark_runs(tmp_path, capsys):
    out = tmp_path / "loop.txt"
    if config.ENABLE_CUDASIM:
        argv = ["--smoke"]
    else:  # pragma: no cover - real GPU
        argv = ["--sizes", "1e4", "--steps", "20", "--rounds", "2"]
    lines = gpu_loop.main([*argv, "--out", str(out)])
    row = lines[-1].split()
    assert float(row[0]) == (64 if config.ENABLE_CUDASIM else 1e4)
    loop, objective, step, own, fixed = map(float, row[1:])
    assert objective > 0 and step > 0
    assert all(map(math.isfinite, (loop, fixed)))  # (differences of noisy times: any sign)
    assert abs(loop - objective - step - own) < 0.2  # (rounded to 0.1 µs)
    assert out.read_text().splitlines() == lines
    assert lines[-1] in capsys.readouterr().out
