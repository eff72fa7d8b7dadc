#!/usr/bin/env bash
# --watchdog: when tasks are in flight and no callback has come for that long, the oldest task's
# status is checked; finished tasks whose callbacks never came are recovered by status checks
# (long before --timeout) and stderr says callbacks are not reaching the listener. A quiet
# period with tasks still running is no alarm.
source "$(dirname "$0")/lib.sh"

WARNING="callbacks are not reaching the listener"

step "every callback dropped, --watchdog 1 --timeout 60: results recovered in seconds"
setup_emulator --drop-callback-rate 1 --delay-ms 200
make_emails 3 >"$T/in3.txt"
mapfile -t three <"$T/in3.txt"
started=$(now)
chain_run dropped --endpoint demo --emails "$T/in3.txt" --parallel 3 --watchdog 1 --timeout 60
took=$(elapsed_since "$started")
log "3 inputs, callbacks dropped: ${took} s"
assert_exit 0 "$RC" "run whose callbacks never come"
assert_less "$took" 10 "seconds (the watchdog, not the 60 s timeout)"
assert_line_count "$T/dropped.out" 3 "one line per input"
assert_json_lines "$T/dropped.out" "stdout"
assert_all_status "$T/dropped.out" success "statuses"
assert_emails_in_order "$T/dropped.out" "stdout order" "${three[@]}"
assert_callback_lines "$T/dropped.out" demo "the recovered lines are callback payloads"
assert_eq "$(accepted_task_ids | sort)" "$(jq -r '.task_id' "$T/dropped.out" | sort)" \
  "the lines' tasks are the accepted ones"
assert_file_contains "$T/dropped.err" "$WARNING" "stderr"
assert_eq 1 "$(count_matches "$T/dropped.err" "$WARNING")" "the warning is said once"
assert_eq 3 "$(submit_count)" "submits (nothing resubmitted)"

step "callbacks dropped at --parallel 1: each task recovered in turn"
setup_emulator --drop-callback-rate 1 --delay-ms 200
make_emails 4 seq >"$T/in4.txt"
mapfile -t four <"$T/in4.txt"
started=$(now)
chain_run sequential --endpoint demo --emails "$T/in4.txt" --parallel 1 --watchdog 1 --timeout 60
took=$(elapsed_since "$started")
log "4 inputs one at a time, callbacks dropped: ${took} s"
assert_exit 0 "$RC" "run whose callbacks never come"
assert_less "$took" 20 "seconds (the watchdog, not 4 x 60 s timeouts)"
assert_line_count "$T/sequential.out" 4 "one line per input"
assert_all_status "$T/sequential.out" success "statuses"
assert_emails_in_order "$T/sequential.out" "stdout order" "${four[@]}"
assert_file_contains "$T/sequential.err" "$WARNING" "stderr"

# 2.5 s: the tasks end between two watchdog checks (about 1 s apart), not at one of them.
step "a quiet period while tasks run (callbacks after 2.5 s, --watchdog 1): no alarm"
setup_emulator --delay-ms 2500
chain_run quiet --endpoint demo --emails "$T/in3.txt" --parallel 3 --watchdog 1 --timeout 60
assert_exit 0 "$RC" "run with slow tasks"
assert_line_count "$T/quiet.out" 3 "one line per input"
assert_all_status "$T/quiet.out" success "statuses"
assert_file_not_contains "$T/quiet.err" "$WARNING" "stderr"
# The emulator logs a callback once answered: the run may have ended a moment before.
three_callbacks_delivered() { (($(count_matches "$EMU_LOG" "success -> 200") == 3)); }
wait_until 10 "3 callbacks delivered (results came by callback)" three_callbacks_delivered
assert_eq 0 "$(count_matches "$EMU_LOG" "get_callback_data")" "results fetched by status checks"
