#!/usr/bin/env bash
# The command line itself: --version, --help, and every usage error exits 2.
source "$(dirname "$0")/lib.sh"

make_emails 2 >"$T/in.txt"

step "--version"
chain version --version
assert_exit 0 "$RC" "--version"
assert_file_contains "$T/version.out" "optexity-chain" "--version output"
assert_line_count "$T/version.out" 1 "--version output"

step "--help"
chain help --help
assert_exit 0 "$RC" "--help"
assert_file_contains "$T/help.out" "run" "--help lists the run subcommand"
assert_file_contains "$T/help.out" "emulator" "--help lists the emulator subcommand"

step "run --help lists every exit code"
chain run_help run --help
assert_exit 0 "$RC" "run --help"
for flag in --endpoint --emails --api-url --api-key --api-key-file --listen --timeout --retries --emulate; do
  assert_file_contains "$T/run_help.out" "$flag" "run --help mentions $flag"
done
assert_file_contains "$T/run_help.out" "Exit codes" "run --help has an exit code section"
for code in 0 1 2 3 130 141 143; do
  if ! grep -Eq "(^|[^0-9])$code([^0-9]|$)" <(sed -n '/Exit codes/,$p' "$T/run_help.out"); then
    _fail_ctx "run --help: exit code $code is not listed"
  fi
done

step "emulator --help"
chain emu_help emulator --help
assert_exit 0 "$RC" "emulator --help"
for flag in --port --callback-url --api-key --endpoints --delay-ms --jitter-ms --fail-rate \
  --drop-callback-rate --duplicate-callbacks --early-callback --transient-503 --seed; do
  assert_file_contains "$T/emu_help.out" "$flag" "emulator --help mentions $flag"
done

# A usage error: exit 2, nothing on stdout, something on stderr.
expect_usage_error() { # name args...
  local name=$1
  shift
  chain "$name" "$@"
  assert_exit 2 "$RC" "optexity-chain $*"
  assert_empty_file "$T/$name.out" "stdout of optexity-chain $*"
  if [[ ! -s $T/$name.err ]]; then
    _fail_ctx "optexity-chain $*: nothing on stderr"
  fi
}

step "usage errors exit 2"
expect_usage_error no_subcommand
expect_usage_error bad_subcommand frobnicate
expect_usage_error unknown_option run --endpoint demo --emails "$T/in.txt" --emulate --no-such-option
expect_usage_error unknown_top --no-such-option
expect_usage_error missing_endpoint run --emails "$T/in.txt" --emulate
expect_usage_error missing_emails run --endpoint demo --emulate
expect_usage_error endpoint_no_value run --emulate --emails "$T/in.txt" --endpoint
expect_usage_error bad_parallel run --endpoint demo --emails "$T/in.txt" --emulate --parallel 0
expect_usage_error bad_parallel_text run --endpoint demo --emails "$T/in.txt" --emulate --parallel many
expect_usage_error bad_timeout run --endpoint demo --emails "$T/in.txt" --emulate --timeout -1
expect_usage_error bad_retries run --endpoint demo --emails "$T/in.txt" --emulate --retries -1
expect_usage_error bad_listen run --endpoint demo --emails "$T/in.txt" --emulate --listen nonsense
expect_usage_error bad_listen_port run --endpoint demo --emails "$T/in.txt" --emulate --listen 127.0.0.1:99999
expect_usage_error bad_callback_path run --endpoint demo --emails "$T/in.txt" --emulate --callback-path nope
expect_usage_error bad_api_url run --endpoint demo --emails "$T/in.txt" --api-url 'not a url' --listen 127.0.0.1:0
expect_usage_error missing_key_file run --endpoint demo --emails "$T/in.txt" --emulate --api-key-file "$T/no-such-key"
expect_usage_error emu_bad_port emulator --port 70000
expect_usage_error emu_bad_rate emulator --port 0 --fail-rate 2
expect_usage_error emu_bad_callback emulator --port 0 --callback-url not-a-url
expect_usage_error emu_unknown emulator --port 0 --no-such-option
