#!/usr/bin/env bash
# The details: progress only where it belongs, a summary, typo suggestions, who holds a port,
# the versions.
source "$(dirname "$0")/lib.sh"

step "stderr is not a terminal: no redraws, no control characters, a summary at the end"
setup_emulator --delay-ms 30 --fail-rate 0.5 --seed 4
make_emails 6 p >"$T/in.txt"
chain_run plain --endpoint demo --emails "$T/in.txt" --parallel 2
assert_exit 1 "$RC" "run with failures"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T/plain.err"; then
  fail "control characters on a non-terminal stderr" "$T/plain.err"
fi
assert_file_contains "$T/plain.err" "6 inputs in" "the summary counts the inputs"
assert_file_contains "$T/plain.err" "slowest:" "the summary names the slowest task"
assert_file_contains "$T/plain.err" "failed: Emulated failure" "the summary lists the failures"

step "--progress json: status objects on stderr, stdout untouched"
setup_emulator --delay-ms 700
make_emails 8 j >"$T/in8.txt"
chain_run json --endpoint demo --emails "$T/in8.txt" --parallel 2 --progress json
assert_exit 0 "$RC" "run"
assert_line_count "$T/json.out" 8 "stdout"
# Pure JSON lines: jq reads stderr as it is, every line one object.
jq -e -s 'length > 0 and all(.[]; type == "object" and (.event == "progress" or .event == "log"))' \
  "$T/json.err" >/dev/null || fail "stderr is not JSON lines of progress and log events" "$T/json.err"
progress_lines=$(jq -c 'select(.event == "progress")' "$T/json.err" | wc -l)
assert_ne 0 "$progress_lines" "progress objects on stderr"
jq -e -s '[.[] | select(.event == "progress")] | all(has("done") and has("total") and
  has("in_flight") and .total == 8) and (last.final == true) and (last.done == 8)' \
  "$T/json.err" >/dev/null || fail "a progress object lacks its fields, or no final one" "$T/json.err"
assert_jq "$T/json.err" 'select(.event == "log" and (.message | startswith("[8] "))) | .level' \
  info "the task lines are log events"

step "-q: only errors, no summary"
chain_run quiet --endpoint demo --emails "$T/in8.txt" -q
assert_exit 0 "$RC" "quiet run"
assert_empty_file "$T/quiet.err" "stderr with -q"

step "a terminal gets a live status line, redrawn in place"
if command -v script >/dev/null; then
  timeout 60 script -qec "$BIN run --api-url $EMU_URL --listen $LISTEN --endpoint demo \
    --emails $T/in8.txt --parallel 2 --color never >$T/tty.out" "$T/tty.typescript" >/dev/null 2>&1 || true
  assert_line_count "$T/tty.out" 8 "stdout of the terminal run"
  assert_file_contains "$T/tty.typescript" $'\r\x1b[K\x1b[?7ldemo [' "the status line is redrawn in place (autowrap off), naming the stage"
  assert_file_contains "$T/tty.typescript" "in flight" "the status line shows tasks in flight"
else
  log "script(1) is not installed: terminal check skipped"
fi

step "typos get the closest valid name"
chain typo run --emial x --endpoint demo
assert_exit 2 "$RC" "unknown option"
assert_file_contains "$T/typo.err" "did you mean --emails?" "option suggestion"
chain typo2 rnu
assert_exit 2 "$RC" "unknown command"
assert_file_contains "$T/typo2.err" "did you mean 'run'?" "command suggestion"

step "a taken port names its holder"
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' \
  >"$T/holder.port" 2>/dev/null &
BG_PIDS+=($!)
wait_until 10 "the port holder" test -s "$T/holder.port"
port=$(head -1 "$T/holder.port")
chain taken run --emulate --listen "127.0.0.1:$port" --endpoint demo --emails "$T/in.txt"
assert_exit 2 "$RC" "port in use"
assert_file_contains "$T/taken.err" "python3 (pid" "the holder is named"
assert_file_contains "$T/taken.err" "--listen 127.0.0.1:0" "a way out is suggested"

step "--version names the libraries"
chain version --version
assert_exit 0 "$RC" "--version"
for lib in CLI11 nlohmann/json fmt cpp-httplib OpenSSL; do
  assert_file_contains "$T/version.out" "$lib" "--version"
done
