# bash completion for optexity-chain                              -*- shell-script -*-
#
# Installed as share/bash-completion/completions/optexity-chain (loaded on demand by
# bash-completion), or source it from ~/.bashrc. Needs nothing from bash-completion itself.
# tests/integration/test_docs.sh checks it offers every option of every `--help`.

_optexity_chain() {
  local cur prev cword
  local -a words
  COMPREPLY=()
  words=("${COMP_WORDS[@]}")
  cword=$COMP_CWORD
  cur=${words[cword]}
  prev=""
  ((cword > 0)) && prev=${words[cword - 1]}
  # COMP_WORDBREAKS splits "--format=csv" into "--format" "=" "csv": complete the value.
  if [[ $cur == "=" && $prev == --* ]]; then
    cur=""
  elif [[ $prev == "=" ]] && ((cword > 1)); then
    prev=${words[cword - 2]}
  fi

  local commands="run flow emulator status result report login logout completion replay"
  local command="" i
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      run | flow | emulator | status | result | report | login | logout | completion | replay)
        command=${words[i]}
        break
        ;;
    esac
  done

  local opts="" flags=""
  case $command in
    "")
      if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "-h --help -V --version" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
      fi
      return 0
      ;;
    run)
      case $prev in
        --emails | --input | --secure-parameters | --api-key-file | --callback-key-file | \
          --callback-basic-file | --tls-cert | --tls-key | --state | --script | --joblog | --report | -i)
          _optexity_chain_files "$cur" file
          return 0
          ;;
        --halt)
          mapfile -t COMPREPLY < <(compgen -W "soon,fail=1 soon,fail=10% now,fail=1 never" -- "$cur")
          return 0
          ;;
        --screenshots | --downloads | --record)
          _optexity_chain_files "$cur" dir
          return 0
          ;;
        --format)
          mapfile -t COMPREPLY < <(compgen -W "lines csv tsv ndjson" -- "$cur")
          return 0
          ;;
        --screenshot)
          mapfile -t COMPREPLY < <(compgen -W "download inline both" -- "$cur")
          return 0
          ;;
        --progress)
          mapfile -t COMPREPLY < <(compgen -W "auto json none" -- "$cur")
          return 0
          ;;
        --color)
          mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur")
          return 0
          ;;
        --where-status)
          mapfile -t COMPREPLY < <(compgen -W "success failed killed cancelled timeout \
            submit_failed invalid_input interrupted" -- "$cur")
          return 0
          ;;
        --listen)
          mapfile -t COMPREPLY < <(compgen -W "127.0.0.1:4000 127.0.0.1:0 0.0.0.0:4000" -- "$cur")
          return 0
          ;;
        --api-url)
          mapfile -t COMPREPLY < <(compgen -W "https://api.optexity.com" -- "$cur")
          return 0
          ;;
        --endpoint | --param-name | --set | --map | --unique | --api-key | --priority | \
          --max-timeout-minutes | --retries | --connect-timeout | --read-timeout | \
          --status-url | --callback-key | --watchdog | --callback-path | --public-url | \
          --timeout | --attempts | --max-wait | --straggler-after | --poll | --parallel | --grace | --download-timeout | \
          --delay-ms | --jitter-ms | --fail-rate | --kill-rate | --drop-callback-rate | --seed | \
          --capacity | --max-retries | --attempt-fail-rate | --stuck-rate | --stuck-at | \
          --drop-callback-at | --time-scale)
          return 0 # free text: nothing to offer
          ;;
      esac
      opts="--endpoint --emails --input --format --param-name --set --secure-parameters --map
        --where-status --unique --api-url --api-key --api-key-file --priority
        --max-timeout-minutes --retries --connect-timeout --read-timeout --status-url
        --callback-key --callback-key-file --callback-basic-file --tls-cert --tls-key
        --watchdog --listen --callback-path --public-url --timeout --attempts --max-wait --straggler-after --poll --parallel --screenshots
        --downloads --download-timeout --state --grace --progress --color --record --script
        --delay-ms --jitter-ms --fail-rate --kill-rate --drop-callback-rate --seed --capacity --max-retries --attempt-fail-rate --stuck-rate --stuck-at --drop-callback-at --screenshot --time-scale"
      flags="-h --help --stats -q --quiet -v --verbose --carry --dry-run --emulate
        --no-preflight --unordered --no-screenshots --retry-failed --resubmit-unfinished"
      opts+=" --halt --limit --rate --shard --joblog --report --profile -e -i -j" # long runs
      flags+=" --tag"
      ;;
    flow)
      case $prev in
        --emails | --input | --api-key-file | --callback-key-file | --callback-basic-file | \
          --tls-cert | --tls-key | --state | --script | --joblog | --report | -i)
          _optexity_chain_files "$cur" file
          return 0
          ;;
        --halt)
          mapfile -t COMPREPLY < <(compgen -W "soon,fail=1 soon,fail=10% now,fail=1 never" -- "$cur")
          return 0
          ;;
        --screenshots | --downloads)
          _optexity_chain_files "$cur" dir
          return 0
          ;;
        --format)
          mapfile -t COMPREPLY < <(compgen -W "lines csv tsv ndjson" -- "$cur")
          return 0
          ;;
        --screenshot)
          mapfile -t COMPREPLY < <(compgen -W "download inline both" -- "$cur")
          return 0
          ;;
        --progress)
          mapfile -t COMPREPLY < <(compgen -W "auto json none" -- "$cur")
          return 0
          ;;
        --color)
          mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur")
          return 0
          ;;
        --listen)
          mapfile -t COMPREPLY < <(compgen -W "127.0.0.1:4000 127.0.0.1:0 0.0.0.0:4000" -- "$cur")
          return 0
          ;;
        --api-url)
          mapfile -t COMPREPLY < <(compgen -W "https://api.optexity.com" -- "$cur")
          return 0
          ;;
        --param-name | --api-key | --priority | --max-timeout-minutes | --retries | \
          --connect-timeout | --read-timeout | --status-url | --callback-key | --callback-path | \
          --public-url | --timeout | --attempts | --max-wait | --straggler-after | --poll | --parallel | --download-timeout | \
          --delay-ms | --jitter-ms | --fail-rate | --kill-rate | --drop-callback-rate | --seed | \
          --capacity | --max-retries | --attempt-fail-rate | --stuck-rate | --stuck-at | \
          --drop-callback-at | --time-scale)
          return 0 # free text: nothing to offer
          ;;
      esac
      if [[ $cur != -* ]]; then
        _optexity_chain_files "$cur" file # FILE: the flow file
        return 0
      fi
      opts="--emails --input --format --param-name --api-url --api-key --api-key-file --priority
        --max-timeout-minutes --retries --connect-timeout --read-timeout --status-url --script
        --callback-key --callback-key-file --callback-basic-file --tls-cert --tls-key --listen
        --callback-path --public-url --timeout --attempts --max-wait --straggler-after --poll --parallel --screenshots --downloads
        --download-timeout --state --progress --color
        --delay-ms --jitter-ms --fail-rate --kill-rate --drop-callback-rate --seed --capacity --max-retries --attempt-fail-rate --stuck-rate --stuck-at --drop-callback-at --screenshot --time-scale"
      flags="-h --help -q --quiet -v --verbose --plan --emulate --no-preflight --unordered
        --no-screenshots --retry-failed --resubmit-unfinished"
      opts+=" --halt --limit --rate --shard --joblog --report --profile -i -j" # long runs
      flags+=" --tag"
      ;;
    emulator)
      case $prev in
        --screenshot)
          mapfile -t COMPREPLY < <(compgen -W "download inline both" -- "$cur")
          return 0
          ;;
        --host)
          mapfile -t COMPREPLY < <(compgen -W "127.0.0.1 0.0.0.0 ::1" -- "$cur")
          return 0
          ;;
        --port | --callback-url | --api-key | --endpoints | --delay-ms | --jitter-ms | \
          --fail-rate | --kill-rate | --drop-callback-rate | --duplicate-callbacks | --duplicate-rate | \
          --lost-answer-rate | --bad-answer-rate | --repeat-task-id | --transient-503 | --answer-422-echo | --screenshot-bytes | --downloads | --seed | \
          --capacity | --max-retries | --attempt-fail-rate | --stuck-rate | --stuck-at | \
          --drop-callback-at | --time-scale)
          return 0
          ;;
      esac
      opts="--host --port --callback-url --api-key --endpoints --delay-ms --jitter-ms
        --fail-rate --kill-rate --drop-callback-rate --duplicate-callbacks --duplicate-rate --script --transient-503 --answer-422-echo
        --lost-answer-rate --bad-answer-rate --repeat-task-id --screenshot-bytes --downloads --seed
        --capacity --max-retries --attempt-fail-rate --stuck-rate --stuck-at --drop-callback-at
        --screenshot --time-scale"
      flags="-h --help --early-callback -q --quiet"
      ;;
    replay)
      if [[ $cur != -* ]]; then
        _optexity_chain_files "$cur" dir
        return 0
      fi
      flags="-h --help"
      ;;
    status | result)
      case $prev in
        --api-key-file | --state)
          _optexity_chain_files "$cur" file
          return 0
          ;;
        --api-url)
          mapfile -t COMPREPLY < <(compgen -W "https://api.optexity.com" -- "$cur")
          return 0
          ;;
        --api-key | --timeout | --endpoint | -e | --profile)
          return 0
          ;;
      esac
      opts="--api-url --api-key --api-key-file --profile --state --timeout"
      [[ $command == result ]] && opts+=" -e --endpoint"
      flags="-h --help"
      ;;
    report)
      case $prev in
        -o | --output | --state)
          _optexity_chain_files "$cur" file
          return 0
          ;;
        --screenshots)
          _optexity_chain_files "$cur" dir
          return 0
          ;;
        --title)
          return 0
          ;;
      esac
      if [[ $cur != -* ]]; then
        _optexity_chain_files "$cur" file # FILE: lines a run printed
        return 0
      fi
      opts="-o --output --state --screenshots --title"
      flags="-h --help --all-screenshots -q --quiet"
      ;;
    login | logout)
      case $prev in
        --profile)
          return 0
          ;;
        --api-url)
          mapfile -t COMPREPLY < <(compgen -W "https://api.optexity.com" -- "$cur")
          return 0
          ;;
      esac
      opts="--profile"
      [[ $command == login ]] && opts+=" --api-url" && flags="--no-verify"
      flags+=" -h --help -q --quiet"
      ;;
    completion)
      if [[ $cur != -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "bash zsh fish" -- "$cur")
        return 0
      fi
      flags="-h --help"
      ;;
  esac

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts $flags" -- "$cur")
  fi
  # Anything else is a TASK_ID (status, result) or nothing: no suggestions.
  return 0
}

# Fills COMPREPLY with files (or only directories) matching $1, marked as file names so
# directories get their trailing slash and names with spaces are quoted.
_optexity_chain_files() { # cur file|dir
  local IFS=$'\n'
  if [[ $2 == dir ]]; then
    mapfile -t COMPREPLY < <(compgen -d -- "$1")
  else
    mapfile -t COMPREPLY < <(compgen -f -- "$1")
  fi
  compopt -o filenames 2>/dev/null
  return 0
}

complete -F _optexity_chain optexity-chain
