#!/usr/bin/env bash
# Docs are product: every subcommand and option a `--help` shows is in the man page and in the
# bash, zsh and fish completions (and they offer nothing `--help` does not show); each completion
# loads in its shell and completes what it should; the man page renders without warnings. A
# shell or man that is not installed skips its part with a note.
source "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MAN_PAGE=$ROOT/man/optexity-chain.1
BASH_COMP=$ROOT/completions/optexity-chain.bash
ZSH_COMP=$ROOT/completions/_optexity-chain
FISH_COMP=$ROOT/completions/optexity-chain.fish

# --- helpers ------------------------------------------------------------------------------------

# Sorted, unique words of a list (one a line or separated by blanks).
words_of() { tr -s '[:blank:]' '\n' <<<"$1" | sed '/^$/d' | sort -u; }

# Fails when two word lists differ, naming what is missing and what is extra.
assert_same_words() { # expected actual what
  local missing extra
  missing=$(comm -23 <(words_of "$1") <(words_of "$2") | tr '\n' ' ')
  extra=$(comm -13 <(words_of "$1") <(words_of "$2") | tr '\n' ' ')
  if [[ -n $missing || -n $extra ]]; then
    fail "$3: missing [${missing% }], unexpected [${extra% }]"
  fi
}

# True when WORD appears in the text as a whole option or command name.
has_word() { # text word
  grep -qE -- "(^|[^A-Za-z0-9_-])${2//./\\.}([^A-Za-z0-9_-]|\$)" <<<"$1"
}

# The subcommands in the "Subcommands:" block of a --help.
help_subcommands() { # help-file
  sed -n '/^Subcommands:/,/^$/p' "$1" | sed -n 's/^  \([a-z][a-z0-9-]*\) .*/\1/p'
}

# The options of a --help, long and short (-q,--quiet gives both), one a line.
help_options() { # help-file
  grep -oE '^  -[A-Za-z0-9](,--[A-Za-z0-9][A-Za-z0-9-]*)?|^  --[A-Za-z0-9][A-Za-z0-9-]*' "$1" |
    sed 's/^  //' | tr ',' '\n' || true
}

long_only() { grep -E '^--' || true; }

# "OPTION VALUE..." for each option of a --help with fixed choices (--format TEXT:{a,b,c}).
help_choices() { # help-file
  sed -n 's/^  \(--[A-Za-z0-9-]*\) [A-Z]*:{\([^}]*\)}.*/\1 \2/p' "$1" | tr ',' ' '
}

# The names in the "Positionals:" block of a --help.
help_positionals() { # help-file
  sed -n '/^Positionals:/,/^$/p' "$1" | sed -n 's/^  \([A-Z][A-Z0-9_]*\) .*/\1/p'
}

# The man page as plain text for searching: roff escapes for '-', fonts and zero-width removed.
man_text() {
  sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\(aq/'"'"'/g' -e 's/\\(dq/"/g' \
    "$MAN_PAGE"
}

# The text of one .SS or .SH section of the plain man text, up to the next .SS or .SH.
man_section() { # macro title-regex
  awk -v macro="$1" -v title="$2" '
    /^\.(SH|SS)([ \t]|$)/ {
      if (inside) exit
      t = $0; sub(/^\.(SH|SS)[ \t]*/, "", t); gsub(/"/, "", t)
      if ($1 == "." macro && t ~ ("^" title "$")) { inside = 1; next }
    }
    inside' <<<"$MAN_TEXT"
}

# The options named by .TP tags (the line after each .TP) of a section.
man_tag_options() { # section-text
  awk 'prev == ".TP" && /^(\.[A-Z]+ )?-/ { print } { prev = $0 }' <<<"$1" |
    grep -oE '(^|[ "])--?[A-Za-z0-9][A-Za-z0-9-]*' | sed 's/^[ "]//'
}

# --- what --help shows --------------------------------------------------------------------------

step "read every --help"
chain help_top --help
assert_exit 0 "$RC" "--help"
mapfile -t SUBCOMMANDS < <(help_subcommands "$T/help_top.out")
if ((${#SUBCOMMANDS[@]} < 4)); then
  fail "--help lists ${#SUBCOMMANDS[@]} subcommands (expected run, flow, emulator, status, result): is its format still parsed?" "$T/help_top.out"
fi
TOP_OPTIONS=$(help_options "$T/help_top.out")
assert_contains "$TOP_OPTIONS" "--version" "options of --help"
declare -A OPTIONS POSITIONALS
CHOICES=() # "SUBCOMMAND OPTION VALUE..."
for sub in "${SUBCOMMANDS[@]}"; do
  chain "help_$sub" "$sub" --help
  assert_exit 0 "$RC" "$sub --help"
  OPTIONS[$sub]=$(help_options "$T/help_$sub.out")
  POSITIONALS[$sub]=$(help_positionals "$T/help_$sub.out")
  while read -r line; do
    CHOICES+=("$sub $line")
  done < <(help_choices "$T/help_$sub.out")
  # A --help whose option lines are no longer recognised must not make this test vacuous.
  n=$(long_only <<<"${OPTIONS[$sub]}" | wc -l)
  # replay has only --help and its DIR, completion its SHELL.
  if ((n < 2)) && [[ $sub != replay && $sub != completion ]]; then
    fail "$sub --help: only $n long options parsed" "$T/help_$sub.out"
  fi
done
if (($(long_only <<<"${OPTIONS[run]:-}" | wc -l) < 30)); then
  fail "run --help: fewer than 30 long options parsed" "$T/help_run.out"
fi
# Every OPTEXITY_* variable any --help names.
ENV_VARS=$(cat "$T"/help_*.out | { grep -oE 'OPTEXITY_[A-Z_]+' || true; } | sort -u)
if ((${#CHOICES[@]} < 1)); then
  fail "no option with fixed choices (such as --format TEXT:{lines,csv,ndjson}) parsed" "$T/help_run.out"
fi
log "subcommands: ${SUBCOMMANDS[*]}; env: $(tr '\n' ' ' <<<"$ENV_VARS")"
log "fixed choices: $(printf '[%s] ' "${CHOICES[@]}")"

# --- the man page -------------------------------------------------------------------------------

step "the man page names every subcommand, option, exit code and variable"
[[ -f $MAN_PAGE ]] || fail "no man page at $MAN_PAGE"
MAN_TEXT=$(man_text)
for section in NAME SYNOPSIS DESCRIPTION COMMANDS OUTPUT "EXIT STATUS" ENVIRONMENT FILES SECURITY \
  EXAMPLES "SEE ALSO"; do
  grep -qE "^\.SH \"?$section\"?\$" <<<"$MAN_TEXT" || fail "man page: no $section section"
done
synopsis=$(man_section SH SYNOPSIS)
global=$(man_section SS "Global options")
[[ -n $global ]] || fail "man page: no .SS \"Global options\" in COMMANDS"
assert_same_words "$(long_only <<<"$TOP_OPTIONS")" "$(man_tag_options "$global" | long_only)" \
  "man page: options described under Global options"
for sub in "${SUBCOMMANDS[@]}"; do
  has_word "$synopsis" "$sub" || fail "man page: SYNOPSIS does not show $sub"
  text=$(man_section SS "optexity-chain $sub")
  [[ -n $text ]] || fail "man page: no .SS \"optexity-chain $sub\" section for subcommand $sub"
  # Described: the tag of a .TP entry in the subcommand's section, not just mentioned.
  tags=$(awk 'prev == ".TP" { print } { prev = $0 }' <<<"$text")
  for opt in ${OPTIONS[$sub]} ${POSITIONALS[$sub]}; do
    has_word "$tags" "$opt" || fail "man page: section optexity-chain $sub has no .TP entry for $opt"
  done
  # Options the section describes that $sub --help does not show are stale.
  extra=$(comm -13 <(long_only <<<"${OPTIONS[$sub]}" | sort -u) \
    <(man_tag_options "$text" | long_only | sort -u) | tr '\n' ' ')
  [[ -z $extra ]] || fail "man page: section optexity-chain $sub describes options $sub --help does not show: [$extra]"
done
exit_status=$(man_section SH "EXIT STATUS")
codes=$(sed -n '/^Exit codes:/,$p' "$T/help_top.out" | grep -oE '(^| )[0-9]{1,3}( |$)' || true)
[[ -n $codes ]] || fail "--help lists no exit codes" "$T/help_top.out"
for code in $codes; do
  grep -qE "^\.B $code\$" <<<"$exit_status" || fail "man page: EXIT STATUS does not list $code"
done
environment=$(man_section SH ENVIRONMENT)
for var in $ENV_VARS; do
  has_word "$environment" "$var" || fail "man page: ENVIRONMENT does not list $var"
done
chain version --version
assert_exit 0 "$RC" "--version"
version=$(sed -n 's/^optexity-chain \([0-9][0-9.]*\).*/\1/p' "$T/version.out" | head -1)
[[ -n $version ]] || fail "--version printed no 'optexity-chain X.Y.Z'" "$T/version.out"
grep -qE "^\.TH .*optexity-chain $version\"" <<<"$MAN_TEXT" ||
  fail "man page: .TH does not name version $version (as --version prints)"

step "the man page renders without warnings"
if command -v man >/dev/null; then
  capture man_render man -l "$MAN_PAGE"
  assert_exit 0 "$RC" "man -l"
  if (($(line_count "$T/man_render.out") < 100)); then
    fail "man -l rendered only $(line_count "$T/man_render.out") lines" "$T/man_render.err"
  fi
  capture man_warnings env MANWIDTH=80 man --warnings -l "$MAN_PAGE"
  assert_exit 0 "$RC" "man --warnings -l"
  assert_empty_file "$T/man_warnings.err" "warnings of man --warnings -l"
else
  log "SKIP: man is not installed (apt-get install man-db groff)"
fi

# --- every completion file names every subcommand and long option -------------------------------

step "every completion file names every subcommand and long option"
for file in "$BASH_COMP" "$ZSH_COMP" "$FISH_COMP"; do
  [[ -f $file ]] || fail "no completion file $file"
  content=$(<"$file")
  for sub in "${SUBCOMMANDS[@]}"; do
    has_word "$content" "$sub" || fail "$(basename "$file"): does not name subcommand $sub"
  done
  for sub in top "${SUBCOMMANDS[@]}"; do
    if [[ $sub == top ]]; then opts=$TOP_OPTIONS; else opts=${OPTIONS[$sub]}; fi
    for opt in $(long_only <<<"$opts"); do
      # fish names a long option without its dashes: -l NAME.
      if ! has_word "$content" "$opt" && ! { [[ $file == "$FISH_COMP" ]] && has_word "$content" "-l ${opt#--}"; }; then
        fail "$(basename "$file"): does not name $opt (an option of ${sub/top/optexity-chain})"
      fi
    done
  done
done

# Files and directories for the file-argument checks.
mkdir -p "$T/c/shots.d" "$T/c/state.d"
: >"$T/c/emails.txt"
: >"$T/c/flow.json"
: >"$T/c/shot.png"

# --- bash ---------------------------------------------------------------------------------------

# Completes the last of the given words (COMP_WORDS as bash splits them) in a clean bash that has
# sourced the completion file; prints the candidates, one a line.
cat >"$T/bash_complete.sh" <<'EOF'
source "$1" || exit 3
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
_optexity_chain optexity-chain "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
rc=$?
((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}"
exit $rc
EOF
bash_complete() { # words... (the last one is being completed; "" for a new word)
  BASH_OUT=$(timeout 20 bash --norc --noprofile "$T/bash_complete.sh" "$BASH_COMP" optexity-chain "$@" 2>"$T/bash_complete.err") ||
    fail "bash completion of [optexity-chain $*] failed" "$T/bash_complete.err"
  if [[ -s $T/bash_complete.err ]]; then
    fail "bash completion of [optexity-chain $*] wrote errors" "$T/bash_complete.err"
  fi
}
expect_bash() { # expected-words words...
  local expected=$1
  shift
  bash_complete "$@"
  assert_same_words "$expected" "$BASH_OUT" "bash: optexity-chain $*<TAB>"
}

step "bash: the completion loads and registers"
# shellcheck disable=SC2016 # expanded by the child shell
capture bash_load bash --norc --noprofile -c 'source "$1" && complete -p optexity-chain' _ "$BASH_COMP"
assert_exit 0 "$RC" "sourcing $BASH_COMP in bash"
assert_empty_file "$T/bash_load.err" "stderr of sourcing $BASH_COMP"
assert_file_contains "$T/bash_load.out" "-F _optexity_chain optexity-chain" "complete -p optexity-chain"

step "bash: subcommands and the options of each"
expect_bash "${SUBCOMMANDS[*]}" ""
expect_bash "$TOP_OPTIONS" "-"
for sub in "${SUBCOMMANDS[@]}"; do
  expect_bash "${OPTIONS[$sub]}" "$sub" "-"
done

step "bash: prefixes, fixed choices, files and directories"
for entry in "${CHOICES[@]}"; do
  read -r sub opt values <<<"$entry"
  expect_bash "$values" "$sub" "$opt" ""
done
expect_bash "run" "ru"
expect_bash "--emails --emulate" run --em
expect_bash "--format" run --for
expect_bash "lines csv tsv ndjson" run --format ""
expect_bash "csv" run --format c
expect_bash "lines csv tsv ndjson" run --format "="             # --format=<TAB>
expect_bash "ndjson" run --format "=" "n"                    # --format=n<TAB>
expect_bash "success failed killed cancelled timeout submit_failed invalid_input interrupted" \
  run --where-status ""
expect_bash "auto json none" run --progress ""
expect_bash "auto always never" run --color ""
expect_bash "--endpoint" result --e
expect_bash "" run --endpoint ""
for opt in --emails --input --api-key-file --secure-parameters --state --tls-cert --tls-key \
  --callback-key-file --callback-basic-file; do
  expect_bash "$T/c/emails.txt" run "$opt" "$T/c/em"
done
expect_bash "$T/c/emails.txt" status --api-key-file "$T/c/em"
expect_bash "$T/c/emails.txt" result --api-key-file "$T/c/em"
for opt in --screenshots --downloads; do
  expect_bash "$T/c/shots.d $T/c/state.d" run "$opt" "$T/c/s"
done
expect_bash "flow" "fl"
expect_bash "--plan" flow --pl
expect_bash "$T/c/flow.json" flow "$T/c/fl"        # FILE, the flow file
expect_bash "$T/c/flow.json" flow --emulate "$T/c/fl"
for opt in --emails --input --state --script; do
  expect_bash "$T/c/emails.txt" flow "$opt" "$T/c/em"
done
expect_bash "" flow --timeout ""
expect_bash "$T/c/shots.d $T/c/state.d" flow --screenshots "$T/c/s"

# --- zsh ----------------------------------------------------------------------------------------

# Drives an interactive zsh in a pseudo-terminal (zsh/zpty), types the line and TAB, and prints
# every match the completion system offers, one a line; exits 1 when the completion never ended.
cat >"$T/zsh_complete.zsh" <<'EOF'
zmodload zsh/zpty || exit 3
dir=$1 line=$2 dump=$3
zpty z zsh -f -i
zpty -w z "PS1= PROMPT= RPROMPT=; unsetopt zle_bracketed_paste 2>/dev/null"
# compinit scans every completion function in $fpath (most of each call's time); the first call
# writes what it found to a dump in $T and the later ones load it (the completion file does not
# change during the test; "zsh: the completion loads" below runs compinit without a dump).
zpty -w z "fpath=(${(q)dir} \$fpath); autoload -U compinit; compinit -u -d ${(q)dump}"
zpty -w z 'zstyle ":completion:*" list-grouped false; zstyle ":completion:*" insert-tab false'
zpty -w z 'comppostfuncs=(_cap_end); _cap_end() { print -r -- "<<""END>>"; exit }'
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a __h; builtin compadd -A __h "$@"; (( $#__h )) && print -rl -- "<<""M>>"${^__h}; builtin compadd "$@" }'
# Last: from here on Enter does nothing, so the line below is only completed, never run.
zpty -w z 'bindkey "^I" complete-word; bindkey "^M" undefined-key; bindkey "^J" undefined-key'
zpty -w -n z "$line"$'\t'
out=""
integer deadline=$(( SECONDS + 15 ))
while (( SECONDS < deadline )); do
  if zpty -r -t z chunk; then
    out+=$chunk
    [[ $out == *'<<END>>'* ]] && break
  else
    sleep 0.02
  fi
done
zpty -d z
print -r -- "$out" | tr -d '\r' | sed -n 's/^.*<<M>>//p' | sort -u
[[ $out == *'<<END>>'* ]]
EOF
expect_zsh() { # expected-words line
  local out
  out=$(cd "$T/c" && timeout 30 zsh -f "$T/zsh_complete.zsh" "$ROOT/completions" "optexity-chain $2" "$T/zcompdump" \
    2>"$T/zsh_complete.err") ||
    fail "zsh: completing [optexity-chain $2] did not finish (completion error?)" "$T/zsh_complete.err"
  assert_same_words "$1" "$out" "zsh: optexity-chain $2<TAB>"
}

step "zsh: the completion loads and completes"
if ! command -v zsh >/dev/null; then
  log "SKIP: zsh is not installed (apt-get install zsh)"
else
  capture zsh_syntax zsh -f -n "$ZSH_COMP"
  assert_exit 0 "$RC" "zsh -n $ZSH_COMP"
  # shellcheck disable=SC2016 # expanded by the child shell
  capture zsh_load zsh -f -c 'autoload -U compinit && compinit -u -D && source "$1" && print -r -- "$_comps[optexity-chain]"' _ "$ZSH_COMP"
  assert_exit 0 "$RC" "sourcing $ZSH_COMP after compinit"
  assert_empty_file "$T/zsh_load.err" "stderr of sourcing $ZSH_COMP"
  assert_file_contains "$T/zsh_load.out" "_optexity-chain" "the function zsh completes optexity-chain with"
  if ! zsh -f -c 'zmodload zsh/zpty' 2>/dev/null; then
    log "SKIP: zsh has no zsh/zpty module: completions not exercised"
  else
    expect_zsh "${SUBCOMMANDS[*]}" ""
    expect_zsh "run" "ru"
    for sub in "${SUBCOMMANDS[@]}"; do
      expect_zsh "${OPTIONS[$sub]}" "$sub -"
    done
    for entry in "${CHOICES[@]}"; do
      read -r sub opt values <<<"$entry"
      expect_zsh "$values" "$sub $opt "
    done
    expect_zsh "--emails --emulate" "run --em"
    expect_zsh "lines csv tsv ndjson" "run --format "
    expect_zsh "csv" "run --format=c"
    expect_zsh "success failed killed cancelled timeout submit_failed invalid_input interrupted" \
      "run --where-status "
    expect_zsh "--endpoint" "result --e"
    # Relative to $T/c: zsh offers the matching part of the name.
    expect_zsh "emails.txt" "run --emails em"
    expect_zsh "emails.txt" "status --api-key-file em"
    expect_zsh "shots.d state.d" "run --screenshots s"
    expect_zsh "flow" "fl"
    expect_zsh "flow.json" "flow fl"
    expect_zsh "emails.txt" "flow --input em"
    expect_zsh "emails.txt" "flow --state em"
  fi
fi

# --- fish ---------------------------------------------------------------------------------------

expect_fish() { # expected-words line
  local out
  # shellcheck disable=SC2016 # expanded by fish
  out=$(cd "$T/c" && XDG_CONFIG_HOME=$T/xdg/config XDG_DATA_HOME=$T/xdg/data XDG_CACHE_HOME=$T/xdg/cache \
    timeout 30 fish -N -c 'source $argv[1]; and complete -C $argv[2]' "$FISH_COMP" "optexity-chain $2" \
    2>"$T/fish_complete.err") ||
    fail "fish: completing [optexity-chain $2] failed" "$T/fish_complete.err"
  if [[ -s $T/fish_complete.err ]]; then
    fail "fish: completing [optexity-chain $2] wrote errors" "$T/fish_complete.err"
  fi
  assert_same_words "$1" "$(cut -f1 <<<"$out")" "fish: optexity-chain $2<TAB>"
}

step "fish: the completion loads and completes"
if ! command -v fish >/dev/null; then
  log "SKIP: fish is not installed (apt-get install fish)"
else
  capture fish_syntax fish -N --no-execute "$FISH_COMP"
  assert_exit 0 "$RC" "fish --no-execute $FISH_COMP"
  expect_fish "${SUBCOMMANDS[*]}" ""
  expect_fish "$TOP_OPTIONS" "-"
  expect_fish "run" "ru"
  for sub in "${SUBCOMMANDS[@]}"; do
    expect_fish "${OPTIONS[$sub]}" "$sub -"
  done
  for entry in "${CHOICES[@]}"; do
    read -r sub opt values <<<"$entry"
    expect_fish "$values" "$sub $opt "
  done
  expect_fish "--emails --emulate" "run --em"
  expect_fish "--format" "run --for"
  expect_fish "lines csv tsv ndjson" "run --format "
  expect_fish "--format=csv" "run --format=c"
  expect_fish "success submit_failed" "run --where-status s"
  expect_fish "--endpoint" "result --e"
  expect_fish "emails.txt" "run --emails em"
  expect_fish "emails.txt" "status --api-key-file em"
  expect_fish "shots.d/ state.d/" "run --screenshots s"
  expect_fish "flow" "fl"
  expect_fish "flow.json" "flow fl"
  expect_fish "emails.txt" "flow --emails em"
  expect_fish "emails.txt" "flow --script em"
fi

step "completion SHELL prints the completion files themselves (one source)"
for pair in "bash:$BASH_COMP" "zsh:$ZSH_COMP" "fish:$FISH_COMP"; do
  chain "completion_${pair%%:*}" completion "${pair%%:*}"
  assert_exit 0 "$RC" "completion ${pair%%:*}"
  cmp -s "${pair#*:}" "$T/completion_${pair%%:*}.out" ||
    fail "completion ${pair%%:*} differs from ${pair#*:}: rebuild (CMake embeds completions/)"
done
