#!/usr/bin/env bash
# Builds idflow's Kotlin/JVM jar with the native library inside, and installs
# it into Maven's local repository (~/.m2 unless configured otherwise) as
# dev.idflow:idflow:<version>, so any Maven project on this machine can declare
#   <dependency><groupId>dev.idflow</groupId><artifactId>idflow</artifactId>
#     <version>0.1.0-SNAPSHOT</version></dependency>
# and nothing else (kotlin-stdlib, kotlinx-coroutines-core and JNA come along).
#
# The jar holds the generated dev.idflow.ffi bindings, the hand-written
# idiom, and linux-x86-64/libidflow_ffi.so, where JNA finds it on the classpath
# (no -Djna.library.path needed), without its debug info. Packs the library
# and bindings that are in build/ (scripts/build-native.sh runs first when they
# are missing): the library the wheel holds, linked against glibc 2.17, so the
# jar runs on the same Linux systems (checked here by scripts/check-glibc.sh).
# For a release jar run `PROFILE=release scripts/build-native.sh` first.
# Prints the jar's path on the last line of stdout.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
lib="$repo/build/lib/libidflow_ffi.so"
gen="$repo/build/generated/kotlin"
if [ ! -f "$lib" ] || [ ! -d "$gen/dev/idflow/ffi" ]; then
  bash scripts/build-native.sh
fi
if [ ! -f "$lib" ] || [ ! -d "$gen/dev/idflow/ffi" ]; then echo "build-jar: build/ has no native library or bindings" >&2; exit 1; fi

bash scripts/setup-kotlin.sh >&2
native="$repo/build/jar-native"
rm -rf "$native"
mkdir -p "$native/linux-x86-64"
if command -v strip >/dev/null 2>&1; then
  strip --strip-debug -o "$native/linux-x86-64/libidflow_ffi.so" "$lib"
else
  cp "$lib" "$native/linux-x86-64/libidflow_ffi.so"
fi
bash scripts/check-glibc.sh "$native/linux-x86-64/libidflow_ffi.so" >&2

cd kotlin
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! mvn -B -Dstyle.color=never install -DskipTests \
    -Didflow.generated="$gen" -Didflow.native.resources="$native" >"$log" 2>&1; then
  grep -E '^\[(ERROR|WARNING)\]' "$log" >&2 || tail -40 "$log" >&2
  exit 1
fi
jar=""
for f in "$repo"/kotlin/target/idflow-*.jar; do
  case "$f" in *-sources.jar) ;; *) jar="$f"; break ;; esac
done
[ -f "$jar" ] || { echo "build-jar: Maven made no jar" >&2; exit 1; }
unzip -l "$jar" | grep 'linux-x86-64/libidflow_ffi.so' >/dev/null || { echo "build-jar: the jar lacks the native library" >&2; exit 1; }
echo "build-jar: $(basename "$jar") ($(du -h "$jar" | cut -f1)) installed in Maven's local repository" >&2
echo "$jar"
