// swift-tools-version:5.9
//
// A command-line program that uses the IdFlow package the way any app would: one dependency.
// Here it is the package in this repository (`../../swift`); an app outside it would name the
// package's Git URL instead. On Linux, pass the native library's directory when building:
//   swift build -Xlinker -L<dir> -Xlinker -rpath -Xlinker <dir>
import PackageDescription

let package = Package(
    name: "SignIn",
    platforms: [.macOS(.v10_15)],
    dependencies: [.package(name: "IdFlow", path: "../../swift")],
    targets: [
        .executableTarget(name: "SignIn", dependencies: [.product(name: "IdFlow", package: "IdFlow")]),
    ]
)
