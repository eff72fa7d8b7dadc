#!/usr/bin/env bash
# `flow` when steps fail: on_failure "stop" (the failed step's dependants and the item's later
# steps are skipped, never submitted; a failure handler, `when` it failed, still runs),
# on_failure "continue" (independent steps go on, a `when` step reacts to the failure),
# "retries" (a failing step submitted 1 + retries times), a reference the previous result cannot
# fill (invalid_input, nothing submitted), an endpoint the service does not know (404: exit 3).
source "$(dirname "$0")/lib.sh"

cat >"$T/s.json" <<'EOF'
{"endpoints": {
  "ep-a": {"delay_ms": 40, "output_data": [{"unique_identifier": "{{email}}",
           "json_data": {"acct": "X-{{email}}"}}]},
  "ep-b": {"delay_ms": 40, "fail_rate": 1, "error": "b broke for {{acct}}"},
  "ep-c": {"delay_ms": 40},
  "ep-d": {"delay_ms": 40, "output_data": [{"json_data": {"seen": "{{x}}"}}]},
  "ep-e": {"delay_ms": 40, "output_data": [{"json_data": {"why": "{{why}}"}}]},
  "ep-f": {"delay_ms": 40},
  "ep-w": {"delay_ms": 700}
}}
EOF
printf '{"email": "e1@example.com"}\n{"email": "e2@example.com"}\n' >"$T/items.ndjson"
ITEMS=(e1@example.com e2@example.com)

step "on_failure stop: b fails; c (needs b) and d (after an independent slow step) are skipped, the handler h (when b failed) runs"
setup_emulator --script "$T/s.json"
cat >"$T/stop.json" <<'EOF'
{"name": "stop", "steps": [
  {"id": "a", "endpoint": "ep-a", "input": {"email": "{{item.email}}"}},
  {"id": "b", "endpoint": "ep-b", "needs": ["a"], "input": {"acct": "{{a:/output_data/0/json_data/acct}}"}},
  {"id": "c", "endpoint": "ep-c", "needs": ["b"], "input": {"x": "1"}},
  {"id": "w", "endpoint": "ep-w", "input": {"email": "{{item.email}}"}},
  {"id": "d", "endpoint": "ep-d", "needs": ["w"], "input": {"x": "{{item.email}}"}},
  {"id": "h", "endpoint": "ep-e", "when": {"b": "failed"}, "input": {"why": "{{b:/error}}"}}
]}
EOF
chain stop flow "$T/stop.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson" \
  --no-screenshots --parallel 4
assert_exit 1 "$RC" "a flow whose step b fails (on_failure stop)"
assert_line_count "$T/stop.out" 2 "one line per item"
assert_json_lines "$T/stop.out" "stdout"
assert_all_status "$T/stop.out" failed "item statuses"
assert_jq "$T/stop.out" '.item.email[0]' "$(printf '%s\n' "${ITEMS[@]}")" "items in input order"
assert_jq "$T/stop.out" '.error | startswith("step \"b\": ")' $'true\ntrue' "the item's error names step b"
assert_jq "$T/stop.out" '.error | contains("b broke for X-" )' $'true\ntrue' "the item's error carries b's error"
assert_jq "$T/stop.out" '.steps | keys_unsorted | join(",")' $'a,b,c,w,d,h\na,b,c,w,d,h' "one entry per step"
assert_jq "$T/stop.out" '[.steps.a.status, .steps.b.status] | join(" ")' $'success failed\nsuccess failed' \
  "a succeeded, b failed"
assert_jq "$T/stop.out" '.steps.b.error' $'b broke for X-e1@example.com\nb broke for X-e2@example.com' \
  "b's result is the service's failure, for the item's account"
assert_jq "$T/stop.out" '.steps.c | (.status == "skipped") and (.reason | type == "string" and contains("\"b\""))' \
  $'true\ntrue' "c is skipped with a reason naming b"
assert_jq "$T/stop.out" '.steps.w.status' $'success\nsuccess' "w, submitted before b failed, still ended"
assert_jq "$T/stop.out" '.steps.d | (.status == "skipped") and (.reason | type == "string" and contains("\"b\""))' \
  $'true\ntrue' "d (independent of b, ready after b failed) is skipped: the flow stopped at b"
assert_jq "$T/stop.out" '[.steps.c, .steps.d | has("task_id")] | any' $'false\nfalse' "c and d have no task"
assert_eq 0 "$(endpoint_accepted ep-c)" "submits to c's endpoint"
assert_eq 0 "$(endpoint_accepted ep-d)" "submits to d's endpoint"
assert_jq "$T/stop.out" '.steps.h.status' $'success\nsuccess' "the failure handler h ran after the stop"
assert_jq "$T/stop.out" '.steps.h.input.why[0]' $'b broke for X-e1@example.com\nb broke for X-e2@example.com' \
  "h got b's error"
assert_eq "2 2 2 2" \
  "$(endpoint_accepted ep-a) $(endpoint_accepted ep-b) $(endpoint_accepted ep-w) $(endpoint_accepted ep-e)" \
  "submits to a, b, w and h (one per item)"
assert_eq 8 "$(submit_count)" "submits in all"

step "on_failure continue: b fails; d (needs a) runs, c (needs b) is skipped, e (when b failed) runs"
setup_emulator --script "$T/s.json"
cat >"$T/cont.json" <<'EOF'
{"name": "continue", "steps": [
  {"id": "a", "endpoint": "ep-a", "input": {"email": "{{item.email}}"}},
  {"id": "b", "endpoint": "ep-b", "needs": ["a"], "input": {"acct": "{{a:/output_data/0/json_data/acct}}"},
   "on_failure": "continue"},
  {"id": "c", "endpoint": "ep-c", "needs": ["b"], "input": {"x": "1"}},
  {"id": "d", "endpoint": "ep-d", "needs": ["a"], "input": {"x": "{{a:/output_data/0/json_data/acct}}"}},
  {"id": "e", "endpoint": "ep-e", "when": {"b": "failed"}, "input": {"why": "{{b:/error}}"}},
  {"id": "f", "endpoint": "ep-f", "when": {"b": "success"}, "input": {"x": "1"}}
]}
EOF
chain cont flow "$T/cont.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson" \
  --no-screenshots --parallel 4
assert_exit 1 "$RC" "a flow whose step b fails (on_failure continue)"
assert_line_count "$T/cont.out" 2 "one line per item"
assert_json_lines "$T/cont.out" "stdout"
assert_all_status "$T/cont.out" failed "item statuses (b failed)"
assert_jq "$T/cont.out" '.item.email[0]' "$(printf '%s\n' "${ITEMS[@]}")" "items in input order"
assert_jq "$T/cont.out" '.error | startswith("step \"b\": ")' $'true\ntrue' "the item's error names step b"
assert_jq "$T/cont.out" '[.steps.a.status, .steps.b.status] | join(" ")' $'success failed\nsuccess failed' \
  "a succeeded, b failed"
assert_jq "$T/cont.out" '.steps.c | (.status == "skipped") and (.reason | type == "string" and contains("\"b\""))' \
  $'true\ntrue' "c (needs b) is skipped with a reason naming b"
assert_jq "$T/cont.out" '.steps.d.status' $'success\nsuccess' "d (needs a only) ran"
assert_jq "$T/cont.out" '.steps.d.output_data[0].json_data.seen' $'X-e1@example.com\nX-e2@example.com' \
  "d got a's account"
assert_jq "$T/cont.out" '.steps.e.status' $'success\nsuccess' "e (when b failed) ran"
assert_jq "$T/cont.out" '.steps.e.input.why[0]' $'b broke for X-e1@example.com\nb broke for X-e2@example.com' \
  "e got b's error"
assert_jq "$T/cont.out" '.steps.f | (.status == "skipped") and (.reason | type == "string" and contains("\"b\""))' \
  $'true\ntrue' "f (when b succeeded) is skipped with a reason naming b"
assert_eq 0 "$(endpoint_accepted ep-c)" "submits to c's endpoint"
assert_eq 0 "$(endpoint_accepted ep-f)" "submits to f's endpoint"
assert_eq "2 2 2 2" \
  "$(endpoint_accepted ep-a) $(endpoint_accepted ep-b) $(endpoint_accepted ep-d) $(endpoint_accepted ep-e)" \
  "submits to a, b, d and e (one per item)"

step "a when step reacting to a success runs, and a failure-only alert is skipped without failing the item"
cat >"$T/when_ok.json" <<'EOF'
{"name": "when-ok", "steps": [
  {"id": "a", "endpoint": "ep-a", "input": {"email": "{{item.email}}"}},
  {"id": "alert", "endpoint": "ep-f", "when": {"a": "failed"}, "input": {"x": "1"}},
  {"id": "next", "endpoint": "ep-d", "when": {"a": ["success", "killed"]}, "input": {"x": "{{a:/output_data/0/json_data/acct}}"}}
]}
EOF
before_f=$(endpoint_accepted ep-f)
chain when_ok flow "$T/when_ok.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson" \
  --no-screenshots --parallel 4
assert_exit 0 "$RC" "a flow whose only skipped step is a when that did not hold"
assert_all_status "$T/when_ok.out" success "item statuses"
assert_jq "$T/when_ok.out" '.steps.alert.status' $'skipped\nskipped' "the alert is skipped"
assert_jq "$T/when_ok.out" '.steps.next.status' $'success\nsuccess' "the step when a succeeded ran"
assert_eq "$before_f" "$(endpoint_accepted ep-f)" "submits to the alert's endpoint"

step "retries: a step whose endpoint always fails, with retries 2, is submitted 3 times per item"
setup_emulator --script "$T/s.json"
cat >"$T/retry.json" <<'EOF'
{"name": "retry", "steps": [
  {"id": "a", "endpoint": "ep-a", "input": {"email": "{{item.email}}"}},
  {"id": "r", "endpoint": "ep-b", "needs": ["a"], "input": {"acct": "{{a:/output_data/0/json_data/acct}}"},
   "retries": 2},
  {"id": "z", "endpoint": "ep-c", "needs": ["r"], "input": {"x": "1"}}
]}
EOF
chain retry flow "$T/retry.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson" \
  --no-screenshots --parallel 4
assert_exit 1 "$RC" "a flow whose step fails on every attempt"
assert_line_count "$T/retry.out" 2 "one line per item"
assert_all_status "$T/retry.out" failed "item statuses"
assert_jq "$T/retry.out" '.error | startswith("step \"r\": ")' $'true\ntrue' "the item's error names step r"
assert_jq "$T/retry.out" '.steps.r.status' $'failed\nfailed' "r is failed after its retries"
assert_jq "$T/retry.out" '.steps.z.status' $'skipped\nskipped' "the step after r is skipped"
assert_eq 6 "$(endpoint_accepted ep-b)" "submits to r's endpoint (3 per item)"
for e in "${ITEMS[@]}"; do
  # The emulator logs each failed task's templated error: "b broke for X-EMAIL".
  assert_eq 3 "$(grep -c "^emulator: submit ep-b -> 202 .*b broke for X-$e)" "$EMU_LOG" || true)" \
    "attempts for $e"
  last_id=$(grep "^emulator: submit ep-b -> 202 .*b broke for X-$e)" "$EMU_LOG" | tail -n 1 |
    sed 's/.* task \([0-9a-f-]*\) .*/\1/')
  assert_eq "$last_id" "$(jq -r --arg e "$e" 'select(.item.email[0] == $e) | .steps.r.task_id' "$T/retry.out")" \
    "the result of $e's step r is its last attempt"
done
assert_eq 0 "$(endpoint_accepted ep-c)" "submits to the step after r"

step "a reference the previous result cannot fill: invalid_input naming the step and the pointer"
setup_emulator --script "$T/s.json"
cat >"$T/ref.json" <<'EOF'
{"name": "ref", "steps": [
  {"id": "login", "endpoint": "ep-a", "input": {"email": "{{item.email}}"}},
  {"id": "orders", "endpoint": "ep-d", "needs": ["login"],
   "input": {"x": "{{login:/output_data/0/json_data/account}}"}}
]}
EOF
chain ref flow "$T/ref.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson" \
  --no-screenshots --parallel 4
assert_exit 1 "$RC" "a flow with an unresolvable reference"
assert_line_count "$T/ref.out" 2 "one line per item"
assert_json_lines "$T/ref.out" "stdout"
assert_all_status "$T/ref.out" failed "item statuses"
assert_jq "$T/ref.out" '.steps.login.status' $'success\nsuccess' "login succeeded"
assert_jq "$T/ref.out" '.steps.orders.status' $'invalid_input\ninvalid_input' "the step is invalid_input"
assert_jq "$T/ref.out" '.steps.orders.error | contains("/output_data/0/json_data/account")' \
  $'true\ntrue' "the step's error names the pointer"
assert_jq "$T/ref.out" '.error | startswith("step \"orders\": ") and contains("/output_data/0/json_data/account")' \
  $'true\ntrue' "the item's error names the step and the pointer"
assert_jq "$T/ref.out" '.steps.orders | has("task_id")' $'false\nfalse' "the step has no task"
assert_eq 0 "$(endpoint_accepted ep-d)" "submits to the step's endpoint"
assert_eq 2 "$(submit_count)" "submits in all (login, per item)"

step "an endpoint the service does not know (404): exit 3, the step submit_failed, named on stderr"
cat >"$T/unknown.json" <<'EOF'
{"name": "unknown", "steps": [
  {"id": "a", "endpoint": "ep-a", "input": {"email": "{{item.email}}"}},
  {"id": "lost", "endpoint": "no-such-endpoint", "needs": ["a"], "input": {"x": "1"}}
]}
EOF
chain unknown flow "$T/unknown.json" --api-url "$EMU_URL" --listen "$LISTEN" --input "$T/items.ndjson" \
  --no-screenshots --parallel 4
assert_exit 3 "$RC" "a flow with a step the service refuses"
assert_line_count "$T/unknown.out" 2 "one line per item"
assert_all_status "$T/unknown.out" failed "item statuses"
assert_jq "$T/unknown.out" '.steps.a.status + " " + .steps.lost.status' \
  $'success submit_failed\nsuccess submit_failed' "a succeeded, the unknown step could not be submitted"
assert_file_contains "$T/unknown.err" "no-such-endpoint" "stderr names the endpoint"
assert_file_contains "$T/unknown.err" 'step "lost"' "stderr names the step"
assert_file_contains "$EMU_LOG" "404" "the emulator answered 404"
