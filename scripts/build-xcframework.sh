#!/usr/bin/env bash
# Builds the Swift package's native part for Apple platforms. macOS only: it needs Xcode
# (xcodebuild, lipo) and rustup; on any other system it stops with a message and exit status 2.
#
# What it makes (both git-ignored):
#   swift/IdFlowFFI.xcframework          the static libidflow_ffi.a for every Apple slice, each with
#                                        IdFlowFFI.h and its module map (module IdFlowFFI):
#                                          ios-arm64                      aarch64-apple-ios
#                                          ios-arm64_x86_64-simulator     aarch64-apple-ios-sim + x86_64-apple-ios (lipo)
#                                          macos-arm64_x86_64             aarch64-apple-darwin + x86_64-apple-darwin (lipo)
#   swift/Sources/IdFlow/IdFlow.swift    the generated Swift, from the same build (uniffi-bindgen)
#
# swift/Package.swift uses the xcframework as a binary target on Apple platforms (and the
# system-library target with libidflow_ffi.so on Linux), so after this script
# `swift build` / `swift test` in swift/, or adding the package to an Xcode project, just works.
# For a release, zip the xcframework, publish it, and point the binary target at its URL and
# checksum (`swift package compute-checksum IdFlowFFI.xcframework.zip`).
#
# Usage (from anywhere): scripts/build-xcframework.sh
# Linux CI cannot run this; scripts/test-swift.sh covers the same Swift sources there.
set -euo pipefail
if [ "$(uname -s)" != Darwin ]; then
  echo "build-xcframework.sh: this builds Apple frameworks and needs macOS with Xcode;" \
    "this system is $(uname -s). On Linux use scripts/build-native.sh and scripts/test-swift.sh." >&2
  exit 2
fi
for tool in xcodebuild lipo rustup cargo; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-xcframework.sh: $tool not found (install Xcode and rustup)" >&2; exit 2; }
done
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
ios=aarch64-apple-ios
ios_sim=(aarch64-apple-ios-sim x86_64-apple-ios)
macos=(aarch64-apple-darwin x86_64-apple-darwin)

for t in "$ios" "${ios_sim[@]}" "${macos[@]}"; do
  rustup target add "$t" >/dev/null
  cargo build --release -p idflow-ffi --target "$t"
done
cargo build --release -p uniffi-bindgen

stage="build/xcframework"
rm -rf "$stage"
mkdir -p "$stage/generated" "$stage/headers" "$stage/ios-sim" "$stage/macos"
host_lib="$target/$(uname -m | sed 's/arm64/aarch64/')-apple-darwin/release/libidflow_ffi.dylib"
"$target/release/uniffi-bindgen" generate "$host_lib" --language swift \
  --out-dir "$stage/generated" --no-format
cp "$stage/generated/IdFlowFFI.h" "$stage/headers/"
cp "$stage/generated/IdFlowFFI.modulemap" "$stage/headers/module.modulemap"

# One fat library per platform variant (device, simulator, macOS).
fat() {
  local out="$1"; shift
  local libs=()
  for t in "$@"; do libs+=("$target/$t/release/libidflow_ffi.a"); done
  lipo -create "${libs[@]}" -output "$out"
}
fat "$stage/ios-sim/libidflow_ffi.a" "${ios_sim[@]}"
fat "$stage/macos/libidflow_ffi.a" "${macos[@]}"

rm -rf swift/IdFlowFFI.xcframework
xcodebuild -create-xcframework \
  -library "$target/$ios/release/libidflow_ffi.a" -headers "$stage/headers" \
  -library "$stage/ios-sim/libidflow_ffi.a" -headers "$stage/headers" \
  -library "$stage/macos/libidflow_ffi.a" -headers "$stage/headers" \
  -output swift/IdFlowFFI.xcframework
cp "$stage/generated/IdFlow.swift" swift/Sources/IdFlow/IdFlow.swift
echo "swift/IdFlowFFI.xcframework and swift/Sources/IdFlow/IdFlow.swift are ready" >&2
