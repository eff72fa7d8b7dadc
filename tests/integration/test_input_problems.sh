#!/usr/bin/env bash
# Input files as users have them: a byte-order mark, a binary file, an empty file, a JSON array,
# TSV, a wrong --unique name, bad lines on stdin (their text kept). What the user sees: stdout,
# one clear stderr line per problem (20 at most), exit codes.
source "$(dirname "$0")/lib.sh"

setup_emulator --delay-ms 10

step "a byte-order mark (Notepad, Excel) is not part of the first email"
printf '\xef\xbb\xbfa@example.com\r\nb@example.com\r\n' >"$T/bom.txt"
chain_run bom --endpoint demo --emails "$T/bom.txt"
assert_exit 0 "$RC" "run"
assert_emails_in_order "$T/bom.out" "the emails submitted" a@example.com b@example.com
assert_eq 1 "$(submits_of_email a@example.com)" "the service got the email without the mark"
chain_run bom_stdin --endpoint demo --emails - <"$T/bom.txt"
assert_exit 0 "$RC" "run from stdin"
assert_emails_in_order "$T/bom_stdin.out" "the emails from stdin" a@example.com b@example.com

step "a binary file: one line says so, then at most 20 problems and how many more"
head -c 300000 "$BIN" >"$T/binary.txt"
submits=$(submit_count)
chain_run binary --endpoint demo --emails "$T/binary.txt"
assert_exit 2 "$RC" "a binary file"
assert_empty_file "$T/binary.out" "stdout"
assert_eq "optexity-chain: error: $T/binary.txt: this looks like a binary file, not a text file of inputs (lines, CSV, TSV or NDJSON)" \
  "$(head -n 1 "$T/binary.err")" "the first line"
(($(line_count "$T/binary.err") <= 22)) || fail "more than 22 stderr lines" "$T/binary.err"
tail -n 1 "$T/binary.err" | grep -qE "^optexity-chain: error: $T/binary.txt: and [0-9]+ more problems$" ||
  fail "the last line does not count the rest" "$T/binary.err"
assert_eq "$submits" "$(submit_count)" "nothing submitted"
chain_run binary_input --endpoint demo --input "$T/binary.txt" --format lines
assert_exit 2 "$RC" "a binary --input file"
assert_file_contains "$T/binary_input.err" "this looks like a binary file" "--input too"

step "an empty file warns, runs nothing, exit 0"
: >"$T/empty.txt"
chain_run empty --endpoint demo --emails "$T/empty.txt"
assert_exit 0 "$RC" "an empty file"
assert_empty_file "$T/empty.out" "stdout"
assert_file_contains "$T/empty.err" "warning: $T/empty.txt: no inputs (the file is empty): nothing to run" \
  "stderr"
printf '# only a comment\n\n' >"$T/comments.txt"
chain_run comments --endpoint demo --emails "$T/comments.txt"
assert_exit 0 "$RC" "only comments"
assert_file_contains "$T/comments.err" "no inputs (only blank lines, comments or a header)" "stderr"

step "a JSON array read as NDJSON: one error with the jq command that converts it"
printf '[\n  {"email": "a@example.com"},\n  {"email": "b@example.com"}\n]\n' >"$T/list.json"
chain_run array --endpoint demo --input "$T/list.json"
assert_exit 2 "$RC" "a JSON array"
assert_eq "optexity-chain: error: $T/list.json: a JSON array, not one JSON object per line (NDJSON): convert it with jq -c '.[]' $T/list.json > inputs.ndjson" \
  "$(cat "$T/array.err")" "the one error line"
jq -c '.[]' "$T/list.json" >"$T/list.ndjson"
chain_run converted --endpoint demo --input "$T/list.ndjson"
assert_exit 0 "$RC" "the converted file runs"
assert_line_count "$T/converted.out" 2 "two lines"

step "a .tsv file is read as tab-separated values"
printf 'email\tnote\na@example.com\tx, y\n' >"$T/people.tsv"
chain_run tsv --endpoint demo --input "$T/people.tsv"
assert_exit 0 "$RC" "a TSV file"
assert_jq "$T/tsv.out" '.input | tojson' '{"email":["a@example.com"],"note":["x, y"]}' "its parameters"

step "--unique with a name no input has: one line, not one per input"
make_emails 30 u >"$T/u30.txt"
chain_run unique --endpoint demo --emails "$T/u30.txt" --unique emial
assert_exit 2 "$RC" "a wrong --unique"
assert_eq "optexity-chain: error: $T/u30.txt: --unique emial: none of the 30 inputs has a parameter \"emial\" (they have: email); did you mean email?" \
  "$(cat "$T/unique.err")" "the one error line"

step "--unique that some inputs lack: each is named by file:line"
printf '%s\n' '{"email":"a@example.com"}' '{"name":"b"}' '{"email":"c@example.com"}' '{"name":"d"}' \
  >"$T/mixed.ndjson"
chain_run unique_some --endpoint demo --input "$T/mixed.ndjson" --unique email
assert_exit 2 "$RC" "some inputs lack the name"
assert_eq "optexity-chain: error: $T/mixed.ndjson:2: --unique email: this input has no parameter \"email\" (it has: name)
optexity-chain: error: $T/mixed.ndjson:4: --unique email: this input has no parameter \"email\" (it has: name)" \
  "$(cat "$T/unique_some.err")" "one line per input that lacks it"

step "a bad line on stdin: its invalid_input line keeps the text (cut at 1 KiB)"
{
  printf 'ok@example.com\n'
  printf 'not an email \xff\n'
  printf 'x%.0s' $(seq 1 3000)
  printf '\n'
} >"$T/mixed.txt"
chain_run mixed --endpoint demo --emails - <"$T/mixed.txt"
assert_exit 1 "$RC" "bad lines on stdin"
assert_line_count "$T/mixed.out" 3 "a line per input"
assert_jq "$T/mixed.out" '.status' $'success\ninvalid_input\ninvalid_input' "statuses"
assert_jq "$T/mixed.out" 'select(.status == "invalid_input") | .input' $'null\nnull' "input stays null"
first_text=$(jq -r 'select(.status == "invalid_input") | .raw_input' "$T/mixed.out" | head -n 1)
assert_eq "not an email $(printf '\xef\xbf\xbd')" "$first_text" "the text, its bad byte as U+FFFD"
got=$(jq -r 'select(.status == "invalid_input") | .raw_input | length' "$T/mixed.out" | tr '\n' ' ')
assert_eq "14 1024 " "$got" "the kept text's length (cut at 1 KiB)"
assert_jq "$T/mixed.out" 'select(.status == "invalid_input") | .raw_input_truncated // false' \
  $'false\ntrue' "a cut text says so"
