#!/usr/bin/env bash
# Checkpoint and resume (issue 17): `twofold sample --checkpoint 0` killed with SIGKILL
# at random instants (sometimes again while resuming), then `--resume`, gives output
# files byte-identical to an uninterrupted run's, in the cascade and replicate
# designs; a checkpoint made with other settings or inputs is refused (exit 2, the
# message names what differs) and left in place; a file that is not a checkpoint is
# refused; `twofold demo` resumes the same way. Usage: resume_test.sh TWOFOLD_BINARY WORK_DIR [SEEDS]
set -u
cli=$1
work=$2
seeds=${3:-10}
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 - <<'PY' || fail "could not write the inputs (python3 with numpy)"
import numpy as np
rng = np.random.default_rng(1)
H = W = 24
mask = np.zeros((H, W), np.float32)
mask[:, ::3] = 1
mask[:, W // 2 - 1:W // 2 + 2] = 1
x = rng.standard_normal((H, W))
k = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x), norm="ortho")) * mask
k += 0.02 * (rng.standard_normal((H, W)) + 1j * rng.standard_normal((H, W))) / np.sqrt(2)
np.save("k.npy", k.astype(np.complex64))
np.save("mask.npy", mask)
np.save("pm.npy", np.zeros((H, W), np.complex64))
np.save("pv.npy", np.ones((H, W), np.float32))
PY

# 8 runs x 8 chains in waves of one run: 8 waves of stage 2 (cascade) or of posterior draws
# (RUNS overrides the number of runs).
# The replicate runs also write their draws (--save-draws --cfl): streamed beside the
# checkpoint, they must survive the kills too; the cascade runs stream them to a scratch file.
run() {  # run DESIGN OUT [more flags]; SIGMA overrides the noise level
  local design=$1 out=$2
  shift 2
  [ "$design" = replicate ] && set -- --save-draws --cfl "$@"
  exec "$cli" sample --kspace k.npy --mask mask.npy --prior-mean pm.npy --prior-variance pv.npy \
    --sigma "${SIGMA:-0.02}" --runs "${RUNS:-8}" --chains 8 --levels 100 --wave-chains 8 --backend cpu --no-report --seed 3 \
    --design "$design" --out "$out" "$@"
}

# same DIR REF: the same files with the same bytes (summary.json records timings: left out).
same() {
  local dir=$1 ref=$2 f
  [ -d "$dir" ] || return 1
  [ "$(cd "$dir" && ls -A | sort)" = "$(cd "$ref" && ls -A | sort)" ] || return 1
  for f in $(cd "$ref" && ls -A); do
    [ "$f" = summary.json ] && continue
    cmp -s "$dir/$f" "$ref/$f" || { echo "  $f differs" >&2; return 1; }
  done
}

# after_checkpoints FILE N PID: returns once FILE has been written N times (each
# checkpoint is a new file renamed into place: a new inode), or PID has ended.
after_checkpoints() {
  local file=$1 count=$2 pid=$3 size last="" seen=0
  while kill -0 "$pid" 2>/dev/null; do
    size=$(stat -c %i-%s "$file" 2>/dev/null || true)
    if [ -n "$size" ] && [ "$size" != "$last" ]; then
      last=$size
      seen=$((seen + 1))
      [ "$seen" -ge "$count" ] && return 0
    fi
    sleep 0.005
  done
}

leftovers() { ls -A "$work" | grep -- '\.twofold-\|\.tmp-' || true; }
now_ms() { date +%s%3N; }

declare -A duration
for design in cascade replicate; do
  t0=$(now_ms)
  (run "$design" "ref_$design" >/dev/null 2>&1) || fail "reference run ($design) failed"
  duration[$design]=$(($(now_ms) - t0))
  [ -f "ref_$design/mean.npy" ] || fail "no mean.npy in the $design reference"
done
same ref_cascade ref_replicate && fail "the two designs gave the same files: the test could not tell them apart"

resumed=0
for seed in $(seq 1 "$seeds"); do
  RANDOM=$seed
  design=cascade
  [ $((seed % 2)) -eq 0 ] && design=replicate
  out="out_$seed"
  kills=1
  [ $((seed % 3)) -eq 0 ] && kills=2  # killed again while resuming
  for k in $(seq 1 "$kills"); do
    flags=(--checkpoint 0)
    [ "$k" -gt 1 ] && flags+=(--resume)
    (run "$design" "$out" "${flags[@]}" >/dev/null 2>&1) &
    pid=$!  # the subshell exec's twofold: $pid is twofold itself
    if [ $((seed % 5)) -ne 0 ]; then
      # Mostly after 1 to 5 checkpoints, plus up to 40 ms: a random instant while waves run
      # and checkpoints are written, whatever the machine's load.
      after_checkpoints ".$out.twofold-checkpoint" $((1 + RANDOM % 5)) "$pid"
      delay=$((RANDOM % 40))
    else
      # A random instant of the whole run (often before the first checkpoint).
      delay=$((duration[$design] * (RANDOM % 90) / 100))
    fi
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  log=$( (run "$design" "$out" --checkpoint 0 --resume) 2>&1 >/dev/null) || fail "seed $seed: the resumed run failed: $log"
  grep -q "resuming from" <<<"$log" && resumed=$((resumed + 1))
  same "$out" "ref_$design" || fail "seed $seed ($design, $kills kill(s)): the resumed outputs differ from the uninterrupted run's"
  [ -z "$(leftovers)" ] || fail "seed $seed left: $(leftovers)"
  echo "seed $seed: $design, killed $kills time(s), $(grep -o 'resuming from.*' <<<"$log" || echo 'no checkpoint yet: started over'); outputs identical"
done
# Most kills must land after a checkpoint, or the test did not test resumption.
[ "$resumed" -ge $((seeds / 2)) ] || fail "only $resumed of $seeds runs resumed from a checkpoint"

# twofold demo checkpoints the same way (its data follow from its settings).
demo() {  # demo OUT [more flags]
  local out=$1
  shift
  exec "$cli" demo --size 16 --runs 4 --chains 8 --levels 150 --wave-chains 8 --backend cpu --no-report --seed 4 \
    --out "$out" "$@"
}
(demo demo_ref >/dev/null 2>&1) || fail "the demo reference run failed"
for seed in 1 2; do
  RANDOM=$((seed + 100))
  (demo "demo_$seed" --checkpoint 0 >/dev/null 2>&1) &
  pid=$!
  after_checkpoints ".demo_$seed.twofold-checkpoint" $((1 + RANDOM % 3)) "$pid"
  delay=$((RANDOM % 40))
  sleep "$(printf '0.%03d' "$delay")"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  log=$( (demo "demo_$seed" --checkpoint 0 --resume) 2>&1 >/dev/null) || fail "demo seed $seed: the resumed run failed: $log"
  same "demo_$seed" demo_ref || fail "demo seed $seed: the resumed outputs differ from the uninterrupted run's"
  [ -z "$(leftovers)" ] || fail "demo seed $seed left: $(leftovers)"
  echo "demo seed $seed: $(grep -o 'resuming from.*' <<<"$log" || echo 'no checkpoint yet: started over'); outputs identical"
done

# A checkpoint of other settings or inputs is refused, and kept. 64 runs: the run lasts
# long enough (a finished run removes its checkpoint) for the poll below to see the
# checkpoint on a loaded machine.
export RUNS=64
(run cascade mismatch --checkpoint 0 >/dev/null 2>&1) &
pid=$!
for _ in $(seq 1 3000); do
  [ -f .mismatch.twofold-checkpoint ] && break
  sleep 0.01
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ -f .mismatch.twofold-checkpoint ] || fail "no checkpoint was written"
msg=$( (SIGMA=0.03 run cascade mismatch --resume) 2>&1 >/dev/null)
code=$?
[ "$code" -eq 2 ] || fail "other --sigma: exit $code, expected 2 ($msg)"
grep -q -- "--sigma was '0.02', is '0.03'" <<<"$msg" || fail "other --sigma: the message does not name it: $msg"
cp pv.npy pv_saved.npy
python3 -c "import numpy as np; v = np.load('pv.npy'); v[0, 0] = 2; np.save('pv.npy', v)"
msg=$( (run cascade mismatch --resume) 2>&1 >/dev/null)
code=$?
mv pv_saved.npy pv.npy
[ "$code" -eq 2 ] || fail "changed input: exit $code, expected 2 ($msg)"
grep -q "the input pv.npy changed" <<<"$msg" || fail "changed input: the message does not name it: $msg"
[ -f .mismatch.twofold-checkpoint ] || fail "a refused checkpoint was removed"
[ -e mismatch ] && fail "a refused resume wrote its output folder"
echo "mismatch: refused (exit 2) naming --sigma, and naming the changed input; checkpoint kept"

echo "not a checkpoint" >.mismatch.twofold-checkpoint
msg=$( (run cascade mismatch --resume) 2>&1 >/dev/null)
code=$?
[ "$code" -eq 2 ] && grep -q "is not a twofold checkpoint" <<<"$msg" || fail "a foreign file: exit $code: $msg"
echo "a file that is not a checkpoint: refused (exit 2)"
echo "PASS: $seeds kill/resume runs ($resumed from a checkpoint) byte-identical to uninterrupted runs"
