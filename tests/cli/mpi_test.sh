#!/usr/bin/env bash
# Scale-out over MPI processes (issue 17, docs/scaling.md): `mpirun -n P twofold sample
# ... --mpi` writes the files of the single-process run byte for byte (P = 2 and 3,
# cascade and replicate, 7 runs: uneven shares); a process that fails (bad input on
# one rank) or is killed (SIGKILL mid-run) ends the whole job with a non-zero exit and
# nothing written (the old folder intact). Usage: mpi_test.sh TWOFOLD_BINARY MPIEXEC WORK_DIR
set -u
cli=$1
mpiexec=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
# CI runs as root; OpenMPI refuses that unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

python3 - <<'PY' || fail "could not write the inputs (python3 with numpy)"
import numpy as np
rng = np.random.default_rng(2)
H = W = 20
mask = np.zeros((H, W), np.float32)
mask[:, ::3] = 1
mask[:, W // 2 - 1:W // 2 + 2] = 1
x = rng.standard_normal((H, W))
k = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x), norm="ortho")) * mask
k += 0.02 * (rng.standard_normal((H, W)) + 1j * rng.standard_normal((H, W))) / np.sqrt(2)
np.save("k.npy", k.astype(np.complex64))
np.save("mask.npy", mask)
np.save("bad_mask.npy", np.ones(7, np.float32))
np.save("pm.npy", np.zeros((H, W), np.complex64))
np.save("pv.npy", np.ones((H, W), np.float32))
PY

args=(sample --kspace k.npy --prior-mean pm.npy --prior-variance pv.npy --sigma 0.02 --runs 7 --chains 6
      --backend cpu --no-report --seed 5)
levels=(--levels 40)

same() {  # same DIR REF: the same files, the same bytes (summary.json records timings: left out)
  local dir=$1 ref=$2 f
  [ -d "$dir" ] || return 1
  [ "$(cd "$dir" && ls -A | sort)" = "$(cd "$ref" && ls -A | sort)" ] || return 1
  for f in $(cd "$ref" && ls -A); do
    [ "$f" = summary.json ] && continue
    cmp -s "$dir/$f" "$ref/$f" || { echo "  $f differs" >&2; return 1; }
  done
}

if ! out=$("$cli" "${args[@]}" "${levels[@]}" --mask mask.npy --out probe --mpi 2>&1); then
  grep -q "built without MPI" <<<"$out" && { echo "SKIP: this twofold was built without MPI"; exit 77; }
  fail "a one-process --mpi run failed: $out"
fi

# The cascade runs also write their draws (--save-draws --cfl): rank 0 streams its own
# waves and then each other rank's share as it arrives, in run order.
for design in cascade replicate; do
  draws=()
  [ "$design" = cascade ] && draws=(--save-draws --cfl)
  "$cli" "${args[@]}" "${levels[@]}" "${draws[@]}" --mask mask.npy --design "$design" --out "ref_$design" >/dev/null 2>&1 ||
    fail "single-process $design run failed"
  for p in 2 3; do
    log=$("$mpiexec" -n "$p" --oversubscribe "$cli" "${args[@]}" "${levels[@]}" "${draws[@]}" --mask mask.npy --design "$design" \
      --out "mpi_${design}_$p" --mpi 2>&1) || fail "mpirun -n $p ($design) failed: $log"
    same "mpi_${design}_$p" "ref_$design" || fail "mpirun -n $p ($design): outputs differ from the single process's"
    echo "mpirun -n $p, $design: outputs byte-identical to the single-process run"
  done
done
same ref_cascade ref_replicate && fail "the designs gave the same files: the test could not tell runs apart"

# One rank with a bad input: every process ends, non-zero, and nothing is written.
log=$("$mpiexec" --oversubscribe -n 1 "$cli" "${args[@]}" "${levels[@]}" --mask mask.npy --out failed --mpi : \
  -n 1 "$cli" "${args[@]}" "${levels[@]}" --mask bad_mask.npy --out failed --mpi 2>&1)
code=$?
[ "$code" -ne 0 ] || fail "a failing rank: mpirun exited 0"
grep -q "line flags" <<<"$log" || fail "a failing rank: its error is not shown: $log"
[ -e failed ] && fail "a failing rank: the output folder was written"
echo "a rank with bad input: job exit $code, nothing written"

# A rank killed mid-run (a direct child of mpirun): non-zero, the old folder intact. The
# run is long (60 000 levels, about 30 s on an idle 2-core machine) so that the kill,
# about a second in, always lands before the last share has reached rank 0.
cp -a ref_replicate killed
"$mpiexec" -n 2 --oversubscribe "$cli" "${args[@]}" --mask mask.npy --levels 60000 --out killed --mpi \
  >/dev/null 2>&1 &
launcher=$!
victim=""
for _ in $(seq 1 200); do
  victim=$(ps -o pid= --ppid "$launcher" | tail -n 1 | tr -d ' ')
  [ -n "$victim" ] && break
  sleep 0.05
done
[ -n "$victim" ] || fail "no rank process appeared under mpirun"
sleep 1
kill -9 "$victim"
wait "$launcher"
code=$?
[ "$code" -ne 0 ] || fail "a killed rank: mpirun exited 0"
same killed ref_replicate || fail "a killed rank: the old folder was changed"
echo "a rank killed mid-run: job exit $code, the old folder intact"
echo "PASS"
