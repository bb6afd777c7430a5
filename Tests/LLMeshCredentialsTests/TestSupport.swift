import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
@testable import LLMeshCredentials

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let current: NIOLockedValueBox<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = NIOLockedValueBox(start)
    }

    var now: Date { current.withLockedValue { $0 } }

    func advance(by seconds: TimeInterval) {
        current.withLockedValue { $0 = $0.addingTimeInterval(seconds) }
    }

    var function: @Sendable () -> Date { { self.now } }
}

/// A token file in a fresh temporary directory, removed by `remove()`.
struct TemporaryFile {
    let path: String

    init(_ content: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmesh-credentials-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("token").path
        try write(content)
    }

    /// Replaces the content as the kubelet does: a new file renamed over the old one.
    func write(_ content: String) throws {
        let staging = path + ".new"
        try Data(content.utf8).write(to: URL(fileURLWithPath: staging))
        _ = try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: staging, toPath: path)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
}

/// STS documents as AWS sends them.
enum STSFixture {
    static func success(accessKeyID: String, secret: String, token: String, expiration: String) -> String {
        """
        <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleWithWebIdentityResult>
            <SubjectFromWebIdentityToken>system:serviceaccount:default:app</SubjectFromWebIdentityToken>
            <Audience>sts.amazonaws.com</Audience>
            <AssumedRoleUser>
              <Arn>arn:aws:sts::123456789012:assumed-role/Role/llmesh</Arn>
              <AssumedRoleId>AROAEXAMPLE:llmesh</AssumedRoleId>
            </AssumedRoleUser>
            <Credentials>
              <SessionToken>\(token)</SessionToken>
              <SecretAccessKey>\(secret)</SecretAccessKey>
              <Expiration>\(expiration)</Expiration>
              <AccessKeyId>\(accessKeyID)</AccessKeyId>
            </Credentials>
            <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE</Provider>
          </AssumeRoleWithWebIdentityResult>
          <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
        </AssumeRoleWithWebIdentityResponse>
        """
    }

    static func error(code: String, message: String, type: String = "Sender") -> String {
        """
        <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <Error><Type>\(type)</Type><Code>\(code)</Code><Message>\(message)</Message></Error>
          <RequestId>4f1a2d2e-0000-0000-0000-000000000000</RequestId>
        </ErrorResponse>
        """
    }

    /// `date` as STS writes it.
    static func timestamp(_ date: Date) -> String { date.ISO8601Format() }
}

/// Distinct credentials per request index, expiring `lifetime` after the clock's current time.
struct IssuedCredentials {
    static func accessKeyID(_ index: Int) -> String { "ASIATESTKEY\(String(format: "%05d", index))" }
    static func secret(_ index: Int) -> String { "secret/\(index)+SECRETSECRETSECRET=" }
    static func token(_ index: Int) -> String { "FwoGZXIvYXdzEXAMPLE+session/\(index)==" }

    static func stsSuccess(_ index: Int, clock: TestClock, lifetime: TimeInterval = 3600) -> TestHTTPServer.Response {
        .init(body: STSFixture.success(accessKeyID: accessKeyID(index), secret: secret(index), token: token(index), expiration: STSFixture.timestamp(clock.now.addingTimeInterval(lifetime))))
    }
}

/// The HTTP client, logger and resolver factory that tests share.
enum Harness {
    static let logger = Logger(label: "llmesh.credentials.tests")
    /// Fast retries, so retry tests take milliseconds.
    static let fastRetry = RetryPolicy(attempts: 3, baseDelay: .milliseconds(2))

    static func withClient<T>(_ body: (HTTPClient) async throws -> T) async throws -> T {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Runs `body` against a fresh server answering with `respond` and a fresh client; both are shut down after.
    static func withServer<T>(_ respond: @escaping TestHTTPServer.Responder, _ body: (TestHTTPServer, HTTPClient) async throws -> T) async throws -> T {
        let server = try await TestHTTPServer.start(respond)
        do {
            let result = try await withClient { try await body(server, $0) }
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// IRSA's variables, with STS at `server`.
    static func webIdentityEnvironment(server: TestHTTPServer, tokenFile: String, roleARN: String = "arn:aws:iam::123456789012:role/App") -> [String: String] {
        ["AWS_ROLE_ARN": roleARN, "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ENDPOINT_URL_STS": server.baseURL, "AWS_REGION": "eu-west-1"]
    }

    static func resolver(_ configuration: AWSAuthConfiguration = .init(), environment: [String: String], client: HTTPClient, clock: TestClock, refresh: AWSRefreshPolicy = .default, requestTimeout: TimeAmount? = .seconds(30)) -> AWSCredentialResolver {
        AWSCredentialResolver(configuration: configuration, environment: AWSEnvironment(environment), refresh: refresh, retry: fastRetry, requestTimeout: requestTimeout, httpClient: client, logger: logger, now: clock.function)
    }

    /// The access key id of `resolver`'s credentials now (untyped `throws`, which `#expect` handles on either side).
    static func accessKeyID(_ resolver: AWSCredentialResolver) async throws -> String {
        try await resolver.credentials().accessKeyID
    }

    /// Polls `condition` for up to `seconds` (for effects of background work).
    static func eventually(within seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }
}

/// A gate that holds answers until the test opens it.
final class Gate: Sendable {
    private let state = NIOLockedValueBox<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLockedValue { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
