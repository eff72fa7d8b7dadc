#!/usr/bin/env bash
# Load: LOAD_N inputs (default 10,000) at --parallel LOAD_PARALLEL (default 1000) against the
# emulator with duplicated callbacks and 5% dropped ones recovered by status checks at the
# deadline: exactly one line per input, none lost, none doubled, each input submitted once, all
# success. Logs wall time and peak RSS (also in $T/load.summary). Sanitizer runs set LOAD_N lower.
source "$(dirname "$0")/lib.sh"

N=${LOAD_N:-10000}
PARALLEL=${LOAD_PARALLEL:-1000}
[[ $N =~ ^[1-9][0-9]*$ ]] || fail "LOAD_N must be a positive number, got [$N]"
[[ -x /usr/bin/time ]] || fail "/usr/bin/time is needed to measure peak memory"

# 10% of tasks called back twice once the emulator has --duplicate-rate; every callback twice
# until then.
if "$BIN" emulator --help 2>/dev/null | grep -q -- '--duplicate-rate'; then
  DUPS=(--duplicate-rate 0.1)
else
  DUPS=(--duplicate-callbacks 1)
fi
log "emulator faults: ${DUPS[*]} --drop-callback-rate 0.05"

make_emails "$N" load >"$T/in.txt"
sort "$T/in.txt" >"$T/in.sorted"

# Checks a load run's stdout and the emulator's log since BEFORE accepted submits.
check_load_run() { # name before
  local name=$1 before=$2
  assert_line_count "$T/$name.out" "$N" "exactly one line per input"
  assert_json_lines "$T/$name.out" "stdout"
  jq -r '.input.email[0] // "<no input>"' "$T/$name.out" | sort >"$T/$name.emails"
  local doubled
  doubled=$(uniq -d "$T/$name.emails" | head -n 5)
  assert_eq "" "$doubled" "inputs with more than one line"
  cmp -s "$T/in.sorted" "$T/$name.emails" ||
    _fail_ctx "the lines' inputs are not the input file's: $(diff "$T/in.sorted" "$T/$name.emails" | head -n 10)"
  local statuses
  statuses=$(jq -r '.status' "$T/$name.out" | sort | uniq -c | awk '{ printf "%s %s; ", $2, $1 }')
  assert_eq "success $N; " "$statuses" "statuses"
  # Each input submitted once: as many accepted submits as inputs, and they are the lines' tasks.
  assert_eq "$N" "$(($(accepted_count) - before))" "submits accepted"
  accepted_task_ids | tail -n "+$((before + 1))" | sort >"$T/$name.accepted"
  jq -r '.task_id' "$T/$name.out" | sort >"$T/$name.ids"
  cmp -s "$T/$name.accepted" "$T/$name.ids" ||
    _fail_ctx "the lines' task ids are not the accepted tasks: $(diff "$T/$name.accepted" "$T/$name.ids" | head -n 10)"
  assert_file_not_contains "$T/$name.err" "internal error" "stderr"
}

report() { # name what
  local wall rss
  wall=$(time_field "$T/$1.time" wall)
  rss=$(time_field "$T/$1.time" maxrss_kb)
  local line
  line="$2: $N inputs at --parallel $PARALLEL: wall ${wall} s, peak RSS $((rss / 1024)) MiB ($rss KiB)"
  log "$line"
  printf '%s\n' "$line" >>"$T/load.summary"
}

step "$N inputs, --parallel $PARALLEL, --unordered, duplicated and dropped callbacks (--timeout 5)"
setup_emulator --delay-ms 100 --jitter-ms 50 "${DUPS[@]}" --drop-callback-rate 0.05
# --unordered: a lost callback holds only its own slot until the deadline (in input order, the
# whole window waits behind it: the ordered run below uses a shorter --timeout).
capture unordered /usr/bin/time -f 'wall=%e maxrss_kb=%M' -o "$T/unordered.time" \
  "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in.txt" \
  --parallel "$PARALLEL" --unordered --timeout 5
report unordered "unordered"
assert_exit 0 "$RC" "the load run"
check_load_run unordered 0
dropped=$(count_matches "$EMU_LOG" "(callback dropped)")
duplicated=$(count_matches "$EMU_LOG" "(duplicate ")
log "emulator: $dropped callbacks dropped, $duplicated duplicates delivered"
# With a few hundred tasks, 5% and 10% shares are surely not empty.
if ((N >= 200)); then
  ((dropped > 0)) || _fail_ctx "the emulator dropped no callback"
  ((duplicated > 0)) || _fail_ctx "the emulator delivered no duplicate"
fi
recovered=$(count_matches "$T/unordered.err" "result fetched")
assert_eq "$dropped" "$recovered" "results fetched by status checks (one per dropped callback)"

step "$N inputs in input order, --parallel $PARALLEL (--timeout 2)"
before=$(accepted_count)
capture ordered /usr/bin/time -f 'wall=%e maxrss_kb=%M' -o "$T/ordered.time" \
  "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in.txt" \
  --parallel "$PARALLEL" --timeout 2
report ordered "in order"
assert_exit 0 "$RC" "the ordered load run"
check_load_run ordered "$before"
jq -r '.input.email[0] // "<no input>"' "$T/ordered.out" >"$T/ordered.order"
cmp -s "$T/in.txt" "$T/ordered.order" || _fail_ctx "the ordered run's lines are not in input order"
