#!/usr/bin/env bash
# SIGINT, SIGTERM and SIGHUP during a run: quick exit 130/143/129, one whole line per input of the file,
# `interrupted` for what did not finish (with the task_id of what was submitted).
source "$(dirname "$0")/lib.sh"

# Callbacks take 30 s: the run is surely waiting when the signal comes.
setup_emulator --delay-ms 30000
make_emails 5 >"$T/in.txt"
mapfile -t emails <"$T/in.txt"

# Starts a run of the file, waits until N submits were accepted, sends SIG; checks the outcome.
signal_run() { # name signal expected_code parallel
  local name=$1 sig=$2 code=$3 parallel=$4
  local before
  before=$(accepted_count)
  # -v: the run's "submitted as task" debug lines say when it has the 202s (knows the task ids).
  start_bg_default_signals "$name" "$BIN" run -v --api-url "$EMU_URL" --listen "$LISTEN" \
    --endpoint demo --emails "$T/in.txt" --parallel "$parallel"
  local pid=$BG_PID
  wait_until 30 "$parallel submit(s) received by the run" submitted_at_least "$T/$name.err" "$parallel"
  is_alive "$pid" || _fail_ctx "the run ended before the signal"
  local started
  started=$(now)
  kill "-$sig" "$pid"
  wait_exit "$pid" 30 "the run after SIG$sig"
  local took
  took=$(elapsed_since "$started")
  log "exit $RC after SIG$sig in $took s"
  assert_exit "$code" "$RC" "exit code after SIG$sig"
  assert_less "$took" 10 "seconds from SIG$sig to exit"
  assert_line_count "$T/$name.out" 5 "one line per input of the file"
  assert_json_lines "$T/$name.out" "stdout"
  assert_all_status "$T/$name.out" interrupted "statuses"
  assert_emails_in_order "$T/$name.out" "stdout order" "${emails[@]}"
  assert_inputs_exact "$T/$name.out" "input is {email:[value]}"
  assert_jq "$T/$name.out" '(.error | type) == "string"' "$(printf 'true\n%.0s' 1 2 3 4 5)" \
    "interrupted lines have an error"
  # The submitted inputs (the first `parallel`) carry the task ids the emulator handed out.
  local submitted_ids printed_ids
  submitted_ids=$(accepted_task_ids | tail -n "+$((before + 1))" | sort)
  printed_ids=$(head -n "$parallel" "$T/$name.out" | jq -r '.task_id // "none"' | sort)
  assert_eq "$submitted_ids" "$printed_ids" "task ids of the submitted inputs"
  local rest
  rest=$(tail -n "+$((parallel + 1))" "$T/$name.out" | jq -r 'select(has("task_id")) | .task_id')
  assert_eq "" "$rest" "task ids on inputs never submitted"
  assert_eq "$parallel" "$(($(accepted_count) - before))" "submits: none after the signal"
  assert_file_not_contains "$T/$name.err" "internal error" "stderr"
}

step "SIGINT while one task is in flight"
signal_run sigint INT 130 1

step "SIGTERM while two tasks are in flight"
signal_run sigterm TERM 143 2

step "SIGHUP (the terminal closed) while two tasks are in flight: as SIGTERM, exit 129"
signal_run sighup HUP 129 2

step "started ignoring SIGHUP (nohup): SIGHUP stays ignored, a later SIGINT ends the run"
start_bg nohup python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])' "$BIN" run -v --api-url "$EMU_URL" --listen "$LISTEN" \
  --endpoint demo --emails "$T/in.txt"
pid=$BG_PID
wait_until 30 "a submit received by the run" submitted_at_least "$T/nohup.err" 1
kill -HUP "$pid"
kill -INT "$pid"
wait_exit "$pid" 30 "the nohup run after SIGHUP and SIGINT"
assert_exit 130 "$RC" "exit code: SIGINT's (SIGHUP was ignored)"
assert_line_count "$T/nohup.out" 5 "one line per input of the file"

step "SIGINT with stdin input: what was read gets its line"
mkfifo "$T/stdin.fifo"
start_bg_fifo_stdin stdin_int "$T/stdin.fifo" "$BIN" run -v --api-url "$EMU_URL" --listen "$LISTEN" \
  --endpoint demo --emails - --parallel 2
pid=$BG_PID
exec 7<>"$T/stdin.fifo"
before=$(accepted_count)
printf 's1@example.com\ns2@example.com\n' >&7
wait_until 30 "2 submits received by the run" submitted_at_least "$T/stdin_int.err" 2
kill -INT "$pid"
wait_exit "$pid" 30 "the stdin run after SIGINT"
exec 7>&-
assert_exit 130 "$RC" "exit code after SIGINT"
assert_line_count "$T/stdin_int.out" 2 "one line per input read"
assert_json_lines "$T/stdin_int.out" "stdout"
assert_all_status "$T/stdin_int.out" interrupted "statuses"
assert_emails_in_order "$T/stdin_int.out" "stdout order" s1@example.com s2@example.com
assert_jq "$T/stdin_int.out" 'has("task_id")' $'true\ntrue' "submitted inputs carry their task id"
