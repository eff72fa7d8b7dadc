#!/usr/bin/env bash
# --downloads: a file streams to disk (a 300 MB file leaves the run's memory flat), each file
# has --download-timeout in all (a server sending one byte now and then cannot hold a line),
# downloads run beside the printing of other lines, and Ctrl-C ends one in progress. Only the
# service decides what is fetched: an unauthenticated callback's http URL is refused, and no
# redirect leads to this machine (the runs that download give --callback-key, so their
# callbacks are authenticated and may name the file server on loopback).
#
# The emulator lists its own small files in each callback. The callbacks reach the run through
# tests/tools/file_server, which relays them and, for inputs whose email starts with a --route
# prefix, points the downloads at itself: a big body made on the fly, or a trickle.
source "$(dirname "$0")/lib.sh"

: "${FILE_SERVER:?set FILE_SERVER to the file_server test tool (tests/tools/file_server.cpp)}"
[[ -x /usr/bin/time ]] || fail "/usr/bin/time is needed to measure peak memory"

BIG=300000000 # bytes: 300 MB, made on the fly by the file server, never held
MAX_RSS_KB=100000 # a third of the file: a run holding it could not stay below
# Above what the binary takes doing nothing (a sanitizer build starts at ~130 MB).
BASE_RSS_KB=$(/usr/bin/time -f %M "$BIN" --version 2>&1 >/dev/null | tail -n 1)
# Under AddressSanitizer, freed buffers wait in a quarantine (256 MB by default) before reuse:
# keep it small here so that peak memory still says whether the file was held.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"

# The paths of the files a run downloaded (its stdout), one a line.
download_paths() { # out-file
  jq -r '.downloads[] | select(has("path")) | .path' "$1"
}

# Leftover temporary files (NAME.part.PID.N) under a directory, one a line.
part_files() { # dir
  find "$1" -name '*.part.*' 2>/dev/null || true
}

CB_KEY=test-downloads-callback-key

step "start the file servers (one relaying to the run's listener) and the emulator"
# The target of a redirect: a second server, which must never see a request.
start_bg target timeout -k 5 "$BG_TIMEOUT" "$FILE_SERVER"
wait_until 20 "the target server's port" has_lines "$T/target.out" 1
TARGET_PORT=$(head -n 1 "$T/target.out")
LPORT=$(free_port)
LISTEN=127.0.0.1:$LPORT
start_bg files timeout -k 5 "$BG_TIMEOUT" "$FILE_SERVER" --relay-to "$LPORT" \
  --route big=/chunked/$BIG --route slow=/trickle/1 --route stop=/trickle/30 \
  --route plain=/bytes/65 --route redir=/redirect/$TARGET_PORT
FILES_PID=$BG_PID
wait_until 20 "the file server's port" has_lines "$T/files.out" 1
FILES_PORT=$(head -n 1 "$T/files.out")
FILES_LOG=$T/files.err
start_emulator_appending emulator "http://127.0.0.1:$FILES_PORT/receive_callback" \
  "$T/emulator.log" --delay-ms 50 --downloads 1 --screenshot inline

# Authenticated (--callback-key): the http URL on loopback is fetched.
step "a 300 MB download streams to disk: the file is whole, the run's memory stays flat"
emails_file big.txt big1@example.com
capture big /usr/bin/time -f 'wall=%e maxrss_kb=%M' -o "$T/big.time" \
  "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" --endpoint demo --emails "$T/big.txt" \
  --timeout 60 --downloads "$T/dl-big" --download-timeout 50 --no-screenshots \
  --callback-key "$CB_KEY"
assert_exit 0 "$RC" "run with a 300 MB download"
assert_line_count "$T/big.out" 1 "one line"
assert_all_status "$T/big.out" success "status"
assert_jq "$T/big.out" '[.downloads[] | has("download_error")] | any' false "no download_error"
task=$(jq -r .task_id "$T/big.out")
path=$(download_paths "$T/big.out")
assert_eq "$T/dl-big/$task/report-1.csv" "$path" "the download's path"
assert_eq "$BIG" "$(stat -c %s "$path")" "size of the downloaded file"
# Each 16-byte block of the body is its own offset in hex: the first and the last are in place.
assert_eq "000000000000000" "$(head -c 16 "$path" | head -n 1)" "the file's first block"
assert_eq "$(printf '%015x' $((BIG - 16)))" "$(tail -c 16 "$path" | head -n 1)" "the file's last block"
assert_eq "" "$(part_files "$T/dl-big")" "temporary files left"
assert_file_contains "$FILES_LOG" "sent /chunked/$BIG/report-1.csv whole" "the file server sent it all"
rss=$(time_field "$T/big.time" maxrss_kb)
log "300 MB download: wall $(time_field "$T/big.time" wall) s, max RSS $rss KB (doing nothing: $BASE_RSS_KB KB)"
assert_less "$((rss - BASE_RSS_KB))" "$MAX_RSS_KB" "max RSS (KB) above doing nothing, downloading $BIG bytes"
rm -rf "$T/dl-big"

# One byte a second: no read ever waits long, so only a deadline for the whole download ends it.
step "a trickling download ends at --download-timeout; the other lines are printed before it"
emails_file trickle.txt slow1@example.com fast1@example.com fast2@example.com
start=$(now)
chain_run trickle --endpoint demo --emails "$T/trickle.txt" --unordered --parallel 3 \
  --timeout 30 --downloads "$T/dl-trickle" --download-timeout 3 --no-screenshots \
  --callback-key "$CB_KEY"
took=$(elapsed_since "$start")
log "run with a trickling download took $took s"
# A failed download does not change the task's status (the man page, --downloads).
assert_exit 0 "$RC" "run with a trickling download"
assert_line_count "$T/trickle.out" 3 "a line per input"
assert_json_lines "$T/trickle.out" "stdout"
assert_all_status "$T/trickle.out" success "statuses"
assert_eq "slow1@example.com" "$(tail -n 1 "$T/trickle.out" | jq -r '.input.email[0]')" \
  "the last line printed (the fast ones did not wait for the slow download)"
assert_jq "$T/trickle.out" 'select(.input.email[0] == "slow1@example.com") | .downloads[0].download_error
    | test("^download timed out after 3 s \\([1-9][0-9]* bytes received\\)$")' \
  true "the trickling download's error"
assert_jq "$T/trickle.out" 'select(.input.email[0] != "slow1@example.com") | .downloads[0] | has("path")' \
  $'true\ntrue' "the other downloads have their path"
while read -r path; do
  [[ -s $path ]] || _fail_ctx "downloaded file $path is missing or empty"
done < <(download_paths "$T/trickle.out")
slow_task=$(jq -r 'select(.input.email[0] == "slow1@example.com") | .task_id' "$T/trickle.out")
assert_eq "" "$(find "$T/dl-trickle/$slow_task" -type f)" "files left of the timed-out download"
assert_file_contains "$FILES_LOG" "trickle /trickle/1/report-1.csv: sent byte 2" "the trickle started"
assert_less 3 "$took" "seconds the run took (at least the download timeout)"
assert_less "$took" 20 "seconds the run took (the timeout is total, not per read)"

step "SIGINT during a trickling download ends the run at once: exit 130, a line per input"
emails_file stop.txt stop1@example.com fast3@example.com
start_bg_default_signals sigint "$BIN" run --api-url "$EMU_URL" --listen "$LISTEN" \
  --endpoint demo --emails "$T/stop.txt" --parallel 2 --timeout 60 --downloads "$T/dl-stop" \
  --download-timeout 60 --no-screenshots --callback-key "$CB_KEY"
RUN_PID=$BG_PID
wait_until 30 "the trickling download to start" \
  grep -qF "trickle /trickle/30/report-1.csv: sent byte 1" "$FILES_LOG"
kill -INT "$RUN_PID"
start=$(now)
# Unless the read in progress is ended, the next byte (30 s) is the first chance to notice.
wait_exit "$RUN_PID" 10 "the run after SIGINT during a download"
log "the run ended $(elapsed_since "$start") s after SIGINT"
assert_exit 130 "$RC" "run interrupted by SIGINT"
assert_line_count "$T/sigint.out" 2 "a line per input"
assert_json_lines "$T/sigint.out" "stdout"
assert_emails_in_order "$T/sigint.out" "stdout order" stop1@example.com fast3@example.com
assert_jq "$T/sigint.out" 'select(.input.email[0] == "stop1@example.com") | .downloads[0].download_error' \
  "download interrupted" "the interrupted download's error"
assert_eq "" "$(part_files "$T/dl-stop")" "temporary files left"
is_alive "$FILES_PID" || _fail_ctx "the file server died"

# Anyone who can reach the listener can post on the plain path: such a callback must not make
# the tool fetch from this machine or the local network (request forgery).
step "an unauthenticated callback naming an http URL on loopback: refused, nothing requested"
emails_file plain.txt plain1@example.com
chain_run plain --endpoint demo --emails "$T/plain.txt" --timeout 30 --downloads "$T/dl-plain" \
  --no-screenshots
assert_exit 0 "$RC" "run with a refused download (the task's status is unchanged)"
assert_line_count "$T/plain.out" 1 "one line"
assert_all_status "$T/plain.out" success "status"
assert_file_contains "$FILES_LOG" "downloads /bytes/65" "the relay pointed the download at the file server"
assert_jq "$T/plain.out" '.downloads[0].download_error' \
  "download refused: http URL from an unauthenticated callback (only https is fetched; use --public-url or --callback-key)" \
  "the refused download's error"
assert_jq "$T/plain.out" '.downloads[0] | has("path")' false "no path for the refused download"
assert_eq "" "$(find "$T/dl-plain" -type f 2>/dev/null)" "files downloaded"
assert_file_not_contains "$FILES_LOG" "request GET /bytes/65/" "requests for the refused URL"
assert_file_contains "$T/plain.err" "download refused: http URL" "the warning on stderr"

step "an authenticated callback naming a URL that redirects to loopback: refused, target untouched"
emails_file redir.txt redir1@example.com
chain_run redir --endpoint demo --emails "$T/redir.txt" --timeout 30 --downloads "$T/dl-redir" \
  --no-screenshots --callback-key "$CB_KEY"
assert_exit 0 "$RC" "run with a refused redirect"
assert_line_count "$T/redir.out" 1 "one line"
assert_all_status "$T/redir.out" success "status"
assert_file_contains "$FILES_LOG" "GET /redirect/$TARGET_PORT/report-1.csv -> 302" \
  "the first server answered with the redirect"
assert_jq "$T/redir.out" '.downloads[0].download_error' \
  "download refused: redirect to 127.0.0.1 (loopback address)" "the refused redirect's error"
assert_eq "" "$(find "$T/dl-redir" -type f 2>/dev/null)" "files downloaded"
assert_file_not_contains "$T/target.err" "request " "requests the redirect's target saw"
# The target does log a request when one comes (so its silence above means something).
curl -sS -o /dev/null --max-time 10 "http://127.0.0.1:$TARGET_PORT/bytes/64/probe" ||
  fail "the target server did not answer a direct request"
assert_file_contains "$T/target.err" "request GET /bytes/64/probe -> 200" "the target's log of a request"
