import Foundation
import Testing
@testable import LLMeshCredentials

/// The cache: fresh, advisory (background refresh), mandatory (blocking), single flight, invalidation.
@Suite struct CachingTests {
    let clock = TestClock()

    /// Seconds into a one-hour session at which each window begins.
    static let advisoryStart: TimeInterval = 3600 - 15 * 60
    static let mandatoryStart: TimeInterval = 3600 - 10 * 60

    @Test func freshCredentialsComeFromTheCache() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in IssuedCredentials.stsSuccess(index, clock: clock) }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let first = try await resolver.credentials()
            clock.advance(by: Self.advisoryStart - 1)
            #expect(try await resolver.credentials() == first)
            #expect(server.requestCount == 1)
            #expect(resolver.status.refreshes == 1)
        }
    }

    @Test func theAdvisoryWindowReturnsTheOldCredentialsAndRefreshesInTheBackground() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        let gate = Gate()
        try await Harness.withServer({ _, index in
            if index == 1 { await gate.wait() }  // the background refresh hangs until the test lets it go
            return IssuedCredentials.stsSuccess(index, clock: clock)
        }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let first = try await resolver.credentials()
            clock.advance(by: Self.advisoryStart + 60)
            // STS is stuck, yet the call returns at once with the cached credentials.
            #expect(try await resolver.credentials() == first)
            #expect(await Harness.eventually { server.requestCount == 2 })
            // More calls meanwhile neither block nor start a second refresh.
            for _ in 0..<10 { #expect(try await resolver.credentials() == first) }
            #expect(server.requestCount == 2)
            gate.open()
            #expect(await Harness.eventually { resolver.status.refreshes == 2 })
            #expect(try await Harness.accessKeyID(resolver) == IssuedCredentials.accessKeyID(1))
            #expect(server.requestCount == 2)
        }
    }

    @Test func aFailedBackgroundRefreshKeepsTheCachedCredentials() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in
            index == 0 ? IssuedCredentials.stsSuccess(index, clock: clock) : .init(status: 403, body: STSFixture.error(code: "AccessDenied", message: "role trust policy changed"))
        }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let first = try await resolver.credentials()
            clock.advance(by: Self.advisoryStart + 60)
            #expect(try await resolver.credentials() == first)
            #expect(await Harness.eventually { resolver.status.lastError != nil })
            #expect(resolver.status.lastError?.contains("AccessDenied") == true)
            #expect(try await resolver.credentials() == first)
            // A failed background refresh is not retried on every call.
            #expect(server.requestCount == 2)
            clock.advance(by: CredentialCache.backgroundRetryInterval + 1)
            #expect(try await resolver.credentials() == first)
            #expect(await Harness.eventually { server.requestCount == 3 })
            // In the mandatory window the failure reaches the caller.
            clock.advance(by: Self.mandatoryStart - Self.advisoryStart)
            let error = await #expect(throws: AWSCredentialError.self) { try await resolver.credentials() }
            #expect(error?.code == "AccessDenied")
        }
    }

    @Test func theMandatoryWindowWaitsForFreshCredentials() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in IssuedCredentials.stsSuccess(index, clock: clock) }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            _ = try await resolver.credentials()
            clock.advance(by: Self.mandatoryStart + 1)
            #expect(try await Harness.accessKeyID(resolver) == IssuedCredentials.accessKeyID(1))
            #expect(server.requestCount == 2)
            // Past expiry likewise.
            clock.advance(by: 7200)
            #expect(try await Harness.accessKeyID(resolver) == IssuedCredentials.accessKeyID(2))
        }
    }

    @Test func fiftyConcurrentCallersShareOneFetch() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        let gate = Gate()
        try await Harness.withServer({ _, index in
            await gate.wait()
            return IssuedCredentials.stsSuccess(index, clock: clock)
        }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let keys = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 { group.addTask { try await resolver.credentials().accessKeyID } }
                // Hold STS until every caller has joined the one fetch.
                #expect(await Harness.eventually(within: 30) { server.requestCount == 1 && resolver.waitingCallers == 50 })
                gate.open()
                var keys: [String] = []
                for try await key in group { keys.append(key) }
                return keys
            }
            #expect(keys.count == 50)
            #expect(Set(keys) == [IssuedCredentials.accessKeyID(0)])
            #expect(server.requestCount == 1)
        }
    }

    @Test func concurrentCallersInTheMandatoryWindowShareOneFetchAndItsError() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        let gate = Gate()
        try await Harness.withServer({ _, index in
            if index == 0 { return IssuedCredentials.stsSuccess(index, clock: clock) }
            await gate.wait()
            return .init(status: 403, body: STSFixture.error(code: "AccessDenied", message: "no"))
        }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            _ = try await resolver.credentials()
            clock.advance(by: Self.mandatoryStart + 1)
            let codes = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do { _ = try await resolver.credentials(); return nil } catch { return (error as? AWSCredentialError)?.code }
                    }
                }
                // Every caller has joined the one fetch, held at the gate, before it fails.
                let joined = await Harness.eventually(within: 30) { server.requestCount == 2 && resolver.waitingCallers == 20 }
                #expect(joined)
                gate.open()
                var codes: [String?] = []
                for await code in group { codes.append(code) }
                return codes
            }
            #expect(codes == Array(repeating: "AccessDenied", count: 20))
            #expect(server.requestCount == 2)
        }
    }

    @Test func invalidateForcesARefresh() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in IssuedCredentials.stsSuccess(index, clock: clock) }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let first = try await resolver.credentials()
            #expect(try await resolver.credentials() == first)
            resolver.invalidate()
            let second = try await resolver.credentials()
            #expect(second.accessKeyID == IssuedCredentials.accessKeyID(1))
            #expect(try await resolver.credentials() == second)
            #expect(server.requestCount == 2)
        }
    }

    @Test func staticCredentialsAreCachedForever() async throws {
        try await Harness.withClient { client in
            let resolver = Harness.resolver(environment: ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG", "AWS_SESSION_TOKEN": "token"], client: client, clock: clock)
            let credentials = try await resolver.credentials()
            #expect(credentials == AWSCredentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG", sessionToken: "token"))
            clock.advance(by: 10 * 365 * 86_400)
            #expect(try await resolver.credentials() == credentials)
            #expect(resolver.status.source == "environment")
            #expect(resolver.status.expiration == nil)
            #expect(resolver.status.refreshes == 1)
        }
    }

    @Test func notConfiguredIsThrownAndShownInStatus() async throws {
        try await Harness.withClient { client in
            let resolver = Harness.resolver(environment: [:], client: client, clock: clock)
            let error = await #expect(throws: AWSCredentialError.self) { try await resolver.credentials() }
            #expect(error?.kind == .notConfigured)
            #expect(resolver.status.source == "none")
            #expect(resolver.status.lastError?.contains("AWS_ROLE_ARN") == true)
        }
    }

    // MARK: The decision alone

    func cache(expiringIn lifetime: TimeInterval, fetchedAt: Date) -> CredentialCache {
        var cache = CredentialCache()
        cache.succeeded(AWSCredentials(accessKeyID: "ASIA", secretAccessKey: "s", sessionToken: "t", expiration: fetchedAt.addingTimeInterval(lifetime)), at: fetchedAt)
        return cache
    }

    @Test func decisionsAcrossTheWindows() {
        let start = clock.now
        let cache = cache(expiringIn: 3600, fetchedAt: start)
        let policy = AWSRefreshPolicy.default
        func decision(at offset: TimeInterval, refreshing: Bool = false) -> String {
            switch cache.decide(now: start.addingTimeInterval(offset), policy: policy, refreshing: refreshing) {
            case .use: return "use"
            case .useAndRefresh: return "refresh"
            case .wait: return "wait"
            }
        }
        #expect(decision(at: 0) == "use")
        #expect(decision(at: Self.advisoryStart - 1) == "use")
        #expect(decision(at: Self.advisoryStart + 1) == "refresh")
        #expect(decision(at: Self.advisoryStart + 1, refreshing: true) == "use")
        #expect(decision(at: Self.mandatoryStart + 1) == "wait")
        #expect(decision(at: Self.mandatoryStart + 1, refreshing: true) == "wait")
        #expect(decision(at: 4000) == "wait")
        #expect(CredentialCache().decide(now: start, policy: policy, refreshing: false) == .wait)
        var invalidated = cache
        invalidated.invalidate()
        #expect(invalidated.decide(now: start, policy: policy, refreshing: false) == .wait)
    }

    @Test func shortLivedCredentialsGetShorterWindows() {
        let start = clock.now
        // A 15-minute session: without shrinking, it would be inside the advisory window from the start.
        let cache = cache(expiringIn: 900, fetchedAt: start)
        #expect(cache.decide(now: start.addingTimeInterval(60), policy: .default, refreshing: false) == .use(cache.credentials ?? AWSCredentials(accessKeyID: "", secretAccessKey: "")))
        #expect(cache.decide(now: start.addingTimeInterval(900 / 2 + 1), policy: .default, refreshing: false) != .wait)
        #expect(cache.decide(now: start.addingTimeInterval(900 * 3 / 4 + 1), policy: .default, refreshing: false) == .wait)
    }
}
