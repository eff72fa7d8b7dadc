#!/usr/bin/env bash
# The emulator's faults in the answers to submits, seen with curl: --bad-answer-rate (the task
# is created, runs and calls back, but the 2xx names no task: 200 HTML and 202 {"ok":true} in
# turn) and --repeat-task-id N (the next N answers after the first name the first task; each
# task still calls back under its own id); both replay exactly with --seed; their ranges are
# checked.
source "$(dirname "$0")/lib.sh"

# POSTs an inference request for one email to the emulator; writes $T/NAME.body and
# $T/NAME.headers and prints the HTTP status ("000" when nothing answered).
submit_email() { # name email
  local code
  code=$(curl -sS -o "$T/$1.body" -D "$T/$1.headers" -w '%{http_code}' --max-time 10 \
    -X POST -H 'Content-Type: application/json' \
    --data-binary "{\"endpoint_name\":\"demo\",\"input_parameters\":{\"email\":[\"$2\"]}}" \
    "$EMU_URL/api/v1/inference" 2>"$T/$1.curl") || true
  printf '%s\n' "${code:-000}"
}

# The Content-Type of an answer saved by submit_email, without parameters.
content_type() { # name
  sed -nE 's/^[Cc]ontent-[Tt]ype: *([^;[:space:]]*).*/\1/p' "$T/$1.headers" | tail -n 1
}

# The task_id an answer names ("" when none).
answer_task_id() { jq -r '.task_id // empty' "$T/$1.body" 2>/dev/null || true; } # name

step "--bad-answer-rate 1: HTML and {\"ok\":true} in turn, no task_id, every task runs and calls back"
start_callback_sink sink_bad
start_emulator emu_bad "$SINK_PORT" --delay-ms 20 --seed 11 --bad-answer-rate 1
codes=()
for i in 1 2 3 4; do
  codes+=("$(submit_email bad$i "bad$i@example.com")")
done
assert_eq "200 202 200 202" "${codes[*]}" "the answers' status codes"
for i in 1 3; do
  assert_eq text/html "$(content_type bad$i)" "content type of answer $i"
  assert_eq "<html><body>OK</body></html>" "$(cat "$T/bad$i.body")" "body of answer $i"
done
for i in 2 4; do
  assert_eq application/json "$(content_type bad$i)" "content type of answer $i"
  assert_eq '{"ok":true}' "$(cat "$T/bad$i.body")" "body of answer $i"
done
assert_eq 4 "$(submit_count)" "submits logged"
assert_eq 4 "$(created_count)" "tasks created"
assert_eq 0 "$(accepted_count)" "answers with a usable task_id"
assert_eq 2 "$(count_matches "$EMU_LOG" ' -> 200 text/html without task_id, task ')" "HTML answers logged"
assert_eq 2 "$(count_matches "$EMU_LOG" ' -> 202 {"ok":true} without task_id, task ')" \
  "{\"ok\":true} answers logged"
wait_until 20 "4 callbacks at the sink" has_lines "$T/sink_bad.ids" 4
assert_eq "$(created_task_ids | sort)" "$(sort "$T/sink_bad.ids")" \
  "each created task called back under its own task_id"
for id in $(created_task_ids); do
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \
    "$EMU_URL/api/v1/task_status?task_id=$id" 2>/dev/null) || true
  assert_eq 200 "$code" "task_status of task $id"
done
for i in 1 2 3 4; do
  assert_eq 1 "$(submits_of_email "bad$i@example.com")" "submits of bad$i@example.com"
done
stop_emulator

step "--repeat-task-id 2: three answers name the first task, the fourth its own; each task calls back as itself"
start_callback_sink sink_rep
start_emulator emu_rep "$SINK_PORT" --delay-ms 20 --seed 12 --repeat-task-id 2
for i in 1 2 3 4; do
  assert_eq 202 "$(submit_email rep$i "rep$i@example.com")" "status of answer $i"
done
first=$(answer_task_id rep1)
[[ $first =~ ^[0-9a-f-]{36}$ ]] || _fail_ctx "the first answer names no task: $(cat "$T/rep1.body")"
assert_eq "$first $first $first" "$(answer_task_id rep1) $(answer_task_id rep2) $(answer_task_id rep3)" \
  "the task_ids of the first three answers"
mapfile -t own < <(created_task_ids)
assert_eq 4 "${#own[@]}" "tasks created"
assert_eq 4 "$(printf '%s\n' "${own[@]}" | sort -u | wc -l)" "distinct tasks created"
assert_eq "$first" "${own[0]}" "the first answer names its own task"
assert_eq "${own[3]}" "$(answer_task_id rep4)" "the fourth answer names its own task"
assert_eq 4 "$(accepted_count)" "answers with a task_id"
for k in 1 2; do
  assert_file_contains "$EMU_LOG" "task ${own[k]} (success callback in 20 ms; the answer names task $first (repeat $k of 2))" \
    "the log line of repeat $k"
done
wait_until 20 "4 callbacks at the sink" has_lines "$T/sink_rep.ids" 4
assert_eq "$(printf '%s\n' "${own[@]}" | sort)" "$(sort "$T/sink_rep.ids")" \
  "each task called back under its own task_id"
stop_emulator

step "--seed replays the answers: the same codes, bodies and task ids twice"
for round in 1 2; do
  start_emulator "emu_seed$round" "$(free_port)" --delay-ms 5000 --seed 99 --bad-answer-rate 0.5 \
    --repeat-task-id 1
  for i in 1 2 3 4 5 6 7 8; do
    printf '%s %s\n' "$(submit_email "seed$round.$i" "s$i@example.com")" "$(cat "$T/seed$round.$i.body")"
  done >"$T/seed$round.answers"
  created_task_ids >"$T/seed$round.ids"
  stop_emulator
done
assert_eq "$(cat "$T/seed1.answers")" "$(cat "$T/seed2.answers")" "the answers of two seeded runs"
assert_eq "$(cat "$T/seed1.ids")" "$(cat "$T/seed2.ids")" "the tasks of two seeded runs"
bad=$(grep -cv '"task_id"' "$T/seed1.answers" || true)
((bad > 0 && bad < 8)) || _fail_ctx "expected some but not all of 8 answers without task_id at rate 0.5, got $bad"

step "the new options' ranges, and --help"
chain help emulator --help
assert_exit 0 "$RC" "emulator --help"
assert_file_contains "$T/help.out" "--bad-answer-rate" "--help"
assert_file_contains "$T/help.out" "--repeat-task-id" "--help"
for bad_args in "--bad-answer-rate 1.5" "--bad-answer-rate -0.1" "--repeat-task-id -1" \
  "--repeat-task-id many"; do
  # shellcheck disable=SC2086 # two words: the option and its value
  chain range emulator --port 0 $bad_args
  assert_exit 2 "$RC" "emulator $bad_args"
  assert_file_contains "$T/range.err" "${bad_args%% *}" "the error names the option"
done
