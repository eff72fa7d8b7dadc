#!/usr/bin/env bash
# `run ... | head -1`: head gets one whole line, the run exits 141 soon after, quietly.
source "$(dirname "$0")/lib.sh"

# One callback every 3 s, one task at a time: the whole run would take 15 s or more; after head
# leaves (at the first line), the run should stop at its next line (about 6 s in).
setup_emulator --delay-ms 3000
make_emails 5 >"$T/in.txt"

step "run | head -1"
LAST="head"
started=$(now)
set +e
timeout -k 5 60 "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo \
  --emails "$T/in.txt" 2>"$T/head.err" | timeout 60 head -n 1 >"$T/head.out"
codes=("${PIPESTATUS[@]}")
set -e
took=$(elapsed_since "$started")
log "exit codes ${codes[*]} after $took s"
assert_exit 141 "${codes[0]}" "the run's exit code (PIPESTATUS)"
assert_exit 0 "${codes[1]}" "head's exit code"
assert_line_count "$T/head.out" 1 "lines head got"
assert_json_lines "$T/head.out" "head's line"
assert_jq "$T/head.out" '.status + " " + .input.email[0]' "success user1@example.com" "head's line"
assert_less "$took" 13 "seconds until the run left (a full run takes 15 s or more)"
assert_file_not_contains "$T/head.err" "error" "stderr (no error spam)"
assert_file_not_contains "$T/head.err" "Broken pipe" "stderr (no error spam)"
assert_file_not_contains "$T/head.err" "EPIPE" "stderr (no error spam)"
wait_emulator_idle # a submit cut short by the exit is logged too
accepted=$(accepted_count)
if ((accepted > 3)); then
  _fail_ctx "the run went on submitting after stdout closed: $accepted of 5 inputs submitted"
fi

step "run --emulate | head -1 with --parallel: exit 141, no error"
make_emails 40 many >"$T/many.txt"
set +e
timeout -k 5 60 "$BIN" run --emulate --endpoint demo --emails "$T/many.txt" --parallel 2 \
  2>"$T/head2.err" | timeout 60 head -n 1 >"$T/head2.out"
codes=("${PIPESTATUS[@]}")
set -e
LAST=head2
assert_exit 141 "${codes[0]}" "the run's exit code (PIPESTATUS)"
assert_line_count "$T/head2.out" 1 "lines head got"
assert_json_lines "$T/head2.out" "head's line"
assert_file_not_contains "$T/head2.err" "error" "stderr (no error spam)"
