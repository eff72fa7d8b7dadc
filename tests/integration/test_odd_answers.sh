#!/usr/bin/env bash
# Odd submit answers from the service (issue 13, items 3 and 7): a 2xx without a usable task_id
# (an HTML page, {"ok":true}) means the service took the request, so the outcome is unknown and
# the input is never resubmitted; its callback, matched by content, gives its result. A task id
# the service already gave another input is reported on that input's line, naming the first.
source "$(dirname "$0")/lib.sh"

emails_file in.txt a@example.com b@example.com
emails_file three.txt x@example.com y@example.com z@example.com

step "2xx answers without a task_id: each input's result comes by content, one submit each"
setup_emulator --delay-ms 50 --bad-answer-rate 1
chain_run bad --endpoint demo --emails "$T/in.txt" --parallel 2 --state "$T/bad.jnl" --timeout 20
assert_exit 0 "$RC" "run whose answers had no task_id"
assert_line_count "$T/bad.out" 2 "one line per input"
assert_all_status "$T/bad.out" success "status"
assert_emails_in_order "$T/bad.out" "stdout order" a@example.com b@example.com
assert_eq 2 "$(jq -r .task_id "$T/bad.out" | sort -u | wc -l)" "distinct task ids"
assert_file_contains "$T/bad.err" "without a task_id" "the warning names the odd answer"
chain_run bad2 --endpoint demo --emails "$T/in.txt" --parallel 2 --state "$T/bad.jnl" --timeout 20
assert_exit 0 "$RC" "rerun"
assert_eq "$(cat "$T/bad.out")" "$(cat "$T/bad2.out")" "the rerun reprints the same lines"
wait_emulator_idle
assert_eq 2 "$(submit_count)" "submits over both runs (one per input)"

step "2xx without a task_id and no callback: reported at --timeout, a rerun does not resubmit"
setup_emulator --delay-ms 50 --bad-answer-rate 1 --drop-callback-rate 1
chain_run lost --endpoint demo --emails "$T/in.txt" --state "$T/lost.jnl" --timeout 1
assert_exit 1 "$RC" "run whose outcomes stayed unknown"
assert_all_status "$T/lost.out" submit_failed "status"
assert_contains "$(jq -r .error "$T/lost.out" | head -n 1)" "may have run" "the line's error"
chain_run lost2 --endpoint demo --emails "$T/in.txt" --state "$T/lost.jnl" --timeout 1
assert_exit 1 "$RC" "rerun"
wait_emulator_idle
assert_eq 2 "$(submit_count)" "submits over both runs (never resubmitted)"

step "the same task id for three inputs: the second and third name the first"
setup_emulator --delay-ms 50 --repeat-task-id 2
chain_run same --endpoint demo --emails "$T/three.txt" --state "$T/same.jnl" --timeout 20
assert_exit 1 "$RC" "run with a repeated task id"
assert_line_count "$T/same.out" 3 "one line per input"
assert_jq "$T/same.out" .status $'success\nsubmit_failed\nsubmit_failed' "statuses"
first_id=$(jq -r 'select(.status == "success") | .task_id' "$T/same.out")
assert_contains "$(sed -n 2p "$T/same.out" | jq -r .error)" "already the task of $T/three.txt:1" \
  "the second line names the first input"
assert_contains "$(sed -n 3p "$T/same.out" | jq -r .error)" "$first_id" \
  "the third line names the repeated task id"
assert_eq 1 "$(jq -r 'select(.task_id != null) | .task_id' "$T/same.out" | wc -l)" \
  "only the first input's line claims the task"

step "their own tasks ran: a rerun takes their kept callbacks by content, submits nothing"
chain_run same2 --endpoint demo --emails "$T/three.txt" --state "$T/same.jnl" --timeout 20
assert_exit 0 "$RC" "rerun"
assert_all_status "$T/same2.out" success "status"
assert_eq 3 "$(jq -r .task_id "$T/same2.out" | sort -u | wc -l)" "three distinct tasks"
wait_emulator_idle
assert_eq 3 "$(submit_count)" "submits over both runs (one per input)"
