#!/usr/bin/env bash
# The service refuses the run (401, 403, 404, a 422 about x-api-key): exit 3, one clear error, a submit_failed line for every
# input. A 422 is per input: submit_failed with the service's words, exit 1.
source "$(dirname "$0")/lib.sh"

make_emails 4 >"$T/in.txt"
mapfile -t emails <"$T/in.txt"

# Asserts the outcome of a refused run NAME: exit 3, one error line mentioning WORD on stderr,
# one submit_failed line per input of the file, in order, each with its input.
assert_refused() { # name word
  local name=$1 word=$2
  assert_exit 3 "$RC" "refused run"
  assert_eq 1 "$(count_matches "$T/$name.err" "optexity-chain: error:")" "error lines on stderr"
  assert_contains "$(grep -F "optexity-chain: error:" "$T/$name.err")" "$word" "the error line"
  assert_line_count "$T/$name.out" 4 "one line per input"
  assert_json_lines "$T/$name.out" "stdout"
  assert_all_status "$T/$name.out" submit_failed "statuses"
  assert_emails_in_order "$T/$name.out" "stdout order" "${emails[@]}"
  assert_inputs_exact "$T/$name.out" "input is {email:[value]}"
  local no_error
  no_error=$(jq -r 'select((.error | type) != "string" or (.error | length) == 0) | .input.email[0]' "$T/$name.out")
  assert_eq "" "$no_error" "inputs whose line has no error text"
}

step "422 about x-api-key (the service's answer to a request without one) refuses the run"
setup_emulator --api-key the-right-key --delay-ms 20
chain_run nokey --endpoint demo --emails "$T/in.txt"
assert_refused nokey "HTTP 422: header.x-api-key: Field required"
assert_eq 0 "$(accepted_count)" "tasks the emulator accepted"

step "401: a wrong key"
chain_run wrongkey --endpoint demo --emails "$T/in.txt" --api-key the-wrong-key
assert_refused wrongkey 401
assert_file_not_contains "$T/wrongkey.out" "the-wrong-key" "stdout shows no key"
assert_file_not_contains "$T/wrongkey.err" "the-wrong-key" "stderr shows no key"
assert_eq 0 "$(accepted_count)" "tasks the emulator accepted"

step "401 with --parallel 3: still one error and one line per input"
chain_run wrongkey_par --endpoint demo --emails "$T/in.txt" --api-key the-wrong-key --parallel 3
assert_refused wrongkey_par 401

step "404: the endpoint is not known to the service"
setup_emulator --endpoints other-name --delay-ms 20
chain_run unknown --endpoint demo --emails "$T/in.txt"
assert_refused unknown 404
assert_eq 0 "$(accepted_count)" "tasks the emulator accepted"

step "404 is about the endpoint: the known one works against the same emulator"
chain_run known --endpoint other-name --emails "$T/in.txt"
assert_exit 0 "$RC" "run with the known endpoint"
assert_all_status "$T/known.out" success "statuses"
assert_line_count "$T/known.out" 4 "one line per input"

# Starts tests/tools/fake_service.py answering every request STATUS BODY: sets FAKE_URL, and
# FAKE_LOG (a line per request it received).
start_fake_service() { # name status body
  FAKE_LOG=$T/$1.requests
  : >"$FAKE_LOG"
  start_bg "$1" timeout -k 5 "$BG_TIMEOUT" python3 "$(dirname "$0")/../tools/fake_service.py" \
    "$2" "$3" "$FAKE_LOG"
  wait_until 20 "the fake service's port" has_lines "$T/$1.out" 1
  FAKE_URL=http://127.0.0.1:$(head -n 1 "$T/$1.out")
}

step "a service's 422 about x-api-key, as FastAPI words it, refuses the run (fake service)"
missing_key='{"detail":[{"type":"missing","loc":["header","x-api-key"],"msg":"Field required","input":null}]}'
start_fake_service fake_key 422 "$missing_key"
chain fakekey run --api-url "$FAKE_URL" --listen 127.0.0.1:0 --endpoint demo --emails "$T/in.txt"
assert_refused fakekey "HTTP 422: header.x-api-key: Field required"
assert_eq 1 "$(grep -c . "$FAKE_LOG")" "requests the service received (the first submit only)"

step "the x-api-key item anywhere in detail, any case, with --parallel 3"
start_fake_service fake_key2 422 \
  '{"detail":[{"type":"missing","loc":["body","endpoint_name"],"msg":"Field required"},{"type":"missing","loc":["HEADER","X-API-Key"],"msg":"Field required"}]}'
chain fakekey2 run --api-url "$FAKE_URL" --listen 127.0.0.1:0 --endpoint demo --emails "$T/in.txt" \
  --parallel 3 --api-key some-key-1234
assert_refused fakekey2 "Field required"
assert_file_not_contains "$T/fakekey2.err" "some-key-1234" "stderr shows no key"

step "a 422 about the body is each input's own failure: submit_failed lines, exit 1"
start_fake_service fake_body 422 \
  '{"detail":[{"type":"value_error","loc":["body"],"msg":"Value error, unique_parameter_name email not found in input_parameters or secure_parameters"}]}'
chain fakebody run --api-url "$FAKE_URL" --listen 127.0.0.1:0 --endpoint demo --emails "$T/in.txt"
assert_exit 1 "$RC" "a run whose every submit gets a 422 about the body"
assert_eq 0 "$(count_matches "$T/fakebody.err" "optexity-chain: error:")" "run-level errors on stderr"
assert_line_count "$T/fakebody.out" 4 "one line per input"
assert_all_status "$T/fakebody.out" submit_failed "statuses"
assert_emails_in_order "$T/fakebody.out" "stdout order" "${emails[@]}"
assert_eq 4 "$(grep -c 'unique_parameter_name email not found' "$T/fakebody.out")" \
  "lines that carry the service's words"
assert_eq 4 "$(grep -c . "$FAKE_LOG")" "requests the service received (every input's submit)"

step "status and result: the same refusals"
chain st_key status some-task --api-url "$FAKE_URL"
# fake_body answers 422 about the body: not a key problem.
assert_exit 1 "$RC" "status answered a 422 about the body"
start_fake_service fake_key3 422 "$missing_key"
chain st_nokey status some-task --api-url "$FAKE_URL"
assert_exit 3 "$RC" "status answered a 422 about x-api-key"
assert_file_contains "$T/st_nokey.err" "OPTEXITY_API_KEY" "the error names the ways to give a key"
chain res_nokey result some-task --endpoint demo --api-url "$FAKE_URL"
assert_exit 3 "$RC" "result answered a 422 about x-api-key"

step "--unique names a parameter a file's inputs lack: exit 2 before any submit"
setup_emulator --delay-ms 20
chain_run unique --endpoint demo --emails "$T/in.txt" --unique nosuchparam
assert_exit 2 "$RC" "run with --unique nosuchparam"
assert_empty_file "$T/unique.out" "stdout"
assert_file_contains "$T/unique.err" \
  "$T/in.txt: --unique nosuchparam: none of the 4 inputs has a parameter \"nosuchparam\" (they have: email)" \
  "the error names the file and the parameter"
assert_eq 1 "$(count_matches "$T/unique.err" ': --unique nosuchparam: ')" "one line: no input has it"
assert_eq 0 "$(submit_count)" "submits"

step "--unique with --set: the --set parameter counts"
chain_run unique_set --endpoint demo --emails "$T/in.txt" --unique tenant --set tenant=acme
assert_exit 0 "$RC" "run with --unique tenant --set tenant=acme"
assert_all_status "$T/unique_set.out" success "statuses"

step "--unique on a stream: that input's invalid_input line, the others run"
setup_emulator --delay-ms 20
printf '%s\n' '{"email":["a@x.com"],"tenant":["t1"]}' '{"email":["b@x.com"]}' >"$T/stream.ndjson"
chain_run unique_stream --endpoint demo --input - --unique tenant <"$T/stream.ndjson"
assert_exit 1 "$RC" "run with one input lacking the unique parameter"
assert_line_count "$T/unique_stream.out" 2 "one line per input"
assert_jq "$T/unique_stream.out" '.status' $'success\ninvalid_input' "statuses"
assert_contains "$(sed -n 2p "$T/unique_stream.out" | jq -r .error)" \
  '--unique tenant: this input has no parameter "tenant"' "the invalid input's error"
assert_eq 1 "$(submit_count)" "submits (the valid input only)"

step "--unique with --map: a mapped parameter counts, a missing one is named by file:line"
setup_emulator --delay-ms 20
printf '%s\n' '{"status":"success","output_data":[{"json_data":{"account":"A1"}}]}' \
  '{"status":"success","output_data":[{"json_data":{"account":"A2"}}]}' >"$T/records.ndjson"
chain_run unique_map --endpoint demo --input "$T/records.ndjson" --map account=/output_data/0/json_data/account \
  --unique account
assert_exit 0 "$RC" "run with --unique naming the --map parameter"
assert_all_status "$T/unique_map.out" success "statuses"
chain_run unique_map_bad --endpoint demo --input "$T/records.ndjson" \
  --map account=/output_data/0/json_data/account --unique tenant
assert_exit 2 "$RC" "run with --unique naming no parameter of the mapped records"
assert_file_contains "$T/unique_map_bad.err" \
  "$T/records.ndjson: --unique tenant: none of the 2 inputs has a parameter \"tenant\" (they have: account)" \
  "no record has it: one line"
assert_empty_file "$T/unique_map_bad.out" "stdout"
assert_eq 2 "$(submit_count)" "submits (the first run's only)"

step "a dashboard callback URL ending in a slash reaches the listener"
LPORT=$(free_port)
LISTEN=127.0.0.1:$LPORT
start_emulator_appending slash "http://127.0.0.1:$LPORT/receive_callback/" "$T/slash.log" --delay-ms 20
chain_run slashed --endpoint demo --emails "$T/in.txt" --parallel 2 --straggler-after 600 \
  --watchdog 600 --timeout 600
assert_exit 0 "$RC" "run whose callbacks come to /receive_callback/"
assert_all_status "$T/slashed.out" success "statuses"
assert_eq 4 "$(grep -c '^emulator: callback .* success -> 200' "$T/slash.log" || true)" \
  "callbacks answered 200 at the slashed path"

# A callback for TASK of EMAIL's input, as the service sends it.
callback_body() { # task email
  jq -cn --arg id "$1" --arg email "$2" '{task_id: $id, recording_id: "r", endpoint_name: "demo",
    status: "success", output_data: [], error: null, downloads: [],
    input_parameters: {email: [$email]}, unique_parameter_names: ["email"]}'
}
printf '%s\n' slash@example.com >"$T/one.txt"
# The emulator's own callbacks would come after 10 minutes: only the test's POST can end the run.
SLOW=(--timeout 600 --watchdog 600 --straggler-after 600)

step "a callback POSTed to /receive_callback/ (curl) ends the run's wait"
setup_emulator_named slow1 --delay-ms 600000
start_bg plain_slash timeout -k 5 60 "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" \
  --endpoint demo --emails "$T/one.txt" "${SLOW[@]}"
run_pid=$BG_PID
wait_until 20 "the task accepted" accepted_at_least 1
task=$(accepted_task_ids | head -n 1)
assert_eq 200 "$(post_json_code "http://127.0.0.1:$LPORT/receive_callback/" "$(callback_body "$task" slash@example.com)")" \
  "the answer to a callback at /receive_callback/"
wait_exit "$run_pid" 30 "the run"
assert_exit 0 "$RC" "the run whose callback came to the slashed path"
assert_line_count "$T/plain_slash.out" 1 "one line"
assert_jq "$T/plain_slash.out" '.status + " " + .task_id' "success $task" "the line"

step "a per-run callback URL with a trailing slash (/receive_callback/<token>/<key>/) is routed too"
setup_emulator_named slow2 --delay-ms 600000
P=$(free_port)
chain key_dry run --api-url "$EMU_URL" --public-url "http://127.0.0.1:$P" --endpoint demo \
  --emails "$T/one.txt" --dry-run
key=$(jq -r .body.task_callback_url "$T/key_dry.out")
key=${key##*/}
start_bg tok_slash timeout -k 5 60 "$BIN" run --api-url "$EMU_URL" --listen "127.0.0.1:$P" \
  --public-url "http://127.0.0.1:$P" --state "$T/tok.state" --endpoint demo --emails "$T/one.txt" \
  "${SLOW[@]}"
run_pid=$BG_PID
wait_until 20 "the task accepted" accepted_at_least 1
task=$(accepted_task_ids | head -n 1)
token=$(cat "$T/tok.state.token")
body=$(callback_body "$task" slash@example.com)
assert_eq 404 "$(post_json_code "http://127.0.0.1:$P/receive_callback/" "$body")" \
  "the plain path, slashed (a per-run URL is required)"
assert_eq 404 "$(post_json_code "http://127.0.0.1:$P/receive_callback/$token/$key//" "$body")" \
  "two trailing slashes"
assert_eq 200 "$(post_json_code "http://127.0.0.1:$P/receive_callback/$token/$key/" "$body")" \
  "the per-run URL with a trailing slash"
wait_exit "$run_pid" 30 "the run"
assert_exit 0 "$RC" "the run whose callback came to the slashed per-run URL"
assert_jq "$T/tok_slash.out" '.status + " " + .task_id' "success $task" "the line"

step "no API key for the service off this machine: refused before any submit"
RC=0
timeout -k 5 "$CMD_TIMEOUT" env -u OPTEXITY_API_KEY "$BIN" run --api-url https://api.example.invalid --endpoint demo \
  --emails "$T/in.txt" >"$T/nokey_cloud.out" 2>"$T/nokey_cloud.err" || RC=$?
assert_exit 3 "$RC" "a run with no key for a remote service"
assert_empty_file "$T/nokey_cloud.out" "stdout"
assert_file_contains "$T/nokey_cloud.err" \
  'no API key for https://api.example.invalid: give --api-key-file FILE, set OPTEXITY_API_KEY, run `optexity-chain login` once, or --api-key KEY' \
  "the one error"
assert_eq 1 "$(grep -c . "$T/nokey_cloud.err")" "stderr lines"
RC=0
timeout -k 5 "$CMD_TIMEOUT" env -u OPTEXITY_API_KEY "$BIN" run --api-url https://api.example.invalid --endpoint demo \
  --emails "$T/in.txt" --dry-run >"$T/nokey_dry.out" 2>"$T/nokey_dry.err" || RC=$?
assert_exit 0 "$RC" "--dry-run needs no key"

step "a local worker's /inference needs no key"
RC=0
setup_emulator --delay-ms 20
timeout -k 5 "$CMD_TIMEOUT" env -u OPTEXITY_API_KEY "$BIN" run --api-url "$EMU_URL/inference" --listen "$LISTEN" \
  --endpoint demo --emails "$T/in.txt" >"$T/worker.out" 2>"$T/worker.err" || RC=$?
assert_exit 0 "$RC" "a run against a local worker URL without a key"
assert_all_status "$T/worker.out" success "statuses"

step "no API key off this machine: flow, status and result are refused the same way"
EXAMPLES=$(dirname "$0")/../../examples
RC=0
timeout -k 5 "$CMD_TIMEOUT" env -u OPTEXITY_API_KEY "$BIN" flow "$EXAMPLES/flows/claims.json" \
  --api-url https://api.example.invalid --input "$EXAMPLES/flows/customers.csv" \
  >"$T/nokey_flow.out" 2>"$T/nokey_flow.err" || RC=$?
assert_exit 3 "$RC" "a flow with no key for a remote service"
assert_empty_file "$T/nokey_flow.out" "stdout"
assert_file_contains "$T/nokey_flow.err" "no API key for https://api.example.invalid: give --api-key-file FILE" \
  "the flow's one error"
for args in "status some-task" "result some-task --endpoint demo"; do
  sub=${args%% *}
  RC=0
  # shellcheck disable=SC2086 # the words of $args are the arguments
  timeout -k 5 "$CMD_TIMEOUT" env -u OPTEXITY_API_KEY "$BIN" $args --api-url https://api.example.invalid \
    >"$T/nokey_$sub.out" 2>"$T/nokey_$sub.err" || RC=$?
  assert_exit 3 "$RC" "$sub with no key for a remote service"
  assert_eq 1 "$(grep -c . "$T/nokey_$sub.err")" "$sub: stderr lines"
  assert_file_contains "$T/nokey_$sub.err" "no API key for https://api.example.invalid" "$sub: the error"
done
