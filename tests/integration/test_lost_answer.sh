#!/usr/bin/env bash
# A submit the service acts on but never answers (emulator --lost-answer-rate 1: the task runs,
# its callback is delivered, then the connection closes with no status line). The client must
# not resubmit a request that was sent, and must not lose the task's result: its callback names
# the input by content (input_parameters, unique_parameter_names) or, with --public-url, by the
# input's own URL. The emulator runs exactly one task and the line is its real result.
source "$(dirname "$0")/lib.sh"

emails_file in.txt lost@example.com

# Tasks the emulator created: answered (202) or not ("no answer, task ID").
tasks_created() { grep -cE '^emulator: submit .* task [0-9a-f-]{36} ' "$EMU_LOG" || true; }
created_task_id() { sed -nE 's/^emulator: submit .* task ([0-9a-f-]{36}) .*/\1/p' "$EMU_LOG"; }
# The emulator's log line number of the first line matching a pattern (0: none).
submit_seen() { (($(submit_count) >= 1)); }
log_line_of() { grep -nF -- "$1" "$EMU_LOG" | head -n 1 | cut -d: -f1 || true; }

step "plain run: the unanswered submit is completed by its callback's content, one task"
setup_emulator --delay-ms 50 --lost-answer-rate 1
chain_run plain --endpoint demo --emails "$T/in.txt" --timeout 20
assert_eq 1 "$(submit_count)" "submits the emulator received (no resubmit)"
assert_eq 1 "$(tasks_created)" "tasks the emulator created"
assert_exit 0 "$RC" "exit code of a run whose lost answer's task succeeded"
assert_line_count "$T/plain.out" 1 "one line for the one email"
assert_json_lines "$T/plain.out" "stdout"
assert_all_status "$T/plain.out" success "status"
assert_jq "$T/plain.out" '.task_id' "$(created_task_id)" "the line's task_id is the task's"
assert_file_contains "$T/plain.err" "outcome unknown" "the warning about the unknown outcome"
task=$(created_task_id)
# The fault closes the connection only after the callback went out, and says so first.
delivered=$(log_line_of "callback $task success -> 2")
closed=$(log_line_of "task $task: callback delivered; closing")
[[ -n $delivered && -n $closed ]] && ((delivered < closed)) ||
  _fail_ctx "the emulator log shows no delivered callback before the unanswered close"
# The task exists for the status API, although the client never learned its id.
code=$(curl -sS -o "$T/status.json" -w '%{http_code}' --max-time 10 \
  "$EMU_URL/api/v1/task_status?task_id=$task" 2>/dev/null) || true
assert_eq 200 "$code" "task_status of the unanswered task"

step "--public-url: the result the input's callback URL received is the line"
DEAD_PORT=$(free_port) # the default callback URL: nobody listens, only per-run URLs deliver
start_emulator emu_pub "$DEAD_PORT" --delay-ms 50 --lost-answer-rate 1
P=$(free_port)
chain pub run --api-url "$EMU_URL" --listen "127.0.0.1:$P" --public-url "http://127.0.0.1:$P" \
  --endpoint demo --emails "$T/in.txt" --timeout 20
assert_exit 0 "$RC" "run with --public-url"
assert_line_count "$T/pub.out" 1 "one line for the one email"
assert_json_lines "$T/pub.out" "stdout"
assert_all_status "$T/pub.out" success "status"
assert_callback_lines "$T/pub.out" demo "the line is the callback payload"
assert_jq "$T/pub.out" '.output_data | length > 0' true "the task's output_data"
assert_eq 1 "$(submit_count)" "submits the emulator received (no resubmit)"
assert_eq 1 "$(tasks_created)" "tasks the emulator created"
assert_jq "$T/pub.out" '.task_id' "$(created_task_id)" "the line's task_id is the task's"

step "--public-url: an answer that times out keeps the input waiting at its URL (issue 13.4)"
# The callback comes 1.5 s after the submit; the client gives up on the answer after 0.3 s.
DEAD_PORT=$(free_port)
start_emulator emu_slow "$DEAD_PORT" --delay-ms 1500 --lost-answer-rate 1
P=$(free_port)
chain slow run --api-url "$EMU_URL" --listen "127.0.0.1:$P" --public-url "http://127.0.0.1:$P" \
  --endpoint demo --emails "$T/in.txt" --timeout 30 --read-timeout 0.3 --retries 0
assert_exit 0 "$RC" "run whose answer timed out"
assert_all_status "$T/slow.out" success "the task's result, not submit_failed"
assert_eq 1 "$(submit_count)" "submits the emulator received (no resubmit)"

step "plain run: no callback for an unknown outcome: reported, not guessed, not resubmitted"
# The emulator drops every callback: the unanswered submit's task may exist, nobody can tell.
setup_emulator --delay-ms 50 --lost-answer-rate 1 --drop-callback-rate 1
chain_run none --endpoint demo --emails "$T/in.txt" --timeout 1 --state "$T/none.jnl"
assert_exit 1 "$RC" "run whose outcome stayed unknown"
assert_all_status "$T/none.out" submit_failed "status"
assert_contains "$(jq -r '.error' "$T/none.out")" "may have run" "the line's error"
chain_run none2 --endpoint demo --emails "$T/in.txt" --timeout 1 --state "$T/none.jnl"
assert_exit 1 "$RC" "rerun: still unknown"
assert_file_contains "$T/none2.err" "not submitted again" "the rerun says it waits instead"
assert_eq 1 "$(submit_count)" "submits over both runs (no resubmit)"
chain_run none3 --endpoint demo --emails "$T/in.txt" --timeout 1 --state "$T/none.jnl" \
  --resubmit-unfinished
assert_eq 2 "$(submit_count)" "--resubmit-unfinished submits it again"

step "SIGINT while a submit waits for its answer: interrupted, then the rerun waits, no resubmit"
# The emulator holds the answer until the callback (3 s) went out: the signal comes meanwhile.
setup_emulator --delay-ms 3000 --lost-answer-rate 1
start_bg_default_signals int "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" \
  --endpoint demo --emails "$T/in.txt" --state "$T/int.jnl" --timeout 30
pid=$BG_PID
wait_until 20 "the emulator has the submit" submit_seen
kill -INT "$pid"
wait_exit "$pid" 20 "the run after SIGINT"
assert_exit 130 "$RC" "exit code after SIGINT"
assert_all_status "$T/int.out" interrupted "status"
assert_contains "$(jq -r .error "$T/int.out")" "outcome unknown" "the line says the outcome is unknown"
chain_run int2 --endpoint demo --emails "$T/in.txt" --state "$T/int.jnl" --timeout 30
assert_exit 0 "$RC" "rerun"
assert_all_status "$T/int2.out" success "the task's result, by content"
wait_emulator_idle
assert_eq 1 "$(submit_count)" "submits over both runs (no resubmit)"
