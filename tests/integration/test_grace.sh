#!/usr/bin/env bash
# --grace: after the first SIGINT no new submits, the tasks in flight finish (success lines) and
# the rest get `interrupted` lines; a second SIGINT exits at once; a grace that runs out prints
# `interrupted` lines with task ids; with --state those tasks resume without resubmission.
source "$(dirname "$0")/lib.sh"
require_test_hooks

step "SIGINT with --grace 10: the tasks in flight finish, the rest are interrupted, exit 130"
setup_emulator --delay-ms 1500
make_emails 6 >"$T/in6.txt"
mapfile -t six <"$T/in6.txt"
# The run sends itself SIGINT (src/core/crash_point.h) right after its 4th submit's 202: the first
# two results printed (--parallel 2), the next two tasks in flight, 1.5 s from their callbacks.
OPTEXITY_CRASH_AT=after_submit:4:INT start_bg_default_signals drain "$BIN" run \
  --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in6.txt" --parallel 2 --grace 10
pid=$BG_PID
# Timed from the run's warning that the signal came (logged as it takes the signal).
wait_until 30 "the run's warning that it drains after the SIGINT" grep -q "signal received" "$T/drain.err"
started=$(now)
accepted_at_signal=$(accepted_count)
wait_exit "$pid" 30 "the run after SIGINT"
took=$(elapsed_since "$started")
log "exit $RC ${took} s after SIGINT"
assert_exit 130 "$RC" "exit code after SIGINT"
assert_less "$took" 6 "seconds from SIGINT to exit (tasks end 1.5 s after their submit; grace 10 s)"
assert_eq 4 "$accepted_at_signal" "submits before the signal"
assert_eq "$accepted_at_signal" "$(accepted_count)" "submits: none after the signal"
assert_line_count "$T/drain.out" 6 "one line per input"
assert_json_lines "$T/drain.out" "stdout"
assert_emails_in_order "$T/drain.out" "stdout order" "${six[@]}"
assert_jq "$T/drain.out" '.status' $'success\nsuccess\nsuccess\nsuccess\ninterrupted\ninterrupted' \
  "the tasks in flight finished, the others were interrupted"
head -n 4 "$T/drain.out" >"$T/drain.success"
assert_callback_lines "$T/drain.success" demo "the success lines are callback payloads"
assert_eq "$(accepted_task_ids | sort)" "$(head -n 4 "$T/drain.out" | jq -r '.task_id' | sort)" \
  "the success lines are the submitted tasks"
assert_eq "" "$(tail -n 2 "$T/drain.out" | jq -r 'select(has("task_id")) | .task_id')" \
  "task ids on inputs never submitted"
assert_inputs_exact "$T/drain.out" "input is {email:[value]}"
assert_file_not_contains "$T/drain.err" "internal error" "stderr"

step "a second SIGINT during the grace exits at once with 130"
setup_emulator --delay-ms 20000
make_emails 4 >"$T/in4.txt"
mapfile -t four <"$T/in4.txt"
start_bg_default_signals twice "$BIN" run -v --api-url "$EMU_URL" --listen "$LISTEN" \
  --endpoint demo --emails "$T/in4.txt" --parallel 2 --grace 10
pid=$BG_PID
wait_until 30 "2 submits received by the run" submitted_at_least "$T/twice.err" 2
kill -INT "$pid"
wait_until 20 "the run's warning that it drains" grep -q "signal received" "$T/twice.err"
# The run takes a second SIGINT within 0.5 s of the first for the same one (timeout(1) signals a
# child, then its group): the rule is a time, so the test waits that time, past the warning.
sleep 0.6
is_alive "$pid" || { wait_exit "$pid" 5 "run"; _fail_ctx "the run left at the first SIGINT (exit $RC) although --grace 10 and tasks in flight"; }
started=$(now)
kill -INT "$pid"
wait_exit "$pid" 30 "the run after a second SIGINT"
took=$(elapsed_since "$started")
log "exit $RC ${took} s after the second SIGINT"
assert_exit 130 "$RC" "exit code after a second SIGINT"
assert_less "$took" 2 "seconds from the second SIGINT to exit"
assert_eq 2 "$(accepted_count)" "submits: none after the first signal"
if [[ -s $T/twice.out ]]; then
  assert_json_lines "$T/twice.out" "stdout (whole lines only)"
fi

step "--grace 1 with tasks that take 20 s: exit about 1 s after SIGINT, interrupted lines with task ids"
start_bg_default_signals short "$BIN" run -v --api-url "$EMU_URL" --listen "$LISTEN" \
  --endpoint demo --emails "$T/in4.txt" --parallel 2 --grace 1
pid=$BG_PID
before=$(accepted_count)
wait_until 30 "2 submits received by the run" submitted_at_least "$T/short.err" 2
is_alive "$pid" || _fail_ctx "the run ended before the signal"
started=$(now)
kill -INT "$pid"
wait_exit "$pid" 30 "the run after SIGINT"
took=$(elapsed_since "$started")
log "exit $RC ${took} s after SIGINT with --grace 1"
assert_exit 130 "$RC" "exit code after SIGINT"
assert_less 0.8 "$took" "seconds from SIGINT to exit (the grace is waited for)"
assert_less "$took" 4 "seconds from SIGINT to exit (the grace is 1 s)"
assert_line_count "$T/short.out" 4 "one line per input"
assert_json_lines "$T/short.out" "stdout"
assert_emails_in_order "$T/short.out" "stdout order" "${four[@]}"
assert_all_status "$T/short.out" interrupted "statuses"
assert_eq "$(accepted_task_ids | tail -n +"$((before + 1))" | sort)" \
  "$(head -n 2 "$T/short.out" | jq -r '.task_id // "none"' | sort)" "task ids of the tasks in flight"
assert_eq "" "$(tail -n 2 "$T/short.out" | jq -r 'select(has("task_id")) | .task_id')" \
  "task ids on inputs never submitted"
assert_eq "$((before + 2))" "$(accepted_count)" "submits: none after the signal"

step "--grace 1 with --state: the interrupted tasks resume on rerun without resubmission"
setup_emulator --delay-ms 4000
make_emails 3 st >"$T/in3.txt"
mapfile -t three <"$T/in3.txt"
args=(--api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in3.txt"
  --parallel 2 --grace 1 --state "$T/grace.state" --timeout 30)
start_bg_default_signals st.1 "$BIN" run -v "${args[@]}"
pid=$BG_PID
wait_until 30 "2 submits received by the run" submitted_at_least "$T/st.1.err" 2
kill -INT "$pid"
wait_exit "$pid" 30 "the run after SIGINT"
assert_exit 130 "$RC" "exit code after SIGINT"
assert_line_count "$T/st.1.out" 3 "one line per input"
assert_all_status "$T/st.1.out" interrupted "statuses"
assert_eq 2 "$(accepted_count)" "submits before the rerun"
mapfile -t interrupted_ids < <(head -n 2 "$T/st.1.out" | jq -r '.task_id // "none"')
chain st.2 run "${args[@]}"
assert_exit 0 "$RC" "the rerun"
assert_line_count "$T/st.2.out" 3 "one line per input"
assert_all_status "$T/st.2.out" success "statuses on the rerun"
assert_emails_in_order "$T/st.2.out" "stdout order" "${three[@]}"
assert_callback_lines "$T/st.2.out" demo "callback payloads"
assert_eq "$(printf '%s\n' "${interrupted_ids[@]}")" "$(head -n 2 "$T/st.2.out" | jq -r '.task_id')" \
  "the interrupted tasks' results, by their task ids"
assert_eq 3 "$(accepted_count)" "submits over both runs (each input once)"
