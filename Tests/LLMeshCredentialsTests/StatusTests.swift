import Foundation
import Testing
@testable import LLMeshCredentials

/// Nothing secret leaves through status, descriptions or errors.
@Suite struct StatusTests {
    let clock = TestClock()

    func json(_ status: AWSCredentialStatus) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        // Unescaped, so a secret with a `/` would show verbatim if it leaked.
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return String(decoding: try encoder.encode(status), as: UTF8.self)
    }

    @Test func statusHoldsNoSecretMaterial() async throws {
        let webToken = "eyJhbGciOiJSUzI1NiJ9.WEBIDENTITYTOKEN.signature"
        let token = try TemporaryFile(webToken)
        defer { token.remove() }
        let clock = clock
        try await Harness.withServer({ _, index in
            index == 0 ? IssuedCredentials.stsSuccess(index, clock: clock) : .init(status: 400, body: STSFixture.error(code: "InvalidIdentityToken", message: "bad token \(webToken)"))
        }) { server, client in
            let resolver = Harness.resolver(environment: Harness.webIdentityEnvironment(server: server, tokenFile: token.path), client: client, clock: clock)
            let credentials = try await resolver.credentials()
            let forbidden = [credentials.secretAccessKey, credentials.sessionToken ?? "", credentials.accessKeyID, webToken]

            let afterSuccess = try json(resolver.status)
            #expect(afterSuccess.contains("web-identity"))
            #expect(afterSuccess.contains("arn:aws:iam::123456789012:role/App"))
            #expect(afterSuccess.contains("eu-west-1"))
            #expect(resolver.status.expiration == credentials.expiration)

            // A failure whose STS message echoes the token must not carry it into status either.
            resolver.invalidate()
            let error = await #expect(throws: AWSCredentialError.self) { try await resolver.credentials() }
            let afterFailure = try json(resolver.status)
            #expect(resolver.status.lastError?.contains("InvalidIdentityToken") == true)
            for secret in forbidden {
                #expect(!afterSuccess.contains(secret))
                #expect(!afterFailure.contains(secret))
                #expect(error?.description.contains(secret) == false)
            }
        }
    }

    @Test func credentialsDescribeThemselvesRedacted() {
        let credentials = AWSCredentials(accessKeyID: "ASIAEXAMPLEKEYID", secretAccessKey: "very/secret+key", sessionToken: "session-token", expiration: Date(timeIntervalSince1970: 1_414_191_623))
        for text in [String(describing: credentials), String(reflecting: credentials), "\(credentials)", { var out = ""; dump(credentials, to: &out); return out }()] {
            #expect(text.contains("ASIA"))
            #expect(!text.contains("ASIAEXAMPLEKEYID"))
            #expect(!text.contains("very/secret+key"))
            #expect(!text.contains("session-token"))
        }
    }

    @Test func statusRoundTripsThroughJSON() throws {
        let status = AWSCredentialStatus(source: "pod-identity", roleARN: nil, region: "us-east-1", expiration: Date(timeIntervalSince1970: 1_800_000_000), refreshes: 3, lastError: nil)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        #expect(try decoder.decode(AWSCredentialStatus.self, from: Data(json(status).utf8)) == status)
    }
}
