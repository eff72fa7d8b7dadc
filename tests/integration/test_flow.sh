#!/usr/bin/env bash
# `flow FILE --input ITEMS` against a standalone emulator with a script: a linear flow passing
# values from step to step; foreach over an empty list (the result is [], the item succeeds and a
# step that needs it runs); --plan (steps in dependency order, the first item's values filled,
# later results left as written, nothing submitted); `| head -1` (exit 141 soon, no hang).
source "$(dirname "$0")/lib.sh"

cat >"$T/s.json" <<'EOF'
{"endpoints": {
  "ep-login":  {"delay_ms": 30, "output_data": [{"unique_identifier": "{{email}}",
                "json_data": {"account": "acct-{{hash:email}}", "orders": [], "tag": "L-{{email}}"}}]},
  "ep-orders": {"delay_ms": 30, "output_data": [{"json_data": {"account": "{{account}}",
                "orders": ["{{account}}-1", "{{account}}-2"]}}]},
  "ep-each":   {"delay_ms": 30, "output_data": [{"json_data": {"done": "{{order}}"}}]},
  "ep-after":  {"delay_ms": 30, "output_data": [{"json_data": {"acct": "{{acct}}"}}]},
  "s1": {"delay_ms": 100, "output_data": [{"json_data": {"v": "one-{{email}}"}}]},
  "s2": {"delay_ms": 1000, "output_data": [{"json_data": {"v": "two-{{v}}"}}]},
  "s3": {"delay_ms": 100, "output_data": [{"json_data": {"v": "three-{{v}}"}}]}
}}
EOF

printf '{"email": "ann@example.com"}\n{"email": "ben@example.com"}\n' >"$T/items.ndjson"

step "a linear flow: each step's input is filled from the item and the previous step's result"
cat >"$T/linear.json" <<'EOF'
{"name": "linear", "steps": [
  {"id": "one", "endpoint": "s1", "input": {"email": "{{item.email}}"}},
  {"id": "two", "endpoint": "s2", "needs": ["one"], "input": {"v": "{{one:/output_data/0/json_data/v}}"}},
  {"id": "three", "endpoint": "s3", "input": {"v": "{{two:/output_data/0/json_data/v}}"}}
]}
EOF
# Faster copy of the slow middle step, for this step only.
sed 's/"delay_ms": 1000/"delay_ms": 30/' "$T/s.json" >"$T/s_fast.json"
setup_emulator --script "$T/s_fast.json"
chain linear flow "$T/linear.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson" \
  --no-screenshots --parallel 2
assert_exit 0 "$RC" "the linear flow"
assert_line_count "$T/linear.out" 2 "one line per item"
assert_json_lines "$T/linear.out" "stdout"
assert_all_status "$T/linear.out" success "statuses"
assert_jq "$T/linear.out" '.item | tojson' $'{"email":["ann@example.com"]}\n{"email":["ben@example.com"]}' \
  "each line's item, as lists, in input order"
assert_jq "$T/linear.out" '[.steps.one.status, .steps.two.status, .steps.three.status] | join(" ")' \
  $'success success success\nsuccess success success' "every step's status"
assert_jq "$T/linear.out" '.steps.three.output_data[0].json_data.v' \
  $'three-two-one-ann@example.com\nthree-two-one-ben@example.com' "the value passed along the chain"
assert_jq "$T/linear.out" '.steps.three.input.v[0]' \
  $'two-one-ann@example.com\ntwo-one-ben@example.com' "step three's input (a template implies the dependency)"
assert_jq "$T/linear.out" '[.steps[] | .input == .input_parameters] | all' $'true\ntrue' \
  "each step's input is the input_parameters it sent"
for ep in s1 s2 s3; do
  assert_eq 2 "$(endpoint_accepted "$ep")" "submits to $ep (one per item)"
done
assert_eq "$(accepted_task_ids | sort)" \
  "$(jq -r '.steps[].task_id' "$T/linear.out" | sort)" "the lines' task ids are the tasks the emulator accepted"

step "foreach over an empty list: [] and success; the step that needs it runs"
setup_emulator --script "$T/s.json"
cat >"$T/empty.json" <<'EOF'
{"name": "empty-foreach", "steps": [
  {"id": "login", "endpoint": "ep-login", "input": {"email": "{{item.email}}"}},
  {"id": "per", "endpoint": "ep-each", "foreach": "login:/output_data/0/json_data/orders",
   "input": {"order": "{{each}}", "acct": "{{login:/output_data/0/json_data/account}}"}},
  {"id": "after", "endpoint": "ep-after", "needs": ["per"],
   "input": {"acct": "{{login:/output_data/0/json_data/account}}"}}
]}
EOF
chain empty flow "$T/empty.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson" \
  --no-screenshots --parallel 4
assert_exit 0 "$RC" "a flow whose foreach list is empty"
assert_line_count "$T/empty.out" 2 "one line per item"
assert_json_lines "$T/empty.out" "stdout"
assert_all_status "$T/empty.out" success "statuses"
assert_jq "$T/empty.out" '.steps.per | tojson' $'[]\n[]' "the foreach step's result is []"
assert_jq "$T/empty.out" '.steps.after.status' $'success\nsuccess' "the step that needs it ran"
assert_jq "$T/empty.out" '.steps.after.output_data[0].json_data.acct == .steps.login.output_data[0].json_data.account' \
  $'true\ntrue' "the step after it got login's account"
assert_eq 0 "$(endpoint_accepted ep-each)" "submits to the foreach step's endpoint"
assert_eq 2 "$(endpoint_accepted ep-after)" "submits to the step after it"
assert_eq 4 "$(submit_count)" "submits in all (login and after, per item)"

step "foreach over a list of 2, and a step that needs it: one job per element, in list order"
cat >"$T/two.json" <<'EOF'
{"name": "two-orders", "steps": [
  {"id": "login", "endpoint": "ep-login", "input": {"email": "{{item.email}}"}},
  {"id": "orders", "endpoint": "ep-orders", "input": {"account": "{{login:/output_data/0/json_data/account}}"}},
  {"id": "per", "endpoint": "ep-each", "foreach": "orders:/output_data/0/json_data/orders",
   "input": {"order": "{{each}}"}},
  {"id": "after", "endpoint": "ep-after", "needs": ["per"], "input": {"acct": "{{orders:/output_data/0/json_data/account}}"}}
]}
EOF
chain two flow "$T/two.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson" \
  --no-screenshots --parallel 4
assert_exit 0 "$RC" "a flow with a foreach over 2 orders"
assert_all_status "$T/two.out" success "statuses"
assert_jq "$T/two.out" '[.steps.per[].output_data[0].json_data.done] | join(" ")' \
  "$(for e in ann@example.com ben@example.com; do
    a=$(jq -r --arg e "$e" 'select(.item.email[0] == $e) | .steps.login.output_data[0].json_data.account' "$T/two.out")
    printf '%s-1 %s-2\n' "$a" "$a"
  done)" "one result per order, in the list's order"
assert_jq "$T/two.out" '.steps.after.status' $'success\nsuccess' "the step after the foreach"
assert_eq 4 "$(endpoint_accepted ep-each)" "submits to the foreach endpoint (2 per item)"

step "--plan: steps in dependency order, the first item's values filled, results left as written"
cat >"$T/plan.json" <<'EOF'
{"name": "planned", "steps": [
  {"id": "claim", "endpoint": "ep-claim", "foreach": "orders:/output_data/0/json_data/orders",
   "input": {"acct": "{{login:/output_data/0/json_data/account}}", "order": "{{each}}", "note": "for {{item.email}}"},
   "on_failure": "continue"},
  {"id": "orders", "endpoint": "ep-orders", "needs": ["login"],
   "input": {"acct": "{{login:/output_data/0/json_data/account}}", "since": "{{item.since}}"}},
  {"id": "login", "endpoint": "ep-login", "input": {"email": "{{item.email}}", "const": "x"}, "unique": ["email"]}
]}
EOF
printf 'email,since\nfirst@example.com,2026-01-01\nsecond@example.com,2026-02-02\n' >"$T/plan.csv"
before=$(submit_count)
chain plan flow "$T/plan.json" --plan --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/plan.csv"
assert_exit 0 "$RC" "--plan"
assert_line_count "$T/plan.out" 3 "one line per step"
assert_json_lines "$T/plan.out" "plan lines"
assert_jq "$T/plan.out" '.step' $'login\norders\nclaim' "steps in dependency order (not file order)"
assert_jq "$T/plan.out" '.endpoint' $'ep-login\nep-orders\nep-claim' "each step's endpoint"
assert_jq "$T/plan.out" '.request.url' "$(printf '%s/api/v1/inference\n' "$EMU_URL" "$EMU_URL" "$EMU_URL")" \
  "each request goes to --api-url"
assert_jq "$T/plan.out" 'select(.step == "login") | .request.body | [.endpoint_name, (.input_parameters | tojson), (.unique_parameter_names | join(","))] | join(" ")' \
  'ep-login {"email":["first@example.com"],"const":["x"]} email' "login's request: the first item's email"
assert_jq "$T/plan.out" 'select(.step == "orders") | .request.body.input_parameters | tojson' \
  '{"acct":["{{login:/output_data/0/json_data/account}}"],"since":["2026-01-01"]}' \
  "orders' request: login's result left as written, the item's since filled"
assert_jq "$T/plan.out" 'select(.step == "claim") | .request.body.input_parameters | tojson' \
  '{"acct":["{{login:/output_data/0/json_data/account}}"],"order":["{{each}}"],"note":["for first@example.com"]}' \
  "claim's request: {{each}} and results left as written"
assert_jq "$T/plan.out" 'select(.step == "claim") | .needs | sort | join(",")' "login,orders" \
  "claim waits for the steps its templates and foreach name"
assert_eq "$before" "$(submit_count)" "submits (--plan submits nothing)"

step "flow | head -1: head gets the first item's line, the run exits 141 soon after"
setup_emulator --script "$T/s.json"
for i in 1 2 3 4 5 6; do printf '{"email": "h%d@example.com"}\n' "$i"; done >"$T/six.ndjson"
# One item at a time, 1.2 s each: the whole run takes 7 s or more; after head leaves (at the
# first line) the run should stop at its next line, about 2.4 s in.
LAST="head"
started=$(now)
set +e
timeout -k 5 60 "$BIN" flow "$T/linear.json" --api-url "$EMU_URL" --listen "$LISTEN" \
  --input "$T/six.ndjson" --no-screenshots 2>"$T/head.err" | timeout 60 head -n 1 >"$T/head.out"
codes=("${PIPESTATUS[@]}")
set -e
took=$(elapsed_since "$started")
log "exit codes ${codes[*]} after $took s"
assert_exit 141 "${codes[0]}" "the flow's exit code (PIPESTATUS)"
assert_exit 0 "${codes[1]}" "head's exit code"
assert_line_count "$T/head.out" 1 "lines head got"
assert_json_lines "$T/head.out" "head's line"
assert_jq "$T/head.out" '.status + " " + .item.email[0]' "success h1@example.com" "head's line"
assert_less "$took" 5.5 "seconds until the flow left (a full run takes 7 s or more)"
assert_file_not_contains "$T/head.err" "error" "stderr (no error spam)"
assert_file_not_contains "$T/head.err" "Broken pipe" "stderr (no error spam)"
wait_emulator_idle # a submit cut short by the exit is logged too
accepted=$(accepted_count)
if ((accepted > 9)); then
  _fail_ctx "the flow went on submitting after stdout closed: $accepted of 18 jobs submitted"
fi

step "flow --emulate --parallel 4 | head -1 over 40 items: exit 141, no error"
for i in $(seq 1 40); do printf '{"email": "m%d@example.com"}\n' "$i"; done >"$T/many.ndjson"
LAST=head2
started=$(now)
set +e
timeout -k 5 60 "$BIN" flow "$T/linear.json" --emulate --script "$T/s_fast.json" --input "$T/many.ndjson" \
  --parallel 4 2>"$T/head2.err" | timeout 60 head -n 1 >"$T/head2.out"
codes=("${PIPESTATUS[@]}")
set -e
took=$(elapsed_since "$started")
assert_exit 141 "${codes[0]}" "the flow's exit code (PIPESTATUS)"
assert_line_count "$T/head2.out" 1 "lines head got"
assert_jq "$T/head2.out" '.status + " " + .item.email[0]' "success m1@example.com" "head's line"
assert_less "$took" 10 "seconds until the flow left"
assert_file_not_contains "$T/head2.err" "error" "stderr (no error spam)"
