#!/usr/bin/env bash
# The GPU check of twofold in one call, for a machine with an NVIDIA GPU:
#   scripts/device_check.sh OUT_DIR [--build DIR] [--skip-bench] [--dry-run]
# 1. the device: nvidia-smi, driver and runtime versions; stops when the CUDA backend
#    is not usable (`twofold info` says why, e.g. a driver older than the runtime);
# 2. builds with CUDA for the detected architecture (or uses --build DIR as it is);
# 3. the GPU tests with TWOFOLD_REQUIRE_GPU=1 (a skip is a failure there), and the step
#    loop's allocations and host waits per step on CUDA against the CPU (step-counts.log);
# 4. compute-sanitizer: memcheck (leak check on) and initcheck over the GPU tests,
#    racecheck over the resampling/reduction tests, memcheck over one small
#    `twofold sample` per sampler;
# 5. through the command line: every sampler on the GPU against the CPU (maps within
#    float-rounding tolerance), and the same GPU run with two --wave-chains values;
# 6. twofold_bench --backend cuda --size gpu (JSON: OUT_DIR/gpu-<device>.json);
# then a summary. Any failure makes it exit 1 naming the failing items; every log is
# in OUT_DIR. --dry-run needs no GPU: it prints the plan and runs every step that can
# run on the CPU (data, the command-line runs on the CPU backend, the comparisons, with
# bit-identical maps required for two wave sizes there), so CI checks the script.
set -uo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
out="" build="" dry=0 bench=1
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --skip-bench) bench=0 ;;
    --build) build="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "device_check: unknown option '$1'" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "device_check: one OUT_DIR only (got '$out' and '$1')" >&2; exit 2; }; out="$1" ;;
  esac
  shift
done
[ -n "$out" ] || { echo "usage: scripts/device_check.sh OUT_DIR [--build DIR] [--skip-bench] [--dry-run]" >&2; exit 2; }
mkdir -p "$out" || { echo "device_check: cannot create '$out'" >&2; exit 2; }
out="$(cd "$out" && pwd)"
failures=()
fail() { failures+=("$1"); echo "FAILED: $1" | tee -a "$out/summary.txt"; }
planned=0
pass() { # a step that passed, or in a dry run one that was only printed
  if [ "$planned" = 1 ]; then echo "planned (dry run): $1"; else echo "ok: $1"; fi | tee -a "$out/summary.txt"
  planned=0
}
step() { echo; echo "== $1" | tee -a "$out/summary.txt"; }
gpu() { # a GPU-only command: run it, or in a dry run say what would run
  if [ "$dry" = 1 ]; then
    echo "dry run, would run: $*" | tee -a "$out/summary.txt" >&2
    planned=1
    return 0
  fi
  "$@"
}
: >"$out/summary.txt"

step "1. device"
backend=cuda
if [ "$dry" = 1 ]; then
  backend=cpu
  echo "dry run: the GPU steps are printed, the command-line checks run on the CPU backend" | tee -a "$out/summary.txt"
else
  if ! nvidia-smi >"$out/nvidia-smi.txt" 2>&1; then
    echo "device_check: nvidia-smi failed (no NVIDIA driver?):" >&2; cat "$out/nvidia-smi.txt" >&2; exit 1
  fi
  head -15 "$out/nvidia-smi.txt"
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
  device=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr ' ' '-' | tr -cd 'A-Za-z0-9_-')
  echo "compute capability ${arch}, device ${device}, $(nvcc --version | tail -2 | head -1)" | tee -a "$out/summary.txt"
fi

step "2. build"
if [ -z "$build" ]; then
  build="$src/build-device-check"
  archs="${arch:-90}"
  cmake_flags=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$archs")
  [ "$dry" = 1 ] && cmake_flags+=(-DTWOFOLD_ENABLE_CUDA=OFF)
  if ! { cmake -S "$src" -B "$build" -G Ninja "${cmake_flags[@]}" && cmake --build "$build" -j"$(nproc)"; } \
      >"$out/build.log" 2>&1; then
    tail -30 "$out/build.log" >&2; echo "device_check: the build failed (log: $out/build.log)" >&2; exit 1
  fi
fi
cli="$build/twofold"
[ -x "$cli" ] || { echo "device_check: no twofold program in '$build'" >&2; exit 1; }
"$cli" info | tee "$out/info.txt"
if [ "$dry" = 0 ] && ! grep -q "^cuda: available" "$out/info.txt"; then
  echo "device_check: the CUDA backend is not usable here: $(grep '^cuda:' "$out/info.txt")" >&2
  echo "  (a driver older than the CUDA runtime of this build is the usual cause; see nvidia-smi.txt)" >&2
  exit 1
fi

step "3. GPU tests (TWOFOLD_REQUIRE_GPU=1)"
if gpu env TWOFOLD_REQUIRE_GPU=1 ctest --test-dir "$build" -L gpu --output-on-failure >"$out/gpu-tests.log" 2>&1; then
  pass "GPU tests"
else
  fail "GPU tests (log: gpu-tests.log)"
fi
# The label includes the Python package's CUDA tests (PythonCuda), which exist only
# when the build found a python3 with nanobind: their absence is a failure here.
if [ "$dry" = 0 ] && ! ctest --test-dir "$build" -N -R '^PythonCuda$' | grep -q "Total Tests: 1"; then
  fail "the Python package was not built, so its CUDA tests did not run (install nanobind and pytest)"
fi
# The step loop's allocations and host waits per 20 levels on CUDA and on the CPU,
# per sampler and per operator (GpuStepLoop.* prints them; the ctest run above judged them).
if gpu env TWOFOLD_REQUIRE_GPU=1 "$build/tests/twofold_gpu_tests" --gtest_filter='GpuStepLoop.*' >"$out/step-counts.log" 2>&1; then
  pass "allocations and host waits per step (step-counts.log)"
else
  fail "allocations and host waits per step (log: step-counts.log)"
fi

step "4. compute-sanitizer"
sanitize() { # name, tool options..., -- command...
  local name="$1"; shift
  local opts=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  if gpu compute-sanitizer --error-exitcode 99 "${opts[@]}" "$@" >"$out/sanitizer-$name.log" 2>&1; then
    pass "compute-sanitizer $name"
  else
    fail "compute-sanitizer $name (log: sanitizer-$name.log)"
  fi
}
gpu_tests="$build/tests/twofold_gpu_tests"
sanitize memcheck --tool memcheck --leak-check full -- env TWOFOLD_REQUIRE_GPU=1 "$gpu_tests"
sanitize initcheck --tool initcheck -- env TWOFOLD_REQUIRE_GPU=1 "$gpu_tests"
sanitize racecheck --tool racecheck -- env TWOFOLD_REQUIRE_GPU=1 "$gpu_tests" \
  --gtest_filter='GpuParity.Resampling*:GpuParity.Normals*'

step "5. samplers through the command line"
data="$out/data"
mkdir -p "$data"
if ! python3 - "$data" <<'EOF' >"$out/data.log" 2>&1; then
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
H, W = 16, 16
ky, kx = np.meshgrid(np.arange(H) - H // 2, np.arange(W) - W // 2, indexing="ij")
spectrum = (1.0 / (1.0 + 0.05 * (kx**2 + ky**2))).astype(np.float32)
mask = np.zeros((H, W), np.float32)
mask[:, [0, 3, 6, 7, 8, 9, 12]] = 1
k = (rng.standard_normal((H, W)) + 1j * rng.standard_normal((H, W))).astype(np.complex64) * np.sqrt(spectrum / 2)
np.save(f"{d}/kspace.npy", (k * mask).astype(np.complex64))
np.save(f"{d}/mask.npy", mask)
np.save(f"{d}/spectrum.npy", spectrum)
np.save(f"{d}/mean.npy", np.zeros((H, W), np.complex64))
EOF
  fail "test data (log: data.log)"
fi
compare() { # name, folder a, folder b, relative tolerance (0: bit-identical)
  if python3 - "$2" "$3" "$4" <<'EOF' >"$out/compare-$1.log" 2>&1; then
import sys
import numpy as np
a, b, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
worst = 0.0
for name in ("mean.npy", "total_variance.npy", "ambiguity.npy", "estimation.npy"):
    x, y = np.load(f"{a}/{name}"), np.load(f"{b}/{name}")
    if x.shape != y.shape:
        sys.exit(f"{name}: shapes {x.shape} and {y.shape}")
    scale = max(float(np.abs(y).max()), 1e-30)
    err = float(np.abs(x.astype(np.complex128) - y).max()) / scale
    worst = max(worst, err)
    print(f"{name}: worst relative difference {err:.3g}")
    if err > tol or not np.all(np.isfinite(x)):
        sys.exit(f"{name}: {err:.3g} > {tol:g} (or not finite)")
print(f"worst {worst:.3g} <= {tol:g}")
EOF
    pass "$1 ($(tail -1 "$out/compare-$1.log"))"
  else
    fail "$1 (log: compare-$1.log)"
  fi
}
run_sample() { # sampler, backend, wave chains, out folder
  "$cli" sample --kspace "$data/kspace.npy" --mask "$data/mask.npy" --prior-mean "$data/mean.npy" \
    --prior-spectrum "$data/spectrum.npy" --sigma 0.05 --sampler "$1" --backend "$2" --runs 4 --chains 16 \
    --levels 40 --wave-chains "$3" --seed 3 --no-report --out "$4" >"$4.log" 2>&1
}
for s in exact pto langevin dps pigdm ddrm ddnm smc; do
  if ! run_sample "$s" cpu 0 "$out/cpu-$s"; then fail "$s on the CPU (log: cpu-$s.log)"; continue; fi
  if ! run_sample "$s" "$backend" 0 "$out/$backend-$s"; then fail "$s on $backend (log: $backend-$s.log)"; continue; fi
  if ! run_sample "$s" "$backend" 32 "$out/$backend-$s-waves"; then
    fail "$s on $backend with 32-chain waves (log: $backend-$s-waves.log)"; continue
  fi
  if [ "$dry" = 1 ]; then
    compare "$s-waves" "$out/$backend-$s-waves" "$out/$backend-$s" 0  # the CPU promise: the same bits
  else
    # CUDA: cuFFT plans per batch, cuBLAS and CUB choices, fused multiply-adds: float rounding.
    # smc resamples on random thresholds, so one flipped ancestor moves a run: compared loosely.
    tol=1e-3; [ "$s" = smc ] && tol=0.2
    compare "$s-waves" "$out/$backend-$s-waves" "$out/$backend-$s" "$tol"
    compare "$s-cpu-gpu" "$out/$backend-$s" "$out/cpu-$s" "$tol"
    sanitize "sample-$s" --tool memcheck -- "$cli" sample --kspace "$data/kspace.npy" --mask "$data/mask.npy" \
      --prior-mean "$data/mean.npy" --prior-spectrum "$data/spectrum.npy" --sigma 0.05 --sampler "$s" \
      --backend cuda --runs 2 --chains 4 --levels 5 --no-report --out "$out/sanitized-$s"
  fi
done

step "6. benchmark"
if [ "$bench" = 1 ]; then
  if gpu "$build/bench/twofold_bench" --backend cuda --size gpu --out "$out/gpu-${device:-device}.json" \
      2>"$out/bench.log"; then
    pass "benchmark (gpu-${device:-device}.json)"
  else
    fail "benchmark (log: bench.log)"
  fi
else
  echo "skipped (--skip-bench)" | tee -a "$out/summary.txt"
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
  echo "device_check: ${#failures[@]} failure(s):" | tee -a "$out/summary.txt"
  printf '  %s\n' "${failures[@]}" | tee -a "$out/summary.txt"
  exit 1
fi
echo "device_check: all checks passed (summary: $out/summary.txt)"
