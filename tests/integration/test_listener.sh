#!/usr/bin/env bash
# The run's callback listener, posted to directly while the run waits: malformed JSON 400,
# unknown task ids 200, bodies over 32 MiB 413; none of it disturbs the run.
source "$(dirname "$0")/lib.sh"

setup_emulator --delay-ms 50

step "start a run that waits for its inputs on stdin"
mkfifo "$T/stdin.fifo"
start_bg_fifo_stdin run "$T/stdin.fifo" \
  "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails - --timeout 40
run_pid=$BG_PID
exec 7<>"$T/stdin.fifo"
wait_until 20 "the run to listen" grep -q "listening on" "$T/run.err"
CB=http://127.0.0.1:$LPORT/receive_callback

# POSTs to the listener; prints the HTTP status (000 when there was no answer).
post() { # name curl-args...
  local name=$1
  shift
  timeout 60 curl -sS -o "$T/$name.body" -w '%{http_code}' --max-time 50 \
    -H 'Content-Type: application/json' -X POST "$@" 2>"$T/$name.curl" || true
}

step "malformed JSON -> 400"
assert_eq 400 "$(post malformed --data-binary '{"task_id": "abc", "status": ' "$CB")" "status for malformed JSON"
assert_eq 400 "$(post notjson --data-binary 'hello' "$CB")" "status for a body that is not JSON"

step "a callback for a task this run does not know -> 200"
unknown='{"task_id":"00000000-0000-4000-8000-000000000000","status":"success","output_data":[]}'
assert_eq 200 "$(post unknown --data-binary "$unknown" "$CB")" "status for an unknown task id"

step "a body over 32 MiB -> 413"
head -c $((64 * 1024 * 1024 + 1024)) /dev/zero | tr '\0' ' ' >"$T/big.json"
started=$(now)
code=$(post big --data-binary "@$T/big.json" "$CB")
rm -f "$T/big.json"
log "64 MiB POST answered $code in $(elapsed_since "$started") s"
assert_eq 413 "$code" "status for a body over 32 MiB"

step "a header line over 8 KB -> 400 (cpp-httplib's limit), and a JSON nested 100,000 deep -> 400"
big_header="X-Big: $(head -c 100000 /dev/zero | tr '\0' a)"
assert_eq 400 "$(post bighdr -H "$big_header" --data-binary "$unknown" "$CB")" "status for a 100 KB header"
python3 -c 'print("[" * 100000 + "]" * 100000)' >"$T/deep.json"
assert_eq 400 "$(post deep --data-binary "@$T/deep.json" "$CB")" "status for deeply nested JSON"

step "the run is unharmed: its inputs still succeed"
is_alive "$run_pid" || _fail_ctx "the run died"
make_emails 3 >"$T/in.txt"
mapfile -t emails <"$T/in.txt"
cat "$T/in.txt" >&7
exec 7>&-
wait_exit "$run_pid" 40 "the run"
assert_exit 0 "$RC" "the run"
assert_line_count "$T/run.out" 3 "one line per input (nothing from the stray callbacks)"
assert_json_lines "$T/run.out" "stdout"
assert_all_status "$T/run.out" success "statuses"
assert_emails_in_order "$T/run.out" "stdout order" "${emails[@]}"
assert_callback_lines "$T/run.out" demo "callback payloads"
