#!/usr/bin/env bash
# The run report as a person sees it: an emulator run with failures and screenshots becomes one
# HTML file that headless Chromium opens offline; its DOM shows the counts and a row with a
# screenshot for every failure; a payload's <script> stays text; `run --report` writes the same
# at the end of a run; the examples' runs report every failure with its screenshot.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# Headless Chromium, offline; "" when it cannot start here (the reason is logged).
CHROMIUM=""
start_chromium_check() {
  local bin
  bin=$(command -v chromium || command -v chromium-browser || true)
  if [[ -z $bin ]]; then
    log "SKIP (browser parts): chromium is not installed (scripts/deps installs Debian's chromium)"
    return
  fi
  # As root (CI) Chromium needs --no-sandbox; no GPU, no network needed.
  if ! timeout 60 "$bin" --headless --no-sandbox --disable-gpu --dump-dom about:blank \
    >"$T/chromium-check.out" 2>"$T/chromium-check.err" ||
    ! grep -q '<html' "$T/chromium-check.out"; then
    log "SKIP (browser parts): chromium cannot start here: $(grep -v dbus "$T/chromium-check.err" | tail -1)"
    return
  fi
  CHROMIUM=$bin
}
chromium_dom() { # html-file dom-file
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 \
    --dump-dom "file://$1" >"$2" 2>"$2.err"
}
start_chromium_check

step "an emulator run with failures and screenshots, and its report"
setup_emulator --fail-rate 0.3 --seed 9 --delay-ms 20 --jitter-ms 15 --screenshot inline
make_emails 40 r >"$T/e40.txt"
chain_run run --endpoint demo --emails "$T/e40.txt" --parallel 8 --state "$T/run.jnl"
assert_exit 1 "$RC" "a run with failures"
failures=$(jq -r 'select(.status != "success") | 1' "$T/run.out" | wc -l)
((failures >= 5 && failures <= 25)) || fail "expected 5..25 failures with --seed 9, got $failures"
chain report report "$T/run.out" --state "$T/run.jnl" -o "$T/report.html"
assert_exit 0 "$RC" "the report"
assert_empty_file "$T/report.out" "stdout"
assert_file_contains "$T/report.err" "report written to $T/report.html: 40 lines, $failures not successful" \
  "stderr says what was written"
# Self-contained: nothing to fetch.
assert_eq 0 "$(grep -cE '<link|<script src|@import|src="https?:|url\(' "$T/report.html" || true)" \
  "no external resource"
assert_eq "$failures" "$(grep -c 'src="data:image/png;base64,' "$T/report.html")" \
  "an inline screenshot per failure, none for the successes"

if [[ -n $CHROMIUM ]]; then
  step "headless Chromium opens it offline: the counts, a row and a screenshot per failure"
  chromium_dom "$T/report.html" "$T/report.dom"
  assert_exit 0 "$?" "chromium --dump-dom"
  ok=$((40 - failures))
  assert_file_contains "$T/report.dom" "id=\"count-failed\" data-status=\"failed\">failed<b>$failures</b>" \
    "the failed count"
  assert_file_contains "$T/report.dom" "id=\"count-success\" data-status=\"success\">success<b>$ok</b>" \
    "the success count"
  # The filter script ran: it counts the rows it shows (the failures; successes are off).
  assert_file_contains "$T/report.dom" "<span id=\"shown\">$failures of 40 lines shown</span>" \
    "the filter shows the failures"
  assert_eq "$failures" "$(grep -o '<tr class="row" data-status="failed"[^>]*>' "$T/report.dom" | grep -vc ' hidden' || true)" \
    "a visible row per failure"
  for email in $(jq -r 'select(.status != "success") | .input.email[0]' "$T/run.out"); do
    assert_file_contains "$T/report.dom" "{&quot;email&quot;:[&quot;$email&quot;]}" "the row of $email"
  done
  # Successes come in when asked for (the box, or #status= in the URL), in line order.
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --dump-dom \
    "file://$T/report.html#status=success,failed" >"$T/all.dom" 2>/dev/null
  assert_file_contains "$T/all.dom" "<span id=\"shown\">40 of 40 lines shown</span>" "every line"
  assert_eq "$(seq 1 40)" "$(grep -o '<tr class="row"[^>]*><td>[0-9]*' "$T/all.dom" | grep -o '[0-9]*$')" \
    "rows in line order"
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1280,900 --screenshot="$T/report.png" "file://$T/report.html" >/dev/null 2>&1
  [[ $(head -c 8 "$T/report.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
    fail "chromium wrote no PNG picture of the report"
fi

step "a payload's <script> and markup are shown as text, never run"
cat >"$T/evil.jsonl" <<'JSON'
{"status":"failed","task_id":"<i>t1</i>","endpoint_name":"</option><script>document.title='pwned'</script>","error":"<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">","input":{"q":["\"><svg onload=alert(1)>"]},"source":"'><b>x</b>"}
JSON
chain evil report "$T/evil.jsonl" -o "$T/evil.html"
assert_exit 0 "$RC" "the report"
assert_eq 2 "$(grep -o '<script' "$T/evil.html" | wc -l)" "two scripts: the report's data and filter"
assert_file_not_contains "$T/evil.html" "<img src=x" "no markup from the payload"
assert_file_not_contains "$T/evil.html" "<svg onload" "no markup from the input"
assert_file_contains "$T/evil.html" "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" \
  "the error as text"
if [[ -n $CHROMIUM ]]; then
  chromium_dom "$T/evil.html" "$T/evil.dom"
  assert_file_contains "$T/evil.dom" "<title>optexity-chain run report</title>" "the title is unchanged"
  assert_file_not_contains "$T/evil.dom" "pwned</title>" "no script of the payload ran"
  assert_eq 0 "$(grep -c '<img src="x"' "$T/evil.dom" || true)" "no element of the payload"
fi

step "run --report writes the report at the end of the run"
setup_emulator --fail-rate 0.3 --seed 9 --delay-ms 10 --screenshot inline
chain_run withreport --endpoint demo --emails "$T/e40.txt" --parallel 8 --report "$T/run-report.html"
assert_exit 1 "$RC" "a run with failures"
f2=$(jq -r 'select(.status != "success") | 1' "$T/withreport.out" | wc -l)
assert_file_contains "$T/withreport.err" "report written to $T/run-report.html: 40 lines, $f2 not successful" \
  "said at the end"
assert_file_contains "$T/run-report.html" "data-status=\"failed\">failed<b>$f2</b>" "its counts"
assert_file_contains "$T/run-report.html" "<b id=wall>" "the run's own timings"

step "the examples' runs: every failure with its screenshot (downloaded with --screenshots)"
chain ex run --emulate --endpoint demo --emails "$ROOT/examples/emails.txt" --fail-rate 0.5 --seed 2 \
  --screenshots "$T/shots" --report "$T/ex.html"
exf=$(jq -r 'select(.status != "success") | 1' "$T/ex.out" | wc -l)
((exf >= 1)) || fail "the example run has no failure with --seed 2" "$T/ex.out"
assert_eq "$exf" "$(grep -c 'src="data:image/png;base64,' "$T/ex.html")" \
  "each failure's screenshot, inline (the download fetched)"
chain exflow flow "$ROOT/examples/flows/claims.json" --input "$ROOT/examples/flows/customers.csv" \
  --emulate --script "$ROOT/examples/flows/claims.script.json" --report "$T/flow.html"
assert_exit 0 "$RC" "the example flow"
assert_file_contains "$T/flow.html" "data-status=\"success\">success<b>3</b>" "its items"
assert_file_contains "$T/flow.html" "<option>file-claim</option>" "its endpoints to filter by"
if [[ -n $CHROMIUM ]]; then
  chromium_dom "$T/ex.html" "$T/ex.dom"
  assert_file_contains "$T/ex.dom" "<span id=\"shown\">$exf of 3 lines shown</span>" "the example's failures"
fi

step "stdin in, stdout out; lines that are not JSON are counted, not fatal; a missing file is exit 2"
{ head -3 "$T/run.out"; echo "not json"; } | "$BIN" report -o - >"$T/stdin.html" 2>"$T/stdin.err"
assert_exit 0 "$?" "report of stdin"
assert_file_contains "$T/stdin.html" "<!doctype html>" "HTML on stdout"
assert_file_contains "$T/stdin.html" "1 unreadable line" "the header counts the bad line"
assert_file_contains "$T/stdin.err" "1 line is not JSON: left out" "a warning"
chain missing report "$T/nope.jsonl" -o "$T/nope.html"
assert_exit 2 "$RC" "a missing input"
assert_eq 1 "$(line_count "$T/missing.err")" "one line"
assert_file_contains "$T/missing.err" "nope.jsonl" "naming the file"
[[ ! -e $T/nope.html ]] || fail "a report was written for a missing input"
