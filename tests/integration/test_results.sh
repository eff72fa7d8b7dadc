#!/usr/bin/env bash
# What a line carries besides the payload's fields: large screenshots inline or written to files
# (--screenshots DIR), removed (--no-screenshots); downloads fetched into --downloads DIR.
source "$(dirname "$0")/lib.sh"

PNG_SIG='89504e470d0a1a0a'
SHOT_BYTES=8000000

# The first N bytes of a file as hex.
hex_head() { # file n
  od -An -tx1 -N"$2" "$1" | tr -d ' \n'
}

make_emails 3 shot >"$T/in.txt"
mapfile -t emails <"$T/in.txt"
setup_emulator --delay-ms 50 --screenshot-bytes "$SHOT_BYTES" --downloads 2 --screenshot inline

step "8 MB screenshots inline: each line is whole JSON with a ~10.7 MB base64 final_screenshot"
chain_run inline --endpoint demo --emails "$T/in.txt" --parallel 3 --timeout 30
assert_exit 0 "$RC" "run with 8 MB screenshots"
assert_line_count "$T/inline.out" 3 "one line per email"
assert_json_lines "$T/inline.out" "stdout"
assert_all_status "$T/inline.out" success "statuses"
assert_emails_in_order "$T/inline.out" "stdout order" "${emails[@]}"
assert_callback_lines "$T/inline.out" demo "callback payloads"
# base64 of 8,000,000 bytes: 4 * ceil(8000000 / 3) = 10,666,668 characters.
assert_jq "$T/inline.out" '.final_screenshot | length' $'10666668\n10666668\n10666668' \
  "base64 length of each final_screenshot"
for i in 1 2 3; do
  sed -n "${i}p" "$T/inline.out" | jq -r .final_screenshot | base64 -d >"$T/inline-$i.png" ||
    _fail_ctx "line $i: final_screenshot is not valid base64"
  assert_eq "$SHOT_BYTES" "$(stat -c %s "$T/inline-$i.png")" "line $i: decoded screenshot size"
  assert_eq "$PNG_SIG" "$(hex_head "$T/inline-$i.png" 8)" "line $i: decoded screenshot starts with the PNG signature"
done
rm -f "$T"/inline-*.png

step "--screenshots DIR: DIR is created, each final_screenshot becomes DIR/<task_id>.png"
shots=$T/shots/nested/dir
chain_run files --endpoint demo --emails "$T/in.txt" --parallel 3 --timeout 30 --screenshots "$shots"
assert_exit 0 "$RC" "run with --screenshots"
assert_line_count "$T/files.out" 3 "one line per email"
assert_json_lines "$T/files.out" "stdout"
assert_all_status "$T/files.out" success "statuses"
assert_emails_in_order "$T/files.out" "stdout order" "${emails[@]}"
[[ -d $shots ]] || _fail_ctx "the screenshots directory $shots was not created"
bad=$(jq -r --arg d "$shots" 'select(.final_screenshot != ($d + "/" + .task_id + ".png")) | .final_screenshot' "$T/files.out")
[[ -z $bad ]] || _fail_ctx "final_screenshot is not DIR/<task_id>.png: [$(head -c 500 <<<"$bad")]"
while read -r path; do
  [[ -f $path ]] || _fail_ctx "screenshot file $path is missing"
  assert_eq "$SHOT_BYTES" "$(stat -c %s "$path")" "size of $path"
  assert_eq "$PNG_SIG" "$(hex_head "$path" 8)" "$path starts with the PNG signature"
done < <(jq -r .final_screenshot "$T/files.out")
assert_eq 3 "$(find "$shots" -type f | wc -l)" "files in the screenshots directory"
assert_less "$(stat -c %s "$T/files.out")" 100000 "bytes of stdout without inline screenshots"
rm -rf "$T/shots"

step "--no-screenshots: no final_screenshot field"
chain_run none --endpoint demo --emails "$T/in.txt" --parallel 3 --timeout 30 --no-screenshots
assert_exit 0 "$RC" "run with --no-screenshots"
assert_line_count "$T/none.out" 3 "one line per email"
assert_json_lines "$T/none.out" "stdout"
assert_all_status "$T/none.out" success "statuses"
assert_jq "$T/none.out" 'has("final_screenshot")' $'false\nfalse\nfalse' "final_screenshot absent"
assert_callback_lines "$T/none.out" demo "the rest of the payload"

step "--screenshots and --no-screenshots together: a usage error, exit 2"
chain_run both --endpoint demo --emails "$T/in.txt" --screenshots "$T/s" --no-screenshots
assert_exit 2 "$RC" "both screenshot options"
assert_empty_file "$T/both.out" "stdout"

step "--downloads DIR with emulator --downloads 2: each entry gains path = DIR/<task_id>/<filename>"
dl=$T/dl/here
# --callback-key: the callbacks are authenticated, so their http URLs (the emulator, on
# loopback) are fetched; test_downloads.sh has the refusals.
chain_run down --endpoint demo --emails "$T/in.txt" --parallel 3 --timeout 30 --downloads "$dl" \
  --no-screenshots --callback-key test-results-callback-key
assert_exit 0 "$RC" "run with --downloads"
assert_line_count "$T/down.out" 3 "one line per email"
assert_json_lines "$T/down.out" "stdout"
assert_all_status "$T/down.out" success "statuses"
assert_jq "$T/down.out" '.downloads | length' $'2\n2\n2' "downloads per line"
bad=$(jq -c --arg d "$dl" '.task_id as $t | .downloads[]
        | select(.path != ($d + "/" + $t + "/" + .filename) or (.filename | length) == 0
                 or (.url | type) != "string")' "$T/down.out")
[[ -z $bad ]] || _fail_ctx "downloads entries whose path is not DIR/<task_id>/<filename>: [$(head -c 1000 <<<"$bad")]"
while read -r task path; do
  [[ -f $path ]] || _fail_ctx "downloaded file $path is missing"
  [[ -s $path ]] || _fail_ctx "downloaded file $path is empty"
  assert_file_contains "$path" "$task" "the file served for task $task"
done < <(jq -r '.task_id as $t | .downloads[] | "\($t) \(.path)"' "$T/down.out")
assert_eq 6 "$(find "$dl" -type f | wc -l)" "files in the downloads directory"
assert_eq 6 "$(grep -c '^emulator: file .* -> 200' "$EMU_LOG" || true)" "files the emulator served"

step "without --downloads the entries are left as the service sent them"
assert_jq "$T/none.out" '[.downloads[] | has("path")] | any' $'false\nfalse\nfalse' "no path without --downloads"

step "the screenshot as the cloud sends it (a final_screenshot.png download): --screenshots DIR"
setup_emulator --delay-ms 50 --screenshot-bytes 100000 --downloads 1 # --screenshot download
CB_KEY=test-results-callback-key
chain_run dl_shots --endpoint demo --emails "$T/in.txt" --parallel 3 --timeout 30 \
  --screenshots "$T/dl-shots" --callback-key "$CB_KEY"
assert_exit 0 "$RC" "run with --screenshots and screenshots as downloads"
assert_all_status "$T/dl_shots.out" success "statuses"
bad=$(jq -r --arg d "$T/dl-shots" 'select(.final_screenshot != ($d + "/" + .task_id + ".png")) | .task_id' "$T/dl_shots.out")
[[ -z $bad ]] || _fail_ctx "final_screenshot is not DIR/<task_id>.png for tasks [$bad]"
while read -r path; do
  [[ -f $path ]] || _fail_ctx "screenshot file $path is missing"
  assert_eq 100000 "$(stat -c %s "$path")" "size of $path"
  assert_eq "$PNG_SIG" "$(hex_head "$path" 8)" "$path starts with the PNG signature"
done < <(jq -r .final_screenshot "$T/dl_shots.out")
assert_eq 3 "$(count_matches "$EMU_LOG" "/final_screenshot.png -> 200")" "screenshots fetched"

step "--no-screenshots drops the final_screenshot.png download, keeps the others"
chain_run dl_none --endpoint demo --emails "$T/in.txt" --parallel 3 --timeout 30 --no-screenshots
assert_exit 0 "$RC" "run with --no-screenshots"
assert_jq "$T/dl_none.out" '[.downloads[].filename] | join(",")' \
  $'report-1.csv\nreport-1.csv\nreport-1.csv' "downloads left"
assert_jq "$T/dl_none.out" '[.downloads_with_metadata[].filename] | join(",")' \
  $'report-1.csv\nreport-1.csv\nreport-1.csv' "downloads_with_metadata left"
assert_jq "$T/dl_none.out" 'has("final_screenshot")' $'false\nfalse\nfalse' "final_screenshot absent"

