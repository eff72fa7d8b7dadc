#!/usr/bin/env bash
# Emulator faults in the callbacks: failed tasks, dropped callbacks, duplicates, a callback that
# arrives before the submit's 202.
source "$(dirname "$0")/lib.sh"

make_emails 3 >"$T/in.txt"
mapfile -t emails <"$T/in.txt"

step "--fail-rate 1: every line is the service's failed callback, exit 1"
setup_emulator --fail-rate 1 --delay-ms 20
chain_run failed --endpoint demo --emails "$T/in.txt"
assert_exit 1 "$RC" "run where every task fails"
assert_line_count "$T/failed.out" 3 "one line per input"
assert_json_lines "$T/failed.out" "stdout"
assert_all_status "$T/failed.out" failed "statuses"
assert_emails_in_order "$T/failed.out" "stdout order" "${emails[@]}"
assert_callback_lines "$T/failed.out" demo "callback payloads"
assert_jq "$T/failed.out" '.error | type' $'string\nstring\nstring' "the service's error is kept"

step "--drop-callback-rate 1 with --timeout 1 and no status API: timeout lines with their task_id, exit 1"
setup_emulator --drop-callback-rate 1 --delay-ms 20
started=$(now)
# A full /inference URL has no status API: nothing can recover the lost callbacks.
chain dropped run --api-url "$EMU_URL/inference" --listen "$LISTEN" \
  --endpoint demo --emails "$T/in.txt" --timeout 1 --parallel 3
assert_exit 1 "$RC" "run where no callback comes"
assert_less "$(elapsed_since "$started")" 30 "seconds for a run of 1 s timeouts"
assert_line_count "$T/dropped.out" 3 "one line per input"
assert_json_lines "$T/dropped.out" "stdout"
assert_all_status "$T/dropped.out" timeout "statuses"
assert_emails_in_order "$T/dropped.out" "stdout order" "${emails[@]}"
assert_inputs_exact "$T/dropped.out" "input is {email:[value]}"
assert_jq "$T/dropped.out" '(.error | type) == "string" and (.error | length) > 0' $'true\ntrue\ntrue' "timeout lines have an error"
assert_eq "$(accepted_task_ids | sort)" "$(jq -r '.task_id // "none"' "$T/dropped.out" | sort)" \
  "the timeout lines' task ids are the tasks the service accepted"

step "--drop-callback-rate 1 with the status API: results recovered at the deadline, exit 0"
setup_emulator --drop-callback-rate 1 --delay-ms 20
chain_run recovered --endpoint demo --emails "$T/in.txt" --timeout 1 --parallel 3
assert_exit 0 "$RC" "run whose callbacks are all lost but whose tasks finished"
assert_line_count "$T/recovered.out" 3 "one line per input"
assert_all_status "$T/recovered.out" success "statuses"
assert_emails_in_order "$T/recovered.out" "stdout order" "${emails[@]}"
assert_callback_lines "$T/recovered.out" demo "the recovered lines are callback payloads"
assert_file_contains "$T/recovered.err" "result fetched" "stderr says the result was fetched"

step "--duplicate-callbacks 3: still exactly one line per input"
setup_emulator --duplicate-callbacks 3 --delay-ms 50
make_emails 5 dup >"$T/five.txt"
mapfile -t five <"$T/five.txt"
chain_run dups --endpoint demo --emails "$T/five.txt" --parallel 2
assert_exit 0 "$RC" "run with duplicate callbacks"
assert_line_count "$T/dups.out" 5 "one line per input"
assert_json_lines "$T/dups.out" "stdout"
assert_all_status "$T/dups.out" success "statuses"
assert_emails_in_order "$T/dups.out" "stdout order" "${five[@]}"
assert_callback_lines "$T/dups.out" demo "callback payloads"
assert_file_contains "$EMU_LOG" "duplicate" "the emulator did send duplicates"

step "--early-callback (the callback before the 202): every task still succeeds"
setup_emulator --early-callback --delay-ms 0
chain_run early --endpoint demo --emails "$T/five.txt" --timeout 20
assert_exit 0 "$RC" "run with early callbacks"
assert_line_count "$T/early.out" 5 "one line per input"
assert_json_lines "$T/early.out" "stdout"
assert_all_status "$T/early.out" success "statuses"
assert_emails_in_order "$T/early.out" "stdout order" "${five[@]}"
assert_callback_lines "$T/early.out" demo "callback payloads"
assert_file_contains "$EMU_LOG" "callback before the 202" "the emulator did call back early"

step "--early-callback with --duplicate-callbacks 2 and --parallel 5"
setup_emulator --early-callback --duplicate-callbacks 2 --delay-ms 0
chain_run early_par --endpoint demo --emails "$T/five.txt" --parallel 5 --timeout 20
assert_exit 0 "$RC" "run with early duplicate callbacks"
assert_line_count "$T/early_par.out" 5 "one line per input"
assert_all_status "$T/early_par.out" success "statuses"
assert_emails_in_order "$T/early_par.out" "stdout order" "${five[@]}"
assert_callback_lines "$T/early_par.out" demo "callback payloads"
