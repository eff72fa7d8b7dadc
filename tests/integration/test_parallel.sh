#!/usr/bin/env bash
# --parallel N: never more than N tasks in flight, far faster than one at a time; --unordered
# prints lines as tasks end, the default keeps input order.
source "$(dirname "$0")/lib.sh"

step "--parallel 16, 64 inputs, 250 ms tasks: at most 16 in flight, well under sequential time"
make_emails 64 par >"$T/in64.txt"
mapfile -t in64 <"$T/in64.txt"
LPORT=$(free_port)
: >"$T/flight.log"
# emulator -> relay -> the run's listener: the relay logs each callback before the run sees it,
# into the log the emulator writes its submits to, so the in-flight count cannot be overstated.
start_callback_relay relay "$LPORT" "$T/flight.log"
start_emulator_appending emu "http://127.0.0.1:$RELAY_PORT/receive_callback" "$T/flight.log" --delay-ms 250
started=$(now)
chain par16 run --api-url "$EMU_URL" --listen "127.0.0.1:$LPORT" --endpoint demo --emails "$T/in64.txt" \
  --parallel 16 --timeout 30
took=$(elapsed_since "$started")
log "64 tasks of 250 ms with --parallel 16 took $took s"
assert_exit 0 "$RC" "parallel run"
assert_line_count "$T/par16.out" 64 "one line per email"
assert_json_lines "$T/par16.out" "stdout"
assert_all_status "$T/par16.out" success "statuses"
assert_emails_in_order "$T/par16.out" "stdout order (default: input order)" "${in64[@]}"
assert_callback_lines "$T/par16.out" demo "callback payloads"
assert_eq 64 "$(accepted_count)" "submits the emulator accepted"
assert_eq 64 "$(count_matches "$T/flight.log" 'relay: callback ')" "callbacks through the relay"
peak=$(max_in_flight "$T/flight.log")
grep -v '^relay: ' "$T/flight.log" >"$T/emu-only.log" || true
log "peak tasks in flight: $peak (from the emulator's own lines alone: $(max_in_flight "$T/emu-only.log"))"
assert_less "$peak" 17 "tasks in flight at once (submits minus callbacks)"
# At most 16 in flight yet no idling: the run did keep several tasks going at once.
assert_less 8 "$((peak + 1))" "peak tasks in flight (the run should fill its 16 slots)"
# Sequential would be 64 x 0.25 s = 16 s; parallel should be about 1 s.
assert_less "$took" 8 "seconds for 64 tasks of 0.25 s with --parallel 16 (sequential: 16 s)"

step "--unordered --parallel 8, 16 inputs with jittered delays: lines in completion order"
make_emails 16 un >"$T/in16.txt"
mapfile -t in16 <"$T/in16.txt"
setup_emulator --delay-ms 400 --jitter-ms 350
differs=0
for attempt in 1 2 3; do
  before=$(wc -l <"$EMU_LOG")
  chain "un$attempt" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in16.txt" \
    --parallel 8 --unordered --timeout 30
  out=$T/un$attempt.out
  assert_exit 0 "$RC" "unordered run $attempt"
  assert_line_count "$out" 16 "unordered run $attempt: one line per email"
  assert_json_lines "$out" "unordered run $attempt: stdout"
  assert_all_status "$out" success "unordered run $attempt: statuses"
  assert_callback_lines "$out" demo "unordered run $attempt: callback payloads"
  assert_eq "$(printf '%s\n' "${in16[@]}" | sort)" "$(jq -r '.input.email[0]' "$out" | sort)" \
    "unordered run $attempt: every input exactly once"
  if [[ $(jq -r '.input.email[0]' "$out") != "$(printf '%s\n' "${in16[@]}")" ]]; then
    differs=1
  fi
  # Completion order is the emulator's callback order, up to near-simultaneous callbacks (the
  # emulator delivers on several threads): no line may be more than 3 places from it.
  tail -n +"$((before + 1))" "$EMU_LOG" >"$T/un$attempt.emu.log"
  callback_order "$T/un$attempt.emu.log" >"$T/un$attempt.cb"
  jq -r .task_id "$out" >"$T/un$attempt.ids"
  far=$(awk 'NR == FNR { cb[$1] = FNR; next }
             { d = FNR - cb[$1]; if (d < 0) d = -d; if (!($1 in cb) || d > 3) print $1 " at " FNR " vs " cb[$1] }' \
    "$T/un$attempt.cb" "$T/un$attempt.ids")
  [[ -z $far ]] || _fail_ctx "unordered run $attempt: lines far from the emulator's callback order: [$far]"
  ((differs)) && break
done
assert_eq 1 "$differs" "an unordered run whose output order differs from input order (of up to 3 runs)"

step "the same jittered tasks without --unordered: input order"
chain ordered run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in16.txt" \
  --parallel 8 --timeout 30
assert_exit 0 "$RC" "ordered run"
assert_line_count "$T/ordered.out" 16 "one line per email"
assert_json_lines "$T/ordered.out" "stdout"
assert_all_status "$T/ordered.out" success "statuses"
assert_emails_in_order "$T/ordered.out" "stdout order" "${in16[@]}"
