#!/usr/bin/env bash
# Daily use: a rerun's reprinted lines hold no --parallel place; the summary keeps each line's
# own error and where it came from; Ctrl-C tells unsent inputs from running tasks; an empty stdin
# and a listen port taken by another stage are loud.
source "$(dirname "$0")/lib.sh"

make_emails 200 d >"$T/e200.txt"

step "a rerun with --retry-failed resubmits scattered failures at once, not two at a time"
chain first run --emulate --fail-rate 0.1 --seed 3 --delay-ms 0 --endpoint demo \
  --emails "$T/e200.txt" --state "$T/s.jnl" -q
assert_exit 1 "$RC" "the first run (some failed)"
failed=$(jq -r 'select(.status == "failed") | .status' "$T/first.out" | wc -l)
((failed >= 5 && failed <= 40)) || fail "expected 5..40 failures with --seed 3, got $failed" "$T/first.out"
# The failures are scattered over the 200 inputs.
first_failed=$(jq -s 'map(.status) | index("failed")' "$T/first.out")
last_failed=$(jq -s 'map(.status) | rindex("failed")' "$T/first.out")
((last_failed - first_failed > 100)) || fail "the failures are not scattered" "$T/first.out"
setup_emulator --delay-ms 500
chain_run retry --endpoint demo --emails "$T/e200.txt" --state "$T/s.jnl" --retry-failed --parallel 40
assert_exit 0 "$RC" "the rerun"
assert_line_count "$T/retry.out" 200 "every input has its line"
assert_all_status "$T/retry.out" success "every input succeeded"
assert_eq "$failed" "$(accepted_count)" "only the failures were resubmitted"
assert_eq "$failed" "$(max_in_flight "$EMU_LOG")" "all of them in flight at once"

step "the summary keeps a journaled line's own error"
chain again run --emulate --endpoint demo --emails "$T/e200.txt" --state "$T/s2.jnl" \
  --fail-rate 1 --delay-ms 0
assert_exit 1 "$RC" "every task failed"
chain again2 run --emulate --endpoint demo --emails "$T/e200.txt" --state "$T/s2.jnl"
assert_exit 1 "$RC" "the rerun reprints the failures"
assert_file_contains "$T/again2.err" "e200.txt:3 failed (journaled earlier): Emulated failure" \
  "the task line"
assert_file_contains "$T/again2.err" "  $T/e200.txt:3 failed (journaled earlier): Emulated failure" \
  "the summary line"
assert_file_not_contains "$T/again2.err" "failed: journaled earlier" "the origin is no error"

step "the summary keeps a passed-on record's own error"
head -n 3 "$T/again.out" >"$T/three-failed.jsonl"
chain passed run --emulate --endpoint next --input - --map email=/input/email/0 \
  <"$T/three-failed.jsonl"
assert_exit 1 "$RC" "records of failures passed on"
assert_line_count "$T/passed.out" 3 "passed on unchanged"
assert_file_contains "$T/passed.err" "  <stdin>:1 failed (passed on): Emulated failure" \
  "the summary line of a record passed on"

step "Ctrl-C: inputs never submitted say so; a hint ends the run"
setup_emulator --stuck-rate 1
make_emails 20 c >"$T/e20.txt"
start_bg_default_signals sigint "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" \
  --endpoint demo --emails "$T/e20.txt" --parallel 2
run_pid=$BG_PID
wait_until 30 "two tasks accepted" accepted_at_least 2
kill -INT "$run_pid"
wait_exit "$run_pid" 30 "the interrupted run"
assert_exit 130 "$RC" "exit code after SIGINT"
assert_line_count "$T/sigint.out" 20 "every input has its line"
assert_eq 2 "$(jq -r 'select(.error == "interrupted (SIGINT) before the task finished") | 1' "$T/sigint.out" | wc -l)" \
  "the two tasks sent"
assert_eq 18 "$(jq -r 'select(.error == "not submitted (SIGINT)") | 1' "$T/sigint.out" | wc -l)" \
  "the inputs never sent"
assert_file_contains "$T/sigint.err" "2 inputs still running on the service, 18 not submitted" \
  "the hint counts what was left"
assert_file_contains "$T/sigint.err" "--grace SECONDS" "the hint names --grace"

step "an empty stdin is no silent success"
chain empty run --emulate --endpoint demo --emails - </dev/null
assert_exit 0 "$RC" "nothing to run"
assert_empty_file "$T/empty.out" "stdout"
assert_file_contains "$T/empty.err" "no input arrived on stdin" "stderr says so"

step "a port taken by another run says what each stage needs"
start_bg holder "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo \
  --emails "$T/e20.txt" --parallel 1
holder_pid=$BG_PID
wait_until 30 "the first run's task" accepted_at_least 3
chain second run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/e20.txt"
assert_exit 2 "$RC" "the second run cannot listen"
assert_empty_file "$T/second.out" "stdout"
assert_file_contains "$T/second.err" "it is taken by optexity-chain (pid $holder_pid)" "the holder"
assert_file_contains "$T/second.err" "another stage of this pipeline" "what it may be"
assert_file_contains "$T/second.err" "its own --public-url" "what each stage needs"
