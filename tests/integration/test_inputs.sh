#!/usr/bin/env bash
# --emails FILE: what is an input, and how a bad, empty or missing file ends the run.
source "$(dirname "$0")/lib.sh"

# A long delay: a run that submitted anything by mistake would also hang until its timeout.
setup_emulator --delay-ms 60000

step "a file with bad lines: every one reported, exit 2, nothing submitted"
printf '%s\n' 'alice@example.com' 'bob-at-example.com' '# fine' '' '  carol @example.com' \
  'dave@example.com' 'erin@exa mple.com' >"$T/bad.txt"
chain_run bad --endpoint demo --emails "$T/bad.txt" --timeout 30
assert_exit 2 "$RC" "run with a bad file"
assert_empty_file "$T/bad.out" "stdout"
assert_file_contains "$T/bad.err" "optexity-chain: error: $T/bad.txt:2: " "line 2 reported as FILE:LINE"
assert_contains "$(grep -F "$T/bad.txt:2: " "$T/bad.err")" "no '@'" "line 2 says what is wrong"
assert_file_contains "$T/bad.err" "optexity-chain: error: $T/bad.txt:5: " "line 5 reported as FILE:LINE"
assert_contains "$(grep -F "$T/bad.txt:5: " "$T/bad.err")" "white space" "line 5 says what is wrong"
assert_file_contains "$T/bad.err" "optexity-chain: error: $T/bad.txt:7: " "line 7 reported as FILE:LINE"
assert_contains "$(grep -F "$T/bad.txt:7: " "$T/bad.err")" "white space" "line 7 says what is wrong"
assert_eq 3 "$(count_matches "$T/bad.err" "optexity-chain: error: ")" "error lines: one per bad line"
assert_file_not_contains "$T/bad.err" "$T/bad.txt:1:" "good lines are not reported"
assert_file_not_contains "$T/bad.err" "$T/bad.txt:6:" "good lines are not reported"
wait_emulator_idle
assert_eq 0 "$(submit_count)" "submits the emulator saw"

step "an empty file: exit 0, nothing on stdout"
: >"$T/empty.txt"
chain_run empty --endpoint demo --emails "$T/empty.txt" --timeout 30
assert_exit 0 "$RC" "run with an empty file"
assert_empty_file "$T/empty.out" "stdout"
assert_file_not_contains "$T/empty.err" "error" "stderr"

step "a file of comments and blank lines only: exit 0, nothing on stdout"
printf '%s\n' '# nothing' '' '   ' '	# tab then comment' '#x@example.com' >"$T/comments.txt"
chain_run comments --endpoint demo --emails "$T/comments.txt" --timeout 30
assert_exit 0 "$RC" "run with only comments"
assert_empty_file "$T/comments.out" "stdout"
assert_file_not_contains "$T/comments.err" "error" "stderr"
assert_eq 0 "$(submit_count)" "submits the emulator saw"

step "a missing file: exit 2 and a one-line error naming it"
chain_run missing --endpoint demo --emails "$T/no-such-file.txt" --timeout 30
assert_exit 2 "$RC" "run with a missing file"
assert_empty_file "$T/missing.out" "stdout"
assert_line_count "$T/missing.err" 1 "stderr"
assert_file_contains "$T/missing.err" "optexity-chain: error: " "stderr"
assert_file_contains "$T/missing.err" "$T/no-such-file.txt" "the error names the file"
assert_eq 0 "$(submit_count)" "submits the emulator saw"

step "white space trimmed (spaces, tabs, CRLF); each email becomes {email:[value]}"
setup_emulator --delay-ms 20
printf '  a1@example.com\r\n\ta2@example.com\t\n a3@example.com \r\n\r\n# c\r\n' >"$T/crlf.txt"
chain_run trim --endpoint demo --emails "$T/crlf.txt"
assert_exit 0 "$RC" "run with padded lines"
assert_line_count "$T/trim.out" 3 "one line per email"
assert_json_lines "$T/trim.out" "stdout"
assert_emails_in_order "$T/trim.out" "trimmed inputs" a1@example.com a2@example.com a3@example.com
assert_inputs_exact "$T/trim.out" "input is {email:[value]}"
assert_jq "$T/trim.out" '.input_parameters | tojson' \
  $'{"email":["a1@example.com"]}\n{"email":["a2@example.com"]}\n{"email":["a3@example.com"]}' \
  "input_parameters the service received"
assert_jq "$T/trim.out" '.unique_parameter_names | tojson' \
  $'["email"]\n["email"]\n["email"]' "unique_parameter_names the service received"
assert_all_status "$T/trim.out" success "statuses"

step "a last line without a newline is an input too"
printf 'x1@example.com\nx2@example.com' >"$T/nonl.txt"
chain_run nonl --endpoint demo --emails "$T/nonl.txt"
assert_exit 0 "$RC" "run"
assert_emails_in_order "$T/nonl.out" "inputs" x1@example.com x2@example.com

step "the same email twice is submitted twice, one line each"
printf '%s\n' dup@example.com dup@example.com >"$T/dup.txt"
chain_run dup --endpoint demo --emails "$T/dup.txt"
assert_exit 0 "$RC" "run"
assert_emails_in_order "$T/dup.out" "inputs" dup@example.com dup@example.com
assert_all_status "$T/dup.out" success "statuses"
