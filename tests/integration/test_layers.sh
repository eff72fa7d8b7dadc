#!/usr/bin/env bash
# The layers of src/ as the includes draw them (STYLE.md): an #include "floor/..." runs only
# downward, core < net < emulator < runner < cli < main.cpp; <httplib.h> only in net/*.cpp; no
# module (x.h + x.cpp) includes a module that includes it back, nor any longer loop. Needs only
# the source tree (no binary, no git): `bash tests/integration/test_layers.sh [SRC_DIR]`.
# Then it checks itself: the same check on a copy of src/ with one bad include of each kind
# must fail.
set -euo pipefail

ALLOWED_CYCLES=""

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${1:-$HERE/../../src}
NAME=test_layers

# Prints one line per problem in the tree at $1; returns 1 when there is any.
check_tree() { # src-dir
  local src=$1 out edges
  edges=$(mktemp)
  # "FILE:LINE:TEXT" for every #include of every source file, paths relative to src/.
  out=$(cd "$src" && find . -type f \( -name '*.h' -o -name '*.cpp' \) | sed 's|^\./||' |
    LC_ALL=C sort | xargs grep -Hn '^[[:space:]]*#[[:space:]]*include' /dev/null |
    awk -F: -v name="$NAME" -v allowed="$ALLOWED_CYCLES" -v edges="$edges" '
    BEGIN {
      rank["core"] = 0; rank["net"] = 1; rank["emulator"] = 2; rank["runner"] = 3
      rank["cli"] = 4; rank["main.cpp"] = 5
      n = split(allowed, pairs, " ")
      for (i = 1; i <= n; i++) {
        split(pairs[i], ab, ":"); ok[ab[1] SUBSEP ab[2]]; ok[ab[2] SUBSEP ab[1]]
      }
    }
    function problem(text) { print name ": " text; bad = 1 }
    {
      file = $1; line = $2; text = $0; sub(/^[^:]*:[^:]*:/, "", text)
      floor = file; sub(/\/.*/, "", floor)
      if (!(floor in rank)) { problem("src/" file ": not in a known floor"); next }
      if (text ~ /<httplib\.h>/) {
        if (floor != "net" || file !~ /\.cpp$/)
          problem("src/" file ":" line ": #include <httplib.h> outside net/*.cpp")
        next
      }
      if (!match(text, /"[^"]+"/)) next
      target = substr(text, RSTART + 1, RLENGTH - 2)
      if (target !~ /\//) next # a header next to the file (none today)
      tfloor = target; sub(/\/.*/, "", tfloor)
      if (!(tfloor in rank))
        problem("src/" file ":" line ": #include \"" target "\": unknown floor " tfloor)
      else if (rank[tfloor] > rank[floor] || tfloor == "main.cpp")
        problem("src/" file ":" line ": #include \"" target "\" runs upward (" floor " < " tfloor ")")
      from = file; sub(/\.[a-z]+$/, "", from); to = target; sub(/\.[a-z]+$/, "", to)
      if (from != to && !((from SUBSEP to) in where)) where[from SUBSEP to] = "src/" file ":" line
    }
    END {
      for (e in where) {
        split(e, ft, SUBSEP)
        if ((ft[2] SUBSEP ft[1]) in where && ft[1] < ft[2] && !(e in ok))
          problem(where[e] ": cycle: " ft[1] " includes " ft[2] " (" where[e] ") and " ft[2] \
                  " includes " ft[1] " (" where[ft[2] SUBSEP ft[1]] ")")
        if (!(e in ok)) print ft[1], ft[2] > edges
      }
      exit bad
    }') && local status=0 || local status=1
  [[ -z $out ]] || printf '%s\n' "$out"
  # Longer loops (the allowed pairs left out): tsort names the modules of one.
  local loop
  loop=$(tsort "$edges" 2>&1 >/dev/null |
    awk '/input contains a loop/ { n++; next } n == 1 { sub(/^tsort: /, ""); printf "%s ", $0 }')
  rm -f "$edges"
  if [[ -n $loop ]]; then
    echo "$NAME: src/: include loop among modules: ${loop% }"
    status=1
  fi
  return $status
}

# The check itself: src/ must pass.
if ! check_tree "$SRC"; then
  exit 1
fi
echo "$NAME: src/ includes run downward, no cycles"

# Self-test: each planted mistake, on a copy, must make the check fail and name the file.
[[ ${LAYERS_SELF_TEST:-1} == 1 ]] || exit 0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/test_layers.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
expect_failure() { # what expected-in-message file line [file line...]
  local what=$1 expected=$2
  shift 2
  rm -rf "$scratch/src"
  cp -r "$SRC" "$scratch/src"
  local planted=""
  while (($# >= 2)); do
    printf '%s\n' "$2" >>"$scratch/src/$1"
    planted+="src/$1: $2; "
    shift 2
  done
  local out
  if out=$(check_tree "$scratch/src"); then
    echo "$NAME: self-test: the check passed $what (${planted%; })"
    exit 1
  fi
  if [[ $out != *"$expected"* ]]; then
    echo "$NAME: self-test: $what: expected a message with '$expected', got: $out"
    exit 1
  fi
}
expect_failure "an upward include" 'src/core/url.cpp:' core/url.cpp '#include "runner/run.h"'
expect_failure "net including the emulator" 'runs upward (net < emulator)' \
  net/client.h '#include "emulator/emulator.h"'
expect_failure "<httplib.h> in a header" 'src/net/client.h:' net/client.h '#include <httplib.h>'
expect_failure "<httplib.h> above net" 'outside net/*.cpp' \
  emulator/emulator.cpp '#include <httplib.h>'
expect_failure "a module cycle" 'core/error includes core/url' core/error.h '#include "core/url.h"'
expect_failure "a loop of three modules" 'include loop' \
  core/error.h '#include "core/names.h"' core/names.h '#include "core/url.h"'
echo "$NAME: self-test: each planted mistake fails the check"
