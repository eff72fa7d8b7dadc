#!/usr/bin/env bash
# The emulator as messy as the real service, seen by a client over loopback HTTP: its queue
# (--capacity, one at a time per unique key) and the status lifecycle with timestamps, attempts
# retried, tasks left allocated, callbacks redelivered then lost, the screenshot as a download,
# and the answers of its request model (422 shaped like FastAPI's).
source "$(dirname "$0")/lib.sh"

# POSTs an inference request; prints the answer's body. Extra args go to curl.
submit() { # body [curl-args...]
  local body=$1
  shift
  curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' "$@" \
    --data-binary "$body" "$EMU_URL/api/v1/inference" 7>&- 8>&- 9>&-
}
submit_id() { submit "$@" | jq -r .task_id; } # body -> task id
status_of() { curl -sS --max-time 10 "$EMU_URL/api/v1/task_status?task_id=$1" | jq -c .task; }
field_of() { status_of "$1" | jq -r ".$2"; } # task field
has_status() { [[ $(field_of "$1" status) == "$2" ]]; } # for wait_until
request() { # email [unique-json]
  printf '{"endpoint_name":"demo","input_parameters":{"email":["%s"]},"unique_parameter_names":%s}' \
    "$1" "${2:-[]}"
}

step "--capacity 1: a second task waits queued, then runs once the first has ended"
setup_emulator --capacity 1 --delay-ms 1500
first=$(submit_id "$(request a@x.com)")
second=$(submit_id "$(request b@x.com)")
[[ $first =~ ^[0-9a-f-]{36}$ && $second =~ ^[0-9a-f-]{36}$ ]] ||
  fail "submits were not accepted: [$first] [$second]" "$EMU_LOG"
s1=$(status_of "$first")
s2=$(status_of "$second")
log "first: $s1"
log "second: $s2"
assert_eq running "$(jq -r .status <<<"$s1")" "the first task's status"
assert_eq queued "$(jq -r .status <<<"$s2")" "the second task's status"
assert_eq "null null null" "$(jq -r '[.allocated_at, .started_at, .completed_at] | map(tostring) | join(" ")' <<<"$s2")" \
  "a queued task's allocated_at, started_at, completed_at"
[[ $(jq -r .created_at <<<"$s2") == 20* ]] || fail "a queued task has no created_at: $s2"
[[ $(jq -r .started_at <<<"$s1") == 20* ]] || fail "a running task has no started_at: $s1"
assert_file_contains "$EMU_LOG" "task $second queued (1 running, 1 waiting)" "the emulator's log"
wait_until 20 "the second task to run" has_status "$second" running
s1=$(status_of "$first")
s2=$(status_of "$second")
assert_eq success "$(jq -r .status <<<"$s1")" "the first task's status once the second runs"
completed=$(jq -r .completed_at <<<"$s1")
allocated=$(jq -r .allocated_at <<<"$s2")
[[ ! $allocated < $completed ]] ||
  fail "the second task was allocated ($allocated) before the first completed ($completed)"
wait_until 20 "the second task to end" has_status "$second" success

step "equal unique parameters run one after another, whatever the capacity"
setup_emulator --delay-ms 1000
one=$(submit_id "$(request same@x.com '["email"]')")
two=$(submit_id "$(request same@x.com '["email"]')")
other=$(submit_id "$(request other@x.com '["email"]')")
assert_eq running "$(field_of "$one" status)" "the first task with the key"
assert_eq queued "$(field_of "$two" status)" "the second task with the same key"
assert_eq running "$(field_of "$other" status)" "a task with another key"
wait_until 20 "the second same-key task to run" has_status "$two" running

step "--max-retries 2 --attempt-fail-rate 1 --time-scale 0.001: one failed callback after 3 attempts"
setup_emulator --max-retries 2 --attempt-fail-rate 1 --time-scale 0.001 --delay-ms 20
make_emails 1 retry >"$T/one.txt"
chain_run retries --endpoint demo --emails "$T/one.txt" --timeout 30
assert_exit 1 "$RC" "a run whose task failed"
assert_jq "$T/retries.out" .status failed "the line's status"
assert_jq "$T/retries.out" '.output_data[0].json_data.partial' true "the failure's partial output"
assert_eq 1 "$(count_matches "$EMU_LOG" " ended failed after 3 attempts")" "the emulator's log of the attempts"
assert_eq 1 "$(grep -c '^emulator: callback .* failed -> 200' "$EMU_LOG" || true)" "callbacks sent"

step "--stuck-at 1: left allocated, never started, no callback"
setup_emulator --stuck-at 1 --delay-ms 20
stuck=$(submit_id "$(request stuck@x.com)")
fine=$(submit_id "$(request fine@x.com)")
wait_until 10 "the second task to end" has_status "$fine" success
s=$(status_of "$stuck")
assert_eq allocated "$(jq -r .status <<<"$s")" "the stuck task's status"
[[ $(jq -r .allocated_at <<<"$s") == 20* ]] || fail "the stuck task has no allocated_at: $s"
assert_eq null "$(jq -r .started_at <<<"$s")" "the stuck task's started_at"
assert_file_contains "$EMU_LOG" "task $stuck allocated and stuck there: no callback" "the emulator's log"
assert_eq 0 "$(count_matches "$EMU_LOG" "callback $stuck")" "callbacks of the stuck task"

step "a callback nobody answers is redelivered with backoff, then lost (--time-scale 0.01: 3 s)"
setup_emulator --time-scale 0.01 --delay-ms 20 # calls back $LPORT, where nothing listens
lost=$(submit_id "$(request lost@x.com)")
lost_logged() { grep -q "^emulator: callback $lost success -> .*, lost: gave up after" "$EMU_LOG"; }
wait_until 20 "the callback to be given up" lost_logged
(($(grep -c "^emulator: callback $lost success -> .* (attempt " "$EMU_LOG") >= 3)) ||
  fail "the callback was not retried several times" "$EMU_LOG"

step "--screenshot download: the screenshot is a download, served once the task ended"
setup_emulator --delay-ms 300 --screenshot-bytes 5000
shot=$(submit_id "$(request shot@x.com)")
code=$(curl -sS -o /dev/null -w '%{http_code}' "$EMU_URL/files/$shot/final_screenshot.png")
assert_eq 404 "$code" "the screenshot of a task still running"
wait_until 10 "the task to end" has_status "$shot" success
curl -sS -o "$T/shot.png" "$EMU_URL/files/$shot/final_screenshot.png"
assert_eq 5000 "$(stat -c %s "$T/shot.png")" "the screenshot's size"
assert_eq 89504e470d0a1a0a "$(od -An -tx1 -N8 "$T/shot.png" | tr -d ' \n')" "the PNG signature"
data=$(curl -sS -X POST -H 'Content-Type: application/json' \
  --data-binary "{\"task_id\":\"$shot\",\"endpoint_name\":\"demo\"}" "$EMU_URL/api/v1/get_callback_data")
assert_eq false "$(jq '.data | has("final_screenshot")' <<<"$data")" "an inline final_screenshot"
assert_eq final_screenshot.png "$(jq -r '.data.downloads[-1].filename' <<<"$data")" "the last download"

step "the request model's answers: 422 without x-api-key, 401 with a wrong one, 422 for secure parameters"
setup_emulator --api-key right-key --delay-ms 20
submit "$(request k@x.com)" -o "$T/nokey.json" -w '%{http_code}' >"$T/nokey.code"
assert_eq 422 "$(cat "$T/nokey.code")" "no x-api-key"
assert_eq '{"detail":[{"type":"missing","loc":["header","x-api-key"],"msg":"Field required","input":null}]}' \
  "$(cat "$T/nokey.json")" "the answer without x-api-key"
submit "$(request k@x.com)" -H 'x-api-key: wrong' -o /dev/null -w '%{http_code}' >"$T/wrong.code"
assert_eq 401 "$(cat "$T/wrong.code")" "a wrong x-api-key"
two_kinds='{"endpoint_name":"demo","input_parameters":{"email":["k@x.com"]},"secure_parameters":{"pw":[{"onepassword":{"vault_name":"v","item_name":"i","field_name":"f"},"totp":{"totp_secret":"S"}}]}}'
submit "$two_kinds" -H 'x-api-key: right-key' -o "$T/kinds.json" -w '%{http_code}' >"$T/kinds.code"
assert_eq 422 "$(cat "$T/kinds.code")" "a secure parameter with two kinds"
assert_eq '["body","secure_parameters","pw",0]' "$(jq -c '.detail[0].loc' "$T/kinds.json")" "its loc"
assert_eq 0 "$(accepted_count)" "tasks the emulator accepted"
