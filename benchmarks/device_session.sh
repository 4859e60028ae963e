#!/usr/bin/env bash
# Everything numopt checks on a real GPU, in one command for a session lent a GPU
# machine (15 minutes of device time in all, each start counted):
#
#     bash benchmarks/device_session.sh          # as the device tool's run command
#
# The machine reaches no network, so nothing is installed: its image's python3 holds
# numba, numba-cuda, CuPy, torch, JAX, optax, SciPy, pytest and hypothesis, and numopt
# comes from this checkout through PYTHONPATH.  About 9 minutes in all, each step under
# its own timeout (570 s in all), so that a hang in one leaves the others their time.  Results land in
# $OUT (the device tool brings that folder back; at most 8 files):
#
#   env.txt            nvidia-smi, the versions
#   tests.txt          NUMOPT_TEST_GPU=1 pytest tests/cudasim: every CUDA test, on the GPU
#   gpu-compare-*.md   every rule against the copy bandwidth and torch fused (+ .json, .log)
#   gpu-loop.txt       minimize's cost per iteration on the device against its parts (+ .log)
#   many-gpu.txt       minimize_many's rows on the GPU (CuPy) against JAX's vmap, Adam
#
# The defaults can be narrowed for a rerun: PYTEST_ARGS, COMPARE_ARGS, LOOP_ARGS, MANY_ARGS
# (a dry run here: NUMBA_ENABLE_CUDASIM=1 PYTEST_ARGS=tests/cudasim/test_gpu_benchmark.py
# COMPARE_ARGS=--smoke LOOP_ARGS=--smoke MANY_ARGS=--smoke PYTEST_TIMEOUT= OUT=/tmp/x bash ...).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/numopt-device}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-/tmp/numopt-numba-cache}
PY=${PY:-python3}
PYTEST_ARGS=${PYTEST_ARGS:-tests/cudasim}
PYTEST_TIMEOUT=${PYTEST_TIMEOUT---timeout=120}
COMPARE_ARGS=${COMPARE_ARGS:---rounds 5}
LOOP_ARGS=${LOOP_ARGS:-}
MANY_ARGS=${MANY_ARGS:---rounds 3}
[ -n "${NUMBA_ENABLE_CUDASIM:-}" ] || export NUMOPT_TEST_GPU=1
# --timeout needs pytest-timeout (in the image's list); without it pytest would refuse
"$PY" -c "import pytest_timeout" 2>/dev/null || PYTEST_TIMEOUT=

{
  date -u
  nvidia-smi || echo "no nvidia-smi"
  "$PY" - <<'EOF'
import importlib, platform
print("python", platform.python_version())
for name in ("numpy", "scipy", "numba", "numba_cuda", "llvmlite", "cupy", "torch", "jax", "optax"):
    try:
        print(name, importlib.import_module(name).__version__)
    except Exception as exc:  # a missing peer is a finding, not a failure
        print(name, "missing:", exc)
from numba import cuda
print("cuda available:", cuda.is_available())
if cuda.is_available():
    cuda.detect()
EOF
} > "$OUT/env.txt" 2>&1

# shellcheck disable=SC2086 # (the argument lists split on purpose)
timeout 240 "$PY" -m pytest -q -rfE $PYTEST_TIMEOUT $PYTEST_ARGS > "$OUT/tests.txt" 2>&1
echo "exit status $?" >> "$OUT/tests.txt"

# shellcheck disable=SC2086
timeout 180 "$PY" benchmarks/gpu_compare.py $COMPARE_ARGS --out "$OUT" > "$OUT/gpu-compare.log" 2>&1
echo "exit status $?" >> "$OUT/gpu-compare.log"

# shellcheck disable=SC2086
timeout 90 "$PY" benchmarks/gpu_loop.py $LOOP_ARGS --out "$OUT/gpu-loop.txt" > "$OUT/gpu-loop.log" 2>&1
echo "exit status $?" >> "$OUT/gpu-loop.log"

# shellcheck disable=SC2086
# (its printed tables, header included, and its log in one file: 8 files come back at most)
timeout 60 "$PY" benchmarks/many.py --jobs adam --no-scaling $MANY_ARGS \
  --only "numopt vectorized cuda" "jax vmap" "numopt vectorized" > "$OUT/many-gpu.txt" 2>&1
echo "exit status $?" >> "$OUT/many-gpu.txt"

tail -n 3 "$OUT/tests.txt" "$OUT/gpu-compare.log" "$OUT/gpu-loop.log" "$OUT/many-gpu.txt"
ls -l "$OUT"
