// swift-tools-version:5.9
//
// The IdFlow Swift package: uniffi's generated Swift (`Sources/IdFlow/IdFlow.swift`) plus the
// hand-written NSError idiom, over the one native library `idflow_ffi`.
//
// Nothing generated is committed. `scripts/test-swift.sh` copies, from `build/generated/swift/`
// (made by `scripts/build-native.sh`):
//   IdFlow.swift          -> Sources/IdFlow/IdFlow.swift
//   IdFlowFFI.h           -> Sources/IdFlowFFI/IdFlowFFI.h
//   IdFlowFFI.modulemap   -> Sources/IdFlowFFI/module.modulemap
//
// Linux: `IdFlowFFI` is a system-library target (header + module map) and the Swift target
// links `libidflow_ffi.so`; pass its directory at build time:
//   swift test -Xlinker -L<dir> -Xlinker -rpath -Xlinker <dir>
// (`scripts/test-swift.sh` does this inside the Debian 13 chroot that holds Swift.)
//
// Apple platforms: `IdFlowFFI` is a binary target, `IdFlowFFI.xcframework`, holding the static
// library for each iOS/macOS slice with the same header and module map. Build it on a Mac with
// `scripts/build-xcframework.sh` (it cannot run on the Linux CI machines); a release would point
// the binary target at a URL + checksum instead of the local path.
import PackageDescription

#if os(Linux)
let ffi: Target = .systemLibrary(name: "IdFlowFFI", path: "Sources/IdFlowFFI")
#else
let ffi: Target = .binaryTarget(name: "IdFlowFFI", path: "IdFlowFFI.xcframework")
#endif

let package = Package(
    name: "IdFlow",
    platforms: [.iOS(.v13), .macOS(.v10_15)],
    products: [
        .library(name: "IdFlow", targets: ["IdFlow"]),
    ],
    targets: [
        ffi,
        .target(
            name: "IdFlow",
            dependencies: ["IdFlowFFI"],
            path: "Sources/IdFlow",
            linkerSettings: [
                .linkedLibrary("idflow_ffi", .when(platforms: [.linux])),
                // The static library's TLS verifies certificates with the platform's trust store.
                .linkedFramework("Security", .when(platforms: [.iOS, .macOS])),
                .linkedFramework("CoreFoundation", .when(platforms: [.iOS, .macOS])),
            ]
        ),
        .testTarget(
            name: "IdFlowTests",
            dependencies: ["IdFlow"],
            path: "Tests/IdFlowTests"
        ),
    ]
)
