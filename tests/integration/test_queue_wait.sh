#!/usr/bin/env bash
# A wait that understands the real service: its queue (--capacity, one at a time per unique
# key), tasks it leaves stuck, callbacks it loses. --timeout counts from the task's start, a
# stuck task ends at --max-wait, a lost callback among finished peers is found by a straggler
# check in about the straggler threshold, --poll completes a run no callback reaches, and the
# watchdog says how many callbacks are missing.
source "$(dirname "$0")/lib.sh"

# "after X s (a straggler: the run's other tasks took P s at p90)" -> "X P"
straggler_numbers() { # err-file
  sed -nE 's/.*after ([0-9.]+) s \(a straggler: the run.s other tasks took ([0-9.]+) s at p90\).*/\1 \2/p' "$1"
}

step "--capacity 2, 20 tasks in flight, --timeout 1: tasks waiting in the queue are no timeout"
setup_emulator --capacity 2 --delay-ms 300
make_emails 20 q >"$T/in20.txt"
mapfile -t twenty <"$T/in20.txt"
chain_run queue -v --endpoint demo --emails "$T/in20.txt" --parallel 20 --timeout 1 \
  --straggler-after 600 --progress none
assert_exit 0 "$RC" "run against a queue 10 tasks deep"
assert_line_count "$T/queue.out" 20 "one line per input"
assert_all_status "$T/queue.out" success "statuses (no false timeout)"
assert_emails_in_order "$T/queue.out" "stdout order" "${twenty[@]}"
# The queue was real: deadlines passed while tasks waited, and the service said so.
(($(count_matches "$T/queue.err" " is queued after ") >= 1)) ||
  fail "no status check found a queued task: was the queue real?" "$T/queue.err" "$EMU_LOG"
assert_eq 20 "$(submit_count)" "submits (nothing resubmitted)"

step "a task the service leaves allocated for ever ends as timeout at --max-wait"
setup_emulator --stuck-at 2 --delay-ms 100
make_emails 3 s >"$T/in3.txt"
started=$(now)
chain_run stuck --endpoint demo --emails "$T/in3.txt" --parallel 3 --timeout 1 --max-wait 3 \
  --straggler-after 600 --progress none
took=$(elapsed_since "$started")
log "one stuck task, --max-wait 3: ${took} s"
assert_exit 1 "$RC" "a run with a timeout"
assert_line_count "$T/stuck.out" 3 "one line per input"
assert_eq 1 "$(jq -c 'select(.status == "timeout")' "$T/stuck.out" | grep -c .)" "timeout lines"
assert_eq 2 "$(jq -c 'select(.status == "success")' "$T/stuck.out" | grep -c .)" "success lines"
assert_eq "no result within --max-wait 3 s (the service says allocated)" \
  "$(jq -r 'select(.status == "timeout") | .error' "$T/stuck.out")" "the timeout's error"
assert_less 2.9 "$took" "seconds: not before --max-wait"
assert_less "$took" 15 "seconds: at --max-wait, not at a later check"
assert_eq 3 "$(submit_count)" "submits"

step "one lost callback among 20 costs at most twice the straggler threshold"
setup_emulator --drop-callback-at 7 --delay-ms 200 --jitter-ms 50
chain_run lost --endpoint demo --emails "$T/in20.txt" --parallel 20 --straggler-after 1 \
  --timeout 300 --watchdog 300 --progress none
assert_exit 0 "$RC" "run with a lost callback"
assert_line_count "$T/lost.out" 20 "one line per input"
assert_all_status "$T/lost.out" success "statuses"
assert_emails_in_order "$T/lost.out" "stdout order" "${twenty[@]}"
read -r after p90 <<<"$(straggler_numbers "$T/lost.err")"
[[ -n $after ]] || fail "no straggler warning on stderr" "$T/lost.err"
threshold=$(awk -v p="$p90" 'BEGIN { t = 3 * p; if (t < 1) t = 1; print t }')
log "lost callback recovered after ${after} s (peers' p90 ${p90} s, threshold ${threshold} s)"
assert_less "$after" "$(awk -v t="$threshold" 'BEGIN { print 2 * t }')" \
  "seconds from the submit to the recovery"
assert_eq 1 "$(count_matches "$T/lost.err" "a straggler")" "straggler warnings"
assert_eq 1 "$(grep -c '^emulator: get_callback_data .* -> success' "$EMU_LOG" || true)" \
  "results fetched by status checks"
assert_eq 20 "$(submit_count)" "submits"

step "--poll completes a run that no callback can reach"
setup_emulator --delay-ms 100 # calls back $LPORT, where nothing listens
chain poll run --api-url "$EMU_URL" --listen "127.0.0.1:$(free_port)" --endpoint demo \
  --emails "$T/in3.txt" --parallel 3 --poll 0.3 --straggler-after 600 --watchdog 600 \
  --timeout 600 --progress none
assert_exit 0 "$RC" "run with --poll and no callback"
assert_line_count "$T/poll.out" 3 "one line per input"
assert_all_status "$T/poll.out" success "statuses"
assert_callback_lines "$T/poll.out" demo "the polled lines are callback payloads"
assert_eq 3 "$(count_matches "$T/poll.err" "(a --poll check after ")" "results found by --poll"

step "the watchdog says how many callbacks are missing"
setup_emulator --drop-callback-at 3 --delay-ms 100
make_emails 5 w >"$T/in5.txt"
chain_run watchdog --endpoint demo --emails "$T/in5.txt" --parallel 5 --watchdog 1 \
  --straggler-after 600 --timeout 600 --progress none
assert_exit 0 "$RC" "run with one lost callback"
assert_all_status "$T/watchdog.out" success "statuses"
assert_file_contains "$T/watchdog.err" \
  "1 of the 1 task in flight ended at the service without its callback reaching the listener (4 callbacks arrived in this run)" \
  "the watchdog's warning"
assert_file_not_contains "$T/watchdog.err" "callbacks are not reaching the listener" \
  "the warning (callbacks do reach the listener)"


step "the README's fault example (40 emails) finishes in seconds"
# The two commands as the README gives them, with free ports and a file of 40 emails.
example=$(grep -A3 '^    optexity-chain emulator --port 8000' "$(dirname "$0")/../../README.md")
[[ $example == *"--straggler-after 5"* ]] || fail "the README's fault example was not found: [$example]"
emu_args=$(head -n 2 <<<"$example" | tr -d '\\\n' |
  sed 's/.*optexity-chain emulator//; s/--port 8000//; s/--callback-url [^ ]*//')
run_line=$(tail -n 2 <<<"$example" | tr -d '\\\n' | sed 's/.*optexity-chain run//')
LPORT=$(free_port)
LISTEN=127.0.0.1:$LPORT
# shellcheck disable=SC2086 # the README's words, split as the shell would
start_emulator readme "$LPORT" $emu_args
make_emails 40 readme >"$T/a.txt"
run_args=${run_line//http:\/\/127.0.0.1:8000/$EMU_URL}
run_args=${run_args//a.txt/$T/a.txt}
started=$(now)
# shellcheck disable=SC2086
chain readme run $run_args --listen "$LISTEN" --progress none
took=$(elapsed_since "$started")
log "the README's fault example: 40 emails in ${took} s ($(count_matches "$EMU_LOG" "callback dropped") callbacks dropped)"
assert_line_count "$T/readme.out" 40 "one line per email"
assert_eq 0 "$(jq -c 'select(.status != "success" and .status != "failed")' "$T/readme.out" | grep -c .)" \
  "lines neither success nor failed (no timeout)"
assert_less "$took" 45 "seconds for the README's fault example"
