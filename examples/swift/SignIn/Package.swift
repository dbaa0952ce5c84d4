// swift-tools-version:5.9
//
// A command-line program that uses the IdFlow package the way any app would: one dependency,
// the product `IdFlow`. Here the package is the one in this repository, `../../../swift` (SwiftPM
// knows a local package by its folder name, `swift`; this example lives in `SignIn/` so the two
// names differ). An app elsewhere names the package's Git URL instead:
//   .package(url: "https://github.com/<owner>/idflow", from: "0.1.0")  and  package: "idflow"
// On Linux, pass the native library's directory when building:
//   swift build -Xlinker -L<dir> -Xlinker -rpath -Xlinker <dir>
import PackageDescription

let package = Package(
    name: "SignIn",
    platforms: [.macOS(.v10_15)],
    dependencies: [.package(path: "../../../swift")],
    targets: [
        .executableTarget(name: "SignIn", dependencies: [.product(name: "IdFlow", package: "swift")]),
    ]
)
