import Foundation
import Testing
@testable import LLMeshCredentials

/// EKS Pod Identity (the container provider) against a local agent.
@Suite struct PodIdentityTests {
    let clock = TestClock()

    static func agentAnswer(_ index: Int, clock: TestClock) -> TestHTTPServer.Response {
        let expiration = clock.now.addingTimeInterval(6 * 3600)
        let json = """
        {"AccessKeyId":"\(IssuedCredentials.accessKeyID(index))","SecretAccessKey":"\(IssuedCredentials.secret(index))","Token":"\(IssuedCredentials.token(index))","AccountId":"123456789012","Expiration":"\(nanosecondTimestamp(expiration))"}
        """
        return .init(body: json, contentType: "application/json")
    }

    /// RFC3339Nano, as the agent (written in Go) sends it.
    static func nanosecondTimestamp(_ date: Date) -> String {
        date.ISO8601Format().replacingOccurrences(of: "Z", with: ".123456789Z")
    }

    func environment(_ server: TestHTTPServer, tokenFile: String) -> [String: String] {
        ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.baseURL + "/v1/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile]
    }

    @Test func fetchesFromTheAgentWithTheTokenAsAuthorization() async throws {
        let token = try TemporaryFile("eks-pod-identity-token-A\n")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in Self.agentAnswer(index, clock: clock) }) { server, client in
            let resolver = Harness.resolver(.init(podIdentity: true), environment: environment(server, tokenFile: token.path), client: client, clock: clock)
            let credentials = try await resolver.credentials()
            #expect(credentials.accessKeyID == IssuedCredentials.accessKeyID(0))
            #expect(credentials.secretAccessKey == IssuedCredentials.secret(0))
            #expect(credentials.sessionToken == IssuedCredentials.token(0))
            #expect(credentials.expiration.map { abs($0.timeIntervalSince(clock.now) - 6 * 3600) < 1 } == true)
            let request = try #require(server.requests.first)
            #expect(request.method == "GET")
            #expect(request.uri == "/v1/credentials")
            #expect(request.header("authorization") == "eks-pod-identity-token-A")
            #expect(request.header("accept") == "application/json")
            #expect(resolver.status.source == "pod-identity")

            // The token file is read again for the next fetch.
            try token.write("eks-pod-identity-token-B")
            resolver.invalidate()
            _ = try await resolver.credentials()
            #expect(server.requests.last?.header("authorization") == "eks-pod-identity-token-B")
        }
    }

    @Test func theTokenMayComeFromTheEnvironment() async throws {
        let clock = clock
        try await Harness.withServer({ _, index in Self.agentAnswer(index, clock: clock) }) { server, client in
            let resolver = Harness.resolver(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.baseURL + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "env-token"], client: client, clock: clock)
            _ = try await resolver.credentials()
            #expect(server.requests.first?.header("authorization") == "env-token")
        }
    }

    @Test func refusesATokenWithALineBreak() async throws {
        let token = try TemporaryFile("abc\r\nX-Injected: yes")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in Self.agentAnswer(index, clock: clock) }) { server, client in
            let fromFile = Harness.resolver(.init(podIdentity: true), environment: environment(server, tokenFile: token.path), client: client, clock: clock)
            let fileError = await #expect(throws: AWSCredentialError.self) { try await fromFile.credentials() }
            #expect(fileError?.kind == .unavailable)
            #expect(fileError?.message.contains(token.path) == true)
            #expect(fileError?.description.contains("X-Injected") == false)

            let fromEnvironment = Harness.resolver(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.baseURL, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "abc\ndef"], client: client, clock: clock)
            let environmentError = await #expect(throws: AWSCredentialError.self) { try await fromEnvironment.credentials() }
            #expect(environmentError?.message.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN") == true)
            #expect(server.requestCount == 0)
        }
    }

    @Test func refusesAPlainHTTPHostThatIsNotAnAgent() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        try await Harness.withClient { client in
            let resolver = Harness.resolver(.init(podIdentity: true), environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.169.254/latest/meta-data/iam", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token.path], client: client, clock: clock)
            let error = await #expect(throws: AWSCredentialError.self) { try await resolver.credentials() }
            #expect(error?.kind == .notConfigured)
            #expect(error?.message.contains("169.254.169.254") == true)
        }
    }

    @Test func retriesServerErrorsButNotRefusals() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in
            index == 0 ? .init(status: 500, body: "{}", contentType: "application/json") : Self.agentAnswer(index, clock: clock)
        }) { server, client in
            let resolver = Harness.resolver(environment: environment(server, tokenFile: token.path), client: client, clock: clock)
            let key = try await Harness.accessKeyID(resolver)
            #expect(key == IssuedCredentials.accessKeyID(1))
            #expect(server.requestCount == 2)
        }
        try await Harness.withServer({ _, _ in
            .init(status: 403, body: #"{"code":"AccessDeniedException","message":"token audience"}"#, contentType: "application/json")
        }) { server, client in
            let resolver = Harness.resolver(environment: environment(server, tokenFile: token.path), client: client, clock: clock)
            let error = await #expect(throws: AWSCredentialError.self) { try await resolver.credentials() }
            #expect(error?.kind == .rejected)
            #expect(error?.code == "AccessDeniedException")
            #expect(server.requestCount == 1)
        }
    }

    @Test func refusesAnswersWithoutCredentials() {
        let outcome = ContainerCredentialProvider.outcome(status: 200, body: Array(#"{"AccessKeyId":"A"}"#.utf8), host: "h", hiding: [])
        guard case .final(let error) = outcome else {
            Issue.record("expected a final error, got \(outcome)")
            return
        }
        #expect(error.kind == .unavailable)
    }
}
