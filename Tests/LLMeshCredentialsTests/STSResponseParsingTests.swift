import Foundation
import Testing
@testable import LLMeshCredentials

/// The bounded XML reader against STS documents: success, errors, and everything broken.
@Suite struct STSResponseParsingTests {
    let success = STSFixture.success(accessKeyID: "ASIAEXAMPLE", secret: "wJalr/K7MDENG+bPxRfiCY=", token: "IQoJb3JpZ2lu+/ZXIvYXdz==", expiration: "2014-10-24T23:00:23Z")

    @Test func readsTheCredentialsOfASuccess() throws {
        let credentials = try #require(STSResponse.credentials(from: Array(success.utf8)))
        #expect(credentials.accessKeyID == "ASIAEXAMPLE")
        #expect(credentials.secretAccessKey == "wJalr/K7MDENG+bPxRfiCY=")
        #expect(credentials.sessionToken == "IQoJb3JpZ2lu+/ZXIvYXdz==")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_414_191_623))
        #expect(STSResponse.assumedRoleARN(from: Array(success.utf8)) == "arn:aws:sts::123456789012:assumed-role/Role/llmesh")
    }

    @Test func readsExpirationsWithFractionalSeconds() throws {
        let document = STSFixture.success(accessKeyID: "ASIA1", secret: "s", token: "t", expiration: "2014-10-24T23:00:23.250Z")
        let credentials = try #require(STSResponse.credentials(from: Array(document.utf8)))
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_414_191_623.25))
    }

    @Test func decodesEntitiesInValues() throws {
        let document = STSFixture.success(accessKeyID: "ASIA1", secret: "a&amp;b&lt;c&#x3E;&#61;", token: "t", expiration: "2014-10-24T23:00:23Z")
        #expect(STSResponse.credentials(from: Array(document.utf8))?.secretAccessKey == "a&b<c>=")
    }

    @Test func readsAnErrorResponse() throws {
        let document = STSFixture.error(code: "AccessDenied", message: "Not authorized to perform sts:AssumeRoleWithWebIdentity &amp; more")
        let error = try #require(STSResponse.error(from: Array(document.utf8)))
        #expect(error == .init(code: "AccessDenied", message: "Not authorized to perform sts:AssumeRoleWithWebIdentity & more"))
        #expect(STSResponse.credentials(from: Array(document.utf8)) == nil)
        #expect(STSResponse.error(from: Array(success.utf8)) == nil)
    }

    @Test func refusesEveryTruncationOfASuccess() {
        let bytes = Array(success.utf8)
        let rootEnd = bytes.count - "</AssumeRoleWithWebIdentityResponse>".utf8.count
        var accepted: [Int] = []
        for length in stride(from: 0, to: bytes.count - 1, by: 3) where STSResponse.credentials(from: Array(bytes[0..<length])) != nil {
            accepted.append(length)
        }
        #expect(accepted.isEmpty, "prefixes up to \(rootEnd) bytes must not parse: \(accepted)")
        #expect(STSResponse.credentials(from: bytes) != nil)
    }

    @Test(arguments: [
        // the credentials element not closed
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2014-10-24T23:00:23Z</Expiration></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        // no session token
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><Expiration>2014-10-24T23:00:23Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        // markup inside a leaf
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A<b/></AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2014-10-24T23:00:23Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        // an unknown entity
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A&foo;</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2014-10-24T23:00:23Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        // a bad date
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2014-13-24T23:00:23Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        // credentials outside the result
        "<AssumeRoleWithWebIdentityResponse><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2014-10-24T23:00:23Z</Expiration></Credentials></AssumeRoleWithWebIdentityResponse>",
        // a DTD
        "<!DOCTYPE x [<!ENTITY a \"b\">]><AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2014-10-24T23:00:23Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        "not xml at all",
        "",
    ])
    func refusesMalformedDocuments(_ document: String) {
        #expect(STSResponse.credentials(from: Array(document.utf8)) == nil)
    }

    @Test func theMinimalDocumentParses() {
        // The control for the malformed cases above: the same shape, well formed.
        let document = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2014-10-24T23:00:23Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
        #expect(STSResponse.credentials(from: Array(document.utf8))?.accessKeyID == "A")
    }

    @Test func refusesOversizedDocuments() {
        let padding = String(repeating: " ", count: XMLTagScanner.maximumDocumentBytes)
        let padded = success.replacingOccurrences(of: "<ResponseMetadata>", with: padding + "<ResponseMetadata>")
        #expect(padded.utf8.count > XMLTagScanner.maximumDocumentBytes)
        #expect(STSResponse.credentials(from: Array(padded.utf8)) == nil)
        #expect(XMLTagScanner(Array(padded.utf8)) == nil)
    }

    @Test func doesNotConfuseElementsThatShareAPrefix() throws {
        let document = "<Root><CodeX>no</CodeX><Code >yes</Code ></Root>"
        let xml = try #require(XMLTagScanner(Array(document.utf8)))
        let root = try #require(xml.element("Root", in: xml.all))
        #expect(xml.text("Code", in: root) == "yes")
        #expect(xml.text("Missing", in: root) == nil)
    }

    @Test(arguments: ["2014-10-24T23:00:23Z", "2014-10-24T23:00:23.5Z", "2024-02-29T00:00:00.123Z", "1999-12-31T23:59:59+02:00", "2030-01-01T12:00:00-05:30"])
    func parsesTimestampsAsFoundationDoes(_ text: String) throws {
        let oracle = ISO8601DateFormatter()
        oracle.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        let expected = try #require(oracle.date(from: text))
        let parsed = try #require(ISO8601Timestamp.parse(text))
        #expect(abs(parsed.timeIntervalSince(expected)) < 0.001)
    }

    @Test func parsesNanosecondTimestampsOfThePodIdentityAgent() throws {
        let parsed = try #require(ISO8601Timestamp.parse("2014-10-24T23:00:23.123456789Z"))
        #expect(abs(parsed.timeIntervalSince1970 - 1_414_191_623.123456789) < 0.000_01)
    }

    @Test(arguments: ["2014-10-24 23:00:23Z", "2014-10-24T23:00:23", "2014-02-30T00:00:00Z", "2014-10-24T24:00:00Z", "2014-10-24T23:00:23.Z", "2014-10-24T23:00:23Zjunk", "14-10-24T23:00:23Z"])
    func refusesBadTimestamps(_ text: String) {
        #expect(ISO8601Timestamp.parse(text) == nil)
    }
}
