#!/usr/bin/env bash
# macOS only (needs Xcode and rustup): builds what the package needs on Apple platforms.
#   swift/IdFlowFFI.xcframework     static libidflow_ffi.a for iOS, iOS simulator and macOS,
#                                   each with IdFlowFFI.h and its module map (module IdFlowFFI)
#   swift/Sources/IdFlow/IdFlow.swift   the generated Swift, from the same build
# Both are git-ignored. Package.swift uses the xcframework as a binary target on Apple hosts;
# for a release, zip it, publish it, and point the binary target at its URL + checksum
# (`swift package compute-checksum IdFlowFFI.xcframework.zip`).
#
# Linux CI cannot run this; scripts/test-swift.sh covers the same Swift sources there.
set -euo pipefail
[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 2; }
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
