#!/usr/bin/env bash
# `flow --state`: kill -9 mid-flow then rerun the same command (with --listen, and without: the
# journaled address): one line per item, all success, the values passed along the chain, lines
# printed before the kill reprinted byte for byte, tasks in flight recovered, no job submitted
# twice over both runs; a third run reprints and submits nothing. Ctrl-C (SIGINT) mid-flow:
# exit 130, one line per item, unfinished items interrupted with the results their finished
# steps have; a rerun with the same --state finishes them without resubmitting anything.
source "$(dirname "$0")/lib.sh"
require_test_hooks

# Three steps, the middle one slow: an item takes about 1.7 s.
cat >"$T/s.json" <<'EOF'
{"endpoints": {
  "s1": {"delay_ms": 100, "output_data": [{"json_data": {"v": "one-{{email}}"}}]},
  "s2": {"delay_ms": 1500, "output_data": [{"json_data": {"v": "two-{{v}}"}}]},
  "s3": {"delay_ms": 100, "output_data": [{"json_data": {"v": "three-{{v}}"}}]}
}}
EOF
cat >"$T/lin.json" <<'EOF'
{"name": "linear", "steps": [
  {"id": "one", "endpoint": "s1", "input": {"email": "{{item.email}}"}},
  {"id": "two", "endpoint": "s2", "needs": ["one"], "input": {"v": "{{one:/output_data/0/json_data/v}}"}},
  {"id": "three", "endpoint": "s3", "needs": ["two"], "input": {"v": "{{two:/output_data/0/json_data/v}}"}}
]}
EOF

# Asserts a run's stdout holds the N items' lines, all success, in order, with the chained values.
assert_all_done() { # file n prefix what
  local file=$1 n=$2 prefix=$3 what=$4 i
  assert_line_count "$file" "$n" "$what: one line per item"
  assert_json_lines "$file" "$what: stdout"
  assert_all_status "$file" success "$what: item statuses"
  assert_jq "$file" '.item.email[0]' "$(for ((i = 1; i <= n; i++)); do echo "$prefix$i@example.com"; done)" \
    "$what: items in input order"
  assert_jq "$file" '[.steps.one.status, .steps.two.status, .steps.three.status] | join(" ")' \
    "$(for ((i = 1; i <= n; i++)); do echo "success success success"; done)" "$what: step statuses"
  assert_jq "$file" '.steps.three.output_data[0].json_data.v' \
    "$(for ((i = 1; i <= n; i++)); do echo "three-two-one-$prefix$i@example.com"; done)" \
    "$what: the value passed along the chain"
}

# Runs 4 items at --parallel 2 with --state, kill -9s the run while the last two items' slow
# steps are in flight, reruns the same command (with or without --listen), then once more.
kill_and_resume() { # name relisten(yes|no)
  local name=$1 relisten=$2
  setup_emulator_named "$name.emu" --script "$T/s.json"
  for i in 1 2 3 4; do printf '{"email": "%s%d@example.com"}\n' "$name" "$i"; done >"$T/$name.ndjson"
  local S=$T/$name.state
  local args=(flow "$T/lin.json" --api-url "$EMU_URL" --input "$T/$name.ndjson" --state "$S"
    --parallel 2 --no-screenshots)
  # The run dies (SIGKILL, src/core/crash_point.h) right after journaling its 10th submit: items
  # 1 and 2 done (6 results), items 3 and 4 in their slow step (2 tasks in flight; the next submit
  # waits for a step-two callback, 1.5 s away). Checked below only by what a user sees (stdout,
  # exit codes, the emulator's log), never by the journal's records, whose kinds may grow.
  OPTEXITY_CRASH_AT=after_submit:10 start_bg "$name.1" "$BIN" "${args[@]}" --listen "$LISTEN"
  local pid=$BG_PID
  wait_exit "$pid" 30 "the run killed at its crash point"
  assert_exit 137 "$RC" "exit code of the killed run"
  assert_file_contains "$T/$name.1.err" "crash point after_submit (hit 10)" "the run died at its crash point"
  cp "$S" "$S.at-kill"
  # Every request the killed run sent has been handled, so the log holds all it will.
  wait_emulator_idle
  local in_flight accepted_at_kill
  accepted_at_kill=$(accepted_count)
  assert_eq 10 "$accepted_at_kill" "submits accepted at the kill (none after the 10th)"
  assert_eq "4 4 2" "$(endpoint_accepted s1) $(endpoint_accepted s2) $(endpoint_accepted s3)" \
    "submits per step's endpoint at the kill"
  # In flight at the kill: the step-two tasks the emulator accepted that no printed line holds.
  mapfile -t in_flight < <(comm -23 \
    <(sed -n 's/^emulator: submit s2 -> 202 task \([0-9a-f-]*\) .*/\1/p' "$EMU_LOG" | sort) \
    <(complete_lines "$T/$name.1.out" | jq -r '.steps[].task_id' | sort))
  log "killed with $(complete_lines "$T/$name.1.out" | wc -l) line(s) printed, ${#in_flight[@]} step-two task(s) in flight, $accepted_at_kill submit(s)"
  ((${#in_flight[@]} == 2)) || _fail_ctx "expected 2 step-two tasks in flight at the kill, got ${#in_flight[@]}"

  if [[ $relisten == yes ]]; then
    chain "$name.2" "${args[@]}" --listen "$LISTEN"
  else
    # No --listen: the journaled address is reused, so callbacks of tasks in flight reach the rerun.
    chain "$name.2" "${args[@]}"
    assert_file_contains "$T/$name.2.err" "listening on $LISTEN" "the rerun listens on the journaled address"
  fi
  assert_exit 0 "$RC" "the rerun"
  assert_all_done "$T/$name.2.out" 4 "$name" "rerun"
  assert_file_not_contains "$T/$name.2.err" "internal error" "rerun stderr"

  local line email
  while IFS= read -r line; do
    email=$(jq -r '.item.email[0]' <<<"$line")
    assert_eq "$line" "$(grep -F "\"item\":{\"email\":[\"$email\"]}" "$T/$name.2.out")" \
      "the line of $email, printed before the kill, again byte for byte on the rerun"
  done < <(complete_lines "$T/$name.1.out")

  # Every job (item x step) submitted once over both runs.
  assert_eq 12 "$(accepted_count)" "submits accepted over both runs (4 items x 3 steps)"
  assert_eq "4 4 4" "$(endpoint_accepted s1) $(endpoint_accepted s2) $(endpoint_accepted s3)" \
    "submits per step's endpoint over both runs"
  assert_eq "12 12" "$(grep -ac '^emulator: request ' "$EMU_LOG") $(grep -a '^emulator: request ' "$EMU_LOG" | sort -u | wc -l)" \
    "jobs submitted, and distinct jobs (step endpoint and input) among them"
  assert_eq "$(accepted_task_ids | sort)" \
    "$(jq -r '.steps[].task_id' "$T/$name.2.out" | sort)" \
    "the tasks the emulator accepted are the rerun lines' tasks"
  local id
  for id in "${in_flight[@]}"; do
    assert_eq "two" "$(jq -r --arg id "$id" '.steps | to_entries[] | select(.value.task_id == $id) | .key' \
      "$T/$name.2.out")" "the task $id, in flight at the kill, is recovered as a step two"
  done

  chain "$name.3" "${args[@]}"
  assert_exit 0 "$RC" "a third run"
  if ! cmp -s "$T/$name.2.out" "$T/$name.3.out"; then
    _fail_ctx "the third run's stdout differs from the second's: $(diff "$T/$name.2.out" "$T/$name.3.out" | head -c 2000)"
  fi
  assert_eq 12 "$(accepted_count)" "submits after the third run (none)"
  stop_emulator # no redelivery to a listener gone goes on during the next steps
}

step "kill -9 mid-flow, rerun without --listen (the journaled address), then a third run"
kill_and_resume ka no

step "kill -9 mid-flow, rerun with the same --listen, then a third run"
kill_and_resume kb yes

step "Ctrl-C mid-flow: exit 130, one line per item, unfinished items interrupted with their finished steps"
setup_emulator_named emu_int --script "$T/s.json"
for i in 1 2 3 4 5; do printf '{"email": "int%d@example.com"}\n' "$i"; done >"$T/int.ndjson"
S=$T/int.state
args=(flow "$T/lin.json" --api-url "$EMU_URL" --input "$T/int.ndjson" --state "$S" --parallel 2
  --no-screenshots)
# The run sends itself SIGINT (src/core/crash_point.h) right after journaling its 10th submit:
# items 1 and 2 done, items 3 and 4 in their slow step, item 5 not started (--parallel 2).
OPTEXITY_CRASH_AT=after_submit:10:INT start_bg_default_signals int.1 "$BIN" "${args[@]}" --listen "$LISTEN"
pid=$BG_PID
wait_exit "$pid" 30 "the run after SIGINT"
assert_exit 130 "$RC" "exit code after SIGINT"
assert_eq "10 4" "$(accepted_count) $(endpoint_accepted s2)" "submits (and step-two submits) at the SIGINT"
assert_file_contains "$T/int.1.err" "crash point after_submit (hit 10)" "the SIGINT came from the crash point"
LAST=int.1
assert_line_count "$T/int.1.out" 5 "one line per item"
assert_json_lines "$T/int.1.out" "stdout"
assert_jq "$T/int.1.out" '.item.email[0]' "$(printf 'int%d@example.com\n' 1 2 3 4 5)" "items in input order"
assert_jq "$T/int.1.out" '.status' $'success\nsuccess\ninterrupted\ninterrupted\ninterrupted' "item statuses"
assert_jq "$T/int.1.out" '[.steps.one.status, .steps.two.status, .steps.three.status] | join(" ")' \
  $'success success success\nsuccess success success\nsuccess interrupted interrupted\nsuccess interrupted interrupted\ninterrupted interrupted interrupted' \
  "step statuses"
assert_jq "$T/int.1.out" 'select(.status == "interrupted") | .error | contains("SIGINT")' \
  $'true\ntrue\ntrue' "the interrupted items say why"
assert_jq "$T/int.1.out" 'select(.item.email[0] == "int3@example.com" or .item.email[0] == "int4@example.com") | .steps.one.output_data[0].json_data.v' \
  $'one-int3@example.com\none-int4@example.com' "interrupted items keep the results of their finished steps"
assert_jq "$T/int.1.out" 'select(.item.email[0] == "int3@example.com" or .item.email[0] == "int4@example.com") | .steps.two.task_id | type' \
  $'string\nstring' "a step in flight keeps its task id"
assert_jq "$T/int.1.out" 'select(.item.email[0] == "int3@example.com" or .item.email[0] == "int4@example.com") | .steps.two.input.v[0]' \
  $'one-int3@example.com\none-int4@example.com' "a step in flight keeps its input"

step "a rerun with the same --state after Ctrl-C finishes every item, submitting nothing twice"
chain int.2 "${args[@]}"
assert_exit 0 "$RC" "the rerun after SIGINT"
assert_all_done "$T/int.2.out" 5 int "rerun after SIGINT"
for i in 1 2; do
  assert_eq "$(sed -n "${i}p" "$T/int.1.out")" "$(sed -n "${i}p" "$T/int.2.out")" \
    "item $i's line, finished before the SIGINT, byte for byte"
done
assert_eq "5 5 5" "$(endpoint_accepted s1) $(endpoint_accepted s2) $(endpoint_accepted s3)" \
  "submits per step's endpoint over both runs (one per item)"
