import Foundation
import Testing
@testable import LLMeshCredentials

/// AssumeRoleWithWebIdentity against a local STS: the request, token rotation, retries and refusals.
@Suite struct WebIdentityTests {
    let clock = TestClock()

    @Test func sendsAnUnsignedFormWithEveryField() async throws {
        let token = try TemporaryFile("eyJhbGciOi+JSUz/I1NiJ9.payload+/=.sig==\n")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in IssuedCredentials.stsSuccess(index, clock: clock) }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let credentials = try await resolver.credentials()
            #expect(credentials.accessKeyID == IssuedCredentials.accessKeyID(0))
            #expect(credentials.secretAccessKey == IssuedCredentials.secret(0))
            #expect(credentials.sessionToken == IssuedCredentials.token(0))
            #expect(credentials.expiration == STSFixture.timestamp(clock.now.addingTimeInterval(3600)).flatMapDate)

            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.uri == "/")
            #expect(request.header("content-type")?.hasPrefix("application/x-www-form-urlencoded") == true)
            #expect(request.header("authorization") == nil)
            #expect(request.form == [
                "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": "arn:aws:iam::123456789012:role/App",
                "RoleSessionName": WebIdentityCredentialProvider.generatedSessionName(now: clock.now),
                "WebIdentityToken": "eyJhbGciOi+JSUz/I1NiJ9.payload+/=.sig==", "DurationSeconds": "3600",
            ])
            #expect(request.body.contains("WebIdentityToken=eyJhbGciOi%2BJSUz%2FI1NiJ9.payload%2B%2F%3D.sig%3D%3D&"))
            #expect(request.form["RoleSessionName"]?.range(of: #"^llmesh-[0-9]{13}$"#, options: .regularExpression) != nil)
        }
    }

    @Test func usesTheConfiguredSessionNameAndDuration() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in IssuedCredentials.stsSuccess(index, clock: clock, lifetime: 7200) }) { server, client in
            var environment = Harness.webIdentityEnvironment(server: server, tokenFile: token.path)
            environment["AWS_ROLE_SESSION_NAME"] = "from-env"
            let resolver = Harness.resolver(.init(roleSessionName: "from-config"), environment: environment, client: client, clock: clock, refresh: .init(sessionDuration: .seconds(7200)))
            _ = try await resolver.credentials()
            #expect(server.requests.first?.form["RoleSessionName"] == "from-config")
            #expect(server.requests.first?.form["DurationSeconds"] == "7200")
        }
    }

    @Test func anExplicitRoleOverridesAWSRoleARNAndStaticKeys() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in IssuedCredentials.stsSuccess(index, clock: clock) }) { server, client in
            var environment = Harness.webIdentityEnvironment(server: server, tokenFile: token.path, roleARN: "arn:aws:iam::123456789012:role/FromEnv")
            environment["AWS_ACCESS_KEY_ID"] = "AKIASTATIC"
            environment["AWS_SECRET_ACCESS_KEY"] = "static-secret"
            let resolver = Harness.resolver(.init(webIdentityRoleARN: "arn:aws:iam::123456789012:role/FromConfig"), environment: environment, client: client, clock: clock)
            let key = try await Harness.accessKeyID(resolver)
            #expect(key == IssuedCredentials.accessKeyID(0))
            #expect(server.requests.first?.form["RoleArn"] == "arn:aws:iam::123456789012:role/FromConfig")
            #expect(resolver.status.roleARN == "arn:aws:iam::123456789012:role/FromConfig")
            #expect(resolver.region == "eu-west-1")
        }
    }

    @Test func rereadsTheTokenFileOnEveryCall() async throws {
        let token = try TemporaryFile("token-A")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in IssuedCredentials.stsSuccess(index, clock: clock) }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            _ = try await resolver.credentials()
            try token.write("token-B")
            clock.advance(by: 3600 - 5 * 60)  // mandatory window
            let key = try await Harness.accessKeyID(resolver)
            #expect(key == IssuedCredentials.accessKeyID(1))
            #expect(server.requests.map { $0.form["WebIdentityToken"] } == ["token-A", "token-B"])
        }
    }

    @Test func retriesIDPCommunicationErrorThenSucceeds() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in
            index == 0 ? .init(status: 400, body: STSFixture.error(code: "IDPCommunicationError", message: "Couldn't reach the OIDC provider")) : IssuedCredentials.stsSuccess(index, clock: clock)
        }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let key = try await Harness.accessKeyID(resolver)
            #expect(key == IssuedCredentials.accessKeyID(1))
            #expect(server.requestCount == 2)
            #expect(resolver.status.lastError == nil)
        }
    }

    @Test func retriesInvalidIdentityTokenWithTheRotatedToken() async throws {
        let token = try TemporaryFile("stale-token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ request, index in
            guard request.form["WebIdentityToken"] == "fresh-token" else {
                try? token.write("fresh-token")  // the kubelet rotates the file while STS refuses the old token
                return .init(status: 400, body: STSFixture.error(code: "InvalidIdentityToken", message: "Token expired"))
            }
            return IssuedCredentials.stsSuccess(index, clock: clock)
        }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let key = try await Harness.accessKeyID(resolver)
            #expect(key == IssuedCredentials.accessKeyID(1))
            #expect(server.requests.map { $0.form["WebIdentityToken"] } == ["stale-token", "fresh-token"])
        }
    }

    @Test func doesNotRetryAccessDenied() async throws {
        let token = try TemporaryFile("the-web-identity-token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, _ in
            .init(status: 403, body: STSFixture.error(code: "AccessDenied", message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"))
        }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let error = await #expect(throws: AWSCredentialError.self) { try await resolver.credentials() }
            #expect(error?.kind == .rejected)
            #expect(error?.code == "AccessDenied")
            #expect(error?.description.contains("web-identity") == true)
            #expect(error?.description.contains("AccessDenied") == true)
            #expect(error?.description.contains("the-web-identity-token") == false)
            #expect(server.requestCount == 1)
            #expect(resolver.status.lastError?.contains("AccessDenied") == true)
        }
    }

    @Test func givesUpAfterThreeAttemptsOnServerErrors() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, _ in .init(status: 503, body: "<html>busy</html>") }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let error = await #expect(throws: AWSCredentialError.self) { try await resolver.credentials() }
            #expect(error?.kind == .unavailable)
            #expect(error?.message.contains("503") == true)
            #expect(server.requestCount == 3)
        }
    }

    @Test func retriesThrottling() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in
            index < 2 ? .init(status: 400, body: STSFixture.error(code: "Throttling", message: "Rate exceeded")) : IssuedCredentials.stsSuccess(index, clock: clock)
        }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let key = try await Harness.accessKeyID(resolver)
            #expect(key == IssuedCredentials.accessKeyID(2))
            #expect(server.requestCount == 3)
        }
    }

    @Test func aMissingOrEmptyTokenFileIsUnavailableAndNamesThePath() async throws {
        let token = try TemporaryFile("  \n")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in IssuedCredentials.stsSuccess(index, clock: clock) }) { server, client in
            let empty = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let emptyError = await #expect(throws: AWSCredentialError.self) { try await empty.credentials() }
            #expect(emptyError?.kind == .unavailable)
            #expect(emptyError?.message.contains(token.path) == true)

            let missingPath = token.path + ".missing"
            let missing = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: missingPath), client: client, clock: clock)
            let missingError = await #expect(throws: AWSCredentialError.self) { try await missing.credentials() }
            #expect(missingError?.kind == .unavailable)
            #expect(missingError?.message.contains(missingPath) == true)
            #expect(server.requestCount == 0)
        }
    }

    @Test func aMalformedSuccessIsUnavailable() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, _ in .init(body: "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>") }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let error = await #expect(throws: AWSCredentialError.self) { try await resolver.credentials() }
            #expect(error?.kind == .unavailable)
            #expect(server.requestCount == 1)
        }
    }

    @Test func connectionErrorsAreRetriedThenUnavailable() async throws {
        let token = try TemporaryFile("token")
        defer { token.remove() }
        // Port 1 on loopback: privileged, so no test server can be listening there.
        let url = "http://127.0.0.1:1"
        try await Harness.withClient { client in
            var environment = ["AWS_ROLE_ARN": "arn:aws:iam::1:role/R", "AWS_WEB_IDENTITY_TOKEN_FILE": token.path]
            environment["AWS_ENDPOINT_URL"] = url
            // AsyncHTTPClient retries a refused connection until the deadline, so keep the deadline short.
            let resolver = Harness.resolver(environment: environment, client: client, clock: clock, requestTimeout: .milliseconds(300))
            let error = await #expect(throws: AWSCredentialError.self) { try await resolver.credentials() }
            #expect(error?.kind == .unavailable)
            #expect(error?.message.contains("cannot reach STS") == true)
        }
    }
}

extension String {
    /// This string as an ISO-8601 date, for comparisons.
    var flatMapDate: Date? { ISO8601Timestamp.parse(self) }
}
