#!/usr/bin/env bash
# A bad flow file: exit 2 before anything is submitted, every problem on its own stderr line
# "FILE:LINE: ...", nothing on stdout; with --plan too. Several problems at once (unknown step in
# needs, a cycle, an unknown template name, a bad `when` status); more kinds of problems (a
# duplicate id, no endpoint, bad on_failure, timeout, retries and priority, {{each}} outside a
# foreach, unknown keys); a missing file; a file that is not JSON.
source "$(dirname "$0")/lib.sh"

printf '{"email": "v1@example.com"}\n{"email": "v2@example.com"}\n' >"$T/items.ndjson"
setup_emulator --delay-ms 20

# Asserts stderr has a line starting "optexity-chain: error: FILE:LINE: " and containing TEXT.
assert_problem() { # err-file file line text what
  if ! grep -F -- "$2:$3: " "$1" | grep -qF -- "$4"; then
    _fail_ctx "$5: expected a stderr line with [$2:$3: ] and [$4]; stderr: [$(head -c 3000 "$1")]"
  fi
}

# Checks common to every rejected flow file: exit 2, nothing on stdout, nothing submitted, no
# internal error.
assert_rejected() { # name what
  assert_exit 2 "$RC" "$2"
  assert_empty_file "$T/$1.out" "$2: stdout"
  assert_eq 0 "$(submit_count)" "$2: submits"
  assert_file_not_contains "$T/$1.err" "internal error" "$2: stderr"
}

step "several problems: exit 2, each on its own line with FILE:LINE, nothing submitted"
# One step a line: the line of each problem is known.
cat >"$T/bad.json" <<'EOF'
{
  "steps": [
    {"id": "login", "endpoint": "ep-login", "input": {"email": "{{item.email}}"}, "needs": ["logn"]},
    {"id": "b", "endpoint": "ep-b", "needs": ["c"], "input": {}},
    {"id": "c", "endpoint": "ep-c", "needs": ["b"], "input": {}},
    {"id": "d", "endpoint": "ep-d", "input": {"y": "{{zzz:/output_data/0}}"}},
    {"id": "e", "endpoint": "ep-e", "when": {"login": "bogus"}, "input": {}}
  ]
}
EOF
chain bad flow "$T/bad.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson"
assert_rejected bad "a flow file with 4 problems"
assert_problem "$T/bad.err" "$T/bad.json" 3 '"logn"' "the unknown step in needs"
assert_problem "$T/bad.err" "$T/bad.json" 3 'did you mean "login"?' "a suggestion for the unknown step"
assert_problem "$T/bad.err" "$T/bad.json" 4 "cycle" "the cycle"
assert_file_contains "$T/bad.err" "b -> c -> b" "the cycle's steps"
assert_problem "$T/bad.err" "$T/bad.json" 6 "zzz" "the unknown template name"
assert_problem "$T/bad.err" "$T/bad.json" 7 '"bogus"' "the bad when status"
n=$(grep -cE "^optexity-chain: error: $T/bad\.json:[0-9]+: " "$T/bad.err" || true)
assert_eq 4 "$n" "stderr lines naming FILE:LINE (one per problem)"
assert_file_not_contains "$T/bad.err" "listening" "stderr (the run never listened)"

step "the same file with --plan: exit 2, no plan"
chain bad_plan flow "$T/bad.json" --plan --input "$T/items.ndjson"
assert_exit 2 "$RC" "--plan with a bad flow file"
assert_empty_file "$T/bad_plan.out" "stdout"
assert_problem "$T/bad_plan.err" "$T/bad.json" 4 "cycle" "the cycle"

step "a template naming a step that does not exist: caught before submitting"
cat >"$T/ref.json" <<'EOF'
{
  "steps": [
    {"id": "login", "endpoint": "ep-login", "input": {"email": "{{item.email}}"}},
    {"id": "orders", "endpoint": "ep-orders", "input": {"acct": "{{lgin:/output_data/0/json_data/account}}"}}
  ]
}
EOF
chain ref flow "$T/ref.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson"
assert_rejected ref "a template naming an unknown step"
assert_problem "$T/ref.err" "$T/ref.json" 4 "lgin" "the unknown step in a template"

step "more kinds of problems: each reported with FILE:LINE, no internal error"
cat >"$T/more.json" <<'EOF'
{
  "steps": [
    {"id": "a", "endpoint": "ep-a", "input": {"x": "{{item.email}}"}},
    {"id": "a", "endpoint": "ep-a2", "input": {}},
    {"id": "noend", "input": {}},
    {"id": "c", "endpoint": "ep-c", "input": {}, "on_failure": "maybe"},
    {"id": "d", "endpoint": "ep-d", "input": {"o": "{{each}}"}},
    {"id": "t", "endpoint": "ep-t", "input": {}, "timeout": 0},
    {"id": "r", "endpoint": "ep-r", "input": {}, "retries": -1},
    {"id": "p", "endpoint": "ep-p", "input": {}, "priority": 1.5},
    {"id": "k", "endpoint": "ep-k", "input": {}, "need": ["a"]}
  ],
  "nmae": "typo"
}
EOF
chain more flow "$T/more.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson"
assert_rejected more "a flow file with 9 problems"
assert_problem "$T/more.err" "$T/more.json" 4 '"a"' "the duplicate id"
assert_problem "$T/more.err" "$T/more.json" 5 "endpoint" "the step without an endpoint"
assert_problem "$T/more.err" "$T/more.json" 6 '"maybe"' "the bad on_failure"
assert_problem "$T/more.err" "$T/more.json" 7 "{{each}}" "{{each}} outside a foreach"
assert_problem "$T/more.err" "$T/more.json" 8 '"timeout"' "the bad timeout"
assert_problem "$T/more.err" "$T/more.json" 9 '"retries"' "the bad retries"
assert_problem "$T/more.err" "$T/more.json" 10 '"priority"' "the bad priority"
assert_problem "$T/more.err" "$T/more.json" 11 'did you mean "needs"?' "an unknown key in a step, with a suggestion"
assert_problem "$T/more.err" "$T/more.json" 13 'did you mean "name"?' "an unknown top-level key, with a suggestion"
n=$(grep -cE "^optexity-chain: error: $T/more\.json:[0-9]+: " "$T/more.err" || true)
assert_eq 9 "$n" "stderr lines naming FILE:LINE (one per problem)"

step "a missing flow file: exit 2 naming it"
chain missing flow "$T/nowhere.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson"
assert_rejected missing "a missing flow file"
assert_file_contains "$T/missing.err" "$T/nowhere.json" "stderr names the file"

step "a flow file that is not JSON: exit 2, FILE:LINE of the syntax error"
printf '{\n  "steps": [\n    {"id": "a", "endpoint": "a",}\n  ]\n}\n' >"$T/notjson.json"
chain notjson flow "$T/notjson.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson"
assert_rejected notjson "a flow file that is not JSON"
assert_file_contains "$T/notjson.err" "$T/notjson.json:3:" "stderr names the file and the line"
