#!/usr/bin/env bash
# --public-url: each request names its own secret callback URL (task_callback_url); callbacks to
# any other path or token are refused; two runs on one machine keep to their own results.
source "$(dirname "$0")/lib.sh"

# The emulator's default callback URL points at a port nobody listens on: only the per-run
# URLs the requests carry can deliver.
DEAD_PORT=$(free_port)

# 32 random hex digits.
rand_hex() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

make_emails 4 pub >"$T/in.txt"
mapfile -t emails <"$T/in.txt"

step "--listen 127.0.0.1:P --public-url http://127.0.0.1:P/some/prefix: every task succeeds"
start_emulator emu1 "$DEAD_PORT" --delay-ms 50
P=$(free_port)
chain pub run --api-url "$EMU_URL" --listen "127.0.0.1:$P" --public-url "http://127.0.0.1:$P/some/prefix" \
  --endpoint demo --emails "$T/in.txt" --parallel 2 --timeout 20
assert_exit 0 "$RC" "run with a per-run callback URL"
assert_line_count "$T/pub.out" 4 "one line per email"
assert_json_lines "$T/pub.out" "stdout"
assert_all_status "$T/pub.out" success "statuses"
assert_emails_in_order "$T/pub.out" "stdout order" "${emails[@]}"
assert_callback_lines "$T/pub.out" demo "callback payloads"
assert_file_contains "$T/pub.err" "optexity-chain: warning: " "a warning on stderr"
assert_contains "$(grep -F "warning: " "$T/pub.err")" "loopback or private" \
  "the warning says the public URL is loopback/private"
assert_contains "$(grep -F "warning: " "$T/pub.err")" "127.0.0.1:$P" "the warning names the public URL"
# Sent to the emulator's default URL (a dead port), a callback's first attempt would fail to connect.
callbacks_logged() { (($(callback_order "$EMU_LOG" | wc -l) >= $1)); }
wait_until 10 "the emulator's log of 4 callbacks" callbacks_logged 4
assert_eq 0 "$(count_matches "$EMU_LOG" '-> Connection error (attempt 1 ')" \
  "callbacks whose first attempt found nobody listening (sent to the default URL)"

step "--dry-run --public-url https://hooks.example.com: the body's task_callback_url"
printf '%s\n' same@example.com other@example.com same@example.com >"$T/dups.txt"
chain dry run --api-url "$EMU_URL" --public-url https://hooks.example.com --endpoint demo \
  --emails "$T/dups.txt" --dry-run
assert_exit 0 "$RC" "dry run with --public-url"
assert_line_count "$T/dry.out" 3 "one request per email"
assert_json_lines "$T/dry.out" "stdout"
re='^https://hooks\.example\.com/receive_callback/<token>/[0-9a-f]{32}-[0-9]+$'
bad=$(jq -r --arg re "$re" 'select((.body.task_callback_url | type) != "string"
        or (.body.task_callback_url | test($re) | not)) | .body.task_callback_url' "$T/dry.out")
[[ -z $bad ]] || _fail_ctx "task_callback_url not of the form https://hooks.example.com/receive_callback/<token>/<32 hex>-<n>: [$bad]"
mapfile -t urls < <(jq -r '.body.task_callback_url' "$T/dry.out")
assert_eq 3 "$(printf '%s\n' "${urls[@]}" | sort -u | wc -l)" "every input has its own callback URL"
# <32 hex>-<n>: the hex names the input's parameters, n counts its repeats.
same1=${urls[0]##*/}
other=${urls[1]##*/}
same2=${urls[2]##*/}
assert_eq "${same1%-*}" "${same2%-*}" "the same email twice: the same 32 hex"
assert_ne "${same1%-*}" "${other%-*}" "another email: other 32 hex"
assert_eq "1 1 2" "${same1##*-} ${other##*-} ${same2##*-}" "the id's counts: the same email twice ends -1, then -2"
assert_ne "$same1" "$same2" "the same email twice gets different ids"

step "without --public-url the body names no task_callback_url"
chain dry_plain run --api-url "$EMU_URL" --endpoint demo --emails "$T/dups.txt" --dry-run
assert_exit 0 "$RC" "dry run"
assert_jq "$T/dry_plain.out" '.body | has("task_callback_url")' $'false\nfalse\nfalse' "no task_callback_url"

step "forged callbacks while the run waits: 404, never printed"
# The real callbacks go through a relay that holds them until the forged ones were answered: the
# run is surely still waiting (and listening) when they come, however slow the machine.
start_emulator emu2 "$DEAD_PORT" --delay-ms 100
P=$(free_port)
start_callback_relay relay2 "$P" "$T/relay2.log" "$T/relay2.open"
printf '%s\n' real1@example.com real2@example.com >"$T/real.txt"
start_bg forged timeout -k 5 60 "$BIN" run --api-url "$EMU_URL" --listen "127.0.0.1:$P" \
  --public-url "http://127.0.0.1:$RELAY_PORT" --endpoint demo --emails "$T/real.txt" --parallel 2 --timeout 30
run_pid=$BG_PID
wait_until 20 "both tasks accepted" accepted_at_least 2
mapfile -t real_ids < <(accepted_task_ids)
marker=FORGED-MARKER-$RANDOM$RANDOM
forged_id=forged-task-$RANDOM$RANDOM
for id in "$forged_id" "${real_ids[0]}"; do
  body=$(jq -cn --arg id "$id" --arg m "$marker" '{task_id: $id, recording_id: "r", endpoint_name: "demo",
    status: "success", output_data: [{unique_identifier: $m, json_data: {marker: $m}}], error: null,
    downloads: [], input_parameters: {email: ["real1@example.com"]}, unique_parameter_names: ["email"],
    marker: $m}')
  code=$(post_json_code "http://127.0.0.1:$P/receive_callback" "$body")
  assert_eq 404 "$code" "a callback to the plain /receive_callback (task $id)"
  code=$(post_json_code "http://127.0.0.1:$P/receive_callback/0123456789abcdef0123456789abcdef/0123456789abcdef0123456789abcdef-1" "$body")
  assert_eq 404 "$code" "a callback with a wrong token (task $id)"
  code=$(post_json_code "http://127.0.0.1:$P/receive_callback/$(rand_hex)/$(rand_hex)-2" "$body")
  assert_eq 404 "$code" "a callback with another wrong token (task $id)"
done
is_alive "$run_pid" || _fail_ctx "the run ended before its real callbacks (after the forged ones)"
: >"$T/relay2.open" # the real callbacks may pass now
wait_exit "$run_pid" 40 "the run with forged callbacks"
assert_exit 0 "$RC" "the run with forged callbacks"
assert_line_count "$T/forged.out" 2 "only the real results"
assert_json_lines "$T/forged.out" "stdout"
assert_all_status "$T/forged.out" success "statuses"
assert_emails_in_order "$T/forged.out" "stdout order" real1@example.com real2@example.com
assert_callback_lines "$T/forged.out" demo "callback payloads"
assert_file_not_contains "$T/forged.out" "$marker" "the forged marker on stdout"
assert_file_not_contains "$T/forged.out" "$forged_id" "the forged task id on stdout"
assert_eq "$(printf '%s\n' "${real_ids[@]}" | sort)" "$(jq -r .task_id "$T/forged.out" | sort)" \
  "the task ids on stdout are the emulator's"

step "two runs at once, each with its own port, public URL and emulator (A's ends with a slash)"
start_emulator emuA "$DEAD_PORT" --delay-ms 200 --jitter-ms 100
url_a=$EMU_URL
log_a=$EMU_LOG
start_emulator emuB "$DEAD_PORT" --delay-ms 200 --jitter-ms 100
url_b=$EMU_URL
log_b=$EMU_LOG
make_emails 6 runa >"$T/a.txt"
make_emails 6 runb >"$T/b.txt"
mapfile -t a_emails <"$T/a.txt"
mapfile -t b_emails <"$T/b.txt"
PA=$(free_port)
PB=$(free_port)
while [[ $PB == "$PA" ]]; do PB=$(free_port); done
start_bg runa timeout -k 5 60 "$BIN" run --api-url "$url_a" --listen "127.0.0.1:$PA" \
  --public-url "http://127.0.0.1:$PA/a/" --endpoint demo --emails "$T/a.txt" --parallel 3 --timeout 30
pid_a=$BG_PID
start_bg runb timeout -k 5 60 "$BIN" run --api-url "$url_b" --listen "127.0.0.1:$PB" \
  --public-url "http://127.0.0.1:$PB/b" --endpoint demo --emails "$T/b.txt" --parallel 3 --timeout 30
pid_b=$BG_PID
wait_exit "$pid_a" 50 "run A"
assert_exit 0 "$RC" "run A"
wait_exit "$pid_b" 50 "run B"
assert_exit 0 "$RC" "run B"
assert_line_count "$T/runa.out" 6 "run A: one line per email"
assert_line_count "$T/runb.out" 6 "run B: one line per email"
assert_all_status "$T/runa.out" success "run A statuses"
assert_all_status "$T/runb.out" success "run B statuses"
assert_emails_in_order "$T/runa.out" "run A stdout" "${a_emails[@]}"
assert_emails_in_order "$T/runb.out" "run B stdout" "${b_emails[@]}"
EMU_LOG=$log_a
assert_eq "$(accepted_task_ids | sort)" "$(jq -r .task_id "$T/runa.out" | sort)" "run A's task ids are emulator A's"
EMU_LOG=$log_b
assert_eq "$(accepted_task_ids | sort)" "$(jq -r .task_id "$T/runb.out" | sort)" "run B's task ids are emulator B's"

step "a forged callback from a client that pauses 0.2 s after connecting still gets its 404"
# As a callback from a loaded machine, or a proxy's pooled connection, would arrive.
# The real callbacks are held by a relay until the forged ones were answered (as above).
start_emulator emu3 "$DEAD_PORT" --delay-ms 100
P=$(free_port)
start_callback_relay relay3 "$P" "$T/relay3.log" "$T/relay3.open"
start_bg paused timeout -k 5 60 "$BIN" run --api-url "$EMU_URL" --listen "127.0.0.1:$P" \
  --public-url "http://127.0.0.1:$RELAY_PORT" --endpoint demo --emails "$T/real.txt" --parallel 2 --timeout 30
run_pid=$BG_PID
wait_until 20 "both tasks accepted" accepted_at_least 2
body=$(jq -cn --arg m "$marker" '{task_id: "paused-forgery", status: "success", marker: $m}')
assert_eq 404 "$(post_json_code_after_pause 127.0.0.1 "$P" /receive_callback "$body" 0)" \
  "a forged callback sent at once"
assert_eq 404 "$(post_json_code_after_pause 127.0.0.1 "$P" /receive_callback "$body" 0.2)" \
  "a forged callback sent 0.2 s after connecting"
is_alive "$run_pid" || _fail_ctx "the run ended before its real callbacks (after the forged ones)"
: >"$T/relay3.open"
wait_exit "$run_pid" 40 "the run"
assert_exit 0 "$RC" "the run"
assert_all_status "$T/paused.out" success "statuses"
assert_file_not_contains "$T/paused.out" "$marker" "the forged marker on stdout"

step "--dry-run --public-url with a trailing slash: no double slash (as a real run sends)"
chain dry_slash run --api-url "$EMU_URL" --public-url https://hooks.example.com/base/ --endpoint demo \
  --emails "$T/dups.txt" --dry-run
assert_exit 0 "$RC" "dry run"
bad=$(jq -r 'select(.body.task_callback_url | test("^https://hooks\\.example\\.com/base/receive_callback/<token>/[0-9a-f]{32}-[0-9]+$") | not) | .body.task_callback_url' "$T/dry_slash.out")
[[ -z $bad ]] || _fail_ctx "task_callback_url with a base path: [$bad]"
