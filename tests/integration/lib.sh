# Shared helpers for the integration tests: sourced by every tests/integration/test_*.sh.
#
# Each test runs the real binary ($OPTEXITY_CHAIN) against the real emulator over loopback and
# asserts on what a user sees: stdout lines, stderr, exit code. Every command and every wait is
# bounded; every background process is killed on exit; a failed test keeps its files.
#
#   source "$(dirname "$0")/lib.sh"
#   setup_emulator --delay-ms 50          # EMU_URL, EMU_LOG, LISTEN, LPORT
#   emails_file in.txt a@example.com b@example.com
#   chain_run r1 --endpoint demo --emails "$T/in.txt"
#   assert_exit 0 "$RC" "run"
#   assert_line_count "$T/r1.out" 2

set -euo pipefail

: "${OPTEXITY_CHAIN:?set OPTEXITY_CHAIN to the optexity-chain binary}"
BIN=$OPTEXITY_CHAIN
TEST_NAME=$(basename "$0" .sh)

# Upper bound for any single command or wait, in seconds (CTest kills the test at its TIMEOUT, tests/CMakeLists.txt).
CMD_TIMEOUT=${CMD_TIMEOUT:-60}
# Upper bound for a background process (the emulator, a run fed through a fifo), in case the
# test itself is killed before its cleanup runs.
export BG_TIMEOUT=${BG_TIMEOUT:-150}

if [[ -n ${TEST_OUT:-} ]]; then
  rm -rf "$TEST_OUT"
  mkdir -p "$TEST_OUT"
  T=$TEST_OUT
  T_IS_TEMP=0
else
  T=$(mktemp -d "${TMPDIR:-/tmp}/optexity-chain-it.XXXXXX")
  T_IS_TEMP=1
fi
export T
# Keys stored by `optexity-chain login` on this machine never reach a test, nor a test's the
# user's: every test has its own (empty) configuration directory, and no key or profile from
# the environment.
export XDG_CONFIG_HOME=$T/config
unset OPTEXITY_API_KEY OPTEXITY_PROFILE

# Nothing reads the terminal or CTest's stdin by accident: a test redirects stdin explicitly.
exec </dev/null

BG_PIDS=()
CURRENT_STEP=""
RC=0

log() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

step() {
  CURRENT_STEP=$*
  log "--- $*"
}

# SIGKILL to a process and, when it leads one (timeout(1) does), to its process group.
kill_hard() { # pid
  kill -KILL -- "-$1" 2>/dev/null || true
  kill -KILL "$1" 2>/dev/null || true
}

_cleanup() {
  local status=$?
  set +e
  local pid
  for pid in "${BG_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  # Give them a moment to leave, then insist.
  local i
  for i in $(seq 1 20); do
    local alive=0
    for pid in "${BG_PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null && alive=1
    done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${BG_PIDS[@]}"; do
    kill_hard "$pid"
  done
  for pid in "${BG_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  if ((status == 0)); then
    log "PASS"
    if ((T_IS_TEMP)); then
      rm -rf "$T"
    fi
  else
    log "FAILED (exit $status) in step: ${CURRENT_STEP:-?}; outputs kept in $T"
  fi
  exit "$status"
}
trap _cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# --- failing and asserting ----------------------------------------------------------------------

# Prints the message and the tail of the given files, then fails the test.
fail() {
  local msg=$1
  shift
  printf '%s: FAIL: %s%s\n' "$TEST_NAME" "${CURRENT_STEP:+[$CURRENT_STEP] }" "$msg" >&2
  local f
  for f in "$@"; do
    if [[ -f $f ]]; then
      printf -- '----- %s (last 40 lines) -----\n' "$f" >&2
      tail -n 40 "$f" | cut -c1-600 >&2
    fi
  done
  exit 1
}

# The files that explain a failing run: $LAST (set by capture/start_bg) and the emulator log.
_context_files() {
  local files=()
  [[ -n ${LAST:-} ]] && files+=("$T/$LAST.out" "$T/$LAST.err")
  [[ -n ${EMU_LOG:-} ]] && files+=("$EMU_LOG")
  printf '%s\n' "${files[@]}"
}

_fail_ctx() {
  local msg=$1
  local files
  mapfile -t files < <(_context_files)
  fail "$msg" "${files[@]}"
}

assert_eq() { # expected actual what
  if [[ $1 != "$2" ]]; then
    _fail_ctx "$3: expected [$1], got [$2]"
  fi
}

assert_ne() { # unexpected actual what
  if [[ $1 == "$2" ]]; then
    _fail_ctx "$3: expected anything but [$1]"
  fi
}

assert_contains() { # haystack needle what
  if [[ $1 != *"$2"* ]]; then
    _fail_ctx "$3: expected to contain [$2], got [$1]"
  fi
}

assert_not_contains() { # haystack needle what
  if [[ $1 == *"$2"* ]]; then
    _fail_ctx "$3: expected not to contain [$2], got [$1]"
  fi
}

assert_file_contains() { # file needle what
  if ! grep -qF -- "$2" "$1"; then
    _fail_ctx "$3: expected $(basename "$1") to contain [$2]; it holds: [$(head -c 2000 "$1")]"
  fi
}

assert_file_not_contains() { # file needle what
  if grep -qF -- "$2" "$1"; then
    _fail_ctx "$3: expected $(basename "$1") not to contain [$2]; it holds: [$(grep -F -- "$2" "$1" | head -5)]"
  fi
}

assert_empty_file() { # file what
  if [[ -s $1 ]]; then
    _fail_ctx "$2: expected $(basename "$1") to be empty, it holds: [$(head -c 2000 "$1")]"
  fi
}

line_count() { # file -> number of lines (a last line without newline counts)
  awk 'END { print NR }' "$1"
}

# True when the file holds at least N whole (newline-terminated) lines: for wait_until.
has_lines() { # file n
  (($(wc -l <"$1") >= $2))
}

assert_line_count() { # file expected what
  local n
  n=$(line_count "$1")
  if [[ $n != "$2" ]]; then
    _fail_ctx "$3: expected $2 line(s) in $(basename "$1"), got $n: [$(head -c 3000 "$1")]"
  fi
}

assert_exit() { # expected actual what
  if [[ $1 != "$2" ]]; then
    _fail_ctx "$3: expected exit code $1, got $2"
  fi
}

# Every line of the file is one whole JSON object (and the file ends with a newline).
assert_json_lines() { # file what
  local bad
  if [[ -s $1 && $(tail -c 1 "$1" | od -An -c | tr -d ' ') != '\n' ]]; then
    _fail_ctx "$2: the last line of $(basename "$1") is not terminated by a newline"
  fi
  bad=$(jq -R -r 'select((try (fromjson | type) catch "bad") != "object")' "$1") ||
    _fail_ctx "$2: jq could not read $(basename "$1")"
  if [[ -n $bad ]]; then
    _fail_ctx "$2: lines of $(basename "$1") that are not one JSON object: [$(head -c 2000 <<<"$bad")]"
  fi
}

# The value of a jq filter on each line, one per line.
jq_lines() { # file filter
  jq -r "$2" "$1"
}

# Asserts the jq filter gives the expected text (lines joined by newline) for the file.
assert_jq() { # file filter expected what
  local got
  got=$(jq -r "$2" "$1" 2>&1) || _fail_ctx "$4: jq '$2' failed: $got"
  if [[ $got != "$3" ]]; then
    _fail_ctx "$4: jq '$2': expected [$3], got [$got]"
  fi
}

# Asserts every line's status is the one given.
assert_all_status() { # file status what
  local others
  others=$(jq -r --arg s "$2" 'select(.status != $s) | .status' "$1") ||
    _fail_ctx "$3: jq failed on $(basename "$1")"
  if [[ -n $others ]]; then
    _fail_ctx "$3: expected every status to be $2, got also: [$(tr '\n' ' ' <<<"$others")]"
  fi
}

# Asserts the lines' .input.email[0], in order, are exactly the given emails.
assert_emails_in_order() { # file what email...
  local file=$1 what=$2
  shift 2
  local expected got
  expected=$(printf '%s\n' "$@")
  got=$(jq -r '.input.email[0] // "<no input>"' "$file") || _fail_ctx "$what: jq failed"
  if [[ $got != "$expected" ]]; then
    _fail_ctx "$what: inputs in stdout order: expected [$(tr '\n' ' ' <<<"$expected")], got [$(tr '\n' ' ' <<<"$got")]"
  fi
}

# Asserts each line carries "input": {"email": [EMAIL]} exactly (no other keys).
assert_inputs_exact() { # file what
  local bad
  bad=$(jq -c 'select((.input | type) != "object" or (.input | keys) != ["email"]
                      or (.input.email | type) != "array" or (.input.email | length) != 1)' "$1")
  if [[ -n $bad ]]; then
    _fail_ctx "$2: lines whose input is not {\"email\":[value]}: [$(head -c 2000 <<<"$bad")]"
  fi
}

# Lines of a file matching a fixed string, as a count (0 when none).
count_matches() { # file needle
  grep -cF -- "$2" "$1" || true
}

# --- running things ---------------------------------------------------------------------------

# Runs a command bounded by $CMD_TIMEOUT with stdout/stderr to $T/NAME.out and $T/NAME.err;
# sets RC (never trips set -e). stdin is the caller's (redirect the call).
capture() { # name cmd...
  local name=$1
  shift
  LAST=$name
  RC=0
  timeout -k 5 "$CMD_TIMEOUT" "$@" 7>&- 8>&- 9>&- >"$T/$name.out" 2>"$T/$name.err" || RC=$?
  if ((RC == 124 || RC == 137)); then
    fail "'$*' did not finish within $CMD_TIMEOUT s" "$T/$name.out" "$T/$name.err" ${EMU_LOG:+"$EMU_LOG"}
  fi
}

# The binary, bounded: `chain NAME args...`.
chain() { # name args...
  local name=$1
  shift
  capture "$name" "$BIN" "$@"
}

# `run` against the standalone emulator started by setup_emulator.
chain_run() { # name args...
  local name=$1
  shift
  chain "$name" run --api-url "$EMU_URL" --listen "$LISTEN" "$@"
}

# Starts a command in the background with stdout/stderr to $T/NAME.out/.err; sets BG_PID.
# stdin is /dev/null unless the caller redirects the call. Killed on exit. Use fds 7-9 for the
# writers of fifos feeding a run's stdin: no command started here inherits them.
start_bg() { # name cmd...
  local name=$1
  shift
  LAST=$name
  # An explicit stdin: bash would otherwise give a background command /dev/null. Fds 7-9 (the
  # tests' fifo writers) are not inherited: a child holding one would keep a run from its EOF.
  "$@" <&0 7>&- 8>&- 9>&- >"$T/$name.out" 2>"$T/$name.err" &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# Like start_bg with stdin read from a fifo, opened by the child itself (so the test shell never
# blocks on the open, and the child inherits no writer of the fifo). Open the writer after this,
# with `exec 7<>FIFO` (never blocks); `exec 7>&-` is then the child's EOF.
start_bg_fifo_stdin() { # name fifo cmd...
  local name=$1 fifo=$2
  shift 2
  # shellcheck disable=SC2016 # expanded by the child bash
  start_bg "$name" bash -c 'exec timeout -k 5 "$BG_TIMEOUT" "$@" <"$0"' "$fifo" "$@"
}

# Like start_bg, but the process starts with SIGINT/SIGTERM at their defaults, as from a
# terminal (bash starts background jobs of a script with SIGINT ignored).
start_bg_default_signals() { # name cmd...
  local name=$1
  shift
  start_bg "$name" python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

# Skips the test (exit 77, CTest's SKIP_RETURN_CODE) unless the binary has the test hooks
# (src/core/crash_point.h; CMake option OPTEXITY_TEST_HOOKS, on when the tests are built).
require_test_hooks() {
  if [[ ${OPTEXITY_TEST_HOOKS:-ON} != ON ]]; then
    log "SKIP: the binary was built without OPTEXITY_TEST_HOOKS (configure with -DOPTEXITY_TEST_HOOKS=ON)"
    trap - EXIT
    exit 77
  fi
}

# Waits (bounded) until the command succeeds; fails with the description otherwise.
wait_until() { # seconds description cmd...
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      _fail_ctx "timed out after ${secs} s waiting for: $what"
    fi
    sleep 0.05
  done
}

is_alive() { kill -0 "$1" 2>/dev/null; }

# Waits (bounded) for a background process to exit; sets RC to its exit code.
wait_exit() { # pid seconds what
  local pid=$1 secs=$2 what=$3
  local deadline=$((SECONDS + secs))
  while is_alive "$pid"; do
    # A zombie is "alive" for kill -0 until waited for; `wait` below reaps it.
    if [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]]; then
      break
    fi
    if ((SECONDS >= deadline)); then
      kill_hard "$pid"
      _fail_ctx "$what: still running after ${secs} s (killed)"
    fi
    sleep 0.05
  done
  RC=0
  wait "$pid" || RC=$?
}

now() { printf '%s\n' "$EPOCHREALTIME"; }

elapsed_since() { # start -> seconds, 2 decimals
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", b - a }'
}

assert_less() { # value bound what (floats)
  if ! awk -v v="$1" -v b="$2" 'BEGIN { exit !(v < b) }'; then
    _fail_ctx "$3: expected less than $2, got $1"
  fi
}

# --- ports, emulator, inputs --------------------------------------------------------------------

# A port free on 127.0.0.1 right now (for a listener whose port must be known in advance).
# Drawn below the kernel's ephemeral range: a port the kernel handed out (bind to port 0) would
# soon be handed out again, to the source of some connection (on a busy machine, thousands: the
# load test, other suites), and the run could then not listen on it.
free_port() {
  python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(100):
    port = random.randint(min(10000, low - 1000), low - 1)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts `optexity-chain emulator --port 0 --callback-url http://127.0.0.1:LPORT/receive_callback
# ARGS...` in the background; waits (bounded) for its URL on stdout.
# Sets EMU_URL, EMU_PID, EMU_LOG (its stderr: one line per submit and per callback).
start_emulator() { # name lport args...
  local name=$1 lport=$2
  shift 2
  : >"$T/$name.url"
  timeout -k 5 "$BG_TIMEOUT" "$BIN" emulator --host 127.0.0.1 --port 0 \
    --callback-url "http://127.0.0.1:$lport/receive_callback" "$@" \
    >"$T/$name.url" 2>"$T/$name.log" &
  EMU_PID=$!
  BG_PIDS+=("$EMU_PID")
  EMU_LOG=$T/$name.log
  local deadline=$((SECONDS + 20))
  until has_lines "$T/$name.url" 1; do
    if ! is_alive "$EMU_PID"; then
      fail "the emulator exited before printing its URL" "$T/$name.url" "$T/$name.log"
    fi
    if ((SECONDS >= deadline)); then
      fail "the emulator printed no URL within 20 s" "$T/$name.url" "$T/$name.log"
    fi
    sleep 0.05
  done
  EMU_URL=$(head -n 1 "$T/$name.url")
  if [[ ! $EMU_URL =~ ^http://127\.0\.0\.1:[0-9]+$ ]]; then
    fail "the emulator printed [$EMU_URL], expected http://127.0.0.1:PORT" "$T/$name.log"
  fi
}

# A free port for the run's listener plus an emulator calling it back: sets LPORT, LISTEN,
# EMU_URL, EMU_PID, EMU_LOG.
setup_emulator() { # emulator args...
  LPORT=$(free_port)
  LISTEN=127.0.0.1:$LPORT
  start_emulator emulator "$LPORT" "$@"
}

# Submits the emulator accepted (202) or answered at all.
accepted_count() { count_matches "$EMU_LOG" ' -> 202 task '; }
accepted_at_least() { (($(accepted_count) >= $1)); } # for wait_until
# Submits the emulator answered with the given HTTP status.
answered_count() { grep -cE "^emulator: submit.* -> $1( |\$)" "$EMU_LOG" || true; } # status
submit_count() { grep -c '^emulator: submit' "$EMU_LOG" || true; }

# True when no connection to the emulator is open or being handled: every request it received
# has been answered, and the emulator logs a request before it answers it. For checking what the
# emulator saw from a run that has exited (or was cut short), without hoping a sleep is enough.
emulator_idle() {
  local port=${EMU_URL##*:}
  python3 - "$port" <<'PY'
import sys
port = int(sys.argv[1])
busy = 0
# /proc/net/tcp: local address (hex ip:port) in field 1, state in field 3. ESTABLISHED (01),
# SYN_RECV (03) and CLOSE_WAIT (08, the client left, the handler has not closed) are open.
with open("/proc/net/tcp") as f:
    next(f)
    for line in f:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] in ("01", "03", "08"):
            busy += 1
sys.exit(1 if busy else 0)
PY
}

# Waits (bounded) until the emulator has handled every request it received (emulator_idle).
wait_emulator_idle() {
  wait_until 20 "the emulator to handle every request it received" emulator_idle
}

# The run's "submitted as task ID" debug lines (run -v) in a stderr file: the run has the 202 and
# knows the task id.
submitted_count() { grep -c 'debug: .*submitted as task ' "$1" || true; } # err-file
submitted_at_least() { (($(submitted_count "$1") >= $2)); }               # err-file n

# Submits the emulator accepted for one endpoint.
endpoint_accepted() { # endpoint
  grep -c "^emulator: submit $1 -> 202 " "$EMU_LOG" || true
}

# The newline-terminated lines of a file (a line cut by a kill is left out).
complete_lines() { # file
  head -n "$(wc -l <"$1")" "$1"
}

# The task ids the emulator accepted, in log order.
accepted_task_ids() { sed -n 's/^emulator: submit .* -> 202 task \([0-9a-f-]*\) .*/\1/p' "$EMU_LOG"; }

# Writes $T/NAME with one line per argument.
emails_file() { # name line...
  local name=$1
  shift
  if (($#)); then
    printf '%s\n' "$@" >"$T/$name"
  else
    : >"$T/$name"
  fi
}

# N distinct emails: user1@example.com ...
make_emails() { # n [prefix]
  local i
  for ((i = 1; i <= $1; i++)); do
    printf '%s%d@example.com\n' "${2:-user}" "$i"
  done
}

# Checks common to every line printed from a callback: the payload's fields plus our input.
assert_callback_lines() { # file endpoint what
  local bad
  bad=$(jq -c --arg ep "$2" 'select(
      (.task_id | type) != "string" or (.task_id | length) == 0
      or .endpoint_name != $ep
      or .input_parameters != .input
      or .unique_parameter_names != ["email"]
      or (has("output_data") | not) or (has("recording_id") | not))' "$1")
  if [[ -n $bad ]]; then
    _fail_ctx "$3: lines that are not a callback payload for endpoint $2 plus its input: [$(head -c 2000 <<<"$bad")]"
  fi
  local ids unique
  ids=$(jq -r '.task_id' "$1" | wc -l)
  unique=$(jq -r '.task_id' "$1" | sort -u | wc -l)
  assert_eq "$ids" "$unique" "$3: distinct task ids"
}

# Opens COUNT connections to the listener and sends a partial request on each, one byte every
# 0.3 s, for more than a minute; prints "sending" once under way. Sets SLOW_PID.
start_slow_clients() { # name port count
  start_bg "$1" timeout 90 python3 -c '
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
partial = (b"POST /receive_callback HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/json\r\nX-Slow: " + b"a" * 300)
socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
print("connected", len(socks), flush=True)
sent = 0
end = time.time() + 80
while time.time() < end and sent < len(partial):
    for s in socks:
        try:
            s.send(partial[sent:sent + 1])
        except OSError:
            pass
    sent += 1
    if sent == 3:
        print("sending", flush=True)
    time.sleep(0.3)
print("done", flush=True)
time.sleep(30)' "$2" "$3"
  # shellcheck disable=SC2034 # read by the tests
  SLOW_PID=$BG_PID
  wait_until 30 "$3 slow connections" grep -q "sending" "$T/$1.out"
}

# --- helpers added for the input-format, public-url, parallel, results, recovery and pipe tests ---

# POSTs a JSON body (bounded, 10 s); prints the HTTP status code ("000" when nothing answered,
# with curl's reason logged on stderr).
post_json_code() { # url body
  local code err
  err=$(mktemp "$T/curl.XXXXXX")
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
    -H 'Content-Type: application/json' --data-binary "$2" "$1" 7>&- 8>&- 9>&- 2>"$err") || true
  if [[ $code == 000 ]]; then
    log "POST $1: no answer: $(cat "$err")"
  fi
  rm -f "$err"
  printf '%s\n' "${code:-000}"
}

# Like post_json_code, but the client connects, waits PAUSE seconds, then sends its request (as
# a client delayed by a loaded machine, or a proxy's pooled connection, would).
post_json_code_after_pause() { # host port path body pause
  timeout -k 5 20 python3 -c '
import socket, sys, time
host, port, path, body, pause = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].encode(), float(sys.argv[5])
request = (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
           b"Content-Type: application/json\r\nConnection: close\r\n"
           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
code = "000"
try:
    s = socket.create_connection((host, port), timeout=10)
    time.sleep(pause)
    s.sendall(request)
    answer = s.recv(64)
    if answer.startswith(b"HTTP/1.") and len(answer) >= 12:
        code = answer[9:12].decode()
except OSError as e:
    print("no answer: %s" % e, file=sys.stderr)
print(code)' "$@" 7>&- 8>&- 9>&-
}

# The highest number of tasks in flight at once in an emulator log, counting a task from its
# "submit ... -> 202 task ID" line to its first "callback ID ..." line (later copies ignored).
# The emulator logs a callback only once the run has answered it, so the run may already have
# submitted the next task: with a relay (start_callback_relay) writing "relay: callback ID" into
# the same log before it passes the callback on, the count is exact.
max_in_flight() { # emulator-log
  awk '
    /^emulator: submit .* -> 202 task / {
      for (i = 1; i <= NF; i++) if ($i == "task") { id = $(i + 1); break }
      open[id] = 1; n++; if (n > max) max = n; next
    }
    /^(emulator|relay): callback / {
      id = $3
      if (id in open) { delete open[id]; n-- }
    }
    END { print max + 0 }' "$1"
}

# The task ids of an emulator log's callbacks, in the order of their first callback line.
callback_order() { # emulator-log
  awk '/^emulator: callback / && !seen[$3]++ { print $3 }' "$1"
}

# Starts a relay on a free 127.0.0.1 port that passes each POST on to 127.0.0.1:TARGET_PORT (same
# path, body and answer), first appending "relay: callback TASK_ID" to LOG (O_APPEND, one write a
# line, so it interleaves in causal order with an emulator's stderr appended to the same file).
# With GATE, each callback is held until the file GATE exists (at most 60 s): the test decides
# when the run gets its callbacks (a run's --public-url preflight probe passes at once). Sets
# RELAY_PORT.
start_callback_relay() { # name target-port log [gate]
  start_bg "$1" timeout -k 5 "$BG_TIMEOUT" python3 -c '
import http.client, http.server, json, os, sys, threading, time
target, log = int(sys.argv[1]), sys.argv[2]
gate = sys.argv[3] if len(sys.argv) > 3 else ""
fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
lock = threading.Lock()
class Relay(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        probe = False
        try:
            parsed = json.loads(body)
            task = parsed.get("task_id", "?")
            probe = parsed.get("preflight") is True
        except Exception:
            task = "?"
        with lock:
            os.write(fd, ("relay: callback %s\n" % task).encode())
        deadline = time.time() + 60
        while gate and not probe and not os.path.exists(gate) and time.time() < deadline:
            time.sleep(0.05)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", target, timeout=30)
            conn.request("POST", self.path, body, {"Content-Type": "application/json"})
            answer = conn.getresponse()
            status, data = answer.status, answer.read()
            conn.close()
        except Exception:
            status, data = 502, b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Relay)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()' "$2" "$3" ${4:+"$4"}
  wait_until 20 "the relay's port" has_lines "$T/$1.out" 1
  RELAY_PORT=$(head -n 1 "$T/$1.out")
}

# Like start_emulator, with a given callback URL and its stderr appended to LOG (which a relay
# may share). Sets EMU_URL, EMU_PID, EMU_LOG.
start_emulator_appending() { # name callback-url log args...
  local name=$1 cb=$2 logf=$3
  shift 3
  : >"$T/$name.url"
  timeout -k 5 "$BG_TIMEOUT" "$BIN" emulator --host 127.0.0.1 --port 0 --callback-url "$cb" "$@" \
    >"$T/$name.url" 2>>"$logf" &
  EMU_PID=$!
  BG_PIDS+=("$EMU_PID")
  EMU_LOG=$logf
  wait_until 20 "the emulator's URL" has_lines "$T/$name.url" 1
  EMU_URL=$(head -n 1 "$T/$name.url")
}

# One stage of a pipeline: runs the command bounded by $CMD_TIMEOUT and writes its exit code to
# RC_FILE (a pipeline's stages run in subshells). Always succeeds.
#   stage "$T/p.rc1" "$BIN" run ... 2>"$T/p.err1" | stage "$T/p.rc2" "$BIN" run ... >"$T/p.out"
stage() { # rc-file cmd...
  local rc_file=$1
  shift
  local rc=0
  timeout -k 5 "$CMD_TIMEOUT" "$@" 7>&- 8>&- 9>&- || rc=$?
  printf '%s\n' "$rc" >"$rc_file"
  return 0
}

# The exit code a stage wrote (fails the test when it wrote none).
stage_rc() { # rc-file
  [[ -s $1 ]] || fail "no exit code in $1"
  head -n 1 "$1"
}

# --- helpers added for the journal, grace, listener-security, watchdog and load tests ---

# The whole records of a --state journal, one compact JSON object a line (a record cut short,
# or one being written, is skipped).
journal_records() { # file
  jq -c -R 'fromjson? // empty | select(type == "object")' "$1" 2>/dev/null
}

# Number of journal records of a type (run, submit, result).
journal_count() { # file type
  journal_records "$1" | jq -s --arg t "$2" '[.[] | select(.type == $t)] | length'
}

# Task ids of the journal's submits that have no later result (tasks in flight), one a line.
journal_unfinished_ids() { # file
  journal_records "$1" | jq -r -s '
    reduce .[] as $r ({};
      if $r.type == "submit" then .[$r.key] = $r.task_id
      elif $r.type == "result" then del(.[$r.key])
      else . end) | .[]'
}

# The stdout line (raw bytes) of the input {"email": [EMAIL]}: lines end with that input.
line_for_email() { # file email
  grep -F -- "\"input\":{\"email\":[\"$2\"]}" "$1" || true
}

# POSTs a body with extra curl arguments (headers, -k, ...); prints the HTTP status code ("000"
# when nothing answered).
post_code() { # url body [curl-args...]
  local url=$1 body=$2
  shift 2
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
    -H 'Content-Type: application/json' "$@" --data-binary "$body" "$url" 7>&- 8>&- 9>&- 2>/dev/null) || true
  printf '%s\n' "${code:-000}"
}

# A NAME=NUMBER field of a file written by `/usr/bin/time -f 'wall=%e maxrss_kb=%M'`.
time_field() { # file name
  sed -n "s/.*$2=\\([0-9.]*\\).*/\\1/p" "$1" | tail -n 1
}

# --- helpers added for the emulator's answer faults and the crash-point matrix ---

# Tasks the emulator created, whatever their submit's answer: a 202 with the task's id, a bad
# answer ("... without task_id, task ID"), or none ("no answer, task ID").
created_count() { grep -cE '^emulator: submit .* task [0-9a-f-]{36} ' "$EMU_LOG" || true; }
# Their task ids (each task's own), in log order.
created_task_ids() { sed -nE 's/^emulator: submit [^(]* task ([0-9a-f-]{36}) \(.*/\1/p' "$EMU_LOG"; }

# Valid submits the emulator received with exactly these input_parameters (compact JSON as the
# run sends them, e.g. {"email":["a@example.com"]}), from its "request ENDPOINT
# input_parameters=JSON" lines.
submits_of_input() { # input-parameters-json
  INPUTS=$1 awk '
    BEGIN { want = " input_parameters=" ENVIRON["INPUTS"] }
    /^emulator: request / && substr($0, length($0) - length(want) + 1) == want { n++ }
    END { print n + 0 }' "$EMU_LOG"
}
submits_of_email() { submits_of_input "{\"email\":[\"$1\"]}"; } # email

# Stops the emulator started last (SIGTERM; it exits 143), bounded.
stop_emulator() {
  kill -TERM "$EMU_PID" 2>/dev/null || true
  wait_exit "$EMU_PID" 20 "the emulator after SIGTERM"
}

# Starts a callback receiver on a free 127.0.0.1 port that answers every POST 200 {} and
# appends the body's task_id (or "?") to $T/NAME.ids, one line per callback. Sets SINK_PORT.
start_callback_sink() { # name
  start_bg "$1" timeout -k 5 "$BG_TIMEOUT" python3 -c '
import http.server, json, os, sys, threading
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            task = json.loads(body).get("task_id", "?")
        except Exception:
            task = "?"
        os.write(fd, ("%s\n" % task).encode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()' "$T/$1.ids"
  wait_until 20 "the callback sink's port" has_lines "$T/$1.out" 1
  SINK_PORT=$(head -n 1 "$T/$1.out")
}

# Like setup_emulator, with the emulator's files named $T/NAME.*: a test that starts several
# emulators keeps each one's log. (setup_emulator's emulator.log is truncated by the next call
# while an earlier emulator may still write to it at its old offset: a log with NULs that grep
# calls binary.)
setup_emulator_named() { # name emulator-args...
  local name=$1
  shift
  LPORT=$(free_port)
  LISTEN=127.0.0.1:$LPORT
  start_emulator "$name" "$LPORT" "$@"
}
