#!/usr/bin/env bash
# Runs chained through a pipe: --input - --map NAME=POINTER --carry; failures pass through
# unchanged; a pointer that does not resolve; the second stage starts before the first ends;
# three stages.
source "$(dirname "$0")/lib.sh"

ACCOUNT=/output_data/0/json_data/account

make_emails 4 pipe >"$T/in.txt"
mapfile -t emails <"$T/in.txt"

step "login | orders --map account=$ACCOUNT --carry: one line per email, exit 0"
stage "$T/two.rc1" "$BIN" run --emulate --endpoint login --emails "$T/in.txt" -q 2>"$T/two.err1" |
  tee "$T/two.mid" |
  stage "$T/two.rc2" "$BIN" run --emulate --endpoint orders --input - --map "account=$ACCOUNT" --carry -q \
    >"$T/two.out" 2>"$T/two.err2"
LAST=two
assert_exit 0 "$(stage_rc "$T/two.rc1")" "stage one"
assert_exit 0 "$(stage_rc "$T/two.rc2")" "stage two"
assert_empty_file "$T/two.err1" "stage one's stderr with -q"
assert_empty_file "$T/two.err2" "stage two's stderr with -q"
assert_line_count "$T/two.out" 4 "one line per email"
assert_json_lines "$T/two.out" "stdout"
assert_all_status "$T/two.out" success "statuses"
assert_jq "$T/two.out" '.endpoint_name' $'orders\norders\norders\norders' "stage two's endpoint"
assert_jq "$T/two.out" '.input | keys | tojson' $'["account"]\n["account"]\n["account"]\n["account"]' \
  "stage two's input is the mapped parameter"
assert_jq "$T/two.out" '.input.account[0] | startswith("acct-")' $'true\ntrue\ntrue\ntrue' \
  ".input.account[0] starts with acct-"
assert_jq "$T/two.out" '.from.input.email[0]' "$(printf '%s\n' "${emails[@]}")" \
  ".from.input.email[0] is the original email, in order"
assert_jq "$T/two.out" '.from | has("final_screenshot")' $'false\nfalse\nfalse\nfalse' \
  ".from has no final_screenshot"
assert_jq "$T/two.out" '.from.endpoint_name' $'login\nlogin\nlogin\nlogin' ".from is stage one's line"
# Each account is the one stage one's service returned for that email.
assert_eq "$(jq -r ".output_data[0].json_data.account" "$T/two.mid")" "$(jq -r '.input.account[0]' "$T/two.out")" \
  "the mapped accounts are stage one's, in order"
assert_eq "$(jq -cS 'del(.final_screenshot)' "$T/two.mid")" "$(jq -cS '.from' "$T/two.out")" \
  ".from is stage one's line without its final_screenshot"

step "a failed line of stage one passes through stage two byte for byte, exit 1"
setup_emulator --fail-rate 1 --delay-ms 20
stage "$T/fail.rc1" "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint login --emails "$T/in.txt" \
  --parallel 2 -q 2>"$T/fail.err1" |
  tee "$T/fail.mid" |
  stage "$T/fail.rc2" "$BIN" run --emulate --endpoint orders --input - --map "account=$ACCOUNT" --carry -q \
    >"$T/fail.out" 2>"$T/fail.err2"
LAST=fail
assert_exit 1 "$(stage_rc "$T/fail.rc1")" "stage one (every task failed)"
assert_exit 1 "$(stage_rc "$T/fail.rc2")" "stage two (nothing succeeded)"
assert_line_count "$T/fail.mid" 4 "stage one's lines"
assert_all_status "$T/fail.mid" failed "stage one's statuses"
assert_line_count "$T/fail.out" 4 "stage two's lines"
cmp -s "$T/fail.mid" "$T/fail.out" ||
  _fail_ctx "stage two did not print stage one's failed lines byte for byte: $(cmp "$T/fail.mid" "$T/fail.out" 2>&1)"

step "a mix: successes go on, failures pass through unchanged, in input order"
make_emails 8 mix >"$T/mix.txt"
setup_emulator --fail-rate 0.5 --seed 11 --delay-ms 20
stage "$T/mix.rc1" "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint login --emails "$T/mix.txt" \
  -q 2>"$T/mix.err1" |
  tee "$T/mix.mid" |
  stage "$T/mix.rc2" "$BIN" run --emulate --endpoint orders --input - --map "account=$ACCOUNT" --carry -q \
    >"$T/mix.out" 2>"$T/mix.err2"
LAST=mix
assert_line_count "$T/mix.mid" 8 "stage one's lines"
assert_line_count "$T/mix.out" 8 "stage two's lines"
assert_json_lines "$T/mix.out" "stdout"
n_ok=$(jq -r 'select(.status == "success") | .status' "$T/mix.mid" | wc -l)
((n_ok > 0 && n_ok < 8)) || _fail_ctx "--fail-rate 0.5 --seed 11 gave $n_ok successes of 8: not a mix"
assert_exit 1 "$(stage_rc "$T/mix.rc1")" "stage one (some failed)"
assert_exit 1 "$(stage_rc "$T/mix.rc2")" "stage two (some lines are failures)"
for i in 1 2 3 4 5 6 7 8; do
  mid=$(sed -n "${i}p" "$T/mix.mid")
  out=$(sed -n "${i}p" "$T/mix.out")
  if [[ $(jq -r .status <<<"$mid") == success ]]; then
    assert_eq "success orders" "$(jq -r '.status + " " + .endpoint_name' <<<"$out")" "line $i: stage two ran it"
    assert_eq "$(jq -r '.input.email[0]' <<<"$mid")" "$(jq -r '.from.input.email[0]' <<<"$out")" "line $i: .from"
  else
    assert_eq "$mid" "$out" "line $i: the failed line passed through unchanged"
  fi
done

step "--map x=/nope: each line is invalid_input naming /nope, exit 1"
stage "$T/nope.rc1" "$BIN" run --emulate --endpoint login --emails "$T/in.txt" -q 2>"$T/nope.err1" |
  stage "$T/nope.rc2" "$BIN" run --emulate --endpoint orders --input - --map x=/nope --carry -q \
    >"$T/nope.out" 2>"$T/nope.err2"
LAST=nope
assert_exit 0 "$(stage_rc "$T/nope.rc1")" "stage one"
assert_exit 1 "$(stage_rc "$T/nope.rc2")" "stage two"
assert_line_count "$T/nope.out" 4 "one line per incoming record"
assert_json_lines "$T/nope.out" "stdout"
assert_all_status "$T/nope.out" invalid_input "statuses"
assert_jq "$T/nope.out" '.error | contains("/nope")' $'true\ntrue\ntrue\ntrue' "the error names /nope"
assert_jq "$T/nope.out" '.error | contains("x")' $'true\ntrue\ntrue\ntrue' "the error names the parameter"

step "stage two starts before stage one ends"
setup_emulator --delay-ms 1500
printf '%s\n' s1@example.com s2@example.com s3@example.com >"$T/slow.txt"
mkfifo "$T/stream.fifo"
start_bg_fifo_stdin stream2 "$T/stream.fifo" "$BIN" run --emulate --endpoint orders --input - \
  --map "account=$ACCOUNT" --carry -q
pid2=$BG_PID
timeout -k 5 60 "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint login --emails "$T/slow.txt" \
  --parallel 1 -q 7>&- 8>&- 9>&- >"$T/stream.fifo" 2>"$T/stream1.err" &
pid1=$!
BG_PIDS+=("$pid1")
wait_until 30 "stage two's first line" has_lines "$T/stream2.out" 1
is_alive "$pid1" || _fail_ctx "stage one had ended before stage two's first line (it should take ~4.5 s)"
callbacks_so_far=$(count_matches "$EMU_LOG" ' success -> ')
((callbacks_so_far < 3)) || _fail_ctx "stage one's tasks had all ended ($callbacks_so_far callbacks) before stage two's first line"
wait_exit "$pid1" 40 "stage one"
assert_exit 0 "$RC" "stage one"
wait_exit "$pid2" 40 "stage two"
assert_exit 0 "$RC" "stage two"
assert_line_count "$T/stream2.out" 3 "stage two's lines"
assert_all_status "$T/stream2.out" success "stage two's statuses"
assert_jq "$T/stream2.out" '.from.input.email[0]' $'s1@example.com\ns2@example.com\ns3@example.com' ".from in order"

step "three stages: login | orders | claims, each mapping the previous account"
stage "$T/three.rc1" "$BIN" run --emulate --endpoint login --emails "$T/in.txt" -q 2>"$T/three.err1" |
  stage "$T/three.rc2" "$BIN" run --emulate --endpoint orders --input - --map "account=$ACCOUNT" --carry -q \
    2>"$T/three.err2" |
  tee "$T/three.mid" |
  stage "$T/three.rc3" "$BIN" run --emulate --endpoint claims --input - --map "account=$ACCOUNT" --carry -q \
    >"$T/three.out" 2>"$T/three.err3"
LAST=three
assert_exit 0 "$(stage_rc "$T/three.rc1")" "stage one"
assert_exit 0 "$(stage_rc "$T/three.rc2")" "stage two"
assert_exit 0 "$(stage_rc "$T/three.rc3")" "stage three"
assert_line_count "$T/three.out" 4 "one line per email"
assert_json_lines "$T/three.out" "stdout"
assert_all_status "$T/three.out" success "statuses"
assert_jq "$T/three.out" '[.endpoint_name, .from.endpoint_name, .from.from.endpoint_name] | join(" ")' \
  "$(printf 'claims orders login\n%.0s' 1 2 3 4)" "nested .from.from"
assert_jq "$T/three.out" '.from.from.input.email[0]' "$(printf '%s\n' "${emails[@]}")" \
  ".from.from.input.email[0] is the original email, in order"
assert_jq "$T/three.out" '.input.account[0] == .from.output_data[0].json_data.account' $'true\ntrue\ntrue\ntrue' \
  "stage three's account is stage two's output"
assert_jq "$T/three.out" '.from.input.account[0] == .from.from.output_data[0].json_data.account' $'true\ntrue\ntrue\ntrue' \
  "stage two's account is stage one's output"
assert_jq "$T/three.out" '[.from, .from.from] | map(has("final_screenshot")) | any' $'false\nfalse\nfalse\nfalse' \
  "no final_screenshot in the carried records"
assert_jq "$T/three.out" '.input.account[0] | startswith("acct-")' $'true\ntrue\ntrue\ntrue' "accounts"
