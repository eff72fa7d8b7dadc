#!/usr/bin/env bash
# Lost callbacks recovered through the status API at the deadline; killed tasks; the status and
# result subcommands.
source "$(dirname "$0")/lib.sh"

make_emails 10 rec >"$T/in10.txt"
mapfile -t in10 <"$T/in10.txt"

step "--drop-callback-rate 0.5 --seed 3, --timeout 2: every task recovered as success"
setup_emulator --drop-callback-rate 0.5 --seed 3 --delay-ms 50
started=$(now)
chain_run dropped --endpoint demo --emails "$T/in10.txt" --parallel 10 --timeout 2
took=$(elapsed_since "$started")
assert_exit 0 "$RC" "run with half the callbacks lost"
assert_less "$took" 20 "seconds for a run with 2 s timeouts"
assert_line_count "$T/dropped.out" 10 "one line per email"
assert_json_lines "$T/dropped.out" "stdout"
assert_all_status "$T/dropped.out" success "statuses"
assert_emails_in_order "$T/dropped.out" "stdout order" "${in10[@]}"
assert_callback_lines "$T/dropped.out" demo "every line is a callback payload, recovered or not"
drops=$(count_matches "$EMU_LOG" '(callback dropped)')
log "callbacks the emulator dropped: $drops of 10"
((drops > 0 && drops < 10)) || _fail_ctx "--drop-callback-rate 0.5 --seed 3 dropped $drops of 10 callbacks"
assert_eq "$drops" "$(count_matches "$T/dropped.err" "result fetched")" \
  "stderr: one 'result fetched' per dropped callback"
# Each 'result fetched' names a task whose callback was dropped.
while read -r id; do
  [[ -n $id ]] || continue
  assert_contains "$(grep -F "result fetched" "$T/dropped.err")" "$id" "a 'result fetched' line for dropped task $id"
done < <(sed -n 's/^emulator: submit .* -> 202 task \([0-9a-f-]*\) (callback dropped)$/\1/p' "$EMU_LOG")
assert_eq "$drops" "$(grep -c '^emulator: get_callback_data .* -> success' "$EMU_LOG" || true)" \
  "results the run fetched from the emulator"
cp "$T/dropped.out" "$T/finished.out"
finished_url=$EMU_URL

step "--unordered with every callback lost: the first deadline wakes the writer (no watchdog wait)"
setup_emulator --drop-callback-rate 1 --delay-ms 50
make_emails 2 lost >"$T/lost.txt"
started=$(now)
chain_run lost --endpoint demo --emails "$T/lost.txt" --unordered --timeout 1
took=$(elapsed_since "$started")
assert_exit 0 "$RC" "run with every callback lost, --unordered"
assert_line_count "$T/lost.out" 2 "one line per email"
assert_all_status "$T/lost.out" success "statuses (fetched at the deadline)"
assert_less "$took" 6 "seconds for a run with 1 s timeouts (the watchdog would take 360 s)"

step "--kill-rate 1: every line is killed, exit 1"
setup_emulator --kill-rate 1 --delay-ms 20
make_emails 3 kill >"$T/in3.txt"
mapfile -t in3 <"$T/in3.txt"
chain_run killed --endpoint demo --emails "$T/in3.txt" --parallel 3 --timeout 20
assert_exit 1 "$RC" "run where every task is killed"
assert_line_count "$T/killed.out" 3 "one line per email"
assert_json_lines "$T/killed.out" "stdout"
assert_all_status "$T/killed.out" killed "statuses"
assert_emails_in_order "$T/killed.out" "stdout order" "${in3[@]}"
assert_callback_lines "$T/killed.out" demo "callback payloads"
assert_jq "$T/killed.out" '(.error | type) == "string" and (.error | length) > 0' $'true\ntrue\ntrue' "killed lines carry the error"
killed_id=$(jq -r .task_id "$T/killed.out" | head -n 1)

step "--kill-rate 1 with every callback lost: recovered as killed, exit 1"
setup_emulator --kill-rate 1 --drop-callback-rate 1 --delay-ms 20
chain_run killed_lost --endpoint demo --emails "$T/in3.txt" --parallel 3 --timeout 1
assert_exit 1 "$RC" "run where every task is killed and no callback comes"
assert_line_count "$T/killed_lost.out" 3 "one line per email"
assert_all_status "$T/killed_lost.out" killed "statuses"
assert_emails_in_order "$T/killed_lost.out" "stdout order" "${in3[@]}"
assert_callback_lines "$T/killed_lost.out" demo "recovered payloads"
assert_eq 3 "$(count_matches "$T/killed_lost.err" "result fetched")" "stderr: 'result fetched' per task"

step "status TASK_ID: one JSON line, the task out of the service's envelope"
EMU_URL=$finished_url
task=$(jq -r .task_id "$T/finished.out" | head -n 1)
chain st status "$task" --api-url "$EMU_URL"
assert_exit 0 "$RC" "status of a finished task"
assert_line_count "$T/st.out" 1 "one line"
assert_json_lines "$T/st.out" "stdout"
assert_jq "$T/st.out" '.status' success "the task's status"
assert_jq "$T/st.out" '.task_id' "$task" "the task's id"
assert_jq "$T/st.out" 'has("success") or has("task")' false "no envelope"

step "result TASK_ID --endpoint demo: the callback payload, as the run printed it"
chain res result "$task" --endpoint demo --api-url "$EMU_URL"
assert_exit 0 "$RC" "result of a finished task"
assert_line_count "$T/res.out" 1 "one line"
assert_json_lines "$T/res.out" "stdout"
assert_jq "$T/res.out" '.task_id + " " + .status + " " + .endpoint_name' "$task success demo" "the payload"
# The payload is the one the run printed for that task (less the run's own "input").
assert_eq "$(head -n 1 "$T/finished.out" | jq -cS 'del(.input)')" "$(jq -cS . "$T/res.out")" \
  "result's data equals the run's line for the task"

step "status of a killed task"
setup_emulator --kill-rate 1 --delay-ms 20
chain_run killed_again --endpoint demo --emails "$T/in3.txt" --timeout 20
killed_id=$(jq -r .task_id "$T/killed_again.out" | head -n 1)
chain st_killed status "$killed_id" --api-url "$EMU_URL"
assert_exit 0 "$RC" "status of a killed task"
assert_jq "$T/st_killed.out" '.status' killed "the task's status"
chain res_killed result "$killed_id" --endpoint demo --api-url "$EMU_URL"
assert_exit 0 "$RC" "result of a killed task"
assert_jq "$T/res_killed.out" '.status' killed "the payload's status"

step "status of a task still running"
setup_emulator --delay-ms 60000
chain_run running --endpoint demo --emails "$T/in3.txt" --parallel 3 --timeout 1 --max-timeout-minutes 1
assert_exit 1 "$RC" "run that times out"
assert_all_status "$T/running.out" timeout "statuses"
running_id=$(jq -r .task_id "$T/running.out" | head -n 1)
chain st_running status "$running_id" --api-url "$EMU_URL"
assert_exit 0 "$RC" "status of a running task"
assert_jq "$T/st_running.out" '.status' running "the task's status"

step "an unknown task id: non-zero exit, an error on stderr"
chain st_unknown status no-such-task-0000 --api-url "$EMU_URL"
assert_ne 0 "$RC" "status of an unknown task"
assert_file_contains "$T/st_unknown.err" "optexity-chain: error: " "stderr"
chain res_unknown result no-such-task-0000 --endpoint demo --api-url "$EMU_URL"
assert_ne 0 "$RC" "result of an unknown task"
assert_file_contains "$T/res_unknown.err" "optexity-chain: error: " "stderr"

step "status with a key: the right key from a file works, a wrong one exits 3"
key=k-$RANDOM$RANDOM
printf '%s\n' "$key" >"$T/key.txt"
setup_emulator --delay-ms 20 --api-key "$key"
chain_run keyed --endpoint demo --emails "$T/in3.txt" --api-key-file "$T/key.txt" --timeout 20
assert_exit 0 "$RC" "run with the key"
keyed_id=$(jq -r .task_id "$T/keyed.out" | head -n 1)
chain st_key status "$keyed_id" --api-url "$EMU_URL" --api-key-file "$T/key.txt"
assert_exit 0 "$RC" "status with the right key"
assert_jq "$T/st_key.out" '.status' success "the task's status"
chain st_nokey status "$keyed_id" --api-url "$EMU_URL" --api-key wrong-key
assert_exit 3 "$RC" "status with a wrong key"
assert_file_contains "$T/st_nokey.err" "optexity-chain: error: " "stderr"
assert_file_not_contains "$T/st_key.err" "$key" "the key on stderr"

step "each callback is answered before the run exits: the service has nothing to redeliver"
# A callback whose answer the run never sends (it stopped its listener first) is redelivered by
# the service for minutes, to a listener that is gone or to the next run on the port.
setup_emulator --delay-ms 20
printf '%s\n' last@example.com >"$T/one.txt"
for i in 1 2 3 4 5; do
  # Each run on its own port, named in its requests: a late redelivery reaches no other run.
  port=$(free_port)
  chain "last$i" run --api-url "$EMU_URL" --listen "127.0.0.1:$port" --public-url "http://127.0.0.1:$port" -q \
    --endpoint demo --emails "$T/one.txt" --timeout 20
  assert_exit 0 "$RC" "single-task run $i"
  assert_all_status "$T/last$i.out" success "single-task run $i"
done
# Each callback's first attempt is logged once it was answered (or failed): a retry would need
# a failed attempt, logged by then.
callbacks_logged() { (($(callback_order "$EMU_LOG" | wc -l) >= $1)); }
wait_until 10 "the emulator's log of the 5 tasks' callbacks" callbacks_logged 5
assert_eq 0 "$(grep -c '^emulator: callback .* (attempt ' "$EMU_LOG" || true)" \
  "callbacks the emulator had to retry (each run printed its line, then left without answering)"
