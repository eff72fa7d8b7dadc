#!/usr/bin/env bash
# Secrets (API key, callback key, Basic credentials, the run's callback token, secure_parameters)
# never reach stdout, stderr, the journal, a recording or --dry-run: they read `***`, even when
# the service answers 422 echoing the whole request.
source "$(dirname "$0")/lib.sh"

API_KEY=api-K3Y-$RANDOM$RANDOM
CB_KEY=cb-K3Y-$RANDOM$RANDOM
TOTP=JBSWY3DPEHPK3PXP$RANDOM
BASIC_PW=b4sic-pw-$RANDOM$RANDOM
printf 'hook-user:%s\n' "$BASIC_PW" >"$T/basic.txt"
BASIC_B64=$(printf 'hook-user:%s' "$BASIC_PW" | base64 -w0)
{
  printf '{"email":"a@example.com","secure_parameters":{"code":[{"totp":{"totp_secret":"%s"}}]}}\n' "$TOTP"
  printf '{"email":"b@example.com","secure_parameters":{"code":[{"totp":{"totp_secret":"%s"}}]}}\n' "$TOTP"
} >"$T/in.ndjson"

# Fails naming the first file under the given paths that holds any of the secrets.
assert_no_secrets() { # what secret... -- path...
  local what=$1
  shift
  local secrets=()
  while [[ $1 != -- ]]; do
    secrets+=("$1")
    shift
  done
  shift
  local s
  for s in "${secrets[@]}"; do
    if grep -rlF -- "$s" "$@" >/dev/null 2>&1; then
      fail "$what: a secret ($s) appears in $(grep -rlF -- "$s" "$@" | head -3 | tr '\n' ' ')" "$@"
    fi
  done
}

step "a run whose every submit is answered 422 with the request echoed"
setup_emulator --api-key "$API_KEY" --answer-422-echo 1 --delay-ms 20
chain_run r1 --endpoint demo --input "$T/in.ndjson" --api-key "$API_KEY" --callback-key "$CB_KEY" \
  --callback-basic-file "$T/basic.txt" --public-url "http://127.0.0.1:$LPORT" \
  --state "$T/j1" --record "$T/rec1" -v --timeout 20
assert_exit 1 "$RC" "every submit refused"
assert_line_count "$T/r1.out" 2 "one line per input"
[[ -s $T/j1.token ]] || fail "the journal's token file is missing" "$T/r1.err"
TOKEN=$(cat "$T/j1.token")
assert_eq 600 "$(stat -c %a "$T/j1.token")" "the token file is private"
# The emulator saw them all: the test is not vacuous.
assert_file_contains "$EMU_LOG" "422 (the request echoed" "the emulator echoed the request"
assert_no_secrets "run answered 422" "$API_KEY" "$CB_KEY" "$TOTP" "$BASIC_PW" "$BASIC_B64" "$TOKEN" \
  -- "$T/r1.out" "$T/r1.err" "$T/j1" "$T/rec1"
# ... and they were there to hide, shown as ***.
assert_jq "$T/r1.out" '.error | test("task_callback_api_key\":\"\\*\\*\\*\"")' $'true\ntrue' \
  "the echoed callback key reads *** in the error"
assert_jq "$T/r1.out" '.error | test("receive_callback/\\*\\*\\*/")' $'true\ntrue' \
  "the echoed callback URL's token reads ***"
assert_jq "$T/r1.out" '.error | test("totp_secret\":\"\\*\\*\\*\"")' $'true\ntrue' \
  "the echoed TOTP seed reads ***"
assert_file_contains "$T/r1.err" 'receive_callback/***/' "stderr (-v) shows the callback URL redacted"
assert_file_contains "$T/j1" '"token":"***"' "the journal's run record"
assert_jq "$T/j1" 'select(.type == "result") | .line | fromjson | .error | test("totp_secret\":\"\\*\\*\\*\"")' \
  $'true\ntrue' "the journal's result lines"
submit=$(find "$T/rec1" -name '*-submit.json' | head -n 1)
[[ -n $submit ]] || fail "no submit recorded" "$T/r1.err"
assert_jq "$submit" '.request.task_callback_api_key' '***' "recorded request: callback key"
assert_jq "$submit" '.request.secure_parameters.code[0].totp.totp_secret' '***' "recorded request: TOTP"
assert_jq "$(find "$T/rec1" -name '*-run.json')" '.token' '***' "recorded run: token"

step "a run that succeeds, recorded and replayed offline (the token is not in the recording)"
# No secure_parameters here: under --public-url an input's key (in its callback URL) hashes
# them, and the recording does not hold them, so replay could not rebuild that URL.
kill "$EMU_PID" 2>/dev/null || true
setup_emulator --api-key "$API_KEY" --delay-ms 20
printf '{"email":"a@example.com"}\n{"email":"b@example.com"}\n' >"$T/in2.ndjson"
chain_run r2 --endpoint demo --input "$T/in2.ndjson" --api-key "$API_KEY" --callback-key "$CB_KEY" \
  --public-url "http://127.0.0.1:$LPORT" --state "$T/j2" --record "$T/rec2" -v --timeout 20
assert_exit 0 "$RC" "run"
assert_all_status "$T/r2.out" success "both succeed"
TOKEN2=$(cat "$T/j2.token")
assert_no_secrets "successful run" "$API_KEY" "$CB_KEY" "$TOTP" "$TOKEN2" \
  -- "$T/r2.out" "$T/r2.err" "$T/j2" "$T/rec2"
assert_ne 0 "$(grep -lF 'receive_callback/***/' "$T"/rec2/*-callback.json | wc -l)" \
  "recorded callbacks: the token in the path reads ***"
kill "$EMU_PID" 2>/dev/null || true
chain replayed replay "$T/rec2"
assert_exit 0 "$RC" "replay"
if ! cmp -s "$T/r2.out" "$T/replayed.out"; then
  fail "replay printed something else than the run" "$T/r2.out" "$T/replayed.out" "$T/replayed.err"
fi

step "the rerun reads the token from the journal's token file"
chain_run r3 --endpoint demo --input "$T/in2.ndjson" --api-key "$API_KEY" --callback-key "$CB_KEY" \
  --public-url "http://127.0.0.1:$LPORT" --state "$T/j2" -v --timeout 20
assert_exit 0 "$RC" "rerun (every line reprinted from the journal)"
assert_eq "$TOKEN2" "$(cat "$T/j2.token")" "the same token"
assert_no_secrets "rerun" "$TOKEN2" "$API_KEY" "$CB_KEY" -- "$T/r3.out" "$T/r3.err" "$T/j2"

step "--dry-run shows every secret as ***"
chain dry run --api-url "http://127.0.0.1:9" --endpoint demo --input "$T/in.ndjson" \
  --api-key "$API_KEY" --callback-key "$CB_KEY" --public-url "http://hooks.example.com" --dry-run
assert_exit 0 "$RC" "dry run"
assert_no_secrets "--dry-run" "$API_KEY" "$CB_KEY" "$TOTP" -- "$T/dry.out" "$T/dry.err"
assert_jq "$T/dry.out" '.headers["x-api-key"]' $'***\n***' "the API key"
assert_jq "$T/dry.out" '.body.task_callback_api_key' $'***\n***' "the callback key"
assert_jq "$T/dry.out" '.body.secure_parameters.code[0].totp.totp_secret' $'***\n***' "the TOTP seed"
