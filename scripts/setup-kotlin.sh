#!/usr/bin/env bash
# Makes sure Maven can build and test kotlin/: resolves its plugins and
# dependencies into Maven's local repository (~/.m2/repository unless configured
# otherwise). Idempotent, and quick once done: nothing is downloaded again.
# Java 17 and Maven 3.8 come from the machine (Debian's openjdk-17-jdk-headless, maven).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$repo/kotlin"

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
      break
    fi
    log "$tool not found (need Java 17 and Maven 3.8+)"
    exit 1
  fi
done

# go-offline resolves the build plugins and the project's dependencies; Surefire's
# JUnit provider is still fetched by the first test run (it is chosen at run time).
# With everything already in the local repository this takes a few seconds.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! mvn -B -Dstyle.color=never dependency:go-offline >"$log" 2>&1; then
  grep -E '^\[ERROR\]' "$log" >&2 || tail -40 "$log" >&2
  exit 1
fi
log "Maven dependencies resolved"
