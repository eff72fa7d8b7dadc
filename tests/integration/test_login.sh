#!/usr/bin/env bash
# The operator's conveniences: `login` stores a key checked by the service (0600, profiles) that
# runs and status then use, `logout` removes it; `completion SHELL` prints completions/ as built
# in; short options -e -i -j -V; `status` and `result` for many tasks (arguments, stdin, --state).
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CREDS=$XDG_CONFIG_HOME/optexity-chain/credentials
KEY=sk-login-test-4f1c2a

step "login refuses a key the service says is not valid, and stores nothing"
setup_emulator --api-key "$KEY" --delay-ms 0
rc=0
echo "sk-wrong-key-99" | "$BIN" login --api-url "$EMU_URL" >"$T/bad.out" 2>"$T/bad.err" || rc=$?
assert_exit 3 "$rc" "a refused key"
assert_file_contains "$T/bad.err" "the service says this API key is not valid" "said"
assert_file_not_contains "$T/bad.err" "sk-wrong-key-99" "the key is never printed"
[[ ! -e $CREDS ]] || fail "a refused key was stored"

step "login stores a valid key (0600 in a 0700 directory); a run and status use it"
echo "$KEY" | "$BIN" login --api-url "$EMU_URL" >"$T/login.out" 2>"$T/login.err"
assert_empty_file "$T/login.out" "stdout"
assert_file_contains "$T/login.err" "stored profile \"default\" in $CREDS (mode 0600)" "said"
assert_file_not_contains "$T/login.err" "$KEY" "the key is never printed"
assert_eq 600 "$(stat -c %a "$CREDS")" "the file's mode"
assert_eq 700 "$(stat -c %a "$(dirname "$CREDS")")" "the directory's mode"
make_emails 3 l >"$T/e3.txt"
chain_run withprofile -e demo -i "$T/e3.txt" --format lines --param-name email -j 3 -v
assert_exit 0 "$RC" "a run with the stored key, no other"
assert_all_status "$T/withprofile.out" success "accepted by the emulator that requires the key"
assert_file_not_contains "$T/withprofile.err" "$KEY" "not even with -v"
id=$(jq -r .task_id "$T/withprofile.out" | head -1)
chain st status "$id" --api-url "$EMU_URL"
assert_exit 0 "$RC" "status with the stored key"

step "a named profile, OPTEXITY_PROFILE, and a profile that is not stored"
echo "$KEY" | "$BIN" login --api-url "$EMU_URL" --profile work -q
assert_eq 2 "$(grep -c '^\[' "$CREDS")" "two profiles"
chain named status "$id" --api-url "$EMU_URL" --profile work
assert_exit 0 "$RC" "--profile work"
chain missing status "$id" --api-url "$EMU_URL" --profile nope
assert_exit 2 "$RC" "a profile not stored"
assert_file_contains "$T/missing.err" "profile \"nope\" is not in $CREDS: \`optexity-chain login --profile nope\` adds it" \
  "named, with the fix"
rc=0
OPTEXITY_PROFILE=nope "$BIN" status "$id" --api-url "$EMU_URL" >/dev/null 2>"$T/envprofile.err" || rc=$?
assert_exit 2 "$rc" "OPTEXITY_PROFILE names the profile too"
# An explicit key wins over the profile: a wrong one is refused.
chain wrong status "$id" --api-url "$EMU_URL" --api-key sk-wrong-key-99
assert_exit 3 "$RC" "--api-key comes before the profile"

step "logout removes a profile; a second logout says it is not stored"
chain out1 logout --profile work
assert_exit 0 "$RC" "logout --profile work"
assert_eq 1 "$(grep -c '^\[' "$CREDS")" "one profile left"
chain out2 logout --profile work
assert_exit 1 "$RC" "not stored"
assert_file_contains "$T/out2.err" "not logged in: no profile \"work\"" "said"
chain out3 logout
assert_exit 0 "$RC" "logout of the default"
[[ ! -e $CREDS ]] || fail "the empty credentials file is left behind"
chain nokey run --api-url https://api.example.invalid -e demo --emails "$T/e3.txt"
assert_exit 3 "$RC" "no key once logged out"
assert_file_contains "$T/nokey.err" "run \`optexity-chain login\` once" "the refusal names login"

step "completion SHELL prints completions/ exactly"
for shell in bash zsh fish; do
  case $shell in
    bash) file=$ROOT/completions/optexity-chain.bash ;;
    zsh) file=$ROOT/completions/_optexity-chain ;;
    fish) file=$ROOT/completions/optexity-chain.fish ;;
  esac
  "$BIN" completion "$shell" >"$T/comp.$shell" 2>"$T/comp.err"
  cmp -s "$file" "$T/comp.$shell" || fail "completion $shell differs from $file"
done
chain badshell completion tcsh
assert_exit 2 "$RC" "an unknown shell"
assert_eq 1 "$(line_count "$T/badshell.err")" "one line"
assert_file_contains "$T/badshell.err" "bash,zsh,fish" "the choices"

step "short options: -V, -e, -i, -j"
chain version -V
assert_exit 0 "$RC" "-V"
assert_file_contains "$T/version.out" "optexity-chain " "the version"

step "status and result of many tasks: arguments, stdin, --state; one failing does not stop the rest"
setup_emulator --delay-ms 0
make_emails 4 m >"$T/e4.txt"
chain_run four -e demo --emails "$T/e4.txt" -j 2 --state "$T/four.jnl"
assert_exit 0 "$RC" "four tasks"
mapfile -t ids < <(jq -r .task_id "$T/four.out")
chain many status --api-url "$EMU_URL" "${ids[0]}" "${ids[1]}" "${ids[2]}"
assert_exit 0 "$RC" "three ids"
assert_eq "${ids[0]} ${ids[1]} ${ids[2]}" "$(jq -r .task_id "$T/many.out" | tr '\n' ' ' | sed 's/ $//')" \
  "a line each, in the order given"
printf '%s\n\n%s\n' "${ids[3]}" "${ids[0]}" | "$BIN" status --api-url "$EMU_URL" >"$T/stdin.out" 2>"$T/stdin.err"
assert_eq "${ids[3]} ${ids[0]}" "$(jq -r .task_id "$T/stdin.out" | tr '\n' ' ' | sed 's/ $//')" "stdin's ids"
chain state result --api-url "$EMU_URL" --state "$T/four.jnl"
assert_exit 0 "$RC" "result of every task of a journal (its endpoint from the journal)"
assert_eq "$(jq -r .task_id "$T/four.out" | sort)" "$(jq -r .task_id "$T/state.out" | sort)" "every task"
assert_all_status "$T/state.out" success "their results"
chain mixed status --api-url "$EMU_URL" "${ids[0]}" no-such-task "${ids[1]}"
assert_exit 1 "$RC" "one unknown task"
assert_line_count "$T/mixed.out" 2 "the others are printed"
assert_file_contains "$T/mixed.err" "task no-such-task: " "the unknown one is named"
