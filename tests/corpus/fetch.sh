#!/usr/bin/env bash
# Fetches the pinned npm corpus (manifest.tsv) into a cache directory and verifies every binary's sha256.
# Usage: fetch.sh [DIR]   default ${GMON_CACHE:-$HOME/.cache/gmon}/corpus. Idempotent: cached binaries that
# verify are not fetched again. Exits non-zero, naming the package, when one cannot be had.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${GMON_CACHE:-$HOME/.cache/gmon}/corpus}
mkdir -p "$dir"
fetched=0
while IFS=$'\t' read -r name pkg _go _mod sha _main path; do
  case "$name" in ''|'#'*) continue ;; esac
  bin="$dir/$name"
  path=${path:-package/bin/esbuild}
  if [ -f "$bin" ] && echo "$sha  $bin" | sha256sum -c --status; then continue; fi
  tmp=$(mktemp -d)
  echo "corpus: fetching $pkg" >&2
  if ! (cd "$tmp" && timeout 300 npm pack --silent "$pkg" >/dev/null 2>npm.err); then
    echo "corpus: cannot fetch $pkg from the npm registry:" >&2; cat "$tmp/npm.err" >&2; rm -rf "$tmp"; exit 1
  fi
  tar xzf "$tmp"/*.tgz -C "$tmp" "$path"
  if ! echo "$sha  $tmp/$path" | sha256sum -c --status; then
    echo "corpus: $pkg does not match its pinned sha256" >&2; rm -rf "$tmp"; exit 1
  fi
  mv "$tmp/$path" "$bin"
  chmod +x "$bin"
  rm -rf "$tmp"
  fetched=$((fetched + 1))
done < "$here/manifest.tsv"
echo "corpus: $(grep -c '^[a-z]' "$here/manifest.tsv") binaries ready in $dir ($fetched fetched now)" >&2
