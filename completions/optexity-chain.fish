# fish completion for optexity-chain. Installed as
# share/fish/vendor_completions.d/optexity-chain.fish; elsewhere copy it to
# ~/.config/fish/completions/. tests/integration/test_docs.sh checks it offers every option of
# every `--help`.

set -l commands run flow emulator status result report login logout completion replay
set -l statuses success failed killed cancelled timeout submit_failed invalid_input interrupted

# No file names unless an option (or flow's FILE) asks for one (status and result take a task id).
complete -c optexity-chain -f

# The program
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -s h -l help -d 'Print help and exit'
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -s V -l version -d 'Print the version and exit'
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -a run -d 'Submit one automation per input, print each result as a JSON line'
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -a flow -d 'Run a multi-step flow file for each item, one JSON line per item'
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -a emulator -d 'Run a fake Optexity service that POSTs callbacks'
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -a status -d "Print a task's status"
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -a result -d "Print a finished task's callback payload"
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -a report -d "Write the HTML report of a run's lines"
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -a login -d 'Store an API key for later runs'
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -a logout -d 'Remove a stored API key'
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -a completion -d 'Print the completion script for a shell'
complete -c optexity-chain -n "not __fish_seen_subcommand_from $commands" -a replay -d 'Print what a recorded run printed, offline'

# run: inputs
set -l run "__fish_seen_subcommand_from run"
complete -c optexity-chain -n $run -s h -l help -d 'Print the options of run and exit'
complete -c optexity-chain -n $run -s e -l endpoint -x -d 'Automation (endpoint_name) to run'
complete -c optexity-chain -n $run -l emails -r -F -d "File with one email per line ('-' reads stdin)"
complete -c optexity-chain -n $run -s i -l input -r -F -d "Inputs file: NDJSON, CSV or lines ('-' reads stdin)"
complete -c optexity-chain -n $run -l format -x -a 'lines csv tsv ndjson' -d 'Format of --input'
complete -c optexity-chain -n $run -l param-name -x -d 'Parameter each line becomes with --format lines'
complete -c optexity-chain -n $run -l set -x -d 'NAME=VALUE: a constant parameter added to every input'
complete -c optexity-chain -n $run -l secure-parameters -r -F -d 'JSON file of secure_parameters added to every request'
complete -c optexity-chain -n $run -l map -x -d 'NAME=POINTER: parameter NAME from a JSON Pointer into each record'
complete -c optexity-chain -n $run -l where-status -x -a "$statuses" -d 'Submit only records with this status'
complete -c optexity-chain -n $run -l carry -d 'Keep each incoming record under "from"'
complete -c optexity-chain -n $run -l dry-run -d 'Print the requests that would be sent; submit nothing'
complete -c optexity-chain -n $run -l unique -x -d 'A unique_parameter_names entry'
# run: service
complete -c optexity-chain -n $run -l api-url -x -a 'https://api.optexity.com' -d 'Base URL of the service, or a full /inference URL'
complete -c optexity-chain -n $run -l api-key -x -d 'API key (visible in ps: prefer the file or env)'
complete -c optexity-chain -n $run -l api-key-file -r -F -d 'File holding the API key'
complete -c optexity-chain -n $run -l profile -x -d 'The key `optexity-chain login --profile NAME` stored'
complete -c optexity-chain -n $run -l priority -x -d 'Request priority (lower runs first)'
complete -c optexity-chain -n $run -l max-timeout-minutes -x -d 'Per-attempt limit the service applies'
complete -c optexity-chain -n $run -l retries -x -d 'Extra submit attempts where no task can exist (default 3)'
complete -c optexity-chain -n $run -l connect-timeout -x -d 'Connect timeout in seconds (default 10)'
complete -c optexity-chain -n $run -l read-timeout -x -d 'Read timeout in seconds (default 60)'
complete -c optexity-chain -n $run -l status-url -x -d 'Base URL of the status API'
complete -c optexity-chain -n $run -l emulate -d 'Run against the embedded emulator'
complete -c optexity-chain -n $run -l delay-ms -x -d 'With --emulate: milliseconds each attempt runs'
complete -c optexity-chain -n $run -l jitter-ms -x -d 'With --emulate: uniform jitter added to --delay-ms'
complete -c optexity-chain -n $run -l fail-rate -x -d 'With --emulate: share of tasks whose callback is failed'
complete -c optexity-chain -n $run -l kill-rate -x -d 'With --emulate: share of tasks whose callback is killed'
complete -c optexity-chain -n $run -l drop-callback-rate -x -d 'With --emulate: share of tasks that never call back'
complete -c optexity-chain -n $run -l seed -x -d 'With --emulate: random seed (0 picks one)'
complete -c optexity-chain -n $run -l capacity -x -d 'With --emulate: tasks allocated or running at once (0: unlimited)'
complete -c optexity-chain -n $run -l max-retries -x -d 'With --emulate: retries of a failed or killed attempt'
complete -c optexity-chain -n $run -l attempt-fail-rate -x -d 'With --emulate: share of attempts that fail'
complete -c optexity-chain -n $run -l stuck-rate -x -d 'With --emulate: share of tasks left allocated for ever'
complete -c optexity-chain -n $run -l stuck-at -x -d 'With --emulate: the K-th accepted submits are stuck'
complete -c optexity-chain -n $run -l drop-callback-at -x -d 'With --emulate: the K-th accepted submits never call back'
complete -c optexity-chain -n $run -l screenshot -x -a 'download inline both' -d 'With --emulate: where the final screenshot goes'
complete -c optexity-chain -n $run -l time-scale -x -d 'With --emulate: shrink every service duration by F'
# run: callbacks and waiting
complete -c optexity-chain -n $run -l callback-key -x -d 'Secret callbacks must carry'
complete -c optexity-chain -n $run -l callback-key-file -r -F -d 'File holding the callback key'
complete -c optexity-chain -n $run -l callback-basic-file -r -F -d 'File holding user:password for Basic auth'
complete -c optexity-chain -n $run -l tls-cert -r -F -d 'PEM certificate: serve the listener over HTTPS'
complete -c optexity-chain -n $run -l tls-key -r -F -d 'PEM private key for --tls-cert'
complete -c optexity-chain -n $run -l no-preflight -d 'Skip the probe of --public-url'
complete -c optexity-chain -n $run -l watchdog -x -d 'Seconds without callbacks before checking status (default 360)'
complete -c optexity-chain -n $run -l listen -x -a '127.0.0.1:4000 127.0.0.1:0 0.0.0.0:4000' -d 'HOST:PORT of the callback listener'
complete -c optexity-chain -n $run -l callback-path -x -d 'Path that accepts callbacks (default /receive_callback)'
complete -c optexity-chain -n $run -l public-url -x -d "The listener's address as Optexity sees it"
complete -c optexity-chain -n $run -l timeout -x -d "Seconds to wait for each task's callback"
complete -c optexity-chain -n $run -l attempts -x -d 'Attempts the service may make of each task (default 1)'
complete -c optexity-chain -n $run -l max-wait -x -d 'Seconds to wait for a task in all, queue included (default 86400)'
complete -c optexity-chain -n $run -l straggler-after -x -d 'Floor of the overdue-callback status check (default 60)'
complete -c optexity-chain -n $run -l poll -x -d 'Check every task in flight every SECONDS (fallback)'
complete -c optexity-chain -n $run -s j -l parallel -x -d 'Tasks in flight at once (default 1)'
complete -c optexity-chain -n $run -l unordered -d 'Print each line as soon as its task ends'
# run: long runs
complete -c optexity-chain -n $run -l halt -x -a 'soon,fail=1 soon,fail=10% now,fail=1 never' -d 'Stop submitting after failures (GNU parallel spelling)'
complete -c optexity-chain -n $run -l limit -x -d 'Run only the first N inputs'
complete -c optexity-chain -n $run -l rate -x -d 'At most N submits a second (N/s) or minute (N/m)'
complete -c optexity-chain -n $run -l shard -x -d 'Run only shard I of N of the inputs (I/N)'
complete -c optexity-chain -n $run -l joblog -r -F -d 'Append a TSV line per finished input to FILE'
complete -c optexity-chain -n $run -l tag -d 'Add "source": "file:line" to each line'
complete -c optexity-chain -n $run -l report -r -F -d 'Write the HTML run report to FILE at the end'
# run: results
complete -c optexity-chain -n $run -l screenshots -x -a '(__fish_complete_directories)' -d 'Write screenshots to DIR'
complete -c optexity-chain -n $run -l no-screenshots -d 'Remove final_screenshot from the lines'
complete -c optexity-chain -n $run -l downloads -x -a '(__fish_complete_directories)' -d 'Fetch downloads into DIR'
complete -c optexity-chain -n $run -l download-timeout -x -d 'Seconds each download may take in all (default 300)'
# run: journal and resume
complete -c optexity-chain -n $run -l state -r -F -d 'Append-only journal; a rerun resumes'
complete -c optexity-chain -n $run -l retry-failed -d 'With --state: resubmit results that are not success'
complete -c optexity-chain -n $run -l resubmit-unfinished -d 'With --state: resubmit tasks that may still run'
complete -c optexity-chain -n $run -l grace -x -d 'Seconds to wait for tasks in flight after a signal'
# run: other
complete -c optexity-chain -n $run -l progress -x -a 'auto\t"Live line on a terminal" json\t"JSON status line every 2 s" none\t"No progress"' -d 'Progress on stderr'
complete -c optexity-chain -n $run -l color -x -a 'auto always never' -d 'Colour on stderr (NO_COLOR respected)'
complete -c optexity-chain -n $run -l stats -d 'Print callback-to-stdout latency at the end'
complete -c optexity-chain -n $run -l script -r -F -d 'With --emulate: the emulator script'
complete -c optexity-chain -n $run -l record -x -a '(__fish_complete_directories)' -d 'Store every exchange in DIR for replay'
complete -c optexity-chain -n $run -s q -l quiet -d 'Only errors on stderr'
complete -c optexity-chain -n $run -s v -l verbose -d 'Debug lines on stderr'

# flow: FILE, the flow file
set -l flow "__fish_seen_subcommand_from flow"
complete -c optexity-chain -n $flow -F
complete -c optexity-chain -n $flow -s h -l help -d 'Print the options of flow and exit'
# flow: inputs
complete -c optexity-chain -n $flow -l plan -d 'Print each step and its request for the first item; submit nothing'
complete -c optexity-chain -n $flow -l emails -r -F -d "File with one email per line ('-' reads stdin)"
complete -c optexity-chain -n $flow -s i -l input -r -F -d "Items file: NDJSON, CSV or lines ('-' reads stdin)"
complete -c optexity-chain -n $flow -l format -x -a 'lines csv tsv ndjson' -d 'Format of --input'
complete -c optexity-chain -n $flow -l param-name -x -d 'Parameter each line becomes with --format lines'
# flow: service
complete -c optexity-chain -n $flow -l api-url -x -a 'https://api.optexity.com' -d 'Base URL of the service, or a full /inference URL'
complete -c optexity-chain -n $flow -l api-key -x -d 'API key (visible in ps: prefer the file or env)'
complete -c optexity-chain -n $flow -l api-key-file -r -F -d 'File holding the API key'
complete -c optexity-chain -n $flow -l profile -x -d 'The key `optexity-chain login --profile NAME` stored'
complete -c optexity-chain -n $flow -l priority -x -d 'Request priority of steps without their own'
complete -c optexity-chain -n $flow -l max-timeout-minutes -x -d 'Per-attempt limit the service applies'
complete -c optexity-chain -n $flow -l retries -x -d 'Extra submit attempts where no task can exist (default 3)'
complete -c optexity-chain -n $flow -l connect-timeout -x -d 'Connect timeout in seconds (default 10)'
complete -c optexity-chain -n $flow -l read-timeout -x -d 'Read timeout in seconds (default 60)'
complete -c optexity-chain -n $flow -l status-url -x -d 'Base URL of the status API'
complete -c optexity-chain -n $flow -l emulate -d 'Run against the embedded emulator'
complete -c optexity-chain -n $flow -l delay-ms -x -d 'With --emulate: milliseconds each attempt runs'
complete -c optexity-chain -n $flow -l jitter-ms -x -d 'With --emulate: uniform jitter added to --delay-ms'
complete -c optexity-chain -n $flow -l fail-rate -x -d 'With --emulate: share of tasks whose callback is failed'
complete -c optexity-chain -n $flow -l kill-rate -x -d 'With --emulate: share of tasks whose callback is killed'
complete -c optexity-chain -n $flow -l drop-callback-rate -x -d 'With --emulate: share of tasks that never call back'
complete -c optexity-chain -n $flow -l seed -x -d 'With --emulate: random seed (0 picks one)'
complete -c optexity-chain -n $flow -l capacity -x -d 'With --emulate: tasks allocated or running at once (0: unlimited)'
complete -c optexity-chain -n $flow -l max-retries -x -d 'With --emulate: retries of a failed or killed attempt'
complete -c optexity-chain -n $flow -l attempt-fail-rate -x -d 'With --emulate: share of attempts that fail'
complete -c optexity-chain -n $flow -l stuck-rate -x -d 'With --emulate: share of tasks left allocated for ever'
complete -c optexity-chain -n $flow -l stuck-at -x -d 'With --emulate: the K-th accepted submits are stuck'
complete -c optexity-chain -n $flow -l drop-callback-at -x -d 'With --emulate: the K-th accepted submits never call back'
complete -c optexity-chain -n $flow -l screenshot -x -a 'download inline both' -d 'With --emulate: where the final screenshot goes'
complete -c optexity-chain -n $flow -l time-scale -x -d 'With --emulate: shrink every service duration by F'
complete -c optexity-chain -n $flow -l script -r -F -d 'With --emulate: the emulator script'
# flow: callbacks and waiting
complete -c optexity-chain -n $flow -l callback-key -x -d 'Secret callbacks must carry'
complete -c optexity-chain -n $flow -l callback-key-file -r -F -d 'File holding the callback key'
complete -c optexity-chain -n $flow -l callback-basic-file -r -F -d 'File holding user:password for Basic auth'
complete -c optexity-chain -n $flow -l tls-cert -r -F -d 'PEM certificate: serve the listener over HTTPS'
complete -c optexity-chain -n $flow -l tls-key -r -F -d 'PEM private key for --tls-cert'
complete -c optexity-chain -n $flow -l no-preflight -d 'Skip the probe of --public-url'
complete -c optexity-chain -n $flow -l listen -x -a '127.0.0.1:4000 127.0.0.1:0 0.0.0.0:4000' -d 'HOST:PORT of the callback listener'
complete -c optexity-chain -n $flow -l callback-path -x -d 'Path that accepts callbacks (default /receive_callback)'
complete -c optexity-chain -n $flow -l public-url -x -d "The listener's address as Optexity sees it"
complete -c optexity-chain -n $flow -l timeout -x -d "Seconds to wait for each callback of a step without its own"
complete -c optexity-chain -n $flow -l attempts -x -d 'Attempts the service may make of each task (default 1)'
complete -c optexity-chain -n $flow -l max-wait -x -d 'Seconds to wait for a task in all, queue included (default 86400)'
complete -c optexity-chain -n $flow -l straggler-after -x -d 'Floor of the overdue-callback status check (default 60)'
complete -c optexity-chain -n $flow -l poll -x -d 'Check every task in flight every SECONDS (fallback)'
complete -c optexity-chain -n $flow -s j -l parallel -x -d 'Tasks in flight at once across all items (default 1)'
complete -c optexity-chain -n $flow -l unordered -d "Print each item's line as soon as its flow ends"
# flow: long runs
complete -c optexity-chain -n $flow -l halt -x -a 'soon,fail=1 soon,fail=10% now,fail=1 never' -d 'Stop submitting after failures (GNU parallel spelling)'
complete -c optexity-chain -n $flow -l limit -x -d 'Run only the first N inputs'
complete -c optexity-chain -n $flow -l rate -x -d 'At most N submits a second (N/s) or minute (N/m)'
complete -c optexity-chain -n $flow -l shard -x -d 'Run only shard I of N of the inputs (I/N)'
complete -c optexity-chain -n $flow -l joblog -r -F -d 'Append a TSV line per finished input to FILE'
complete -c optexity-chain -n $flow -l tag -d 'Add "source": "file:line" to each line'
complete -c optexity-chain -n $flow -l report -r -F -d 'Write the HTML run report to FILE at the end'
# flow: results
complete -c optexity-chain -n $flow -l screenshots -x -a '(__fish_complete_directories)' -d 'Write screenshots to DIR'
complete -c optexity-chain -n $flow -l no-screenshots -d 'Remove final_screenshot from the lines'
complete -c optexity-chain -n $flow -l downloads -x -a '(__fish_complete_directories)' -d 'Fetch downloads into DIR'
complete -c optexity-chain -n $flow -l download-timeout -x -d 'Seconds each download may take in all (default 300)'
# flow: journal and resume
complete -c optexity-chain -n $flow -l state -r -F -d 'Append-only journal of every job; a rerun resumes'
complete -c optexity-chain -n $flow -l retry-failed -d 'With --state: resubmit jobs that did not succeed'
complete -c optexity-chain -n $flow -l resubmit-unfinished -d 'With --state: resubmit tasks that may still run'
# flow: other
complete -c optexity-chain -n $flow -l progress -x -a 'auto\t"Live line on a terminal" json\t"JSON status line every 2 s" none\t"No progress"' -d 'Progress on stderr'
complete -c optexity-chain -n $flow -l color -x -a 'auto always never' -d 'Colour on stderr (NO_COLOR respected)'
complete -c optexity-chain -n $flow -s q -l quiet -d 'Only errors on stderr'
complete -c optexity-chain -n $flow -s v -l verbose -d 'Debug lines on stderr'

# emulator
set -l emulator "__fish_seen_subcommand_from emulator"
complete -c optexity-chain -n $emulator -s h -l help -d 'Print the options of emulator and exit'
complete -c optexity-chain -n $emulator -l host -x -a '127.0.0.1 0.0.0.0 ::1' -d 'Address to listen on'
complete -c optexity-chain -n $emulator -l port -x -d 'Port to listen on (0 picks a free one)'
complete -c optexity-chain -n $emulator -l callback-url -x -d 'Where callbacks are POSTed'
complete -c optexity-chain -n $emulator -l api-key -x -d 'Require this x-api-key on submits'
complete -c optexity-chain -n $emulator -l endpoints -x -d 'Known endpoint names'
complete -c optexity-chain -n $emulator -l delay-ms -x -d 'Milliseconds from submit to callback'
complete -c optexity-chain -n $emulator -l jitter-ms -x -d 'Uniform jitter added to --delay-ms'
complete -c optexity-chain -n $emulator -l fail-rate -x -d 'Share of tasks whose callback is failed'
complete -c optexity-chain -n $emulator -l kill-rate -x -d 'Share of tasks whose callback is killed'
complete -c optexity-chain -n $emulator -l drop-callback-rate -x -d 'Share of tasks that never call back'
complete -c optexity-chain -n $emulator -l duplicate-callbacks -x -d 'Send each callback K extra times'
complete -c optexity-chain -n $emulator -l duplicate-rate -x -d 'Share of tasks whose callback is sent once more'
complete -c optexity-chain -n $emulator -l script -r -F -d 'Per-endpoint outputs, delays and failure rates'
complete -c optexity-chain -n $emulator -l early-callback -d 'Deliver each callback before the 202'
complete -c optexity-chain -n $emulator -l transient-503 -x -d 'Answer the first K submits of each input with 503'
complete -c optexity-chain -n $emulator -l answer-422-echo -x -d 'Share of submits refused 422 echoing the request'
complete -c optexity-chain -n $emulator -l lost-answer-rate -x -d 'Share of accepted submits never answered'
complete -c optexity-chain -n $emulator -l bad-answer-rate -x -d 'Share of accepted submits answered without a task_id'
complete -c optexity-chain -n $emulator -l repeat-task-id -x -d 'Answer the next N submits with the first task_id'
complete -c optexity-chain -n $emulator -l screenshot-bytes -x -d 'Size of each final_screenshot PNG'
complete -c optexity-chain -n $emulator -l downloads -x -d 'Files listed in each success callback'
complete -c optexity-chain -n $emulator -l capacity -x -d 'Tasks allocated or running at once (0: unlimited)'
complete -c optexity-chain -n $emulator -l max-retries -x -d 'Retries of a failed or killed attempt'
complete -c optexity-chain -n $emulator -l attempt-fail-rate -x -d 'Share of attempts that fail'
complete -c optexity-chain -n $emulator -l stuck-rate -x -d 'Share of tasks left allocated for ever'
complete -c optexity-chain -n $emulator -l stuck-at -x -d 'The K-th accepted submits are stuck'
complete -c optexity-chain -n $emulator -l drop-callback-at -x -d 'The K-th accepted submits never call back'
complete -c optexity-chain -n $emulator -l screenshot -x -a 'download inline both' -d 'Where the final screenshot goes'
complete -c optexity-chain -n $emulator -l time-scale -x -d 'Shrink every service duration by F'
complete -c optexity-chain -n $emulator -l seed -x -d 'Random seed (0 picks one)'
complete -c optexity-chain -n $emulator -s q -l quiet -d 'No per-submit and per-callback lines'

# status and result
set -l lookup "__fish_seen_subcommand_from status result"
complete -c optexity-chain -n $lookup -s h -l help -d 'Print the options and exit'
complete -c optexity-chain -n $lookup -l api-url -x -a 'https://api.optexity.com' -d 'Base URL of the service'
complete -c optexity-chain -n $lookup -l api-key -x -d 'API key (visible in ps: prefer the file or env)'
complete -c optexity-chain -n $lookup -l api-key-file -r -F -d 'File holding the API key'
complete -c optexity-chain -n $lookup -l profile -x -d 'The key `optexity-chain login --profile NAME` stored'
complete -c optexity-chain -n $lookup -l timeout -x -d 'Connect and read timeout in seconds (default 30)'
complete -c optexity-chain -n "__fish_seen_subcommand_from result" -s e -l endpoint -x -d "The tasks' automation (endpoint_name)"
complete -c optexity-chain -n $lookup -l state -r -F -d 'Every task of this run journal'

# report
set -l report "__fish_seen_subcommand_from report"
complete -c optexity-chain -n $report -s h -l help -d 'Print the options of report and exit'
complete -c optexity-chain -n $report -F -d 'Lines a run printed'
complete -c optexity-chain -n $report -s o -l output -r -F -d 'The HTML file to write (- for stdout)'
complete -c optexity-chain -n $report -l state -r -F -d "The run's journal: durations and timeline"
complete -c optexity-chain -n $report -l screenshots -x -a '(__fish_complete_directories)' -d 'Where the run wrote screenshots'
complete -c optexity-chain -n $report -l all-screenshots -d 'Keep the screenshots of successes too'
complete -c optexity-chain -n $report -l title -x -d "The report's title"
complete -c optexity-chain -n $report -s q -l quiet -d 'Only errors on stderr'
# login, logout
set -l login "__fish_seen_subcommand_from login logout"
complete -c optexity-chain -n $login -s h -l help -d 'Print the options and exit'
complete -c optexity-chain -n $login -l profile -x -d "The profile's name"
complete -c optexity-chain -n $login -s q -l quiet -d 'Only errors on stderr'
complete -c optexity-chain -n "__fish_seen_subcommand_from login" -l api-url -x -a 'https://api.optexity.com' -d 'Where the key is checked'
complete -c optexity-chain -n "__fish_seen_subcommand_from login" -l no-verify -d 'Store the key without asking the service'
# completion
complete -c optexity-chain -n "__fish_seen_subcommand_from completion" -s h -l help -d 'Print the options of completion and exit'
complete -c optexity-chain -n "__fish_seen_subcommand_from completion" -x -a 'bash zsh fish'
# replay
complete -c optexity-chain -n "__fish_seen_subcommand_from replay" -s h -l help -d 'Print the options of replay and exit'
complete -c optexity-chain -n "__fish_seen_subcommand_from replay" -x -a '(__fish_complete_directories)'
