#!/usr/bin/env bash
# Checks that ELF files run on a glibc as old as the floor the packages promise
# (2.17, manylinux2014): every glibc symbol version a file needs (its version
# references, which the dynamic loader checks at load time) must be at most the
# floor, and no file may need GLIBC_PRIVATE. Prints the newest version each
# file needs; on failure, the symbols that need a newer glibc.
#
# Usage: scripts/check-glibc.sh [--max X.Y] FILE...
# Exits non-zero when a file needs a newer glibc (or is not a dynamic ELF file).
set -euo pipefail
max=2.17
if [ "${1:-}" = --max ]; then max="$2"; shift 2; fi
[ $# -gt 0 ] || { echo "usage: $0 [--max X.Y] FILE..." >&2; exit 2; }

# Sorts version numbers (2.2.5 < 2.17 < 2.34) and tells whether $1 <= $2.
version_le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$1" ]; }

status=0
for file in "$@"; do
  name="$(basename "$file")"
  if ! refs="$(objdump -p "$file" 2>/dev/null)"; then
    echo "check-glibc: $file is not an ELF file" >&2
    status=1
    continue
  fi
  # "required from libc.so.6:" is followed by lines "0x... 0x00 NN GLIBC_2.14".
  versions="$(awk '/^Version References:/ {refs = 1; next}
                   refs && /^  required from/ {next}
                   refs && NF == 4 && $4 ~ /^GLIBC_/ {print $4}
                   refs && NF == 0 {refs = 0}' <<<"$refs" | sort -u)"
  if [ -z "$versions" ]; then
    echo "check-glibc: $file has no glibc version references (not dynamically linked?)" >&2
    status=1
    continue
  fi
  newest=""
  too_new=()
  while IFS= read -r v; do
    if [ "$v" = GLIBC_PRIVATE ]; then too_new+=("$v"); continue; fi
    n="${v#GLIBC_}"
    if [ -z "$newest" ] || ! version_le "$n" "$newest"; then newest="$n"; fi
    version_le "$n" "$max" || too_new+=("$v")
  done <<<"$versions"
  if [ ${#too_new[@]} -eq 0 ]; then
    echo "check-glibc: $name: newest glibc version needed $newest (floor $max): ok"
  else
    status=1
    echo "check-glibc: $name needs a newer glibc than $max: ${too_new[*]}" >&2
    for v in "${too_new[@]}"; do
      objdump -T "$file" | awk -v v="($v)" '$0 ~ /\*UND\*/ && index($0, v) {print "  " v " " $NF}' >&2
    done
  fi
done
exit "$status"
