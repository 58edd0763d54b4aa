#!/usr/bin/env bash
# Fault injection for the output folder (issue 17): a run killed with SIGKILL at
# random instants -- while sampling, and inside the commit (slowed down with
# TWOFOLD_TEST_COMMIT_PAUSE_MS), with the renameat2 swap and with the rename-aside
# fallback -- leaves the old folder complete or the new folder complete, never a
# mix; SIGTERM and SIGINT clean up and exit 143 and 130; the next run removes what
# killed runs left. Usage: fault_injection_test.sh TWOFOLD_BINARY WORK_DIR [SEEDS]
set -u
cli=$1
work=$2
seeds=${3:-10}
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

run() {  # run SEED OUT [env...]: a small demo; its maps depend on SEED only. exec: a
  # backgrounded `run` is then the twofold process itself, so $! is the pid to kill.
  local seed=$1 out=$2
  shift 2
  exec env "$@" "$cli" demo --size 16 --runs 2 --chains 2 --levels 1500 --backend cpu --no-report --seed "$seed" \
    --out "$out" >/dev/null 2>&1
}

# same DIR REF: DIR holds exactly REF's files with the same bytes (summary.json,
# which records timings, only by its seed).
same() {
  local dir=$1 ref=$2
  [ -d "$dir" ] || return 1
  [ "$(cd "$dir" && ls -A | sort)" = "$(cd "$ref" && ls -A | sort)" ] || return 1
  local f
  for f in $(cd "$ref" && ls -A); do
    if [ "$f" = summary.json ]; then
      [ "$(grep -m1 '"seed"' "$dir/$f")" = "$(grep -m1 '"seed"' "$ref/$f")" ] || return 1
    else
      cmp -s "$dir/$f" "$ref/$f" || return 1
    fi
  done
}

leftovers() { ls -A "$work" | grep -- '\.twofold-' || true; }

now_ms() { date +%s%3N; }

t0=$(now_ms)
(run 1 ref_old) || fail "reference run (seed 1) failed"
duration=$(($(now_ms) - t0))
t0=$(now_ms)
(run 2 ref_new) || fail "reference run (seed 2) failed"
t1=$(($(now_ms) - t0))
[ "$t1" -lt "$duration" ] && duration=$t1  # the shorter of the two: kills land inside the run
same ref_old ref_new && fail "seeds 1 and 2 gave the same folder: the test could not tell them apart"
[ -f ref_new/.twofold-output ] || fail "no marker in the output folder"

# SIGTERM / SIGINT mid-run: exit 143 / 130, the old folder intact, no staging left.
for sig in TERM INT; do
  rm -rf target
  cp -a ref_old target
  "$cli" demo --size 16 --runs 2 --chains 2 --levels 100000 --backend cpu --no-report --seed 2 --out target \
    >/dev/null 2>&1 &  # a simple command: $! is twofold itself
  pid=$!
  for _ in $(seq 1 100); do
    [ -n "$(leftovers)" ] && break
    sleep 0.05
  done
  [ -n "$(leftovers)" ] || fail "SIG$sig: the run never created its staging folder"
  sleep 0.3
  kill -"$sig" "$pid"
  wait "$pid"
  code=$?
  want=143
  [ "$sig" = INT ] && want=130
  [ "$code" -eq "$want" ] || fail "SIG$sig: exit $code, expected $want"
  same target ref_old || fail "SIG$sig: the old folder was changed"
  [ -z "$(leftovers)" ] || fail "SIG$sig left: $(leftovers)"
  echo "SIG$sig: exit $code, old folder intact, nothing left behind"
done

# kill_at LABEL WHEN DELAY_MS [env...]: replace `target` (a copy of ref_old) by a seed-2
# run and SIGKILL it DELAY_MS after it started (WHEN = start) or after its last file,
# summary.json, appeared in its staging folder, i.e. once the commit began (WHEN = commit).
kill_at() {
  local label=$1 when=$2 delay=$3
  shift 3
  rm -rf target
  cp -a ref_old target
  run 2 target "$@" &
  local pid=$!
  if [ "$when" = commit ]; then
    for _ in $(seq 1 3000); do
      compgen -G '.target.twofold-staging-*/summary.json' >/dev/null && break
      sleep 0.01
    done
  fi
  sleep "$(awk -v ms="$delay" 'BEGIN { printf "%.3f", ms / 1000 }')"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ ! -e target ]; then
    # Only the rename-aside commit has this window; the old folder waits aside,
    # complete, and the next start (even a failing one) puts it back.
    local aside
    aside=$(ls -A | grep -- '^\.target\.twofold-old-' | head -1)
    [ -n "$aside" ] || fail "$label (kill at $delay ms): target missing and nothing set aside"
    same "$aside" ref_old || fail "$label (kill at $delay ms): the set-aside folder is not the old one complete"
    "$cli" demo --schedule none --out target >/dev/null 2>&1
    [ $? -eq 2 ] || fail "$label: the recovering run should fail on --schedule"
    recovered=$((recovered + 1))
  fi
  if same target ref_old; then
    old=$((old + 1))
  elif same target ref_new; then
    new=$((new + 1))
  else
    ls -la target >&2
    fail "$label (kill at $delay ms): target is neither the old nor the new folder complete"
  fi
}

pause=150
# The commit: a pause before the marker, after it, (aside: between the two renames),
# after the swap, and a tenth of one per removed old file (about 31): ~8 pauses.
commit_window=$((pause * 8))
for mode in exchange aside; do
  extra=()
  [ "$mode" = aside ] && extra=(TWOFOLD_TEST_RENAME_ASIDE=1)
  for phase in sampling commit; do
    old=0 new=0 recovered=0
    for seed in $(seq 1 "$seeds"); do
      RANDOM=$((seed * 7919))
      if [ "$phase" = sampling ]; then
        kill_at "$mode/$phase/seed $seed" start $((RANDOM % (duration + 1))) "${extra[@]}"
      else
        # Stratified: seed k kills at a random instant of the k-th of `seeds` equal
        # slices of the commit, so every step of it is reached.
        delay=$(((seed - 1) * commit_window / seeds + RANDOM % (commit_window / seeds + 1)))
        kill_at "$mode/$phase/seed $seed" commit "$delay" "${extra[@]}" TWOFOLD_TEST_COMMIT_PAUSE_MS=$pause
      fi
    done
    echo "$mode, kill during $phase: $old old, $new new ($recovered restored by the next start) of $seeds"
    if [ "$phase" = commit ] && [ "$seeds" -ge 5 ]; then
      [ "$old" -ge 1 ] && [ "$new" -ge 1 ] || fail "$mode: the kills did not straddle the commit"
    fi
  done
done

# One more kill aimed at the fallback's window between its two renames (pauses of 400 ms:
# marker at 400, aside at 800, into place at 1200 ms after the commit began): the
# target is then missing, the old folder waits aside complete and the next start
# restores it.
old=0 new=0 recovered=0
kill_at "aside/between the renames" commit 1000 TWOFOLD_TEST_RENAME_ASIDE=1 TWOFOLD_TEST_COMMIT_PAUSE_MS=400
[ "$recovered" -eq 1 ] && [ "$old" -eq 1 ] || fail "the kill between the renames did not leave the old folder aside"
echo "aside, kill between the renames: old folder set aside, restored by the next start"

# A complete run afterwards: the new folder, and nothing that killed runs left.
(run 2 target) || fail "final run failed"
same target ref_new || fail "final run: target is not the new folder"
[ -z "$(leftovers)" ] || fail "left behind after the next run: $(leftovers)"
echo "fault injection: passed (runs of $duration ms; commit pauses of $pause ms)"
