#!/usr/bin/env bash
# idflow's Kotlin/JVM binding vs MSAL for Java (JMH). Builds the release
# native library and the idflow jar unless SKIP_BUILD=1, compiles this
# benchmark, starts the emulator on 127.0.0.1 (release build; the first-token
# benchmark's server, its address in IDFLOW_BENCH_EMULATOR), and runs JMH
# with any arguments given (e.g. `-p users=10000`, `CacheBench`,
# `FirstTokenBench`, `-f 1 -wi 2 -i 3`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../../scripts/lib.sh
. "$here/../../scripts/lib.sh"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  PROFILE=release bash "$repo/scripts/build-native.sh"
  bash "$repo/scripts/build-jar.sh" >/dev/null
fi
(cd "$repo" && cargo build -q --release -p idflow-cli)

work="$(mktemp -d)"
# shellcheck disable=SC2317 # run by the trap below
cleanup() { stop_servers; rm -rf "$work"; }
trap cleanup EXIT INT TERM
start_server emulator "$work" "$target/release/idflow" emulator --port 0
export IDFLOW_BENCH_EMULATOR="$server_line"

cd "$here"
# clean: the idflow jar may have changed under classes compiled against it.
mvn -B -q -Dstyle.color=never clean compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
# Run against this checkout's jar (kotlin/target, from build-jar.sh), not the
# one in Maven's local repository, which another build may replace mid-run.
jar="$repo/kotlin/target/idflow-0.1.0-SNAPSHOT.jar"
deps="$(tr ':' '\n' <target/classpath.txt | grep -v '/dev/idflow/idflow/' | paste -sd: -)"
java -cp "target/classes:$jar:$deps" org.openjdk.jmh.Main "$@"
