#!/usr/bin/env bash
# run --input FILE: CSV, NDJSON and plain lines (by --format or by extension), bad files, stdin,
# --set, --unique, --secure-parameters and --dry-run.
source "$(dirname "$0")/lib.sh"

setup_emulator --delay-ms 20

# Asserts the jq filter applied to the whole file (slurped) gives the expected compact JSON.
assert_slurp() { # file filter expected-json what
  local got want
  got=$(jq -c -s "$2" "$1" 2>&1) || _fail_ctx "$4: jq '$2' failed: $got"
  want=$(jq -c -n "$3") || fail "$4: bad expected JSON [$3]"
  if [[ $got != "$want" ]]; then
    _fail_ctx "$4: jq -s '$2': expected [$want], got [$got]"
  fi
}

step "CSV with a header row: quoted commas, doubled quotes, an embedded newline, an empty cell"
{
  printf 'email,note,quote\r\n'
  printf 'a@example.com,"Smith, John","He said ""hi"""\r\n'
  printf 'b@example.com,"line one\nline two",plain\n'
  printf '\n'
  printf 'c@example.com,,"a,""b"",c"\n'
} >"$T/people.csv"
chain_run csv --endpoint demo --input "$T/people.csv"
assert_exit 0 "$RC" "run with a CSV file"
assert_line_count "$T/csv.out" 3 "one line per CSV record"
assert_json_lines "$T/csv.out" "stdout"
assert_all_status "$T/csv.out" success "statuses"
expected_csv='[{"email":["a@example.com"],"note":["Smith, John"],"quote":["He said \"hi\""]},
  {"email":["b@example.com"],"note":["line one\nline two"],"quote":["plain"]},
  {"email":["c@example.com"],"note":[],"quote":["a,\"b\",c"]}]'
assert_slurp "$T/csv.out" '[.[].input]' "$expected_csv" "each line's input"
assert_slurp "$T/csv.out" '[.[].input_parameters]' "$expected_csv" "input_parameters the service received"
assert_eq 3 "$(accepted_count)" "submits the emulator accepted"

step "NDJSON: strings, arrays, numbers and booleans become lists of JSON text"
{
  printf '%s\n' '{"email":"n1@example.com","tags":["x","y"],"count":3,"ratio":1.5,"vip":true}'
  printf '\n'
  printf '%s\n' '{"email":["n2@example.com"],"tags":[],"count":-7,"mixed":["s",2,false]}'
} >"$T/records.ndjson"
chain_run ndjson --endpoint demo --input "$T/records.ndjson"
assert_exit 0 "$RC" "run with an NDJSON file"
assert_line_count "$T/ndjson.out" 2 "one line per NDJSON record"
assert_json_lines "$T/ndjson.out" "stdout"
assert_all_status "$T/ndjson.out" success "statuses"
expected_nd='[{"email":["n1@example.com"],"tags":["x","y"],"count":["3"],"ratio":["1.5"],"vip":["true"]},
  {"email":["n2@example.com"],"tags":[],"count":["-7"],"mixed":["s","2","false"]}]'
assert_slurp "$T/ndjson.out" '[.[].input]' "$expected_nd" "each line's input"
assert_slurp "$T/ndjson.out" '[.[].input_parameters]' "$expected_nd" "input_parameters the service received"

step "--format lines --param-name url (the .dat extension alone would mean NDJSON)"
printf '%s\n' 'https://a.example/x?q=1' '# a comment' '' '  https://b.example/y  ' >"$T/urls.dat"
chain_run lines --endpoint demo --input "$T/urls.dat" --format lines --param-name url
assert_exit 0 "$RC" "run with --format lines"
assert_line_count "$T/lines.out" 2 "one line per non-blank, non-comment line"
assert_all_status "$T/lines.out" success "statuses"
assert_slurp "$T/lines.out" '[.[].input]' '[{"url":["https://a.example/x?q=1"]},{"url":["https://b.example/y"]}]' \
  "each line's input"

step "the format follows the extension: .txt is lines, .jsonl is NDJSON, .CSV is CSV"
printf '%s\n' 'https://c.example/' >"$T/urls.txt"
chain_run ext_txt --endpoint demo --input "$T/urls.txt" --param-name url
assert_exit 0 "$RC" ".txt run"
assert_slurp "$T/ext_txt.out" '[.[].input]' '[{"url":["https://c.example/"]}]' ".txt is one parameter a line"
printf '%s\n' '{"email":"j@example.com","n":1}' >"$T/records.jsonl"
chain_run ext_jsonl --endpoint demo --input "$T/records.jsonl"
assert_exit 0 "$RC" ".jsonl run"
assert_slurp "$T/ext_jsonl.out" '[.[].input]' '[{"email":["j@example.com"],"n":["1"]}]' ".jsonl is NDJSON"
printf 'email,n\nk@example.com,2\n' >"$T/upper.CSV"
chain_run ext_csv --endpoint demo --input "$T/upper.CSV"
assert_exit 0 "$RC" ".CSV run"
assert_slurp "$T/ext_csv.out" '[.[].input]' '[{"email":["k@example.com"],"n":["2"]}]' ".CSV is CSV"
# The same CSV text named .ndjson is read as NDJSON, and so is not valid.
cp "$T/upper.CSV" "$T/really-csv.ndjson"
chain_run ext_ndjson --endpoint demo --input "$T/really-csv.ndjson"
assert_exit 2 "$RC" "CSV text in a .ndjson file"
assert_file_contains "$T/ext_ndjson.err" "optexity-chain: error: $T/really-csv.ndjson:1: " \
  ".ndjson is read as NDJSON"

# From here on nothing may be submitted until the stdin steps: count from now.
submits_before=$(submit_count)

step "a ragged CSV: every bad record reported as FILE:LINE, exit 2, nothing submitted"
{
  printf 'email,note\n'
  printf 'ok1@example.com,fine\n'
  printf 'short@example.com\n'
  printf 'ok2@example.com,"spans\ntwo lines"\n'
  printf 'long@example.com,a,b\n'
} >"$T/ragged.csv"
chain_run ragged --endpoint demo --input "$T/ragged.csv"
assert_exit 2 "$RC" "run with a ragged CSV"
assert_empty_file "$T/ragged.out" "stdout"
assert_file_contains "$T/ragged.err" "optexity-chain: error: $T/ragged.csv:3: " "the short row as FILE:LINE"
assert_contains "$(grep -F "$T/ragged.csv:3: " "$T/ragged.err")" "expected 2 fields, got 1" "the short row says why"
# Line 4 opens a two-line record, so the long row is on line 6.
assert_file_contains "$T/ragged.err" "optexity-chain: error: $T/ragged.csv:6: " "the long row as FILE:LINE"
assert_contains "$(grep -F "$T/ragged.csv:6: " "$T/ragged.err")" "expected 2 fields, got 3" "the long row says why"
assert_eq 2 "$(count_matches "$T/ragged.err" "optexity-chain: error: ")" "error lines: one per bad record"

step "a bad NDJSON file (a null value, not JSON): every line reported, exit 2, nothing submitted"
{
  printf '%s\n' '{"email":"ok@example.com"}'
  printf '%s\n' '{"email":null}'
  printf '%s\n' '{"email":"x@example.com",'
  printf '%s\n' '{"email":"y@example.com","tags":["a",null]}'
} >"$T/bad.ndjson"
chain_run badnd --endpoint demo --input "$T/bad.ndjson"
assert_exit 2 "$RC" "run with a bad NDJSON file"
assert_empty_file "$T/badnd.out" "stdout"
assert_file_contains "$T/badnd.err" "optexity-chain: error: $T/bad.ndjson:2: " "the null value as FILE:LINE"
assert_contains "$(grep -F "$T/bad.ndjson:2: " "$T/badnd.err")" "null" "line 2 says why"
assert_contains "$(grep -F "$T/bad.ndjson:2: " "$T/badnd.err")" '"email"' "line 2 names the parameter"
assert_file_contains "$T/badnd.err" "optexity-chain: error: $T/bad.ndjson:3: " "the broken JSON as FILE:LINE"
assert_file_contains "$T/badnd.err" "optexity-chain: error: $T/bad.ndjson:4: " "the null in a list as FILE:LINE"
assert_eq 3 "$(count_matches "$T/badnd.err" "optexity-chain: error: ")" "error lines: one per bad line"
assert_file_not_contains "$T/badnd.err" "$T/bad.ndjson:1:" "the good line is not reported"
wait_emulator_idle
assert_eq "$submits_before" "$(submit_count)" "submits the emulator saw for the bad files"

step "CSV on stdin with --input - --format csv"
printf 'email,city\ns1@example.com,"Paris, FR"\ns2@example.com,Oslo\n' >"$T/stdin.csv"
chain_run stdin_csv --endpoint demo --input - --format csv <"$T/stdin.csv"
assert_exit 0 "$RC" "CSV on stdin"
assert_line_count "$T/stdin_csv.out" 2 "one line per record"
assert_all_status "$T/stdin_csv.out" success "statuses"
assert_slurp "$T/stdin_csv.out" '[.[].input]' \
  '[{"email":["s1@example.com"],"city":["Paris, FR"]},{"email":["s2@example.com"],"city":["Oslo"]}]' \
  "each line's input"

step "NDJSON on stdin (the default for -): a bad line becomes invalid_input and the run goes on"
printf '%s\n' '{"email":"t1@example.com"}' '{"email":null}' '{"email":"t3@example.com","n":5}' >"$T/stdin.ndjson"
chain_run stdin_nd --endpoint demo --input - <"$T/stdin.ndjson"
assert_exit 1 "$RC" "NDJSON on stdin with a bad line"
assert_line_count "$T/stdin_nd.out" 3 "one line per record"
assert_json_lines "$T/stdin_nd.out" "stdout"
assert_jq "$T/stdin_nd.out" '.status' $'success\ninvalid_input\nsuccess' "statuses in input order"
assert_slurp "$T/stdin_nd.out" '[.[] | select(.status == "success") | .input]' \
  '[{"email":["t1@example.com"]},{"email":["t3@example.com"],"n":["5"]}]' "the good records' inputs"
bad_error=$(jq -r 'select(.status == "invalid_input") | .error' "$T/stdin_nd.out")
assert_contains "$bad_error" ":2:" "the invalid_input error names its line"
assert_contains "$bad_error" "null" "the invalid_input error says what is wrong"
assert_eq 4 "$(($(submit_count) - submits_before))" "submits: the stdin CSV and the good NDJSON records"

step "--set plan=gold is added to every line's input"
chain_run set --endpoint demo --input "$T/records.ndjson" --set plan=gold --set region=eu-west
assert_exit 0 "$RC" "run with --set"
assert_line_count "$T/set.out" 2 "one line per record"
assert_jq "$T/set.out" '.input.plan | tojson' $'["gold"]\n["gold"]' "plan in each input"
assert_jq "$T/set.out" '.input.region | tojson' $'["eu-west"]\n["eu-west"]' "region in each input"
assert_jq "$T/set.out" '.input_parameters.plan | tojson' $'["gold"]\n["gold"]' "plan submitted"
assert_jq "$T/set.out" '.input.email[0]' $'n1@example.com\nn2@example.com' "the file's parameters are kept"

step "--unique sets unique_parameter_names (echoed by the emulator's callback)"
chain_run unique --endpoint demo --input "$T/people.csv" --unique email --unique quote
assert_exit 0 "$RC" "run with --unique"
assert_jq "$T/unique.out" '.unique_parameter_names | tojson' \
  $'["email","quote"]\n["email","quote"]\n["email","quote"]' "unique_parameter_names"
chain_run nounique --endpoint demo --input "$T/people.csv"
assert_exit 0 "$RC" "run without --unique"
assert_jq "$T/nounique.out" '.unique_parameter_names | tojson' $'[]\n[]\n[]' \
  "unique_parameter_names without --unique"

dry_before=$(submit_count)

step "--secure-parameters FILE is sent with each request (seen with --dry-run)"
printf '%s\n' '{"password":[{"onepassword":{"vault_name":"v","item_name":"i","field_name":"f"}}]}' \
  >"$T/secure.json"
chain_run secure --endpoint demo --input "$T/records.ndjson" --secure-parameters "$T/secure.json" --dry-run
assert_exit 0 "$RC" "dry run with --secure-parameters"
assert_line_count "$T/secure.out" 2 "one request per record"
assert_json_lines "$T/secure.out" "stdout"
assert_slurp "$T/secure.out" '[.[].body.secure_parameters]' \
  '[{"password":[{"onepassword":{"vault_name":"***","item_name":"***","field_name":"***"}}]},
    {"password":[{"onepassword":{"vault_name":"***","item_name":"***","field_name":"***"}}]}]' \
  "body.secure_parameters (every value shown as ***)"

step "--dry-run prints each request with the key redacted; submits nothing; exit 0"
key=k3y-$RANDOM-do-not-print-$RANDOM
chain_run dry --endpoint demo --input "$T/people.csv" --set plan=gold --unique email --api-key "$key" \
  --priority 2 --dry-run
assert_exit 0 "$RC" "dry run"
assert_line_count "$T/dry.out" 3 "one request per record"
assert_json_lines "$T/dry.out" "stdout"
assert_jq "$T/dry.out" '.method' $'POST\nPOST\nPOST' "method"
assert_jq "$T/dry.out" '.url' "$EMU_URL/api/v1/inference"$'\n'"$EMU_URL/api/v1/inference"$'\n'"$EMU_URL/api/v1/inference" "url"
assert_jq "$T/dry.out" '.headers["x-api-key"]' $'***\n***\n***' "the key header is redacted"
assert_jq "$T/dry.out" '.body.endpoint_name' $'demo\ndemo\ndemo' "body.endpoint_name"
assert_jq "$T/dry.out" '.body.priority' $'2\n2\n2' "body.priority"
assert_jq "$T/dry.out" '.body.unique_parameter_names | tojson' $'["email"]\n["email"]\n["email"]' \
  "body.unique_parameter_names"
assert_slurp "$T/dry.out" '[.[].body.input_parameters]' \
  "$(jq -c '[.[] | . + {"plan":["gold"]}]' <<<"$expected_csv")" "body.input_parameters"
assert_file_not_contains "$T/dry.out" "$key" "the key on stdout"
assert_file_not_contains "$T/dry.err" "$key" "the key on stderr"

step "--dry-run without a key: no x-api-key header"
chain_run dry_nokey --endpoint demo --input "$T/urls.txt" --param-name url --dry-run
assert_exit 0 "$RC" "dry run without a key"
assert_line_count "$T/dry_nokey.out" 1 "one request"
assert_jq "$T/dry_nokey.out" '.headers | has("x-api-key")' false "no key header"
assert_jq "$T/dry_nokey.out" '.body.input_parameters | tojson' '{"url":["https://c.example/"]}' "body.input_parameters"
wait_emulator_idle
assert_eq "$dry_before" "$(submit_count)" "submits the emulator saw during the dry runs"
