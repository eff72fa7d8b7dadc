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

step "--unique names a parameter a file's inputs lack: exit 2 before any submit"
setup_emulator --delay-ms 20
chain_run unique --endpoint demo --emails "$T/in.txt" --unique nosuchparam
assert_exit 2 "$RC" "run with --unique nosuchparam"
assert_empty_file "$T/unique.out" "stdout"
assert_file_contains "$T/unique.err" \
  "$T/in.txt:1: --unique nosuchparam: this input has no parameter \"nosuchparam\" (it has: email)" \
  "the error names the file, the line and the parameter"
assert_eq 4 "$(count_matches "$T/unique.err" ': --unique nosuchparam: ')" "one problem per input"
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

step "no API key for the service off this machine: refused before any submit"
RC=0
timeout -k 5 "$CMD_TIMEOUT" env -u OPTEXITY_API_KEY "$BIN" run --api-url https://api.example.invalid --endpoint demo \
  --emails "$T/in.txt" >"$T/nokey_cloud.out" 2>"$T/nokey_cloud.err" || RC=$?
assert_exit 3 "$RC" "a run with no key for a remote service"
assert_empty_file "$T/nokey_cloud.out" "stdout"
assert_file_contains "$T/nokey_cloud.err" \
  "no API key for https://api.example.invalid: give --api-key-file FILE, set OPTEXITY_API_KEY, or --api-key KEY" \
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
