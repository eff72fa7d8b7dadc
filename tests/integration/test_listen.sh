#!/usr/bin/env bash
# The callback listener's address is taken: exit 2 naming the address, nothing submitted.
source "$(dirname "$0")/lib.sh"

make_emails 2 >"$T/in.txt"

# Asserts the run NAME failed to listen on ADDRESS before submitting anything.
assert_listen_error() { # name address
  local name=$1 address=$2
  assert_exit 2 "$RC" "run whose listen address is taken"
  assert_empty_file "$T/$name.out" "stdout"
  assert_file_contains "$T/$name.err" "optexity-chain: error:" "stderr"
  assert_file_contains "$T/$name.err" "$address" "the error names the address"
  assert_eq 1 "$(count_matches "$T/$name.err" "optexity-chain: error:")" "error lines"
}

# A long delay: a run that submitted by mistake would also hang until its --timeout.
setup_emulator --delay-ms 60000

step "a port held by another program (python3 listening)"
start_bg holder timeout 90 python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(80)'
wait_until 20 "python3 to print its port" has_lines "$T/holder.out" 1
held=$(head -n 1 "$T/holder.out")
chain held run --endpoint demo --emails "$T/in.txt" --api-url "$EMU_URL" --listen "127.0.0.1:$held" --timeout 30
assert_listen_error held "127.0.0.1:$held"
assert_eq 0 "$(submit_count)" "submits the emulator saw"

step "the emulator's own port"
emu_port=${EMU_URL##*:}
chain on_emulator run --api-url "$EMU_URL" --listen "127.0.0.1:$emu_port" --endpoint demo \
  --emails "$T/in.txt" --timeout 30
assert_listen_error on_emulator "127.0.0.1:$emu_port"
assert_eq 0 "$(submit_count)" "submits the emulator saw"

step "a second run on the port of a run in progress (no SO_REUSEPORT sharing)"
mkfifo "$T/first.fifo"
start_bg_fifo_stdin first "$T/first.fifo" \
  "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails - --timeout 60
first_pid=$BG_PID
exec 7<>"$T/first.fifo"
wait_until 20 "the first run to listen" grep -q "listening on" "$T/first.err"
chain second run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/in.txt" --timeout 30
assert_listen_error second "$LISTEN"
assert_eq 0 "$(submit_count)" "submits the emulator saw"
is_alive "$first_pid" || _fail_ctx "the first run died"
# The first run, with no input, ends cleanly once its stdin closes.
exec 7>&-
wait_exit "$first_pid" 30 "the first run"
assert_exit 0 "$RC" "the first run (no input)"
assert_empty_file "$T/first.out" "stdout of the first run"

step "--emulate with a taken --listen port: exit 2 as well"
chain emulate_held run --emulate --listen "127.0.0.1:$held" --endpoint demo --emails "$T/in.txt" --timeout 30
assert_listen_error emulate_held "127.0.0.1:$held"
