#!/usr/bin/env bash
# Drives gmon's bash completion as bash does (COMP_WORDS, COMP_CWORD, then the completion function) for every
# command, subcommand and option gmon lists from its own tables, in both dash forms, from their first letters.
# Prints one "missing: ..." line per word not offered, then "checked N". Used by tests/test_install.cc.
# Usage: completion_check.sh PREFIX   (an installed prefix: PREFIX/bin/gmon and its completion file)
set -u
prefix=$1
source "$prefix/share/bash-completion/completions/gmon"
G=$prefix/bin/gmon
checked=0

offers() { # WANTED WORDS...: whether completing the last of WORDS offers WANTED
  local wanted=$1
  shift
  COMP_WORDS=("$G" "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _gmon
  checked=$((checked + 1))
  local w
  for w in "${COMPREPLY[@]}"; do
    [[ $w == "$wanted" ]] && return 0
  done
  echo "missing: completing [gmon $*] does not offer $wanted (offers: ${COMPREPLY[*]})"
}

for cmd in $("$G" --list-commands); do
  offers "$cmd" "${cmd:0:2}"
  paths=("$cmd")
  for sub in $("$G" "$cmd" --list-commands 2>/dev/null); do
    offers "$sub" "$cmd" "${sub:0:1}"
    paths+=("$cmd $sub")
  done
  for path in "${paths[@]}"; do
    read -ra words <<<"$path"
    for o in $("$G" "${words[@]}" --list-options); do
      offers "--$o" "${words[@]}" "--${o:0:1}"
      offers "-$o" "${words[@]}" "-${o:0:1}"
    done
  done
done
for o in $("$G" lifecycle --list-options) help version; do
  offers "--$o" "--${o:0:1}"
done
echo "checked $checked"
