#!/usr/bin/env bash
# The listener facing strangers: --callback-key (x-api-key or Bearer), --callback-basic-file,
# per-run tokens with --public-url, rate-limited refusal logging, the --public-url preflight,
# HTTPS with --tls-cert/--tls-key, and the warning for an open listener. (Oversized and malformed
# bodies: test_listener.sh; slow clients: test_slow_clients.sh.)
source "$(dirname "$0")/lib.sh"

KEY=k3y-$RANDOM-secret

# A callback body for a task, with a marker that shows on stdout if it ever gets through.
forged() { # task_id status marker
  printf '{"task_id":"%s","status":"%s","forged":"%s","output_data":[],"error":null}' "$1" "$2" "$3"
}

# Refusal lines the run logged on stderr.
refusal_lines() { # err-file
  grep -c 'refused' "$1" || true
}

step "--callback-key: callbacks without the key or with a wrong one get 401; the key as Bearer is accepted"
setup_emulator --delay-ms 3000
make_emails 2 >"$T/in2.txt"
start_bg key "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo \
  --emails "$T/in2.txt" --parallel 2 --callback-key "$KEY"
pid=$BG_PID
wait_until 30 "2 submits accepted" accepted_at_least 2
mapfile -t ids < <(accepted_task_ids)
CB=http://$LISTEN/receive_callback
assert_eq 401 "$(post_code "$CB" "$(forged "${ids[0]}" failed no-key)")" "a callback without a key"
assert_eq 401 "$(post_code "$CB" "$(forged "${ids[0]}" failed wrong-key)" -H "x-api-key: wrong-$KEY")" \
  "a callback with a wrong x-api-key"
assert_eq 401 "$(post_code "$CB" "$(forged "${ids[0]}" failed wrong-bearer)" -H "Authorization: Bearer wrong")" \
  "a callback with a wrong Bearer key"
assert_eq 401 "$(post_code "$CB" "$(forged "${ids[0]}" failed key-as-basic)" \
  -H "Authorization: Basic $(printf '%s' "$KEY" | base64)")" "the key sent as Basic credentials"
assert_eq 200 "$(post_code "$CB" "$(forged "${ids[1]}" success bearer)" -H "Authorization: Bearer $KEY")" \
  "a callback with Authorization: Bearer KEY"
assert_eq 200 "$(post_code "$CB" "$(forged 0000-unknown success x-api-key)" -H "x-api-key: $KEY")" \
  "a callback with the right x-api-key (a task not of this run)"
# 100 forged posts in a burst: all refused, and stderr is not flooded.
refused_before=$(refusal_lines "$T/key.err")
codes=$(timeout 30 python3 -c '
import collections, http.client, json, sys
port, task = int(sys.argv[1]), sys.argv[2]
body = json.dumps({"task_id": task, "status": "failed", "forged": "burst"})
codes = collections.Counter()
for _ in range(100):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/receive_callback", body, {"Content-Type": "application/json"})
    codes[c.getresponse().status] += 1
    c.close()
print(" ".join("%dx%d" % (n, s) for s, n in sorted(codes.items())))' "$LPORT" "${ids[0]}")
assert_eq "100x401" "$codes" "answers to 100 forged callbacks"
wait_exit "$pid" 30 "the run"
assert_exit 0 "$RC" "the run with forged callbacks around"
assert_line_count "$T/key.out" 2 "one line per input"
assert_json_lines "$T/key.out" "stdout"
assert_all_status "$T/key.out" success "statuses (no refused callback reached a waiter)"
for marker in no-key wrong-key wrong-bearer key-as-basic burst; do
  assert_file_not_contains "$T/key.out" "\"forged\":\"$marker\"" "stdout"
done
assert_eq bearer "$(jq -r --arg id "${ids[1]}" 'select(.task_id == $id) | .forged' "$T/key.out")" \
  "the callback sent with the Bearer key is the line of its task"
assert_eq null "$(jq -r --arg id "${ids[0]}" 'select(.task_id == $id) | .forged' "$T/key.out")" \
  "the line of the other task is the emulator's callback (sent with the key)"
refused=$(refusal_lines "$T/key.err")
log "refusal lines on stderr: $refused for 105 refused callbacks"
((refused >= 1)) || _fail_ctx "no refusal logged on stderr"
((refused - refused_before <= 10)) ||
  _fail_ctx "100 forged callbacks in a burst gave $((refused - refused_before)) refusal lines on stderr (not rate-limited)"

step "--callback-basic-file: Basic user:password accepted, a wrong password or user refused"
printf 'hook-user:p4ss-%s\n' "$RANDOM" >"$T/basic.txt"
chmod 600 "$T/basic.txt"
creds=$(head -n 1 "$T/basic.txt")
setup_emulator --delay-ms 60000 # the run ends with the Basic-authenticated callback below
emails_file in1.txt basic@example.com
start_bg basic "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo \
  --emails "$T/in1.txt" --callback-basic-file "$T/basic.txt" --timeout 30
pid=$BG_PID
wait_until 30 "1 submit accepted" accepted_at_least 1
id=$(accepted_task_ids | head -n 1)
CB=http://$LISTEN/receive_callback
assert_eq 401 "$(post_code "$CB" "$(forged "$id" failed basic-none)")" "no credentials"
assert_eq 401 "$(post_code "$CB" "$(forged "$id" failed basic-wrong-pw)" \
  -H "Authorization: Basic $(printf '%s' "${creds%%:*}:wrong" | base64)")" "a wrong password"
assert_eq 401 "$(post_code "$CB" "$(forged "$id" failed basic-wrong-user)" \
  -H "Authorization: Basic $(printf '%s' "intruder:${creds#*:}" | base64)")" "a wrong user"
assert_eq 401 "$(post_code "$CB" "$(forged "$id" failed basic-as-key)" -H "x-api-key: $creds")" \
  "the credentials sent as x-api-key"
assert_eq 200 "$(post_code "$CB" "$(forged "$id" success basic-ok)" \
  -H "Authorization: Basic $(printf '%s' "$creds" | base64)")" "the right user:password"
wait_exit "$pid" 30 "the run"
assert_exit 0 "$RC" "the run"
assert_line_count "$T/basic.out" 1 "one line"
assert_jq "$T/basic.out" '.forged + " " + .status' "basic-ok success" \
  "the line is the Basic-authenticated callback; the refused ones never reached it"

step "--public-url: a wrong token or the plain path get 404, even with the right key"
printf '%s\n' "$KEY" >"$T/key.txt"
setup_emulator --delay-ms 2000
start_bg public "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo \
  --emails "$T/in1.txt" --public-url "http://$LISTEN" --callback-key-file "$T/key.txt"
pid=$BG_PID
wait_until 30 "1 submit accepted" accepted_at_least 1
id=$(accepted_task_ids | head -n 1)
assert_eq 404 "$(post_code "http://$LISTEN/receive_callback" "$(forged "$id" failed plain-path)" \
  -H "x-api-key: $KEY")" "the plain callback path"
assert_eq 404 "$(post_code "http://$LISTEN/receive_callback/0123456789abcdef0123456789abcdef/0123abcd-1" \
  "$(forged "$id" failed wrong-token)" -H "x-api-key: $KEY")" "a wrong token"
assert_eq 404 "$(post_code "http://$LISTEN/receive_callback/../../etc/passwd" \
  "$(forged "$id" failed odd-path)" -H "x-api-key: $KEY")" "a path that is no token at all"
wait_exit "$pid" 30 "the run"
assert_exit 0 "$RC" "the run with --public-url and a key file"
assert_line_count "$T/public.out" 1 "one line"
assert_jq "$T/public.out" '.status + " " + (.forged // "real")' "success real" \
  "the line is the emulator's callback through the per-run URL"
assert_file_contains "$T/public.err" "refused" "refusals logged on stderr"

step "preflight: a --public-url that does not reach this machine stops the run before any submit"
setup_emulator --delay-ms 20
started=$(now)
chain_run preflight --endpoint demo --emails "$T/in1.txt" --public-url "http://127.0.0.1:1/x"
assert_exit 2 "$RC" "run whose public URL goes nowhere"
assert_empty_file "$T/preflight.out" "stdout"
assert_file_contains "$T/preflight.err" "does not reach this machine" "stderr"
assert_eq 0 "$(submit_count)" "submits"
assert_less "$(elapsed_since "$started")" 30 "seconds for the preflight to give up"
chain_run no_preflight --endpoint demo --emails "$T/in1.txt" --public-url "http://127.0.0.1:1/x" \
  --no-preflight --timeout 2
assert_eq 1 "$(accepted_count)" "submits with --no-preflight"
assert_exit 0 "$RC" "run with --no-preflight (its lost callback recovered at the deadline)"
assert_all_status "$T/no_preflight.out" success "status"

step "--tls-cert/--tls-key: the listener speaks HTTPS only"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" -out "$T/c.pem" -days 1 \
  -subj /CN=127.0.0.1 >"$T/openssl.log" 2>&1 || fail "openssl could not make a certificate" "$T/openssl.log"
setup_emulator --delay-ms 60000 # the run ends with the HTTPS callback below
start_bg tls "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo \
  --emails "$T/in1.txt" --tls-cert "$T/c.pem" --tls-key "$T/k.pem" --timeout 30
pid=$BG_PID
wait_until 30 "1 submit accepted" accepted_at_least 1
id=$(accepted_task_ids | head -n 1)
assert_eq 400 "$(post_code "https://$LISTEN/receive_callback" '{"task_id": "x", bad json' -k)" \
  "malformed JSON over HTTPS"
assert_eq 000 "$(post_code "http://$LISTEN/receive_callback" "$(forged "$id" failed plain-http)")" \
  "plain HTTP to the HTTPS listener"
is_alive "$pid" || _fail_ctx "the run ended before its callback"
assert_eq 200 "$(post_code "https://$LISTEN/receive_callback" "$(forged "$id" success over-tls)" -k)" \
  "a callback over HTTPS"
wait_exit "$pid" 30 "the run"
assert_exit 0 "$RC" "the run over HTTPS"
assert_jq "$T/tls.out" '.forged + " " + .status' "over-tls success" "the line is the HTTPS callback"

step "--tls-cert with a file that is no certificate: exit 2 before any submit"
printf 'not a certificate\n' >"$T/bad.pem"
setup_emulator --delay-ms 20
chain_run badcert --endpoint demo --emails "$T/in1.txt" --tls-cert "$T/bad.pem" --tls-key "$T/k.pem"
assert_exit 2 "$RC" "run with a bad certificate"
assert_empty_file "$T/badcert.out" "stdout"
assert_file_contains "$T/badcert.err" "tls" "stderr names the TLS options"
assert_eq 0 "$(submit_count)" "submits"

step "listening on 0.0.0.0 without a token or key warns; with a key (env OPTEXITY_CALLBACK_KEY) it does not"
setup_emulator --delay-ms 20
chain open run --api-url "$EMU_URL" --listen "0.0.0.0:$LPORT" --endpoint demo --emails "$T/in1.txt"
assert_exit 0 "$RC" "run listening on 0.0.0.0"
assert_all_status "$T/open.out" success "status"
(($(grep -i 'warning' "$T/open.err" | grep -c '0\.0\.0\.0') >= 1)) ||
  _fail_ctx "no warning about listening openly on 0.0.0.0: [$(cat "$T/open.err")]"
OPTEXITY_CALLBACK_KEY=$KEY chain keyed run --api-url "$EMU_URL" --listen "0.0.0.0:$LPORT" \
  --endpoint demo --emails "$T/in1.txt"
assert_exit 0 "$RC" "run listening on 0.0.0.0 with a key from the environment"
assert_all_status "$T/keyed.out" success "status (the emulator sent the key)"
assert_eq 0 "$(grep -i 'warning' "$T/keyed.err" | grep -c '0\.0\.0\.0' || true)" \
  "warnings about listening openly with a key"
