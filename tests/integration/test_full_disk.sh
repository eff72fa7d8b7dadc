#!/usr/bin/env bash
# A full disk under the journal (--state) or under stdout: the run stops submitting, never
# aborts or hangs, leaves no half line, exits 74 with one error naming the file; what was
# printed is journaled, and a rerun with the same --state (space freed) prints every input's
# result with no task run twice (issue 13, items 5 and 6).
# Needs root to mount a small tmpfs (as CI and scripts/test run).
source "$(dirname "$0")/lib.sh"

DISK=$T/disk
mkdir -p "$DISK"
mount -t tmpfs -o size=64k tmpfs "$DISK" ||
  fail "cannot mount a tmpfs at $DISK (this test needs root: it fills a small disk)"
_unmount() { umount -l "$DISK" 2>/dev/null || true; }
trap 'rc=$?; _unmount; (exit "$rc"); _cleanup' EXIT

# Leaves `kib` KiB free on the small disk (tmpfs counts whole 4 KiB pages).
leave_free() { # kib
  rm -f "$DISK/filler"
  head -c $(((64 - $1) * 1024)) /dev/zero >"$DISK/filler"
}
free_space() { rm -f "$DISK/filler"; }

# Every line whole JSON (a file ending in a newline), and no more lines than inputs.
assert_whole_lines() { # file what
  if [[ -s $1 && $(tail -c 1 "$1" | od -An -c | tr -d ' ') != '\n' ]]; then
    _fail_ctx "$2: the last line is cut (no newline at the end)"
  fi
  assert_json_lines "$1" "$2"
}

# Each printed success must be a result the journal holds. (The journal's last record may be
# cut where the disk filled: a rerun drops it; here it is skipped.)
assert_printed_is_journaled() { # out journal
  jq -rR 'fromjson? | select(.type == "result") | .line' "$2" | jq -c . | sort >"$T/journaled"
  jq -c 'select(.status == "success")' "$1" | sort >"$T/printed"
  assert_eq "" "$(comm -23 "$T/printed" "$T/journaled")" "printed successes missing from the journal"
}

make_emails 20 >"$T/in.txt"

step "the journal's disk fills mid-run: exit 74, one error, every input still has its line"
setup_emulator --delay-ms 50
leave_free 8
chain_run jfull --endpoint demo --emails "$T/in.txt" --parallel 4 --state "$DISK/run.jnl" \
  --timeout 20
assert_exit 74 "$RC" "exit code of a run whose journal filled up"
assert_file_contains "$T/jfull.err" "$DISK/run.jnl: No space left on device" "the error"
assert_eq 1 "$(grep -c 'error: .*No space left' "$T/jfull.err")" "error lines about the disk"
assert_file_not_contains "$T/jfull.err" "terminate called" "stderr"
assert_line_count "$T/jfull.out" 20 "one line per input"
assert_whole_lines "$T/jfull.out" "stdout"
printed=$(jq -r 'select(.status == "success")' "$T/jfull.out" | jq -s length)
((printed < 20)) || _fail_ctx "the disk filled after every result: the test proves nothing"
assert_printed_is_journaled "$T/jfull.out" "$DISK/run.jnl"

step "space freed: the rerun prints all 20, no task submitted twice"
free_space
chain_run jrerun --endpoint demo --emails "$T/in.txt" --parallel 4 --state "$DISK/run.jnl" \
  --timeout 20
assert_exit 0 "$RC" "rerun"
assert_line_count "$T/jrerun.out" 20 "one line per input"
assert_all_status "$T/jrerun.out" success "status"
assert_eq 20 "$(jq -r .task_id "$T/jrerun.out" | sort -u | wc -l)" "distinct tasks"
wait_emulator_idle
assert_eq 20 "$(submit_count)" "submits over both runs (one per input)"
# What the first run printed as success is what the rerun reprints.
assert_eq "$(jq -c 'select(.status == "success")' "$T/jfull.out" | sort)" \
  "$(jq -c --slurpfile first <(jq -c 'select(.status == "success") | .task_id' "$T/jfull.out") \
    'select(.task_id as $t | $first | index($t))' "$T/jrerun.out" | sort)" \
  "the first run's successes, reprinted the same"

step "stdout's disk fills mid-run: exit 74, no half line, the rerun prints the rest"
setup_emulator --delay-ms 50
rm -f "$DISK/run.jnl"
leave_free 8
"$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in.txt" \
  --parallel 4 --state "$T/stdout.jnl" --timeout 20 >"$DISK/out.jsonl" 2>"$T/sfull.err" &&
  RC=0 || RC=$?
LAST=sfull
assert_exit 74 "$RC" "exit code of a run whose stdout filled up"
assert_file_contains "$T/sfull.err" "cannot write to stdout: No space left on device" "the error"
assert_file_not_contains "$T/sfull.err" "terminate called" "stderr"
cp "$DISK/out.jsonl" "$T/sfull.out"
assert_whole_lines "$T/sfull.out" "stdout on the full disk"
n=$(line_count "$T/sfull.out")
((n > 0 && n < 20)) || _fail_ctx "expected some lines but not all on the full disk, got $n"
assert_printed_is_journaled "$T/sfull.out" "$T/stdout.jnl"
free_space
chain_run srerun --endpoint demo --emails "$T/in.txt" --parallel 4 --state "$T/stdout.jnl" \
  --timeout 20
assert_exit 0 "$RC" "rerun"
assert_line_count "$T/srerun.out" 20 "one line per input"
assert_all_status "$T/srerun.out" success "status"
assert_eq "$(sort "$T/sfull.out")" "$(head -n "$n" "$T/srerun.out" | sort)" \
  "the lines printed before the disk filled, reprinted the same"
wait_emulator_idle
assert_eq 20 "$(submit_count)" "submits over both runs (one per input)"
