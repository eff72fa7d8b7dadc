#!/usr/bin/env bash
# A step's "timeout" in `flow`: a task still running at its deadline (the emulator's status API
# says so) ends the step as timeout, and the run ends then, not when the task would have called
# back; a task whose callback is lost has its result fetched at the deadline. In both cases the
# step with the deadline is the only task in flight: nothing else wakes the run before it.
source "$(dirname "$0")/lib.sh"

cat >"$T/s.json" <<'EOF'
{"endpoints": {
  "ep-a": {"delay_ms": 40, "output_data": [{"json_data": {"acct": "X-{{email}}"}}]},
  "slow": {"delay_ms": 5000},
  "lost": {"delay_ms": 40, "drop_callback_rate": 1, "output_data": [{"json_data": {"got": "{{acct}}"}}]},
  "ep-c": {"delay_ms": 40}
}}
EOF
printf '{"email": "t1@example.com"}\n' >"$T/one.ndjson"

step "a step with timeout 1 whose task takes 5 s: timeout, the item failed, the run ends in about 1 s"
setup_emulator --script "$T/s.json"
cat >"$T/slow.json" <<'EOF'
{"name": "slow", "steps": [
  {"id": "a", "endpoint": "ep-a", "input": {"email": "{{item.email}}"}},
  {"id": "s", "endpoint": "slow", "needs": ["a"], "timeout": 1,
   "input": {"acct": "{{a:/output_data/0/json_data/acct}}"}},
  {"id": "c", "endpoint": "ep-c", "needs": ["s"], "input": {"x": "1"}}
]}
EOF
started=$(now)
CMD_TIMEOUT=20 chain slow flow "$T/slow.json" --api-url "$EMU_URL" --listen "$LISTEN" \
  --input "$T/one.ndjson" --no-screenshots
took=$(elapsed_since "$started")
log "the run took $took s"
assert_line_count "$T/slow.out" 1 "one line"
assert_json_lines "$T/slow.out" "stdout"
assert_jq "$T/slow.out" '.steps.s.status' "timeout" "the slow step's status"
assert_exit 1 "$RC" "a flow with a timed-out step"
assert_jq "$T/slow.out" '.status' "failed" "the item's status"
assert_jq "$T/slow.out" '.error | startswith("step \"s\": timeout")' "true" "the item's error names the step"
assert_jq "$T/slow.out" '.steps.s.task_id' "$(grep '^emulator: submit slow -> 202 ' "$EMU_LOG" |
  sed 's/.* task \([0-9a-f-]*\) .*/\1/')" "the timed-out step keeps its task id"
assert_jq "$T/slow.out" '.steps.c.status' "skipped" "the step after it"
assert_eq 0 "$(endpoint_accepted ep-c)" "submits to the step after it"
assert_less "$took" 4 "seconds the run took (the task would call back after 5 s)"

step "a step with timeout 1 whose callback is lost: its result is fetched at the deadline"
setup_emulator --script "$T/s.json"
cat >"$T/lost.json" <<'EOF'
{"name": "lost", "steps": [
  {"id": "a", "endpoint": "ep-a", "input": {"email": "{{item.email}}"}},
  {"id": "l", "endpoint": "lost", "needs": ["a"], "timeout": 1,
   "input": {"acct": "{{a:/output_data/0/json_data/acct}}"}}
]}
EOF
started=$(now)
CMD_TIMEOUT=15 chain lost flow "$T/lost.json" --api-url "$EMU_URL" --listen "$LISTEN" \
  --input "$T/one.ndjson" --no-screenshots
took=$(elapsed_since "$started")
log "the run took $took s"
assert_exit 0 "$RC" "a flow whose callback was lost (the status API has the result)"
assert_jq "$T/lost.out" '.status + " " + .steps.l.status' "success success" "statuses"
assert_jq "$T/lost.out" '.steps.l.output_data[0].json_data.got' "X-t1@example.com" "the fetched result"
assert_less "$took" 4 "seconds the run took"
