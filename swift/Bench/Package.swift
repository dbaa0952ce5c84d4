// swift-tools-version:5.9
//
// The per-call cost of a silent cache hit through the Swift binding, against the same call in Rust
// (`bench/swift_hit.sh` builds and runs both, in release, and prints the ratios). Not part of the
// IdFlow package or its tests: a package of its own over `..`.
import PackageDescription

let package = Package(
    name: "IdFlowBench",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "HitBench",
            dependencies: [.product(name: "IdFlow", package: "swift")],
            path: "Sources/HitBench"
        ),
    ]
)
