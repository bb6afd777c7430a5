import Foundation
import Testing
@testable import LLMeshKube
import NIOConcurrencyHelpers

@Suite struct KubeConfigTests {
    @Test func readsCurrentContextWithTokenAndInlineCA() throws {
        let ca = Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()
        let text = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: c1
          cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: \(ca)}
        contexts:
        - name: dev
          context: {cluster: c1, user: u1, namespace: team-a}
        users:
        - name: u1
          user: {token: abc}
        """
        let config = try KubeConfig.parseKubeconfig(text, context: nil, baseDirectory: "/tmp")
        #expect(config.server == "https://10.0.0.1:6443")
        #expect(config.credentials == .token("abc"))
        #expect(config.namespace == "team-a")
        #expect(config.certificateAuthorityPEM.map { String(decoding: $0, as: UTF8.self) }?.hasPrefix("-----BEGIN CERTIFICATE-----") == true)
    }

    @Test(arguments: [
        ("not: [valid", "not valid YAML"),
        ("- a list", "not a mapping"),
        ("current-context: x\ncontexts: []", "no context \"x\""),
        ("current-context: x\ncontexts:\n- name: x\n  context: {cluster: nope}", "names no known cluster"),
        ("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: \"ftp://x\"}", "no http(s) server"),
        ("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n- name: c\n  cluster: {server: \"https://x\"}\nusers:\n- name: u\n  user: {exec: {command: aws}}", "exec or auth-provider"),
    ])
    func badKubeconfigsSayWhy(text: String, expected: String) {
        do {
            _ = try KubeConfig.parseKubeconfig(text, context: nil, baseDirectory: "/tmp")
            Issue.record("accepted a bad kubeconfig")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test func inClusterNeedsTheServiceEnvironment() {
        #expect(throws: (any Error).self) { _ = try KubeConfig.inCluster(environment: [:]) }
    }

    @Test func inClusterReadsTheMountedFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("token-1\n".utf8).write(to: directory.appendingPathComponent("token"))
        try Data("llmesh-system".utf8).write(to: directory.appendingPathComponent("namespace"))
        let config = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], directory: directory.path)
        #expect(config.server == "https://[fd00::1]:443")
        #expect(config.namespace == "llmesh-system")
        #expect(config.credentials == .tokenFile(directory.appendingPathComponent("token").path))
    }

    @Test func tokenFileIsReReadAfterTheInterval() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("first".utf8).write(to: file)
        let clock = NIOLockedValueBox(ContinuousClock.now)
        let source = BearerTokenSource(path: file.path, refreshInterval: .seconds(60)) { clock.withLockedValue { $0 } }
        #expect(try source.token() == "first")
        try Data("second".utf8).write(to: file)
        clock.withLockedValue { $0 += .seconds(59) }
        #expect(try source.token() == "first")
        clock.withLockedValue { $0 += .seconds(1) }
        #expect(try source.token() == "second")
    }
}
