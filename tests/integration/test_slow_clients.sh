#!/usr/bin/env bash
# 50 slow connections to the run's listener (a partial request, one byte at a time) neither keep
# the callbacks out nor keep the run from ending: every input finishes, the run exits, in bounded
# time. (test_slow_clients_sigint.sh: the same beside a SIGINT.)
source "$(dirname "$0")/lib.sh"

setup_emulator --delay-ms 200
make_emails 10 >"$T/in.txt"
mapfile -t emails <"$T/in.txt"

step "start a run (its inputs come later, on stdin)"
mkfifo "$T/stdin.fifo"
start_bg_fifo_stdin run "$T/stdin.fifo" \
  "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails - --timeout 40
run_pid=$BG_PID
exec 7<>"$T/stdin.fifo"
wait_until 20 "the run to listen" grep -q "listening on" "$T/run.err"

step "50 slow connections to the listener"
start_slow_clients slow "$LPORT" 50

step "10 inputs arrive while the slow connections hold on"
LAST=run
started=$(now)
cat "$T/in.txt" >&7
exec 7>&-
wait_until 30 "10 result lines (10 tasks of 200 ms)" has_lines "$T/run.out" 10
log "10 lines after $(elapsed_since "$started") s"
wait_exit "$run_pid" 30 "the run (all 10 lines printed) beside 50 slow connections"
took=$(elapsed_since "$started")
log "run finished in $took s"
assert_exit 0 "$RC" "the run"
assert_less "$took" 30 "seconds for 10 tasks of 200 ms beside 50 slow connections"
assert_line_count "$T/run.out" 10 "one line per input"
assert_json_lines "$T/run.out" "stdout"
assert_all_status "$T/run.out" success "statuses"
assert_emails_in_order "$T/run.out" "stdout order" "${emails[@]}"
assert_callback_lines "$T/run.out" demo "callback payloads"
is_alive "$SLOW_PID" || _fail_ctx "the slow clients ended early (the test proved nothing)" "$T/slow.out" "$T/slow.err"
assert_file_not_contains "$T/slow.out" "done" "the slow clients were still sending"
