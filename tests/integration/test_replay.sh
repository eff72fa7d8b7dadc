#!/usr/bin/env bash
# run --record DIR stores every exchange; replay DIR prints what the run printed, offline.
source "$(dirname "$0")/lib.sh"

step "record a run against the emulator (faults included), replay it to the same stdout"
setup_emulator --delay-ms 50 --fail-rate 0.3 --duplicate-callbacks 1 --seed 5
make_emails 6 rec >"$T/in.txt"
chain_run live --endpoint demo --emails "$T/in.txt" --parallel 3 --record "$T/rec"
live_rc=$RC
assert_line_count "$T/live.out" 6 "live run lines"
assert_eq 700 "$(stat -c %a "$T/rec")" "the recording is private (it holds the run's token)"
assert_ne 0 "$(find "$T/rec" -name '*-callback.json' | wc -l)" "callbacks recorded"
assert_ne 0 "$(find "$T/rec" -name '*-submit.json' | wc -l)" "submits recorded"
# The emulator is gone: the replay must not need the network.
kill "$EMU_PID" 2>/dev/null || true
chain replayed replay "$T/rec"
assert_exit "$live_rc" "$RC" "replay exit code equals the run's"
if ! cmp -s "$T/live.out" "$T/replayed.out"; then
  fail "replay printed something else than the run" "$T/live.out" "$T/replayed.out"
fi

step "no key or credential reaches the recording"
setup_emulator --api-key s3cr3t-key --delay-ms 20
make_emails 2 key >"$T/in2.txt"
chain_run keyed --endpoint demo --emails "$T/in2.txt" --api-key s3cr3t-key --callback-key cb-s3cr3t \
  --record "$T/rec2"
assert_exit 0 "$RC" "keyed run"
if grep -rq "s3cr3t" "$T/rec2"; then
  fail "a secret was recorded: $(grep -rl s3cr3t "$T/rec2" | head -3)"
fi

step "a directory that is not a recording is an error"
mkdir -p "$T/empty"
chain bad replay "$T/empty"
assert_exit 2 "$RC" "replay of an empty directory"
assert_file_contains "$T/bad.err" "holds no recorded run" "stderr"

step "--record never changes the mode of an existing directory; a non-empty one is refused"
setup_emulator --delay-ms 20
make_emails 1 dir >"$T/in3.txt"
mkdir -p "$T/foreign" "$T/shared"
echo keep >"$T/foreign/notes.txt"
chmod 1777 "$T/foreign" "$T/shared"
chain_run foreign --endpoint demo --emails "$T/in3.txt" --record "$T/foreign"
assert_exit 2 "$RC" "a non-empty foreign directory"
assert_file_contains "$T/foreign.err" "--record $T/foreign: not empty and not a recording" "stderr"
assert_eq 1777 "$(stat -c %a "$T/foreign")" "its mode unchanged"
assert_eq 0 "$(accepted_count)" "nothing submitted"
chain_run shared --endpoint demo --emails "$T/in3.txt" --record "$T/shared"
assert_exit 0 "$RC" "an empty 1777 directory is used as it is"
assert_eq 1777 "$(stat -c %a "$T/shared")" "its mode unchanged"
chain_run again --endpoint demo --emails "$T/in3.txt" --record "$T/shared"
assert_exit 2 "$RC" "an existing recording is not written over"
assert_file_contains "$T/again.err" "already holds a recording" "stderr"
