#!/usr/bin/env bash
# Drives gmon's bash completion as bash does (COMP_WORDS, COMP_CWORD, then the completion function): every
# command and subcommand from its first letters, and every option gmon lists from its own tables among what
# "--" completes to; each option list is also filtered by a prefix and offered in the one-dash form. Each
# completion runs gmon once, so the checks are grouped (under ASan a gmon start takes a third of a second).
# Prints one "missing: ..." line per word not offered, then "checked N" (words checked).
# Usage: completion_check.sh PREFIX   (an installed prefix: PREFIX/bin/gmon and its completion file)
set -u
prefix=$1
source "$prefix/share/bash-completion/completions/gmon"
G=$prefix/bin/gmon
checked=0

complete_words() { # WORDS...: what completing the last of WORDS offers, one per line
  COMP_WORDS=("$G" "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _gmon
  printf '%s\n' "${COMPREPLY[@]}"
}

offers() { # WANTED... -- WORDS...: whether completing the last of WORDS offers each WANTED
  local -a wanted=()
  while [ "$1" != -- ]; do wanted+=("$1"); shift; done
  shift
  local got w
  got=$(complete_words "$@")
  for w in "${wanted[@]}"; do
    checked=$((checked + 1))
    grep -qxF -- "$w" <<<"$got" || echo "missing: completing [gmon $*] does not offer $w (offers: ${got//$'\n'/ })"
  done
}

commands=$("$G" --list-commands)
for cmd in $commands; do
  offers "$cmd" -- "${cmd:0:2}"
  paths=("$cmd")
  subs=$("$G" "$cmd" --list-commands 2>/dev/null)
  [ -z "$subs" ] || offers $subs -- "$cmd" ""
  for sub in $subs; do paths+=("$cmd $sub"); done
  for path in "${paths[@]}"; do
    read -ra words <<<"$path"
    options=($("$G" "${words[@]}" --list-options))
    [ ${#options[@]} -gt 0 ] || continue
    offers "${options[@]/#/--}" -- "${words[@]}" --
    last=${options[-1]}
    offers "--$last" -- "${words[@]}" "--${last:0:2}"
    offers "-$last" -- "${words[@]}" "-${last:0:2}"
  done
done
lifecycle=($("$G" lifecycle --list-options) help version)
offers "${lifecycle[@]/#/--}" -- --
echo "checked $checked"
