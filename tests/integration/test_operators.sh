#!/usr/bin/env bash
# What operators of long runs steer a run with: --halt stops submitting after failures (skipped
# lines, a rerun with --state submits them), --limit runs a canary, --rate spaces submits,
# --shard splits one input across processes (GNU parallel) with none run twice, --joblog keeps a
# TSV line per input, --tag names each line's input.
source "$(dirname "$0")/lib.sh"

make_emails 40 h >"$T/e40.txt"

step "--halt soon,fail=5 against a broken automation submits at most 5 + --parallel"
setup_emulator --fail-rate 1 --delay-ms 20
chain_run halt --endpoint demo --emails "$T/e40.txt" --parallel 3 --halt soon,fail=5 \
  --state "$T/halt.jnl"
assert_exit 1 "$RC" "a halted run"
assert_line_count "$T/halt.out" 40 "every input has its line"
accepted=$(accepted_count)
((accepted >= 5 && accepted <= 8)) || fail "expected 5..8 submits, got $accepted" "$EMU_LOG"
skipped=$(jq -r 'select(.status == "skipped") | 1' "$T/halt.out" | wc -l)
assert_eq $((40 - accepted)) "$skipped" "every input not submitted says skipped"
assert_eq "$skipped" "$(jq -r 'select(.error == "not submitted: --halt soon,fail=5: 5 tasks failed") | 1' "$T/halt.out" | wc -l)" \
  "the skipped lines name the halt"
assert_eq 0 "$(jq -r 'select(.status == "skipped" and .task_id != null) | 1' "$T/halt.out" | wc -l)" \
  "a skipped line has no task"
assert_file_contains "$T/halt.err" "warning: --halt soon,fail=5: 5 tasks failed: no new submits" \
  "the halt is said when it happens"
assert_file_contains "$T/halt.err" "$skipped inputs skipped (not submitted); rerun the same command" \
  "and what was left, at the end"

step "a rerun with --state submits the skipped inputs, and only them"
setup_emulator --delay-ms 0
chain_run rerun --endpoint demo --emails "$T/e40.txt" --parallel 3 --halt soon,fail=5 \
  --state "$T/halt.jnl"
assert_exit 1 "$RC" "the failures of the first run are reprinted"
assert_eq "$skipped" "$(accepted_count)" "only the skipped inputs were submitted"
assert_eq "$skipped" "$(jq -r 'select(.status == "success") | 1' "$T/rerun.out" | wc -l)" \
  "they succeeded"
assert_eq "$accepted" "$(jq -r 'select(.status == "failed") | 1' "$T/rerun.out" | wc -l)" \
  "the failures are reprinted, not run again"

step "--halt soon,fail=50% judges once 10 tasks finished"
setup_emulator --fail-rate 1 --delay-ms 0
chain_run pct --endpoint demo --emails "$T/e40.txt" --parallel 2 --halt soon,fail=50%
assert_exit 1 "$RC" "a halted run"
accepted=$(accepted_count)
((accepted >= 10 && accepted <= 12)) || fail "expected 10..12 submits, got $accepted" "$EMU_LOG"
assert_file_contains "$T/pct.err" "--halt soon,fail=50%: 10 of 10 finished tasks failed (100%)" \
  "the reason counts the tasks"

step "--halt now stops waiting: the tasks in flight are interrupted, with their task ids"
# One task in four fails at once, the others never end: the first failure halts the run.
setup_emulator --stuck-rate 0.75 --fail-rate 1 --delay-ms 0 --seed 11
start_bg now "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo \
  --emails "$T/e40.txt" --parallel 8 --halt now,fail=1 --progress none
wait_exit "$BG_PID" 60 "the run halted now"
assert_exit 1 "$RC" "a halted run"
assert_line_count "$T/now.out" 40 "every input has its line"
[ "$(jq -r 'select(.status == "interrupted") | 1' "$T/now.out" | wc -l)" -ge 1 ] ||
  fail "no task in flight was interrupted" "$T/now.out" "$EMU_LOG"
# (A submit the halt cut short has no task id to show: its answer was never read.)
interrupted=$(jq -r 'select(.status == "interrupted" and .task_id != null) | .task_id' "$T/now.out")
for id in $interrupted; do
  assert_file_contains "$EMU_LOG" " -> 202 task $id" "an interrupted line's task id is the service's"
done
# A submit the halt cut short may have been accepted without its answer read: it says
# interrupted (not skipped). So: no skipped line for a task the service accepted.
skipped=$(jq -r 'select(.status == "skipped") | 1' "$T/now.out" | wc -l)
((skipped >= 1 && skipped <= 40 - $(accepted_count))) ||
  fail "$skipped skipped lines, $(accepted_count) tasks accepted" "$T/now.out" "$EMU_LOG"
assert_eq 0 "$(jq -r 'select(.status == "skipped" and .task_id != null) | 1' "$T/now.out" | wc -l)" \
  "a skipped line has no task"
assert_file_contains "$T/now.err" "still running on the service" "the end says what runs on"

step "a halt releases the submitters waiting for their --rate turn at once"
setup_emulator --fail-rate 1 --delay-ms 0
start_bg ratehalt "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo \
  --emails "$T/e40.txt" --parallel 4 --rate 1/m --halt soon,fail=1 --progress none
wait_exit "$BG_PID" 30 "the run waiting a minute per submit"
assert_exit 1 "$RC" "a halted run"
assert_eq 1 "$(accepted_count)" "one submit: the others waited for their turn"
assert_eq 39 "$(jq -r 'select(.status == "skipped") | 1' "$T/ratehalt.out" | wc -l)" \
  "the others are skipped, none interrupted"

step "--limit 3 submits 3; the others are neither submitted nor printed"
setup_emulator --delay-ms 0
chain_run limit --endpoint demo --emails "$T/e40.txt" --limit 3
assert_exit 0 "$RC" "a canary"
assert_eq 3 "$(accepted_count)" "three submits"
assert_emails_in_order "$T/limit.out" "the first three inputs" h1@example.com h2@example.com h3@example.com
assert_file_contains "$T/limit.err" "--limit 3: 37 more inputs left, not run" "the summary says what was left"
setup_emulator --delay-ms 0
# A stream is not read past the limit: `yes` never ends.
chain_run limitstream --endpoint demo --emails - --limit 2 < <(yes someone@example.com)
assert_exit 0 "$RC" "a canary on an endless stream"
assert_line_count "$T/limitstream.out" 2 "two lines"
assert_file_contains "$T/limitstream.err" "--limit 2: the rest of stdin was not read" "said"

step "--rate 10/s spaces 30 submits over at least 2.5 s, whatever --parallel"
make_emails 30 r >"$T/e30.txt"
setup_emulator --delay-ms 0
started=$(now)
chain_run rate --endpoint demo --emails "$T/e30.txt" --rate 10/s --parallel 8
took=$(elapsed_since "$started")
assert_exit 0 "$RC" "a paced run"
assert_line_count "$T/rate.out" 30 "every input"
awk -v t="$took" 'BEGIN { exit !(t >= 2.5) }' || fail "30 submits at 10/s took $took s, expected >= 2.5 s"

step "--shard 1/4 .. 4/4 of 200 inputs: disjoint, they cover all, none submitted twice"
make_emails 200 s >"$T/e200.txt"
setup_emulator --delay-ms 0
for i in 1 2 3 4; do
  port=$(free_port)
  chain "shard$i" run --api-url "$EMU_URL" --endpoint demo --emails "$T/e200.txt" --parallel 8 --shard "$i/4" \
    --listen "127.0.0.1:$port" --public-url "http://127.0.0.1:$port" --state "$T/shard$i.jnl"
  assert_exit 0 "$RC" "shard $i/4"
  n=$(line_count "$T/shard$i.out")
  ((n >= 25 && n <= 75)) || fail "shard $i/4 ran $n of 200 inputs" "$T/shard$i.err"
  assert_file_contains "$T/shard$i.err" "--shard $i/4: $n of the 200 inputs read are this shard's" \
    "the summary"
done
cat "$T"/shard?.out | jq -r '.input.email[0]' | sort >"$T/shards.emails"
assert_eq 200 "$(line_count "$T/shards.emails")" "200 lines in all"
assert_eq 200 "$(sort -u "$T/shards.emails" | wc -l)" "each input once"
assert_eq 200 "$(accepted_count)" "200 submits: none run twice"

step "a shard keeps its inputs when the file is reordered or edited"
{ tac "$T/e200.txt"; echo new@example.com; } >"$T/e200-edited.txt"
"$BIN" run --endpoint demo --emails "$T/e200-edited.txt" --shard 2/4 --dry-run 2>/dev/null |
  jq -r '.body.input_parameters.email[0]' | grep -v '^new@' | sort >"$T/shard2-edited.emails"
jq -r '.input.email[0]' "$T/shard2.out" | sort >"$T/shard2.emails"
assert_eq "$(cat "$T/shard2.emails")" "$(cat "$T/shard2-edited.emails")" "the same inputs"

step "GNU parallel runs the four shards at once: merging them is cat"
if ! command -v parallel >/dev/null; then
  fail "GNU parallel is not installed (scripts/deps installs it)"
fi
setup_emulator --delay-ms 20
ports=()
for i in 1 2 3 4; do ports+=("$(free_port)"); done
# Each shard its own listener and journal; {1} is the shard, {2} its port.
timeout 120 parallel --will-cite -j4 --halt now,fail=1 \
  "$BIN" run --api-url "$EMU_URL" --endpoint demo --emails "$T/e200.txt" --shard {1}/4 \
  --listen 127.0.0.1:{2} --public-url http://127.0.0.1:{2} --state "$T/gnu{1}.jnl" -q \
  ::: 1 2 3 4 :::+ "${ports[@]}" >"$T/gnu.out" 2>"$T/gnu.err"
assert_exit 0 "$?" "GNU parallel's exit code"
assert_line_count "$T/gnu.out" 200 "every input"
assert_eq 200 "$(jq -r '.input.email[0]' "$T/gnu.out" | sort -u | wc -l)" "each once"
assert_all_status "$T/gnu.out" success "every one succeeded"
assert_eq 200 "$(accepted_count)" "200 submits"

step "the Kubernetes Indexed Job example runs shard JOB_COMPLETION_INDEX + 1"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$T/k8s/inputs" "$T/k8s/state" "$T/k8s/secrets"
cp "$T/e200.txt" "$T/k8s/inputs/emails.txt"
echo "callback-secret-123" >"$T/k8s/secrets/callback-key"
# The container's script, with its paths under $T and --dry-run: what pod 1 (shard 2/4) sends.
sed -n '/^            - |$/,/^          env:$/p' "$ROOT/examples/kubernetes/indexed-job.yaml" |
  sed -e '1d' -e '$d' -e 's/^              //' \
    -e "s#/inputs/#$T/k8s/inputs/#; s#/secrets/#$T/k8s/secrets/#; s#/state/#$T/k8s/state/#g" \
    -e "s#exec optexity-chain run#exec \"\$BIN\" run --dry-run#" >"$T/k8s/pod.sh"
assert_file_contains "$T/k8s/pod.sh" '--shard "$shard/4"' "the example's command was extracted"
JOB_COMPLETION_INDEX=1 PUBLIC_URL_BASE=https://cb.example.com OPTEXITY_API_KEY=k BIN=$BIN \
  sh "$T/k8s/pod.sh" >"$T/k8s.out" 2>"$T/k8s.err"
assert_exit 0 "$?" "the example's command (dry run)"
jq -r '.body.input_parameters.email[0]' "$T/k8s.out" | sort >"$T/k8s.emails"
"$BIN" run --endpoint my-automation --emails "$T/e200.txt" --shard 2/4 --dry-run 2>/dev/null |
  jq -r '.body.input_parameters.email[0]' | sort >"$T/k8s-expected.emails"
[ -s "$T/k8s.emails" ] || fail "pod 1 sends nothing" "$T/k8s.err"
assert_eq "$(cat "$T/k8s-expected.emails")" "$(cat "$T/k8s.emails")" "pod 1 runs shard 2/4"
assert_eq 0 "$(jq -r '.body.task_callback_url | select(startswith("https://cb.example.com/shard-2/receive_callback/") | not)' "$T/k8s.out" | wc -l)" \
  "its callbacks come to its own URL"

step "--joblog: a header once, a TSV line per input, appended by every run"
setup_emulator --fail-rate 0.5 --seed 5 --delay-ms 0
make_emails 10 j >"$T/e10.txt"
chain_run jl1 --endpoint demo --emails "$T/e10.txt" --joblog "$T/job.tsv" --parallel 4
chain_run jl2 --endpoint demo --emails "$T/e10.txt" --joblog "$T/job.tsv" --limit 2
assert_eq 13 "$(line_count "$T/job.tsv")" "a header and 10 + 2 lines"
assert_eq 1 "$(grep -c '^Seq	Source	TaskId	Status	Submitted	Started	Ended	Seconds	Error$' "$T/job.tsv")" \
  "one header"
assert_eq 0 "$(awk -F'\t' 'NF != 9' "$T/job.tsv" | wc -l)" "nine fields on every line"
assert_eq 0 "$(awk -F'\t' '{ for (i = 1; i <= NF; i++) if ($i == "") print }' "$T/job.tsv" | wc -l)" \
  "no empty field (column -t keeps the columns)"
# Each line names its input and task as stdout does.
jq -r '[.task_id, .status] | @tsv' "$T/jl1.out" | sort >"$T/stdout.pairs"
sed -n '2,11p' "$T/job.tsv" | awk -F'\t' '{ print $3 "\t" $4 }' | sort >"$T/joblog.pairs"
assert_eq "$(cat "$T/stdout.pairs")" "$(cat "$T/joblog.pairs")" "task ids and statuses"
assert_eq "$(seq 1 10)" "$(sed -n '2,11p' "$T/job.tsv" | cut -f1 | sort -n)" "sequence numbers"
assert_eq "$T/e10.txt:1" "$(awk -F'\t' '$1 == 1 { print $2; exit }' "$T/job.tsv")" "the source"
failed_line=$(awk -F'\t' '$4 == "failed" { print; exit }' "$T/job.tsv")
assert_contains "$failed_line" "Emulated failure" "a failure's error"
[[ $(cut -f5 <<<"$failed_line") =~ ^20[0-9-]+T[0-9:.]+Z$ ]] || fail "submitted at: [$failed_line]"
column -t -s $'\t' "$T/job.tsv" >/dev/null || fail "column -t cannot read the job log"
chain badlog run --emulate --endpoint demo --emails "$T/e10.txt" --joblog "$T/no/such/dir/job.tsv"
assert_exit 2 "$RC" "an unwritable job log"
assert_file_contains "$T/badlog.err" "--joblog $T/no/such/dir/job.tsv: No such file or directory" "named"
assert_empty_file "$T/badlog.out" "nothing ran"

step "--tag names each --unordered line's input"
setup_emulator --delay-ms 30 --jitter-ms 29
chain_run tag --endpoint demo --emails "$T/e10.txt" --unordered --parallel 10 --tag
assert_exit 0 "$RC" "a tagged run"
while IFS= read -r line; do
  src=$(jq -r .source <<<"$line")
  n=${src##*:}
  assert_eq "$(sed -n "${n}p" "$T/e10.txt")" "$(jq -r '.input.email[0]' <<<"$line")" "line of $src"
done <"$T/tag.out"
chain_run notag --endpoint demo --emails "$T/e10.txt" --limit 1
assert_eq null "$(jq -r .source "$T/notag.out")" "no source without --tag"

step "a flow takes the same controls: --limit, --tag, --joblog"
chain flow flow "$ROOT/examples/flows/claims.json" --input "$ROOT/examples/flows/customers.csv" \
  --emulate --script "$ROOT/examples/flows/claims.script.json" --limit 2 --tag \
  --joblog "$T/flow.tsv"
assert_exit 0 "$RC" "two items of the flow"
assert_eq "$ROOT/examples/flows/customers.csv:2 $ROOT/examples/flows/customers.csv:3" \
  "$(jq -r .source "$T/flow.out" | tr '\n' ' ' | sed 's/ $//')" "the first two items, tagged"
assert_file_contains "$T/flow.err" "--limit 2: 1 more item left, not run" "the summary counts items"
assert_eq 3 "$(line_count "$T/flow.tsv")" "a header and two lines"

step "a mistaken control is one line and exit 2"
for args in "--halt soon" "--halt soon,success=3" "--shard 5/4" "--shard 0/4" "--rate 10" \
  "--limit 0"; do
  # shellcheck disable=SC2086  # the flag and its value
  chain bad run --emulate --endpoint demo --emails "$T/e10.txt" $args
  assert_exit 2 "$RC" "$args"
  assert_eq 1 "$(line_count "$T/bad.err")" "$args: one line"
  assert_file_contains "$T/bad.err" "${args%% *}" "$args: names the flag"
done
assert_file_contains "$T/bad.err" "--limit: must be" "the number's range"
chain bad run --emulate --endpoint demo --emails "$T/e10.txt" --rate 10
assert_file_contains "$T/bad.err" "did you mean 10/s?" "a rate without its unit"
chain bad run --emulate --endpoint demo --emails "$T/e10.txt" --shard 0/4
assert_file_contains "$T/bad.err" "JOB_COMPLETION_INDEX" "a 0-based index"

