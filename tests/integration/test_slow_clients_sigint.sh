#!/usr/bin/env bash
# SIGINT while slow connections (a partial request, one byte at a time) are open on the run's
# listener: the run still exits 130 within seconds, every input of the file with its line.
source "$(dirname "$0")/lib.sh"

setup_emulator --delay-ms 30000
make_emails 3 >"$T/in.txt"
mapfile -t emails <"$T/in.txt"

step "start a run whose callbacks take 30 s"
# -v: the run's "submitted as task" debug line says it has the 202 and waits for the callback.
start_bg_default_signals run "$BIN" run -v --api-url "$EMU_URL" --listen "$LISTEN" \
  --endpoint demo --emails "$T/in.txt" --timeout 60
run_pid=$BG_PID
wait_until 30 "the first submit received by the run" submitted_at_least "$T/run.err" 1

step "5 slow connections to the listener"
start_slow_clients slow "$LPORT" 5

step "SIGINT: exit 130 within seconds"
LAST=run
is_alive "$run_pid" || _fail_ctx "the run ended before the signal"
started=$(now)
kill -INT "$run_pid"
wait_exit "$run_pid" 20 "the run after SIGINT, beside 5 slow connections"
took=$(elapsed_since "$started")
log "exit $RC after SIGINT in $took s"
assert_exit 130 "$RC" "exit code after SIGINT"
assert_less "$took" 10 "seconds from SIGINT to exit"
assert_line_count "$T/run.out" 3 "one line per input of the file"
assert_json_lines "$T/run.out" "stdout"
assert_all_status "$T/run.out" interrupted "statuses"
assert_emails_in_order "$T/run.out" "stdout order" "${emails[@]}"
is_alive "$SLOW_PID" || _fail_ctx "the slow clients ended early (the test proved nothing)" "$T/slow.out" "$T/slow.err"
