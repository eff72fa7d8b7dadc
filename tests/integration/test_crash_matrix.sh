#!/usr/bin/env bash
# The crash-point matrix: a run with --state is stopped at each named moment of a submit's life
# (src/core/crash_point.h), by SIGKILL, SIGINT or SIGTERM, then rerun with the same --state:
#
#   before_send   nothing of the submit journaled or sent
#   after_attempt the attempt (intent) journaled, the request not sent
#   after_send    the service has the request and answered; the answer not yet read
#   after_answer  the task id read, not yet journaled
#   after_submit  the submit journaled, before waiting
#   after_result  the final result journaled, its line not yet printed
#
# For each point x signal, one emulator serves both runs (4 inputs, --parallel 1 so the moment is
# exact, the point armed at its 2nd pass), and over the two runs: the emulator received exactly
# one submit per input;
# every input has a final line, success, identical wherever both runs printed one (a rerun
# reprints journaled results); no stdout line is cut; the first run exits 137 (killed by
# SIGKILL), 130 (SIGINT) or 143 (SIGTERM), the rerun 0. Every combination runs; the failures are
# listed together at the end.
#
# The one limit (README, "Nothing lost, nothing run twice"): killed at after_attempt, the journal
# says a submit was about to leave and nothing more; nobody can tell whether the service has it.
# That input is never resubmitted: the rerun reports it (submit_failed, "may have run") at its
# --timeout, and only a run with --resubmit-unfinished sends it, once.
#
# CRASH_POINTS and CRASH_SIGNALS (space-separated) narrow the matrix:
#   CRASH_POINTS=after_submit CRASH_SIGNALS="KILL INT" bash tests/integration/test_crash_matrix.sh
source "$(dirname "$0")/lib.sh"
require_test_hooks

read -r -a POINTS <<<"${CRASH_POINTS:-before_send after_attempt after_send after_answer after_submit after_result}"
read -r -a SIGNALS <<<"${CRASH_SIGNALS:-KILL INT TERM}"

make_emails 4 cm >"$T/in4.txt"
mapfile -t emails <"$T/in4.txt"

declare -A expected_rc=([KILL]=137 [INT]=130 [TERM]=143)
FAILURES=()
COMBO_FAILED=0

# Records a failure of the current combination (the test goes on with the next check).
problem() { # message
  FAILURES+=("$COMBO: $1")
  COMBO_FAILED=1
  log "FAIL [$COMBO]: $1"
}

# The problems of one stdout file: a last line without newline, lines that are not one JSON
# object. Prints nothing when the file is sound.
cut_lines() { # file
  if [[ -s $1 && $(tail -c 1 "$1" | od -An -c | tr -d ' ') != '\n' ]]; then
    echo "its last line has no newline"
  fi
  jq -R -r 'select((try (fromjson | type) catch "bad") != "object") | "not one JSON object: " + .[0:200]' "$1" 2>&1 || true
}

# The lines of a stdout file for one email whose status is a task's own (not "interrupted").
final_lines() { # file email
  line_for_email "$1" "$2" | while IFS= read -r line; do
    [[ $(jq -r '.status' <<<"$line" 2>/dev/null) == interrupted ]] || printf '%s\n' "$line"
  done
}

# Waits (bounded) for a background run; sets RC to its exit code, or to "hung" after killing it.
wait_run() { # pid seconds
  local deadline=$((SECONDS + $2))
  while is_alive "$1" && [[ $(ps -o stat= -p "$1" 2>/dev/null) != Z* ]]; do
    if ((SECONDS >= deadline)); then
      kill_hard "$1"
      wait "$1" 2>/dev/null || true
      RC=hung
      return
    fi
    sleep 0.05
  done
  RC=0
  wait "$1" || RC=$?
}

run_combination() { # point signal
  local point=$1 sig=$2
  local name=${point}_$sig
  COMBO="$point:$sig"
  COMBO_FAILED=0
  step "$COMBO: a run stopped by SIG$sig at the 2nd $point, then a rerun"
  setup_emulator_named "$name.emu" --delay-ms 50
  local S=$T/$name.state
  local args=(run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in4.txt"
    --state "$S" --parallel 1 --timeout 15)

  # SIGINT and SIGTERM at their defaults, as from a terminal: the run's own handling decides.
  OPTEXITY_CRASH_AT=$point:2:$sig start_bg_default_signals "$name.1" "$BIN" "${args[@]}"
  wait_run "$BG_PID" 60
  local rc1=$RC
  [[ $rc1 != hung ]] || problem "the first run was still running after 60 s (killed)"
  if ! grep -qF "test hook: crash point $point (hit 2)" "$T/$name.1.err"; then
    problem "the crash point never fired (exit $rc1): does this binary have '$point'?"
  fi
  [[ $rc1 == "${expected_rc[$sig]}" ]] ||
    problem "the first run exited $rc1, expected ${expected_rc[$sig]} for SIG$sig"

  if [[ $point == after_attempt && $sig == KILL ]]; then
    unknown_outcome_reruns "$name"
    return
  fi
  chain "$name.2" "${args[@]}"
  local rc2=$RC
  [[ $rc2 == 0 ]] || problem "the rerun exited $rc2, expected 0 ($(tail -n 3 "$T/$name.2.err" | tr '\n' ' '))"

  local run problems
  for run in 1 2; do
    problems=$(cut_lines "$T/$name.$run.out")
    [[ -z $problems ]] || problem "run $run's stdout: $(head -c 600 <<<"$problems")"
  done
  local emails_seen
  emails_seen=$(jq -r '.input.email[0] // "?"' "$T/$name.2.out" 2>/dev/null | tr '\n' ' ')
  [[ $emails_seen == "${emails[*]} " ]] ||
    problem "the rerun's lines are for [$emails_seen], expected one per input in order"

  # Whatever the first run sent has been handled (and logged) before the emulator is asked.
  wait_emulator_idle
  local email n finals distinct status
  for email in "${emails[@]}"; do
    n=$(submits_of_email "$email")
    [[ $n == 1 ]] || problem "$email: the emulator received $n submit(s), expected 1 over both runs"
    finals=$( (
      final_lines "$T/$name.1.out" "$email"
      final_lines "$T/$name.2.out" "$email"
    ))
    if [[ -z $finals ]]; then
      problem "$email: no final line in either run"
      continue
    fi
    distinct=$(sort -u <<<"$finals" | wc -l)
    ((distinct == 1)) || problem "$email: the two runs printed different final lines: $(head -c 800 <<<"$finals")"
    status=$(head -n 1 <<<"$finals" | jq -r '.status')
    [[ $status == success ]] || problem "$email: final status $status, expected success"
  done
  n=$(grep -c '^emulator: request ' "$EMU_LOG" || true)
  [[ $n == 4 ]] || problem "the emulator received $n submits in all, expected 4"
  stop_emulator
  if ((COMBO_FAILED)); then
    log "$COMBO: FAILED (files: $T/$name.*)"
  else
    log "$COMBO: ok (first run exit $rc1, $(line_count "$T/$name.1.out") line(s); rerun $(line_count "$T/$name.2.out") line(s))"
  fi
}

# Killed after the 2nd input's attempt was journaled and before its request left: the rerun
# reports that input, submits nothing for it; --resubmit-unfinished then sends it once.
unknown_outcome_reruns() { # name
  local name=$1 unknown=${emails[1]} email n
  chain "$name.2" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo \
    --emails "$T/in4.txt" --state "$S" --parallel 1 --timeout 2
  [[ $RC == 1 ]] || problem "the rerun exited $RC, expected 1 (one outcome unknown)"
  local line
  line=$(line_for_email "$T/$name.2.out" "$unknown")
  [[ $(jq -r .status <<<"$line") == submit_failed ]] ||
    problem "$unknown: rerun status $(jq -r .status <<<"$line"), expected submit_failed"
  [[ $(jq -r .error <<<"$line") == *"may have run"* ]] ||
    problem "$unknown: the rerun's error does not say the task may have run"
  wait_emulator_idle
  n=$(submits_of_email "$unknown")
  [[ $n == 0 ]] || problem "$unknown: the emulator received $n submit(s) before --resubmit-unfinished"
  chain "$name.3" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo \
    --emails "$T/in4.txt" --state "$S" --parallel 1 --timeout 15 --resubmit-unfinished
  [[ $RC == 0 ]] || problem "the --resubmit-unfinished run exited $RC, expected 0"
  wait_emulator_idle
  for email in "${emails[@]}"; do
    n=$(submits_of_email "$email")
    [[ $n == 1 ]] || problem "$email: the emulator received $n submit(s), expected 1 over all runs"
  done
  [[ $(jq -r .status "$T/$name.3.out" | sort -u) == success ]] ||
    problem "the --resubmit-unfinished run's lines are not all success"
  stop_emulator
  if ((COMBO_FAILED)); then
    log "$COMBO: FAILED (files: $T/$name.*)"
  else
    log "$COMBO: ok (the unknown outcome reported, then sent once by --resubmit-unfinished)"
  fi
}

started=$(now)
for point in "${POINTS[@]}"; do
  for sig in "${SIGNALS[@]}"; do
    [[ -n ${expected_rc[$sig]:-} ]] || fail "unknown signal $sig in CRASH_SIGNALS (KILL, INT or TERM)"
    run_combination "$point" "$sig"
  done
done
log "${#POINTS[@]} point(s) x ${#SIGNALS[@]} signal(s) in $(elapsed_since "$started") s"

step "summary"
if ((${#FAILURES[@]})); then
  printf "$TEST_NAME: FAIL: %s\n" "${FAILURES[@]}" >&2
  fail "${#FAILURES[@]} problem(s) in the crash-point matrix (listed above)"
fi
