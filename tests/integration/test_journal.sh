#!/usr/bin/env bash
# --state: the journal (mode 0600, run/submit/result records); kill -9 mid-run then resume (one
# line per input, finished lines byte for byte, no input submitted twice, tasks in flight
# recovered); a third run reprints and submits nothing; --retry-failed; inputs mapped by content
# (reordered file, identical lines); a corrupt journal; a journal cut mid-record.
source "$(dirname "$0")/lib.sh"
require_test_hooks

make_emails 9 >"$T/in9.txt"
mapfile -t nine <"$T/in9.txt"

# Runs the 9 inputs with --state at --parallel 3 (callbacks after 1.5 s), kill -9s the run once
# results are printed and tasks are in flight (a crash point), reruns the same command (with or without
# --listen), then once more; checks the resume.
kill_and_resume() { # name relisten(yes|no)
  local name=$1 relisten=$2
  setup_emulator_named "$name.emu" --delay-ms 1500
  local S=$T/$name.state
  local args=(--api-url "$EMU_URL" --endpoint demo --emails "$T/in9.txt" --state "$S"
    --parallel 3 --timeout 30)
  # The run dies (SIGKILL, src/core/crash_point.h) right after journaling its 6th submit: the
  # first 3 tasks have ended, tasks 4-6 are in flight (their callbacks 1.5 s away, the next
  # submit waits for one of them). Checked below only by what a user sees (stdout, exit codes,
  # the emulator's log), never by the journal's records, whose kinds may grow.
  OPTEXITY_CRASH_AT=after_submit:6 start_bg "$name.1" "$BIN" run --listen "$LISTEN" "${args[@]}"
  local pid=$BG_PID
  wait_exit "$pid" 30 "the run killed at its crash point"
  assert_exit 137 "$RC" "exit code of the killed run"
  assert_file_contains "$T/$name.1.err" "crash point after_submit (hit 6)" "the run died at its crash point"
  cp "$S" "$S.at-kill"
  # Every request the killed run sent has been handled, so the log holds all it will.
  wait_emulator_idle
  local accepted_at_kill in_flight printed_at_kill
  accepted_at_kill=$(accepted_count)
  assert_eq 6 "$accepted_at_kill" "submits accepted at the kill (none after the 6th)"
  printed_at_kill=$(complete_lines "$T/$name.1.out" | wc -l)
  ((printed_at_kill <= 3)) || _fail_ctx "$printed_at_kill lines printed before the kill, expected at most 3"
  # In flight at the kill: the tasks the emulator accepted that have no line yet (tasks 4-6,
  # and those of the first 3 whose line the kill beat).
  mapfile -t in_flight < <(comm -23 <(accepted_task_ids | sort) \
    <(complete_lines "$T/$name.1.out" | jq -r '.task_id' | sort))
  log "killed with $printed_at_kill line(s) printed, ${#in_flight[@]} task(s) without a line, $accepted_at_kill submit(s)"
  ((${#in_flight[@]} >= 3)) || _fail_ctx "expected at least 3 tasks in flight at the kill, got ${#in_flight[@]}"

  if [[ $relisten == yes ]]; then
    chain "$name.2" run --listen "$LISTEN" "${args[@]}"
  else
    # No --listen: the journaled address is reused, so the tasks' callbacks reach the rerun.
    chain "$name.2" run "${args[@]}"
    assert_file_contains "$T/$name.2.err" "listening on $LISTEN" "the rerun listens on the journaled address"
  fi
  assert_exit 0 "$RC" "the rerun"
  assert_line_count "$T/$name.2.out" 9 "one line per input on the rerun"
  assert_json_lines "$T/$name.2.out" "rerun stdout"
  assert_all_status "$T/$name.2.out" success "rerun statuses"
  assert_emails_in_order "$T/$name.2.out" "rerun stdout order" "${nine[@]}"
  assert_callback_lines "$T/$name.2.out" demo "rerun callback payloads"
  assert_file_not_contains "$T/$name.2.err" "internal error" "rerun stderr"

  local line email
  while IFS= read -r line; do
    email=$(jq -r '.input.email[0]' <<<"$line")
    assert_eq "$line" "$(line_for_email "$T/$name.2.out" "$email")" \
      "the line of $email, printed before the kill, again on the rerun"
  done < <(complete_lines "$T/$name.1.out")

  assert_eq 9 "$(accepted_count)" "submits accepted over both runs (each input once)"
  for email in "${nine[@]}"; do
    assert_eq 1 "$(submits_of_email "$email")" "submits of $email over both runs"
  done
  assert_eq "$(accepted_task_ids | sort)" "$(jq -r '.task_id' "$T/$name.2.out" | sort)" \
    "the tasks the emulator accepted are the rerun lines' tasks"
  local id
  for id in "${in_flight[@]}"; do
    assert_eq "$id" "$(jq -r --arg id "$id" 'select(.task_id == $id) | .task_id' "$T/$name.2.out")" \
      "the task in flight at the kill is recovered with its task_id"
  done

  chain "$name.3" run "${args[@]}"
  assert_exit 0 "$RC" "a third run"
  if ! cmp -s "$T/$name.2.out" "$T/$name.3.out"; then
    _fail_ctx "the third run's stdout differs from the second's: $(diff "$T/$name.2.out" "$T/$name.3.out" | head -c 2000)"
  fi
  assert_eq 9 "$(accepted_count)" "submits after the third run (none)"
  stop_emulator # no redelivery to a listener gone goes on during the next steps
}

step "kill -9 mid-run, rerun without --listen (the journaled address), then a third run"
kill_and_resume kill_a no
S=$T/kill_a.state

step "the journal: mode 0600, one run record per run, submit and result records"
assert_eq 600 "$(stat -c %a "$S")" "journal mode"
assert_json_lines "$S" "journal"
assert_eq 3 "$(journal_count "$S" run)" "run records (one per run)"
assert_jq "$S" 'select(.type == "run") | (.token | type) + " " + .listen' \
  "$(printf 'string %s\n' "$LISTEN" "$LISTEN" "$LISTEN")" "run records: token and listen address"
assert_eq 9 "$(journal_count "$S" submit)" "submit records (one per input)"
assert_eq "" "$(journal_records "$S" | jq -c 'select(.type == "submit" and
    ((.key | type) != "string" or (.key | length) == 0 or (.task_id | type) != "string"))')" \
  "submit records without a key or task_id"
assert_eq "" "$(journal_records "$S" | jq -c 'select(.type == "result" and
    ((.key | type) != "string" or (.status | type) != "string" or (.line | type) != "string"))')" \
  "result records without a key, status or line"
assert_eq "$(jq -r '.task_id' "$T/kill_a.2.out" | sort)" \
  "$(journal_records "$S" | jq -r 'select(.type == "submit") | .task_id' | sort)" \
  "the journaled submits are the printed tasks"
assert_eq "$(sort "$T/kill_a.2.out")" \
  "$(journal_records "$S" | jq -r 'select(.type == "result") | .line' | sort)" \
  "the journaled result lines are the lines printed, byte for byte"

step "kill -9 mid-run, rerun with --listen"
kill_and_resume kill_b yes

step "--retry-failed: failed results are reprinted, or resubmitted with the flag"
make_emails 3 retry >"$T/in3.txt"
mapfile -t three <"$T/in3.txt"
setup_emulator_named emu_rf --fail-rate 1 --delay-ms 20
chain_run rf.1 --endpoint demo --emails "$T/in3.txt" --state "$T/rf.state" --parallel 3
assert_exit 1 "$RC" "run where every task fails"
assert_line_count "$T/rf.1.out" 3 "one line per input"
assert_all_status "$T/rf.1.out" failed "statuses"
# A healthy service now, calling back the same listener.
start_emulator emulator_ok "$LPORT" --delay-ms 20
chain rf.2 run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in3.txt" \
  --state "$T/rf.state" --parallel 3
assert_exit 1 "$RC" "rerun without --retry-failed"
assert_eq "$(cat "$T/rf.1.out")" "$(cat "$T/rf.2.out")" "failed lines reprinted byte for byte"
assert_eq 0 "$(accepted_count)" "submits without --retry-failed"
chain rf.3 run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in3.txt" \
  --state "$T/rf.state" --parallel 3 --retry-failed
assert_exit 0 "$RC" "rerun with --retry-failed"
assert_line_count "$T/rf.3.out" 3 "one line per input"
assert_all_status "$T/rf.3.out" success "statuses after --retry-failed"
assert_emails_in_order "$T/rf.3.out" "stdout order" "${three[@]}"
assert_callback_lines "$T/rf.3.out" demo "callback payloads"
assert_eq 3 "$(accepted_count)" "submits with --retry-failed (each failed input once)"
chain rf.4 run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in3.txt" \
  --state "$T/rf.state" --parallel 3 --retry-failed
assert_exit 0 "$RC" "a further rerun with --retry-failed"
assert_eq "$(cat "$T/rf.3.out")" "$(cat "$T/rf.4.out")" "success lines reprinted byte for byte"
assert_eq 3 "$(accepted_count)" "submits once everything succeeded"

step "a reordered input file with a new input: the others reprinted by content, only the new one submitted"
{
  tac "$T/in3.txt"
  echo new@example.com
} >"$T/reordered.txt"
mapfile -t reordered <"$T/reordered.txt"
chain ro run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/reordered.txt" \
  --state "$T/rf.state" --parallel 3
assert_exit 0 "$RC" "rerun of the reordered file"
assert_line_count "$T/ro.out" 4 "one line per input"
assert_emails_in_order "$T/ro.out" "stdout order" "${reordered[@]}"
assert_all_status "$T/ro.out" success "statuses"
for email in "${three[@]}"; do
  assert_eq "$(line_for_email "$T/rf.3.out" "$email")" "$(line_for_email "$T/ro.out" "$email")" \
    "the line of $email after reordering"
done
assert_eq 4 "$(accepted_count)" "submits (only the new input)"

step "two identical lines are two inputs: two lines, each submitted once, then both reprinted"
setup_emulator_named emu_dup --delay-ms 20
emails_file dup.txt twin@example.com other@example.com twin@example.com
chain_run dup.1 --endpoint demo --emails "$T/dup.txt" --state "$T/dup.state" --parallel 3
assert_exit 0 "$RC" "run with identical lines"
assert_line_count "$T/dup.1.out" 3 "one line per input line"
assert_emails_in_order "$T/dup.1.out" "stdout order" twin@example.com other@example.com twin@example.com
assert_callback_lines "$T/dup.1.out" demo "callback payloads (distinct task ids)"
assert_eq 3 "$(accepted_count)" "submits (each line once)"
assert_eq 3 "$(journal_records "$T/dup.state" | jq -r 'select(.type == "submit") | .key' | sort -u | wc -l)" \
  "distinct input keys in the journal"
chain_run dup.2 --endpoint demo --emails "$T/dup.txt" --state "$T/dup.state" --parallel 3
assert_exit 0 "$RC" "rerun with identical lines"
assert_eq "$(cat "$T/dup.1.out")" "$(cat "$T/dup.2.out")" "rerun stdout byte for byte"
assert_eq 3 "$(accepted_count)" "submits after the rerun"

step "a corrupt journal (a garbage line in the middle): exit 2 naming FILE:LINE, nothing submitted"
cp "$T/rf.state" "$T/bad.state"
sed -i '3i this line is not a journal record' "$T/bad.state"
cp "$T/bad.state" "$T/bad.state.orig"
before=$(accepted_count)
chain bad run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in3.txt" \
  --state "$T/bad.state"
assert_exit 2 "$RC" "run with a corrupt journal"
assert_empty_file "$T/bad.out" "stdout"
assert_file_contains "$T/bad.err" "$T/bad.state:3" "stderr names the file and line"
assert_eq "$before" "$(accepted_count)" "submits with a corrupt journal"
cmp -s "$T/bad.state" "$T/bad.state.orig" || _fail_ctx "the corrupt journal was modified"

step "a journal cut mid-record: read up to the last whole record with a warning; the run goes on"
make_emails 3 cut >"$T/cut3.txt"
mapfile -t cut3 <"$T/cut3.txt"
chain_run cut.1 --endpoint demo --emails "$T/cut3.txt" --state "$T/cut.state" --parallel 3
assert_exit 0 "$RC" "first run"
assert_eq result "$(tail -n 1 "$T/cut.state" | jq -r '.type')" "the journal's last record"
cut_id=$(tail -n 1 "$T/cut.state" | jq -r '.task_id')
cut_email=$(jq -r --arg id "$cut_id" 'select(.task_id == $id) | .input.email[0]' "$T/cut.1.out")
size=$(stat -c %s "$T/cut.state")
last=$(tail -n 1 "$T/cut.state" | wc -c)
head -c "$((size - last / 2))" "$T/cut.state" >"$T/cut.state.tmp"
mv "$T/cut.state.tmp" "$T/cut.state"
chmod 600 "$T/cut.state"
before=$(accepted_count)
chain_run cut.2 --endpoint demo --emails "$T/cut3.txt" --state "$T/cut.state" --parallel 3
assert_exit 0 "$RC" "run with a journal cut mid-record"
assert_file_contains "$T/cut.2.err" "warning" "a warning on stderr"
assert_file_contains "$T/cut.2.err" "$T/cut.state" "the warning names the journal"
assert_line_count "$T/cut.2.out" 3 "one line per input"
assert_all_status "$T/cut.2.out" success "statuses"
assert_emails_in_order "$T/cut.2.out" "stdout order" "${cut3[@]}"
for email in "${cut3[@]}"; do
  if [[ $email != "$cut_email" ]]; then
    assert_eq "$(line_for_email "$T/cut.1.out" "$email")" "$(line_for_email "$T/cut.2.out" "$email")" \
      "the journaled line of $email"
  fi
done
assert_eq "$cut_id" "$(line_for_email "$T/cut.2.out" "$cut_email" | jq -r '.task_id')" \
  "the input whose result was cut: its task recovered, not resubmitted"
assert_eq "$before" "$(accepted_count)" "submits (none)"

step "after a cut journal was resumed, a further rerun still reads it"
chain_run cut.3 --endpoint demo --emails "$T/cut3.txt" --state "$T/cut.state" --parallel 3
assert_exit 0 "$RC" "a further rerun after resuming a cut journal"
assert_eq "$(cat "$T/cut.2.out")" "$(cat "$T/cut.3.out")" "stdout byte for byte"
assert_eq "$before" "$(accepted_count)" "submits (none)"
assert_json_lines "$T/cut.state" "the journal after the resume"
