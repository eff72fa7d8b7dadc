#!/usr/bin/env bash
# What a user sees for a mistake: one line on stderr per mistake (the suggestion first), nothing
# on stdout, exit 2; `help CMD`; the program's name in usage lines; status/result lines and their
# errors; the emulator's exit codes and help.
source "$(dirname "$0")/lib.sh"

make_emails 1 >"$T/in.txt"
printf '{"steps":[{"id":"a","endpoint":"demo"}]}\n' >"$T/flow.json"

# A usage error reported as exactly one line on stderr: exit 2, nothing on stdout.
expect_error() { # name expected-stderr-line args...
  local name=$1 expected=$2
  shift 2
  chain "$name" "$@"
  assert_exit 2 "$RC" "optexity-chain $*"
  assert_empty_file "$T/$name.out" "stdout of optexity-chain $*"
  assert_eq "$expected" "$(cat "$T/$name.err")" "stderr of optexity-chain $*"
}

E="optexity-chain: error:"
RUN=(run --endpoint demo --emails "$T/in.txt" --emulate)

step "numeric options: a short message naming the option (item 11)"
expect_error timeout_neg "$E --timeout: must be greater than 0 (got -5)" "${RUN[@]}" --timeout -5
expect_error timeout_zero "$E --timeout: must be greater than 0 (got 0)" "${RUN[@]}" --timeout 0
expect_error timeout_huge "$E --timeout: must be at most 1000000000 (got 1e300)" "${RUN[@]}" --timeout 1e300
expect_error timeout_text "$E --timeout: expected a number, got \"soon\"" "${RUN[@]}" --timeout soon
expect_error parallel_zero "$E --parallel: must be at least 1 (got 0)" "${RUN[@]}" --parallel 0
expect_error parallel_text "$E --parallel: expected a number, got \"many\"" "${RUN[@]}" --parallel many
expect_error parallel_frac "$E --parallel: expected a whole number, got \"2.5\"" "${RUN[@]}" --parallel 2.5
expect_error parallel_big "$E --parallel: must be at most 100000 (got 1000000)" "${RUN[@]}" --parallel 1000000
expect_error grace_neg "$E --grace: must be at least 0 (got -1)" "${RUN[@]}" --grace -1
expect_error retries_big "$E --retries: must be at most 100 (got 101)" "${RUN[@]}" --retries 101
expect_error attempts_zero "$E --attempts: must be at least 1 (got 0)" "${RUN[@]}" --attempts 0
expect_error flow_max_wait "$E --max-wait: must be greater than 0 (got -1)" \
  flow "$T/flow.json" --input "$T/in.txt" --emulate --max-wait -1
expect_error emu_rate "$E --fail-rate: must be between 0 and 1 (got 2)" emulator --fail-rate 2
expect_error emu_port "$E --port: must be at most 65535 (got 70000)" emulator --port 70000
expect_error emu_delay "$E --delay-ms: must be at least 0 (got -1)" emulator --delay-ms -1
expect_error emu_stuck_at "$E --stuck-at: must be at least 1 (got 0)" emulator --stuck-at 2,0
expect_error status_timeout "$E --timeout: must be greater than 0 (got 0)" status t1 --timeout 0

# Every numeric option of run, flow, emulator and status, with a value below its range: one
# line that names the option, and never CLI11's "Value ... not in range ... 1797693134862315708...".
for spec in \
  "run --max-timeout-minutes 0" "run --retries -1" "run --connect-timeout 0" \
  "run --read-timeout 0" "run --watchdog 0" "run --timeout -5" "run --attempts 0" \
  "run --max-wait 0" "run --straggler-after 0" "run --poll 0" "run --parallel 0" \
  "run --download-timeout 0" "run --grace -1" "run --delay-ms -1" "run --capacity -1" \
  "run --time-scale 0" "run --priority x" \
  "flow --timeout 0" "flow --parallel 0" "flow --poll -1" "flow --kill-rate 1.5" \
  "emulator --jitter-ms -1" "emulator --kill-rate -1" "emulator --drop-callback-rate 9" \
  "emulator --capacity -1" "emulator --max-retries 21" "emulator --attempt-fail-rate 2" \
  "emulator --stuck-rate 2" "emulator --drop-callback-at 0" "emulator --time-scale 0" \
  "emulator --duplicate-callbacks -1" "emulator --duplicate-rate 2" \
  "emulator --lost-answer-rate 2" "emulator --bad-answer-rate 2" \
  "emulator --repeat-task-id -1" "emulator --answer-422-echo 2" "emulator --transient-503 -1" \
  "emulator --screenshot-bytes -1" "emulator --downloads -1" "emulator --seed -1" \
  "status --timeout -1" "result --timeout -1"; do
  read -r cmd opt value <<<"$spec"
  case $cmd in
  run) args=("${RUN[@]}") ;;
  flow) args=(flow "$T/flow.json" --input "$T/in.txt" --emulate) ;;
  emulator) args=(emulator) ;;
  status) args=(status t1) ;;
  result) args=(result t1 --endpoint demo) ;;
  esac
  chain range "${args[@]}" "$opt" "$value"
  assert_exit 2 "$RC" "$spec"
  assert_empty_file "$T/range.out" "stdout of $spec"
  assert_line_count "$T/range.err" 1 "stderr of $spec"
  assert_contains "$(cat "$T/range.err")" "$E $opt: " "stderr of $spec"
  assert_not_contains "$(cat "$T/range.err")" "not in range" "stderr of $spec"
done

step "a misspelt command or option: the suggestion, and nothing else (item 12)"
expect_error typo_cmd "$E unknown command 'rn': did you mean 'run'?" rn
expect_error typo_cmd_args "$E unknown command 'emulatr': did you mean 'emulator'?" emulatr --port 0
expect_error unknown_cmd "$E unknown command 'frobnicate' (commands: run, flow, emulator, status, result, report, replay, login, logout and completion)" frobnicate
expect_error typo_opt "$E unknown option --paralel: did you mean --parallel?" "${RUN[@]}" --paralel 5
expect_error typo_opt_eq "$E unknown option --paralel: did you mean --parallel?" "${RUN[@]}" --paralel=5
expect_error typo_version "$E unknown option --verison: did you mean --version?" --verison
expect_error typo_required "$E unknown option --endpiont: did you mean --endpoint?" \
  run --endpiont demo --emails "$T/in.txt" --emulate
expect_error unknown_opt "$E unknown option --no-such-option (see optexity-chain run --help)" \
  "${RUN[@]}" --no-such-option
expect_error no_cmd "$E a command is required: run, flow, emulator, status, result, report, replay, login, logout or completion (see optexity-chain --help)"
# Two mistakes: two lines, the suggestion first.
chain two run --emails "$T/in.txt" --paralel 5
assert_exit 2 "$RC" "two mistakes"
assert_empty_file "$T/two.out" "stdout"
assert_eq "$E unknown option --paralel: did you mean --parallel?
$E --endpoint is required" "$(cat "$T/two.err")" "stderr"

step "help CMD is CMD --help; help is --help"
chain help_run_a help run
assert_exit 0 "$RC" "help run"
assert_empty_file "$T/help_run_a.err" "stderr of help run"
chain help_run_b run --help
assert_eq "$(cat "$T/help_run_b.out")" "$(cat "$T/help_run_a.out")" "help run is run --help"
chain help_top_a help
assert_exit 0 "$RC" "help"
chain help_top_b --help
assert_eq "$(cat "$T/help_top_b.out")" "$(cat "$T/help_top_a.out")" "help is --help"
chain help_emu help emulator --port 0
assert_exit 0 "$RC" "help emulator --port 0"
assert_file_contains "$T/help_emu.out" "Usage: optexity-chain emulator" "help emulator"
expect_error help_typo "$E unknown command 'rn': did you mean 'run'?" help rn

step "the usage line shows the program's name, not its path (item 20)"
assert_eq "Usage: optexity-chain run [OPTIONS]" "$(grep "^Usage:" "$T/help_run_b.out")" "run --help"
assert_eq "Usage: optexity-chain [OPTIONS] SUBCOMMAND" "$(grep "^Usage:" "$T/help_top_b.out")" "--help"
assert_file_not_contains "$T/help_run_b.out" "$BIN" "run --help"

step "--param-name takes a NAME (item 13)"
assert_file_contains "$T/help_run_b.out" "--param-name NAME " "run --help: --param-name's value"
assert_file_not_contains "$T/help_run_b.out" "NAME=value" "run --help"
printf 'https://example.com/a\n' >"$T/urls.txt"
expect_error param_eq \
  "$E --param-name takes a parameter NAME, not NAME=VALUE (got \"url=x\"): use --param-name url, or --set url=x for a constant parameter" \
  run --endpoint demo --input "$T/urls.txt" --format lines --emulate --param-name url=x
expect_error param_eq_flow \
  "$E --param-name takes a parameter NAME, not NAME=VALUE (got \"url=x\"): use --param-name url" \
  flow "$T/flow.json" --input "$T/urls.txt" --format lines --emulate --param-name url=x

step "--retry-failed and --resubmit-unfinished need --state (item 14)"
expect_error retry_failed "$E --retry-failed acts on a journal: use it with --state FILE" \
  "${RUN[@]}" --retry-failed
expect_error resubmit "$E --resubmit-unfinished acts on a journal: use it with --state FILE" \
  "${RUN[@]}" --resubmit-unfinished
expect_error both \
  "$E --retry-failed and --resubmit-unfinished act on a journal: use them with --state FILE" \
  "${RUN[@]}" --retry-failed --resubmit-unfinished
expect_error retry_failed_flow "$E --retry-failed acts on a journal: use it with --state FILE" \
  flow "$T/flow.json" --input "$T/in.txt" --emulate --retry-failed
# With --state they are taken.
chain with_state "${RUN[@]}" --retry-failed --state "$T/state.jnl"
assert_exit 0 "$RC" "--retry-failed with --state"

step "status and result print a run line's shape; errors on stderr (item 17)"
setup_emulator --delay-ms 20
chain_run done --endpoint demo --emails "$T/in.txt"
assert_exit 0 "$RC" "run"
task=$(jq -r .task_id "$T/done.out")
chain st status "$task" --api-url "$EMU_URL"
assert_exit 0 "$RC" "status"
assert_empty_file "$T/st.err" "stderr of status"
assert_line_count "$T/st.out" 1 "status"
assert_jq "$T/st.out" '[keys_unsorted[:3][]] | join(" ")' "task_id status error" "status: a run line's keys first"
assert_jq "$T/st.out" '.task_id + " " + .status' "$task success" "status"
assert_jq "$T/st.out" 'has("success") or has("task")' false "status: no envelope"
chain res result "$task" --endpoint demo --api-url "$EMU_URL"
assert_exit 0 "$RC" "result"
assert_empty_file "$T/res.err" "stderr of result"
assert_eq "$(jq -c 'del(.input)' "$T/done.out")" "$(jq -c . "$T/res.out")" \
  "result prints the run's line (less input), keys in the same order"

step "status/result of an unknown task: stderr only, exit 1"
chain st_unknown status no-such-task --api-url "$EMU_URL"
assert_exit 1 "$RC" "status of an unknown task"
assert_empty_file "$T/st_unknown.out" "stdout"
assert_eq "$E task no-such-task: HTTP 404: Task not found" "$(cat "$T/st_unknown.err")" "stderr"
chain res_unknown result no-such-task --endpoint demo --api-url "$EMU_URL"
assert_exit 1 "$RC" "result of an unknown task"
assert_empty_file "$T/res_unknown.out" "stdout"
assert_eq "$E task no-such-task: HTTP 404: Task not found" "$(cat "$T/res_unknown.err")" "stderr"

step "result of a task still running: stderr only, exit 1"
setup_emulator_named slow --delay-ms 60000
running=$(curl -sS --max-time 10 -H 'Content-Type: application/json' \
  --data '{"endpoint_name":"demo","input_parameters":{"email":["a@example.com"]},"unique_parameter_names":[]}' \
  "$EMU_URL/api/v1/inference" | jq -r .task_id)
assert_ne "" "$running" "the submit's task id"
chain st_running status "$running" --api-url "$EMU_URL"
assert_exit 0 "$RC" "status of a running task"
assert_jq "$T/st_running.out" '.status' running "status"
chain res_running result "$running" --endpoint demo --api-url "$EMU_URL"
assert_exit 1 "$RC" "result of a running task"
assert_empty_file "$T/res_running.out" "stdout"
assert_eq "$E task $running has not finished yet: no result to show (try \`status\`)" \
  "$(cat "$T/res_running.err")" "stderr"

step "status/result of an unreachable service: exit 3"
port=$(free_port)
for cmd in "status t1" "result t1 --endpoint demo"; do
  # shellcheck disable=SC2086 # the command's words
  chain unreachable $cmd --api-url "http://127.0.0.1:$port" --timeout 5
  assert_exit 3 "$RC" "$cmd against a closed port"
  assert_empty_file "$T/unreachable.out" "stdout of $cmd"
  assert_line_count "$T/unreachable.err" 1 "stderr of $cmd"
  assert_contains "$(cat "$T/unreachable.err")" "$E cannot reach the service at http://127.0.0.1:$port: " \
    "stderr of $cmd"
done
chain st_help status --help
assert_file_contains "$T/st_help.out" "3    the service refused the request (bad API key) or cannot be reached" \
  "status --help"

step "the emulator's help has its own exit codes"
chain emu_help emulator --help
assert_exit 0 "$RC" "emulator --help"
assert_file_contains "$T/emu_help.out" "130  interrupted by SIGINT" "emulator --help"
assert_file_contains "$T/emu_help.out" "Usage: optexity-chain emulator" "emulator --help"
assert_file_not_contains "$T/emu_help.out" "every task succeeded" "emulator --help (run's table)"

step "the emulator exits 130 on SIGINT, 143 on SIGTERM, after a clean shutdown"
for sig in INT:130 TERM:143; do
  name=${sig%%:*}
  start_bg_default_signals "emu_$name" "$BIN" emulator --host 127.0.0.1 --port 0 \
    --callback-url "http://127.0.0.1:$port/receive_callback"
  pid=$BG_PID
  wait_until 20 "the emulator's URL" has_lines "$T/emu_$name.out" 1
  wait_until 20 "the emulator listening" curl -sS -o /dev/null --max-time 2 \
    "$(head -n 1 "$T/emu_$name.out")/api/v1/task_status?task_id=x"
  kill -"$name" "$pid"
  wait_exit "$pid" 20 "the emulator after SIG$name"
  assert_exit "${sig#*:}" "$RC" "the emulator's exit after SIG$name"
  assert_file_not_contains "$T/emu_$name.err" "error" "the emulator's stderr after SIG$name"
done
