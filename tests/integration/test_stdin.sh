#!/usr/bin/env bash
# --emails -: stdin streams (submission starts before it ends); bad lines become invalid_input.
source "$(dirname "$0")/lib.sh"

setup_emulator --delay-ms 50

step "streaming: the first result appears while stdin is still open"
mkfifo "$T/stdin.fifo"
start_bg_fifo_stdin stream "$T/stdin.fifo" \
  "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails -
run_pid=$BG_PID
exec 7<>"$T/stdin.fifo"
printf 'first@example.com\n' >&7
wait_until 30 "the first result line while stdin is open" has_lines "$T/stream.out" 1
is_alive "$run_pid" || _fail_ctx "the run ended before stdin was closed"
assert_line_count "$T/stream.out" 1 "lines before the rest of stdin"
assert_jq "$T/stream.out" '.status + " " + .input.email[0]' "success first@example.com" "first line"
printf '# a comment\n\n  second@example.com  \nthird@example.com\n' >&7
exec 7>&-
wait_exit "$run_pid" 60 "the streaming run"
assert_exit 0 "$RC" "the streaming run"
assert_line_count "$T/stream.out" 3 "one line per email"
assert_json_lines "$T/stream.out" "stdout"
assert_emails_in_order "$T/stream.out" "stdout order" first@example.com second@example.com third@example.com
assert_inputs_exact "$T/stream.out" "input is {email:[value]}"
assert_all_status "$T/stream.out" success "statuses"
assert_callback_lines "$T/stream.out" demo "callback payloads"

step "a bad line on stdin becomes an invalid_input line and the run goes on (exit 1)"
printf '%s\n' 'ok1@example.com' 'not-an-email' 'ok2@example.com' 'two words@example.com' \
  'ok3@example.com' >"$T/mixed.txt"
submits_before=$(submit_count)
chain_run mixed --endpoint demo --emails - <"$T/mixed.txt"
assert_exit 1 "$RC" "run with bad lines on stdin"
assert_line_count "$T/mixed.out" 5 "one line per non-blank input line"
assert_json_lines "$T/mixed.out" "stdout"
assert_jq "$T/mixed.out" '.status' $'success\ninvalid_input\nsuccess\ninvalid_input\nsuccess' "statuses in order"
assert_jq "$T/mixed.out" 'select(.status == "success") | .input.email[0]' \
  $'ok1@example.com\nok2@example.com\nok3@example.com' "good inputs"
assert_jq "$T/mixed.out" 'select(.status == "invalid_input") | (has("error") and has("input") and (.error | type) == "string")' \
  $'true\ntrue' "invalid_input lines carry error and input"
assert_contains "$(jq -r 'select(.status == "invalid_input") | .error' "$T/mixed.out" | head -1)" "2" \
  "the first invalid_input error names its line"
assert_contains "$(jq -r 'select(.status == "invalid_input") | .error' "$T/mixed.out" | head -1)" "'@'" \
  "the first invalid_input error says what is wrong"
assert_contains "$(jq -r 'select(.status == "invalid_input") | .error' "$T/mixed.out" | tail -1)" "white space" \
  "the second invalid_input error says what is wrong"
assert_eq 3 "$(($(submit_count) - submits_before))" "submits: only the valid lines"

step "empty stdin: exit 0, nothing on stdout"
chain_run empty --endpoint demo --emails - </dev/null
assert_exit 0 "$RC" "run with empty stdin"
assert_empty_file "$T/empty.out" "stdout"
assert_file_not_contains "$T/empty.err" "error" "stderr"

step "stdin with only comments and blank lines: exit 0, nothing on stdout"
printf '# one\n\n   \n# two\n' >"$T/comments.in"
chain_run comments --endpoint demo --emails - <"$T/comments.in"
assert_exit 0 "$RC" "run with comments only"
assert_empty_file "$T/comments.out" "stdout"
