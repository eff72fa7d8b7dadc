#!/usr/bin/env bash
# Submit retries on 503, delays with jitter, and a seeded mix of outcomes.
source "$(dirname "$0")/lib.sh"

make_emails 3 >"$T/in.txt"
mapfile -t emails <"$T/in.txt"

step "--transient-503 2 with --retries 3: retried, then success"
setup_emulator --transient-503 2 --delay-ms 20
chain_run retried --endpoint demo --emails "$T/in.txt" --retries 3
assert_exit 0 "$RC" "run through transient 503s"
assert_line_count "$T/retried.out" 3 "one line per input"
assert_json_lines "$T/retried.out" "stdout"
assert_all_status "$T/retried.out" success "statuses"
assert_emails_in_order "$T/retried.out" "stdout order" "${emails[@]}"
assert_callback_lines "$T/retried.out" demo "callback payloads"
assert_eq 6 "$(answered_count 503)" "503s the emulator answered"
assert_eq 3 "$(accepted_count)" "tasks the emulator accepted (each input once)"

step "--transient-503 5 with --retries 1: submit_failed naming the 503, exit 1"
setup_emulator --transient-503 5 --delay-ms 20
make_emails 2 giveup >"$T/two.txt"
mapfile -t two <"$T/two.txt"
chain_run gaveup --endpoint demo --emails "$T/two.txt" --retries 1
assert_exit 1 "$RC" "run that runs out of retries"
assert_line_count "$T/gaveup.out" 2 "one line per input"
assert_json_lines "$T/gaveup.out" "stdout"
assert_all_status "$T/gaveup.out" submit_failed "statuses"
assert_emails_in_order "$T/gaveup.out" "stdout order" "${two[@]}"
assert_inputs_exact "$T/gaveup.out" "input is {email:[value]}"
assert_jq "$T/gaveup.out" '.error | contains("503")' $'true\ntrue' "the errors name the 503"
assert_eq 4 "$(answered_count 503)" "submits: 1 + 1 retry per input"
assert_eq 0 "$(accepted_count)" "tasks the emulator accepted"

step "--delay-ms/--jitter-ms with --parallel 4: order kept, all success"
setup_emulator --delay-ms 150 --jitter-ms 140
make_emails 10 jit >"$T/ten.txt"
mapfile -t ten <"$T/ten.txt"
chain_run jitter --endpoint demo --emails "$T/ten.txt" --parallel 4
assert_exit 0 "$RC" "run with jitter"
assert_line_count "$T/jitter.out" 10 "one line per input"
assert_json_lines "$T/jitter.out" "stdout"
assert_all_status "$T/jitter.out" success "statuses"
assert_emails_in_order "$T/jitter.out" "stdout order" "${ten[@]}"
assert_callback_lines "$T/jitter.out" demo "callback payloads"

step "--fail-rate 0.5 --seed 1: a mix, each input exactly once, exit 1"
setup_emulator --fail-rate 0.5 --seed 1 --delay-ms 20
make_emails 12 mix >"$T/twelve.txt"
mapfile -t twelve <"$T/twelve.txt"
chain_run mixed --endpoint demo --emails "$T/twelve.txt" --parallel 3
assert_exit 1 "$RC" "run with some failures"
assert_line_count "$T/mixed.out" 12 "one line per input"
assert_json_lines "$T/mixed.out" "stdout"
assert_emails_in_order "$T/mixed.out" "stdout order (each input exactly once)" "${twelve[@]}"
assert_callback_lines "$T/mixed.out" demo "callback payloads"
assert_eq "failed success" "$(jq -r .status "$T/mixed.out" | sort -u | tr '\n' ' ' | sed 's/ $//')" \
  "statuses seen (a mix)"
assert_eq 12 "$(accepted_count)" "tasks the emulator accepted"
