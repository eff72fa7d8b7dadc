#!/usr/bin/env bash
# Emulator scripts (--script FILE): the README's two-stage pipeline with examples/accounts.json,
# distinct outputs per stage, three stages, a bad script (exit 2 naming the file), an endpoint
# the script does not answer (404, exit 3), per-endpoint rates and delays, a missing template
# parameter, --duplicate-rate.
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ACCOUNTS=examples/accounts.json # relative, as in the README: the pipelines run in $ROOT
ACCOUNT=/output_data/0/json_data/account
mapfile -t emails < <(grep -v '^#' "$ROOT/examples/emails.txt" | sed '/^$/d')

# `run --emulate --script` when this build has it; else each stage runs against a standalone
# `emulator --script` of its own.
RUN_HAS_SCRIPT=0
if "$BIN" run --help 2>/dev/null | grep -q -- '--script'; then
  RUN_HAS_SCRIPT=1
else
  log "run has no --script yet: the pipelines use standalone emulators with --script"
fi

# Sets STAGE_ARGS: how a run reaches an emulator answering from SCRIPT.
stage_args() { # name script
  if ((RUN_HAS_SCRIPT)); then
    STAGE_ARGS=(--emulate --script "$2")
  else
    local lport
    lport=$(free_port)
    start_emulator "$1" "$lport" --script "$2"
    STAGE_ARGS=(--api-url "$EMU_URL" --listen "127.0.0.1:$lport")
  fi
}

# The emulator's 8 hex digits for a value: the low 32 bits of its 64-bit FNV-1a hash.
fnv8() { # text
  python3 -c '
import sys
h = 14695981039346656037
for b in sys.argv[1].encode():
    h = ((h ^ b) * 1099511628211) % 2**64
print("%08x" % (h & 0xffffffff))' "$1"
}

cd "$ROOT"

step "the README example: login | orders --map account=$ACCOUNT --carry | jq ."
if ((RUN_HAS_SCRIPT)); then
  stage "$T/readme.rc1" "$BIN" run --emulate --script examples/accounts.json --endpoint login \
    --emails examples/emails.txt 2>"$T/readme.err1" |
    stage "$T/readme.rc2" "$BIN" run --emulate --script examples/accounts.json --endpoint orders \
      --input - --map account=/output_data/0/json_data/account --carry 2>"$T/readme.err2" |
    jq . >"$T/readme.pretty"
else
  stage_args readme_emu1 "$ACCOUNTS"
  S1=("${STAGE_ARGS[@]}")
  stage_args readme_emu2 "$ACCOUNTS"
  S2=("${STAGE_ARGS[@]}")
  stage "$T/readme.rc1" "$BIN" run "${S1[@]}" --endpoint login --emails examples/emails.txt \
    2>"$T/readme.err1" |
    stage "$T/readme.rc2" "$BIN" run "${S2[@]}" --endpoint orders --input - \
      --map account=/output_data/0/json_data/account --carry 2>"$T/readme.err2" |
    jq . >"$T/readme.pretty"
fi
LAST=readme
assert_exit 0 "$(stage_rc "$T/readme.rc1")" "stage one"
assert_exit 0 "$(stage_rc "$T/readme.rc2")" "stage two"
jq -c . "$T/readme.pretty" >"$T/readme.out"
assert_line_count "$T/readme.out" "${#emails[@]}" "one result per email"
assert_all_status "$T/readme.out" success "statuses"
assert_jq "$T/readme.out" '.from.input.email[0]' "$(printf '%s\n' "${emails[@]}")" \
  "the lineage keeps each email, in order"
expected_accounts=$(for e in "${emails[@]}"; do printf 'acct-%s\n' "$(fnv8 "$e")"; done)
assert_jq "$T/readme.out" '.from.output_data[0].json_data.account' "$expected_accounts" \
  "login's account is acct-{{hash:email}}"
assert_jq "$T/readme.out" '.input.account[0]' "$expected_accounts" "orders ran for login's account"
assert_jq "$T/readme.out" '.from.output_data[0] | .unique_identifier == .json_data.email' \
  "$(printf 'true\n%.0s' "${emails[@]}")" "login's unique_identifier is the email"
assert_jq "$T/readme.out" '.from.output_data[0].json_data | keys_unsorted | join(",")' \
  "$(printf 'account,email,session,plan\n%.0s' "${emails[@]}")" "login's json_data"
assert_jq "$T/readme.out" '.output_data[0].json_data | keys_unsorted | join(",")' \
  "$(printf 'account,orders,total,currency\n%.0s' "${emails[@]}")" "orders' json_data"
assert_jq "$T/readme.out" '.output_data[0].json_data.orders | join(" ")' \
  "$(for a in $expected_accounts; do printf '%s-A17 %s-B42\n' "$a" "$a"; done)" \
  "the orders list is built from the account"
assert_jq "$T/readme.out" '.output_data[0].json_data.total' "$(printf '2\n%.0s' "${emails[@]}")" \
  "total stays a number"
assert_jq "$T/readme.out" '.from.output_data[0].json_data.session | test("^sess-[0-9a-f]{8}$")' \
  "$(printf 'true\n%.0s' "${emails[@]}")" "the session is hashed from the task id"
n_sessions=$(jq -r '.from.output_data[0].json_data.session' "$T/readme.out" | sort -u | wc -l)
assert_eq "${#emails[@]}" "$n_sessions" "one session per login task"

step "three stages: login | orders | claims"
stage_args three_emu1 "$ACCOUNTS"
S1=("${STAGE_ARGS[@]}")
stage_args three_emu2 "$ACCOUNTS"
S2=("${STAGE_ARGS[@]}")
stage_args three_emu3 "$ACCOUNTS"
S3=("${STAGE_ARGS[@]}")
stage "$T/three.rc1" "$BIN" run "${S1[@]}" --endpoint login --emails examples/emails.txt -q \
  2>"$T/three.err1" |
  stage "$T/three.rc2" "$BIN" run "${S2[@]}" --endpoint orders --input - \
    --map "account=$ACCOUNT" --carry -q 2>"$T/three.err2" |
  stage "$T/three.rc3" "$BIN" run "${S3[@]}" --endpoint claims --input - \
    --map "account=$ACCOUNT" --carry -q >"$T/three.out" 2>"$T/three.err3"
LAST=three
for i in 1 2 3; do
  assert_exit 0 "$(stage_rc "$T/three.rc$i")" "stage $i"
done
assert_line_count "$T/three.out" "${#emails[@]}" "one line per email"
assert_json_lines "$T/three.out" "stdout"
assert_all_status "$T/three.out" success "statuses"
assert_jq "$T/three.out" '[.endpoint_name, .from.endpoint_name, .from.from.endpoint_name] | join(" ")' \
  "$(printf 'claims orders login\n%.0s' "${emails[@]}")" "the lineage"
assert_jq "$T/three.out" '.from.from.input.email[0]' "$(printf '%s\n' "${emails[@]}")" "emails in order"
assert_jq "$T/three.out" '.output_data[0].json_data.account' "$expected_accounts" "claims' account"
assert_jq "$T/three.out" '.output_data[0].json_data.claim_id' \
  "$(for a in $expected_accounts; do printf 'CLM-%s\n' "$(fnv8 "$a")"; done)" "claim_id is CLM-{{hash:account}}"
assert_jq "$T/three.out" '.output_data[0].json_data | keys_unsorted | join(",")' \
  "$(printf 'account,claim_id,status\n%.0s' "${emails[@]}")" "claims' json_data"
assert_jq "$T/three.out" '.from.output_data[0].json_data.orders | length' \
  "$(printf '2\n%.0s' "${emails[@]}")" "orders' list in the lineage"

step "a bad script: exit 2 naming the file and the place, nothing on stdout"
cat >"$T/bad.json" <<'EOF'
{
  "endpoints": {
    "login": {"output_data": [{"unique_identifier": "{{email", "json_data": {}}]},
    "orders": {"fail_rate": 1.5, "delay": 10}
  }
}
EOF
chain bad_emu emulator --port 0 --script "$T/bad.json"
assert_exit 2 "$RC" "emulator --script bad.json"
assert_empty_file "$T/bad_emu.out" "stdout (no URL: the emulator never listened)"
assert_file_contains "$T/bad_emu.err" \
  "optexity-chain: error: $T/bad.json: /endpoints/login/output_data/0/unique_identifier: unclosed \"{{\"" \
  "the template problem, with file and place"
assert_file_contains "$T/bad_emu.err" "$T/bad.json: /endpoints/orders/fail_rate:" "the bad rate"
assert_file_contains "$T/bad_emu.err" "did you mean \"delay_ms\"?" "the unknown key, with a suggestion"
printf '{\n  "endpoints": {\n    "login": {,}\n  }\n}\n' >"$T/notjson.json"
chain notjson emulator --port 0 --script "$T/notjson.json"
assert_exit 2 "$RC" "emulator --script notjson.json"
assert_file_contains "$T/notjson.err" "$T/notjson.json:3:" "not JSON: file and line"
chain missing_file emulator --port 0 --script "$T/nowhere.json"
assert_exit 2 "$RC" "emulator --script nowhere.json"
assert_file_contains "$T/missing_file.err" "$T/nowhere.json" "an unreadable script is named"
if ((RUN_HAS_SCRIPT)); then
  chain bad_run run --emulate --script "$T/bad.json" --endpoint login --emails examples/emails.txt
  assert_exit 2 "$RC" "run --emulate --script bad.json"
  assert_empty_file "$T/bad_run.out" "stdout of run --emulate with a bad script"
  assert_file_contains "$T/bad_run.err" "$T/bad.json: /endpoints/login/output_data/0/unique_identifier" \
    "run names the file and the place"
fi

step "an endpoint the script does not answer: 404, the run exits 3"
setup_emulator --script "$ACCOUNTS"
chain_run unknown --endpoint profile --emails examples/emails.txt
assert_exit 3 "$RC" "run --endpoint profile"
assert_file_contains "$EMU_LOG" "submit -> 404 (endpoint 'profile' not found in the script)" "the emulator's 404"
assert_file_contains "$T/unknown.err" "profile" "the run names the endpoint"
if ((RUN_HAS_SCRIPT)); then
  chain unknown_emulate run --emulate --script "$ACCOUNTS" --endpoint profile --emails examples/emails.txt
  assert_exit 3 "$RC" "run --emulate --script --endpoint profile"
fi

step "a default entry answers endpoints not listed"
cat >"$T/default.json" <<'EOF'
{"endpoints": {"login": {"delay_ms": 0}},
 "default": {"delay_ms": 10, "output_data": [{"unique_identifier": "{{email}}",
             "json_data": {"endpoint": "{{endpoint}}", "task": "{{task_id}}"}}]}}
EOF
setup_emulator --script "$T/default.json"
chain_run deflt --endpoint profile --emails examples/emails.txt
assert_exit 0 "$RC" "run --endpoint profile with a default"
assert_all_status "$T/deflt.out" success "statuses"
assert_jq "$T/deflt.out" '.output_data[0].json_data.endpoint' "$(printf 'profile\n%.0s' "${emails[@]}")" \
  "{{endpoint}}"
assert_jq "$T/deflt.out" '.output_data[0].json_data.task == .task_id' "$(printf 'true\n%.0s' "${emails[@]}")" \
  "{{task_id}}"
chain_run listed --endpoint login --emails examples/emails.txt
assert_exit 0 "$RC" "run --endpoint login (listed without output_data)"
assert_jq "$T/listed.out" '.output_data[0].json_data | has("inputs")' "$(printf 'true\n%.0s' "${emails[@]}")" \
  "an entry without output_data keeps the built-in output"

step "per-endpoint rates and delay override the command line's"
cat >"$T/rates.json" <<'EOF'
{"endpoints": {
  "login": {"fail_rate": 1, "delay_ms": 0, "error": "Login failed for {{email}}: wrong password"},
  "orders": {"fail_rate": 0, "delay_ms": 0}
}}
EOF
setup_emulator --script "$T/rates.json" --fail-rate 1 --delay-ms 20000
started=$(now)
chain_run failing --endpoint login --emails examples/emails.txt --parallel 3
assert_exit 1 "$RC" "run where the script fails every login"
assert_line_count "$T/failing.out" "${#emails[@]}" "one line per input"
assert_all_status "$T/failing.out" failed "statuses"
assert_jq "$T/failing.out" '.error' \
  "$(for e in "${emails[@]}"; do printf 'Login failed for %s: wrong password\n' "$e"; done)" \
  "the script's error, templated"
assert_jq "$T/failing.out" '.output_data' "$(printf '[]\n%.0s' "${emails[@]}")" "no output on failure"
printf '{"account": ["acct-1"]}\n{"account": ["acct-2"]}\n' >"$T/accounts.ndjson"
chain_run passing --endpoint orders --input "$T/accounts.ndjson"
assert_exit 0 "$RC" "orders: fail_rate 0 in the script beats --fail-rate 1"
assert_all_status "$T/passing.out" success "statuses"
assert_less "$(elapsed_since "$started")" 15 "seconds (delay_ms 0 in the script beats --delay-ms 20000)"
assert_eq 5 "$(count_matches "$EMU_LOG" 'callback in 0 ms')" "every task's delay is the script's"

step "a template naming an input the task lacks: that task fails, naming the parameter"
setup_emulator --script "$ACCOUNTS" --delay-ms 0
chain_run noaccount --endpoint orders --emails examples/emails.txt
assert_exit 1 "$RC" "orders fed with emails"
assert_all_status "$T/noaccount.out" failed "statuses"
assert_jq "$T/noaccount.out" '.error | contains("input parameter \"account\" is missing")' \
  "$(printf 'true\n%.0s' "${emails[@]}")" "the error names the missing parameter"
assert_jq "$T/noaccount.out" '.error | contains("/output_data/0/unique_identifier")' \
  "$(printf 'true\n%.0s' "${emails[@]}")" "the error names the place"
assert_file_contains "$EMU_LOG" 'input parameter "account" is missing' "the emulator logs why"

step "--duplicate-rate 1: every callback sent twice, still one line per input"
make_emails 6 dup >"$T/dup.txt"
setup_emulator --duplicate-rate 1 --delay-ms 20
chain_run dup --endpoint demo --emails "$T/dup.txt" --parallel 3
assert_exit 0 "$RC" "run with every callback duplicated"
assert_line_count "$T/dup.out" 6 "one line per input"
assert_all_status "$T/dup.out" success "statuses"
assert_eq 6 "$(accepted_count)" "tasks accepted"
wait_until 10 "the duplicates' log lines" \
  bash -c '(( $(grep -c "^emulator: callback .* (duplicate 1) -> " "$0") >= 6 ))' "$EMU_LOG"
# Distinct callbacks, not attempts: a duplicate still on its way when the run ends (every line
# printed) is cut, and the emulator logs each retry of it.
distinct_callbacks() { grep "^emulator: callback $1" "$EMU_LOG" | sed 's/ -> .*//' | sort -u | wc -l; }
assert_eq 12 "$(distinct_callbacks '')" "callbacks sent (two per task)"
for id in $(accepted_task_ids); do
  assert_eq 2 "$(distinct_callbacks "$id success")" "callbacks of task $id"
done

step "--duplicate-rate 0.5 --seed 7: some tasks' callbacks duplicated, not all"
make_emails 20 half >"$T/half.txt"
setup_emulator --duplicate-rate 0.5 --seed 7 --delay-ms 10
chain_run half --endpoint demo --emails "$T/half.txt" --parallel 5
assert_exit 0 "$RC" "run with half the callbacks duplicated"
assert_line_count "$T/half.out" 20 "one line per input"
n_dup=$(count_matches "$EMU_LOG" '+ 1 duplicate)')
((n_dup > 0 && n_dup < 20)) || _fail_ctx "--duplicate-rate 0.5 --seed 7 duplicated $n_dup of 20 tasks"
