#!/usr/bin/env bash
# Submits reuse a connection that answered less than a second ago; a server that closes idle
# keep-alive connections sooner (here after 0.15 s) costs nothing: the closed connection is
# noticed before the request is written, so no submit fails or becomes "outcome unknown".
source "$(dirname "$0")/lib.sh"

FIXTURE=$(cd "$(dirname "$0")" && pwd)/fixtures/closing_service.py

# Starts the fake: callbacks after DELAY s, idle connections closed after IDLE s.
start_closing_service() { # name delay idle
  LPORT=$(free_port)
  LISTEN=127.0.0.1:$LPORT
  start_bg "$1" timeout -k 5 "$BG_TIMEOUT" python3 "$FIXTURE" \
    "http://127.0.0.1:$LPORT/receive_callback" "$2" "$3"
  SVC_LOG=$T/$1.out
  wait_until 20 "the fake service's port" has_lines "$SVC_LOG" 1
  SVC_URL=http://127.0.0.1:$(sed -n 's/^PORT //p' "$SVC_LOG")
}

distinct_ports() { sed -n 's/^submit .* from port //p' "$SVC_LOG" | sort -u | wc -l; }

step "the server closes each connection before the next submit: every submit reconnects"
make_emails 6 slow >"$T/six.txt"
start_closing_service svc-closing 0.4 0.15
chain slow run --api-url "$SVC_URL" --listen "$LISTEN" --endpoint demo --emails "$T/six.txt" \
  --timeout 20
assert_exit 0 "$RC" "run against a server that closes idle connections after 0.15 s"
assert_line_count "$T/slow.out" 6 "one line per input"
assert_all_status "$T/slow.out" success "statuses"
assert_file_not_contains "$T/slow.err" "outcome unknown" "stderr"
assert_eq 6 "$(grep -c '^submit ' "$SVC_LOG")" "submits received (none repeated)"
assert_eq 6 "$(distinct_ports)" "connections used (the closed one is never written to)"

step "callbacks come quickly: the next submit reuses the connection"
start_closing_service svc-quick 0.02 5
chain quick run --api-url "$SVC_URL" --listen "$LISTEN" --endpoint demo --emails "$T/six.txt" \
  --timeout 20
assert_exit 0 "$RC" "run with quick callbacks"
assert_line_count "$T/quick.out" 6 "one line per input"
assert_eq 6 "$(grep -c '^submit ' "$SVC_LOG")" "submits received"
(($(distinct_ports) < 6)) || _fail_ctx "6 submits used $(distinct_ports) connections: none was reused"
log "6 submits over $(distinct_ports) connection(s)"
