#!/usr/bin/env bash
# A submit the service acts on but never answers (emulator --lost-answer-rate 1: the task runs,
# its callback is delivered, then the connection closes with no status line). The client must
# not resubmit a request that was sent: the line is submit_failed, outcome unknown, and the
# emulator ran exactly one task. With --public-url the callback carries the input's own URL, so
# the run prints the task's real result instead.
source "$(dirname "$0")/lib.sh"

emails_file in.txt lost@example.com

# Tasks the emulator created: answered (202) or not ("no answer, task ID").
tasks_created() { grep -cE '^emulator: submit .* task [0-9a-f-]{36} ' "$EMU_LOG" || true; }
created_task_id() { sed -nE 's/^emulator: submit .* task ([0-9a-f-]{36}) .*/\1/p' "$EMU_LOG"; }
# The emulator's log line number of the first line matching a pattern (0: none).
log_line_of() { grep -nF -- "$1" "$EMU_LOG" | head -n 1 | cut -d: -f1 || true; }

step "plain run: submit_failed with the outcome unknown, one task, no resubmit"
setup_emulator --delay-ms 50 --lost-answer-rate 1
chain_run plain --endpoint demo --emails "$T/in.txt" --timeout 20
assert_eq 1 "$(submit_count)" "submits the emulator received (no resubmit)"
assert_eq 1 "$(tasks_created)" "tasks the emulator created"
assert_ne 0 "$RC" "exit code of a run whose only submit failed"
assert_line_count "$T/plain.out" 1 "one line for the one email"
assert_json_lines "$T/plain.out" "stdout"
assert_all_status "$T/plain.out" submit_failed "status"
assert_contains "$(jq -r '.error' "$T/plain.out")" "outcome unknown" "the line's error"
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
