import Crypto
import Testing
@testable import LLMeshCredentials

/// Known answers: the AWS Signature Version 4 test suite's `get-vanilla` case, and Bedrock requests signed by botocore
/// 1.43 (`SigV4Auth` with a fixed timestamp) — an independent implementation, whose output is copied here.
@Suite struct SigV4SignerTests {
    let keys = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    let body = Array(#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#.utf8)

    func signature(of headers: [(String, String)]) -> String? {
        headers.first { $0.0 == "authorization" }?.1.split(separator: "=").last.map(String.init)
    }

    @Test func matchesTheAWSTestSuiteVanillaCase() {
        let signer = SigV4Signer(service: "service", region: "us-east-1")
        let headers = signer.sign(method: "GET", host: "example.amazonaws.com", wirePath: "/", headers: [], body: [], credentials: keys, amzDate: "20150830T123600Z")
        #expect(headers.first { $0.0 == "authorization" }?.1 == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func signsABedrockModelIDOnceEncodedOnTheWireTwiceInTheSignature() {
        let signer = SigV4Signer(service: "bedrock", region: "us-east-1")
        let path = "/model/" + SigV4Signer.encodePathSegment("anthropic.claude-3-haiku-20240307-v1:0") + "/converse"
        #expect(path == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")
        var withToken = keys
        withToken.sessionToken = "SESSIONTOKEN/example+token=="
        let canonical = signer.canonicalRequest(method: "POST", host: "bedrock-runtime.us-east-1.amazonaws.com", wirePath: path, headers: [("Content-Type", "application/json")], body: body, sessionToken: withToken.sessionToken, amzDate: "20261122T120000Z")
        #expect(canonical == "POST\n/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse\n\ncontent-type:application/json\nhost:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-date:20261122T120000Z\nx-amz-security-token:SESSIONTOKEN/example+token==\n\ncontent-type;host;x-amz-date;x-amz-security-token\nc3335e07d6e89650bf94cb98664be69f8774dbc3198df221f113db0a59ea14f0")
        let headers = signer.sign(method: "POST", host: "bedrock-runtime.us-east-1.amazonaws.com", wirePath: path, headers: [("Content-Type", "application/json"), ("User-Agent", "not signed")], body: body, credentials: withToken, amzDate: "20261122T120000Z")
        #expect(signature(of: headers) == "8ecbda9b70f478175e3acde0fd40aada9cd31e6378d1e1da4f731d3b7b1ba940")
        #expect(headers.contains { $0 == ("x-amz-security-token", "SESSIONTOKEN/example+token==") })
    }

    @Test func signsAnInferenceProfileARN() {
        let signer = SigV4Signer(service: "bedrock", region: "eu-west-1")
        let arn = "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0"
        let path = "/model/" + SigV4Signer.encodePathSegment(arn) + "/converse-stream"
        #expect(path == "/model/arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Ainference-profile%2Feu.anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream")
        let headers = signer.sign(method: "POST", host: "bedrock-runtime.eu-west-1.amazonaws.com", wirePath: path, headers: [("Content-Type", "application/json")], body: body, credentials: keys, amzDate: "20261122T120000Z")
        #expect(signature(of: headers) == "a0f2a90dbdf30ddd8fe0937a2dbbe231cc2772bc7e151a812eee2360ef191d0a")
    }

    @Test func derivesTheDocumentedSigningKey() {
        // AWS documentation's example: secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
        let key = SigV4Signer(service: "iam", region: "us-east-1").signingKey(secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", day: "20120215")
        #expect(key.withUnsafeBytes { SigV4Signer.hex(Array($0)) } == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    @Test func aCachedSigningKeyIsReusedOnlyForTheSameSecretDayRegionAndService() {
        let cache = SigV4KeyCache()
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        let cached = SigV4Signer(service: "iam", region: "us-east-1", keyCache: cache)
        let plain = SigV4Signer(service: "iam", region: "us-east-1")
        func hex(_ key: SymmetricKey) -> String { key.withUnsafeBytes { SigV4Signer.hex(Array($0)) } }
        var derivations = 0
        for _ in 0..<3 {
            _ = cache.key(for: .init(secret: secret, day: "20120215", region: "us-east-1", service: "iam")) {
                derivations += 1
                return plain.deriveSigningKey(secret: secret, day: "20120215")
            }
        }
        #expect(derivations == 1)
        #expect(hex(cached.signingKey(secret: secret, day: "20120215")) == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
        // A new day, a refreshed secret, or another region each give their own key, never the cached one.
        for (secretUsed, day) in [(secret, "20120216"), ("another-secret", "20120215"), (secret, "20120215")] {
            #expect(hex(cached.signingKey(secret: secretUsed, day: day)) == hex(plain.deriveSigningKey(secret: secretUsed, day: day)))
        }
        let otherRegion = SigV4Signer(service: "iam", region: "eu-west-1", keyCache: cache)
        #expect(hex(otherRegion.signingKey(secret: secret, day: "20120215")) == hex(SigV4Signer(service: "iam", region: "eu-west-1").deriveSigningKey(secret: secret, day: "20120215")))
    }

    @Test func canonicalisesQueriesAndHeaders() {
        #expect(SigV4Signer.canonicalQuery("b=2&a=1&a=0&c=x%20y") == "a=0&a=1&b=2&c=x%20y")
        let (lines, names) = SigV4Signer.canonicalHeaders([("X-Amz-Date", "d"), ("My-Header", "  a   b  "), ("my-header", "c")])
        #expect(lines == "my-header:a b,c\nx-amz-date:d\n")
        #expect(names == "my-header;x-amz-date")
    }

    /// Requests of the AWS SigV4 test suite (its credentials, date and requests), with signatures computed by botocore
    /// 1.44.8's `SigV4Auth`; its `get-vanilla` answer equals the suite's published one above.
    @Test(arguments: [
        ("get-vanilla-with-session-token", "GET", "/", "", [(String, String)](), "", "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==", "host;x-amz-date;x-amz-security-token", "c8db8b9676d526f735dac5330f17623554c6cad1e2980d321903e9a3884c051b"),
        ("post-vanilla-query", "POST", "/", "Param1=value1", [], "", "", "host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
        ("post-x-www-form-urlencoded", "POST", "/", "", [("Content-Type", "application/x-www-form-urlencoded")], "Param1=value1", "", "content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
        ("get-header-value-trim", "GET", "/", "", [("My-Header1", "value1"), ("My-Header2", "\"a   b   c\"")], "", "", "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
    ])
    func matchesBotocoreOnTestSuiteRequests(name: String, method: String, path: String, query: String, headers: [(String, String)], body: String, token: String, signedHeaders: String, expected: String) {
        var credentials = keys
        credentials.sessionToken = token.isEmpty ? nil : token
        let signed = SigV4Signer(service: "service", region: "us-east-1").sign(method: method, host: "example.amazonaws.com", wirePath: path, query: query, headers: headers, body: Array(body.utf8), credentials: credentials, amzDate: "20150830T123600Z")
        let authorization = signed.first { $0.0 == "authorization" }?.1 ?? ""
        #expect(authorization.contains("SignedHeaders=\(signedHeaders),"), "\(name)")
        #expect(signature(of: signed) == expected, "\(name)")
    }
}
