#!/usr/bin/env bash
# The API key from --api-key, --api-key-file and OPTEXITY_API_KEY; never shown, even with -v.
source "$(dirname "$0")/lib.sh"

KEY=k3y-7f3a9c51-SECRET-d00d
setup_emulator --api-key "$KEY" --delay-ms 20
make_emails 2 >"$T/in.txt"
mapfile -t emails <"$T/in.txt"

# The run NAME succeeded with the key, and shows it nowhere.
assert_keyed_run() { # name
  local name=$1
  assert_exit 0 "$RC" "run $name"
  assert_line_count "$T/$name.out" 2 "one line per input"
  assert_json_lines "$T/$name.out" "stdout"
  assert_all_status "$T/$name.out" success "statuses"
  assert_emails_in_order "$T/$name.out" "stdout order" "${emails[@]}"
  assert_file_not_contains "$T/$name.out" "$KEY" "stdout never shows the key"
  assert_file_not_contains "$T/$name.err" "$KEY" "stderr never shows the key"
}

step "--api-key"
unset OPTEXITY_API_KEY
chain_run flag --endpoint demo --emails "$T/in.txt" --api-key "$KEY"
assert_keyed_run flag

step "--api-key with -v"
chain_run flag_v -v --endpoint demo --emails "$T/in.txt" --api-key "$KEY"
assert_keyed_run flag_v
if ! grep -q 'debug' "$T/flag_v.err"; then
  _fail_ctx "-v printed no debug lines (the key check would prove nothing)"
fi

step "--api-key-file (with a trailing newline), with -v"
printf '%s\n' "$KEY" >"$T/key.txt"
chmod 600 "$T/key.txt"
chain_run file_v -v --endpoint demo --emails "$T/in.txt" --api-key-file "$T/key.txt"
assert_keyed_run file_v

step "OPTEXITY_API_KEY, with -v"
OPTEXITY_API_KEY=$KEY chain_run env_v -v --endpoint demo --emails "$T/in.txt"
assert_keyed_run env_v

step "OPTEXITY_API_KEY on stdin input too"
OPTEXITY_API_KEY=$KEY chain_run env_stdin -v --endpoint demo --emails - <"$T/in.txt"
assert_keyed_run env_stdin

step "an empty key file is a usage error"
: >"$T/empty-key.txt"
chain_run empty_key --endpoint demo --emails "$T/in.txt" --api-key-file "$T/empty-key.txt"
assert_exit 2 "$RC" "run with an empty key file"
assert_empty_file "$T/empty_key.out" "stdout"
assert_file_contains "$T/empty_key.err" "optexity-chain: error:" "stderr"

step "a wrong key with -v is refused, and neither key is shown"
chain_run wrong_v -v --endpoint demo --emails "$T/in.txt" --api-key "not-$KEY-x"
assert_exit 3 "$RC" "run with a wrong key"
assert_file_not_contains "$T/wrong_v.out" "$KEY" "stdout never shows the key"
assert_file_not_contains "$T/wrong_v.err" "$KEY" "stderr never shows the key"

assert_eq 10 "$(accepted_count)" "tasks the emulator accepted (2 per keyed run, 5 runs)"
