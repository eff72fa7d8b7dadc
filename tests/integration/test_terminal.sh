#!/usr/bin/env bash
# What a terminal shows, under a real pseudo-terminal (tmux, read back with capture-pane): the
# live status line fits 80 and 60 columns and is drawn once (no wrapped or stale copies), names
# its stage, counts a stream right; Ctrl-C says what was left; inline screenshots become
# placeholders on a terminal stdout and stay whole in a pipe; two stages share one terminal.
source "$(dirname "$0")/lib.sh"

# Columns counted in characters, and tmux drawing UTF-8 ("·").
export LC_ALL=C.UTF-8

if ! command -v tmux >/dev/null; then
  fail "tmux is not installed (scripts/deps installs it)"
fi

# A tmux server of this test's own, with no user configuration; it inherits no fifo writer.
TMUX_SOCKET="optexity-test-$$"
tmx() { timeout -k 2 10 tmux -L "$TMUX_SOCKET" -f /dev/null "$@" 7>&- 8>&- 9>&-; }

# Starts `cmd` (a shell command line) in a new session COLS wide; its exit code goes to
# $T/NAME.rc, then the pane stays (waiting for a line on its terminal) until the test ends.
term_start() { # name cols cmd
  local name=$1 cols=$2 cmd=$3
  rm -f "$T/$name.rc"
  tmx new-session -d -s "$name" -x "$cols" -y 40 \
    "bash --norc --noprofile -c '$cmd; echo \$? >$T/$name.rc; read -r _'"
  if [[ -z ${TMUX_PID:-} ]]; then
    TMUX_PID=$(tmx display-message -p '#{pid}')
    BG_PIDS+=("$TMUX_PID")
  fi
}
screen_of() { tmx capture-pane -p -t "$1"; }          # the visible rows
history_of() { tmx capture-pane -p -J -S - -t "$1"; } # every line, unwrapped
last_row() { screen_of "$1" | sed '/^$/d' | tail -n 1; }
last_row_matches() { # name regex (the screen looked at is kept in $T/NAME.last)
  screen_of "$1" >"$T/$1.last"
  [[ $(sed "/^$/d" "$T/$1.last" | tail -n 1) =~ $2 ]]
}
last_row_fits() { local row; row=$(last_row "$1"); ((${#row} <= $2)) && [[ $row =~ \[199/200\] ]]; }
screen_has() { screen_of "$1" | grep -qF -- "$2"; }
ended() { [[ -s $T/$1.rc ]]; }

# The status line is the last row, at most cols-1 wide, and the only row that looks like one.
assert_one_clean_status_line() { # name cols label
  local name=$1 cols=$2 label=$3 screen row
  screen=$(screen_of "$name")
  printf '%s\n' "$screen" >"$T/$name.screen"
  row=$(printf '%s\n' "$screen" | sed '/^$/d' | tail -n 1)
  [[ $row =~ ^$label\ \[[0-9]+/[0-9]+\+?\]\ [0-9]+\ ok ]] ||
    fail "$name: the last row is not a status line of $label: [$row]" "$T/$name.screen"
  ((${#row} <= cols - 1)) || fail "$name: the status line is ${#row} columns wide at $cols" "$T/$name.screen"
  local copies
  copies=$(printf '%s\n' "$screen" | grep -cE '(^|[^0-9])[0-9]+/[0-9]+\+?\]|· [0-9]+ (ok|failed|timeout)|in flight|ETA' || true)
  assert_eq 1 "$copies" "$name: rows that hold (a piece of) a status line"
}

setup_emulator --delay-ms 20 --jitter-ms 15 --fail-rate 0.1 --stuck-at 200,400
make_emails 200 t >"$T/e200.txt"
run_cmd="$BIN run --api-url $EMU_URL --listen $LISTEN --endpoint demo --emails $T/e200.txt \
--parallel 8 --unordered --color never --straggler-after 3600"

for cols in 80 60; do
  step "$cols columns: one clean status line while a task is still out"
  name=run$cols
  term_start "$name" "$cols" "$run_cmd >$T/$name.out"
  # 199 tasks ended, the 200th is left allocated for ever: the line stays at 199/200.
  wait_until 60 "199 of 200 ended ($name)" last_row_matches "$name" '\[199/200\]'
  assert_one_clean_status_line "$name" "$cols" demo
  if ((cols == 80)); then
    assert_contains "$(last_row "$name")" "1 in flight" "the task still out is counted"
    step "a resize to 50 columns: the next redraws fit the new width"
    tmx resize-window -t "$name" -x 50
    wait_until 10 "a redraw at 50 columns" last_row_fits "$name" 49
    assert_one_clean_status_line "$name" 50 demo
  fi

  step "$cols columns: Ctrl-C says which input was running, and how to go on"
  tmx send-keys -t "$name" C-c
  wait_until 30 "the run to end after Ctrl-C ($name)" ended "$name"
  assert_eq 130 "$(cat "$T/$name.rc")" "exit code after Ctrl-C"
  assert_line_count "$T/$name.out" 200 "every input has its line"
  assert_jq "$T/$name.out" 'select(.status == "interrupted") | .error' \
    "interrupted (SIGINT) before the task finished" "the task still running"
  history_of "$name" >"$T/$name.history"
  assert_file_contains "$T/$name.history" \
    "1 input still running on the service, 0 not submitted" "the hint counts what was left"
  assert_file_contains "$T/$name.history" "--state FILE" "the hint names --state"
  # The live line was cleared: nothing of it is left on the screen.
  if screen_of "$name" | grep -qE '\[[0-9]+/200\]'; then
    screen_of "$name" >"$T/$name.screen"
    fail "a status line is left on the screen after the run" "$T/$name.screen"
  fi
done

step "a stream: the total counts what was read, nothing is in flight once it ended"
mkfifo "$T/in.fifo"
term_start stream 80 "$BIN run --api-url $EMU_URL --listen $LISTEN --endpoint stream --emails - \
--color never <$T/in.fifo >$T/stream.out"
exec 7<>"$T/in.fifo"
printf 'only@example.com\n' >&7
wait_until 30 "the first line of the stream" has_lines "$T/stream.out" 1
wait_until 10 "the status line after the first line" last_row_matches stream '\[1/1\+\] [01] ok'
assert_one_clean_status_line stream 80 stream
assert_contains "$(last_row stream)" "0 in flight" "no task is in flight"
exec 7>&-
wait_until 30 "the stream to end" ended stream
assert_eq "$(jq -r 'if .status == "success" then 0 else 1 end' "$T/stream.out")" "$(cat "$T/stream.rc")" "the stream's exit code (the emulator fails one task in ten)"

step "inline screenshots: placeholders on a terminal, whole in a pipe"
start_emulator shots "$LPORT" --delay-ms 10 --screenshot inline --screenshot-bytes 300000
emails_file three.txt a@example.com b@example.com c@example.com
shots_cmd="$BIN run --api-url $EMU_URL --listen $LISTEN --endpoint demo --emails $T/three.txt"
term_start shots 80 "$shots_cmd 2>$T/shots.err"
wait_until 60 "the terminal run" ended shots
assert_eq 0 "$(cat "$T/shots.rc")" "exit code"
history_of shots >"$T/shots.history"
assert_eq 3 "$(grep -c '"final_screenshot":"<base64, [0-9]* KB, not shown on a terminal' "$T/shots.history")" \
  "a placeholder per line"
if grep -qE '[A-Za-z0-9+/]{200}' "$T/shots.history"; then
  fail "a long base64 run reached the terminal" "$T/shots.history"
fi
assert_file_contains "$T/shots.err" "--screenshots DIR saves them" "stderr says how to keep them"
chain_run piped --endpoint demo --emails "$T/three.txt"
assert_exit 0 "$RC" "the piped run"
assert_jq "$T/piped.out" '.final_screenshot | length > 390000' $'true\ntrue\ntrue' "whole in a pipe"
assert_file_not_contains "$T/piped.err" "placeholder" "nothing said in a pipe"

step "two stages on one terminal: each line names its stage, none is garbled"
make_emails 30 p >"$T/e30.txt"
pipe_cmd="$BIN run --emulate --delay-ms 150 --endpoint first --emails $T/e30.txt --parallel 2 \
--color never | $BIN run --emulate --delay-ms 150 --endpoint second --input - \
--map email=/input/email/0 --parallel 2 --color never >$T/pipe.out"
term_start pipe 80 "set -o pipefail; $pipe_cmd"
wait_until 60 "both stages drawing" screen_has pipe "second ["
for _ in 1 2 3; do
  screen_of pipe >"$T/pipe.screen"
  # Every row that holds a status line is one whole status line of one stage.
  if grep -E '\[[0-9]+/[0-9]+\+?\]' "$T/pipe.screen" |
    grep -vqE '^(first|second) \[[0-9]+/[0-9]+\+?\] [0-9]+ ok( · [^·]+)*$'; then
    fail "a garbled status row" "$T/pipe.screen"
  fi
done
wait_until 60 "the pipeline" ended pipe
assert_eq 0 "$(cat "$T/pipe.rc")" "the pipeline's exit code"
assert_line_count "$T/pipe.out" 30 "one line per email at the end"
