// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "pode",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pode", targets: ["pode"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The info browser's HTTP server (pode serve); its optional swift-configuration support is left out.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // C edge: CPython, found through pkg-config (Debian's libpython3-dev).
        .systemLibrary(name: "CPython", path: "Shims/CPython", pkgConfig: "python3-embed",
                       providers: [.apt(["libpython3-dev"])]),
        // C edge: LZ4's block format, for the frames of events.log (Debian's liblz4-dev).
        .systemLibrary(name: "CLZ4", path: "Shims/CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        // C edge: the recorder's hot path (trace hook, value rendering, event ring) and embedding.
        .target(name: "CPodeRecorder", dependencies: ["CPython"], path: "Shims/CPodeRecorder",
                cSettings: [.unsafeFlags(["-O2", "-fno-strict-aliasing", "-Werror"])]),
        // C++ edge: Xapian behind a plain C header (Debian's libxapian-dev).
        .target(name: "CXapian", path: "Shims/CXapian",
                cxxSettings: [.unsafeFlags(["-Werror"])],
                linkerSettings: [.linkedLibrary("xapian")]),

        .target(name: "XapianKit", dependencies: ["CXapian"]),
        .target(name: "PodeLog", dependencies: ["CLZ4"]),
        .target(name: "PodeIndex", dependencies: ["PodeLog", "XapianKit"]),
        .target(name: "PodeQuery", dependencies: ["PodeLog", "PodeIndex", "XapianKit"]),
        .target(name: "PodeRecorder", dependencies: ["PodeLog", "PodeIndex", "CPodeRecorder"]),
        .target(name: "PodeServe", dependencies: [
            "PodeQuery", "PodeLog",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], resources: [.copy("Static")]),
        .executableTarget(name: "pode", dependencies: [
            "PodeRecorder", "PodeQuery", "PodeLog", "PodeServe",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "XapianKitTests", dependencies: ["XapianKit"]),
        .testTarget(name: "PodeTests", dependencies: ["PodeLog", "PodeIndex", "PodeQuery", "PodeServe", "pode"]),
    ],
    cxxLanguageStandard: .cxx17
)
