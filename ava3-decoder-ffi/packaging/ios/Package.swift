// swift-tools-version:5.9
// Swift package over the Ava3 XCFramework that package.sh builds beside
// this file. In Swift: `import Ava3`, then the C API of ava3.h (see
// examples/ios/Ava3Model.swift for a handle class).
import PackageDescription

let package = Package(
    name: "Ava3",
    platforms: [.iOS(.v13)],
    products: [.library(name: "Ava3", targets: ["Ava3"])],
    targets: [.binaryTarget(name: "Ava3", path: "Ava3.xcframework")]
)
