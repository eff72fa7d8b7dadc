#!/usr/bin/env bash
# The plain run: a file of emails against a standalone emulator, and `run --emulate`.
source "$(dirname "$0")/lib.sh"

setup_emulator --delay-ms 50

step "a file with comments, blank lines and padding against the standalone emulator"
printf '%s\n' '# customers to process' 'alice@example.com' '' '   bob@example.com  ' \
  '	# indented comment' 'carol+tag@example.org' >"$T/in.txt"
chain_run r1 --endpoint demo --emails "$T/in.txt"
assert_exit 0 "$RC" "run against the emulator"
assert_line_count "$T/r1.out" 3 "one line per email"
assert_json_lines "$T/r1.out" "stdout"
assert_emails_in_order "$T/r1.out" "stdout order" alice@example.com bob@example.com carol+tag@example.org
assert_inputs_exact "$T/r1.out" "input is {email:[value]}"
assert_all_status "$T/r1.out" success "statuses"
assert_callback_lines "$T/r1.out" demo "callback payloads"
assert_jq "$T/r1.out" '.output_data[0].unique_identifier' $'alice@example.com\nbob@example.com\ncarol+tag@example.org' \
  "the service's output rows"
assert_file_not_contains "$T/r1.err" "error" "stderr of a clean run"
assert_eq 3 "$(accepted_count)" "submits the emulator accepted"
# The task ids on stdout are those the emulator handed out.
assert_eq "$(accepted_task_ids | sort)" "$(jq -r .task_id "$T/r1.out" | sort)" "task ids"

step "-q prints nothing on stderr when all is well"
chain_run r2 -q --endpoint demo --emails "$T/in.txt"
assert_exit 0 "$RC" "quiet run"
assert_line_count "$T/r2.out" 3 "one line per email"
assert_empty_file "$T/r2.err" "stderr with -q"

step "--parallel 4 keeps input order"
make_emails 8 par >"$T/eight.txt"
mapfile -t eight <"$T/eight.txt"
chain_run r3 --parallel 4 --endpoint demo --emails "$T/eight.txt"
assert_exit 0 "$RC" "parallel run"
assert_line_count "$T/r3.out" 8 "one line per email"
assert_json_lines "$T/r3.out" "stdout"
assert_emails_in_order "$T/r3.out" "stdout order" "${eight[@]}"
assert_all_status "$T/r3.out" success "statuses"
assert_callback_lines "$T/r3.out" demo "callback payloads"

step "run --emulate: the in-process emulator on free ports"
chain r4 run --emulate --endpoint my-automation --emails "$T/in.txt"
assert_exit 0 "$RC" "run --emulate"
assert_line_count "$T/r4.out" 3 "one line per email"
assert_json_lines "$T/r4.out" "stdout"
assert_emails_in_order "$T/r4.out" "stdout order" alice@example.com bob@example.com carol+tag@example.org
assert_inputs_exact "$T/r4.out" "input is {email:[value]}"
assert_all_status "$T/r4.out" success "statuses"
assert_callback_lines "$T/r4.out" my-automation "callback payloads"
assert_file_not_contains "$T/r4.err" "error" "stderr of a clean run"

step "two --emulate runs at once do not collide (both pick free ports)"
start_bg e1 timeout -k 5 90 "$BIN" run --emulate --endpoint demo --emails "$T/eight.txt"
p1=$BG_PID
start_bg e2 timeout -k 5 90 "$BIN" run --emulate --endpoint demo --emails "$T/eight.txt"
p2=$BG_PID
wait_exit "$p1" 60 "first --emulate run"
assert_exit 0 "$RC" "first --emulate run"
wait_exit "$p2" 60 "second --emulate run"
assert_exit 0 "$RC" "second --emulate run"
assert_emails_in_order "$T/e1.out" "first run" "${eight[@]}"
assert_emails_in_order "$T/e2.out" "second run" "${eight[@]}"
assert_all_status "$T/e1.out" success "first run statuses"
assert_all_status "$T/e2.out" success "second run statuses"
