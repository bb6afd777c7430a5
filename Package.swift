// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "llmesh",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "llmesh", targets: ["llmesh"]),
        .library(name: "LLMeshModel", targets: ["LLMeshModel"]),
        .library(name: "LLMeshProviders", targets: ["LLMeshProviders"]),
        .library(name: "LLMeshSidecar", targets: ["LLMeshSidecar"]),
        .library(name: "LLMeshLimits", targets: ["LLMeshLimits"]),
        .library(name: "LLMeshCredentials", targets: ["LLMeshCredentials"]),
        .library(name: "LLMeshCertificates", targets: ["LLMeshCertificates"]),
        .library(name: "LLMeshKube", targets: ["LLMeshKube"]),
        .library(name: "LLMeshOperator", targets: ["LLMeshOperator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        .executableTarget(
            name: "llmesh",
            dependencies: [
                "LLMeshModel",
                "LLMeshSidecar",
                "LLMeshOperator",
                "LLMeshKube",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "LLMeshModel",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "LLMeshProviders",
            dependencies: [
                "LLMeshModel",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LLMeshCredentials",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        /// Local certificate authorities and serving certificates (the operator's webhooks, the sidecar's TLS listener).
        .target(
            name: "LLMeshCertificates",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "LLMeshLimits",
            dependencies: [
                "LLMeshModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LLMeshSidecar",
            dependencies: [
                "LLMeshModel",
                "LLMeshProviders",
                "LLMeshLimits",
                "LLMeshCredentials",
                "LLMeshCertificates",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "LLMeshKube",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "LLMeshOperator",
            dependencies: [
                "LLMeshModel",
                "LLMeshCertificates",
                "LLMeshKube",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        /// The seeded generator and case runner of the fuzz-style tests (tests only, never shipped).
        .target(name: "LLMeshFuzzSupport"),
        /// An in-process Kubernetes API server with the real semantics, for tests only (never shipped).
        .target(
            name: "LLMeshKubeTestSupport",
            dependencies: [
                "LLMeshKube",
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// Runs the in-process API server as a process for end-to-end tests with kubectl (built, never shipped).
        .executableTarget(name: "llmesh-test-apiserver", dependencies: ["LLMeshKubeTestSupport"]),
        .testTarget(name: "LLMeshModelTests", dependencies: ["LLMeshModel"]),
        .testTarget(name: "LLMeshKubeTests", dependencies: ["LLMeshKube", "LLMeshKubeTestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "LLMeshOperatorTests", dependencies: ["LLMeshOperator", "LLMeshCertificates", "LLMeshKube", "LLMeshKubeTestSupport", "LLMeshModel", .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "LLMeshCredentialsTests",
            dependencies: [
                "LLMeshCredentials", "LLMeshFuzzSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "LLMeshLimitsTests", dependencies: ["LLMeshLimits", "LLMeshModel", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "LLMeshProvidersTests", dependencies: ["LLMeshProviders", "LLMeshModel", "LLMeshFuzzSupport", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(
            name: "LLMeshSidecarTests",
            dependencies: [
                "LLMeshSidecar", "LLMeshModel", "LLMeshProviders",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
