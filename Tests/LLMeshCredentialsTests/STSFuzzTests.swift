import Foundation
import Testing
@testable import LLMeshCredentials
import LLMeshFuzzSupport

/// The fuzz runner, handing each case's generator and label to `body`.
private func fuzz(_ name: String, seed: UInt64, count: Int, _ body: (inout SplitMix64, String) -> Void) async {
    await Fuzz.run(name, seed: seed, count: count) { fuzzCase in
        let label = fuzzCase.label
        body(&fuzzCase.rng, label)
    }
}

/// Records an issue naming the case when `condition` is false.
private func check(_ condition: Bool, _ label: String, _ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard !condition else { return }
    Issue.record(Comment(rawValue: "\(label): \(message())"), sourceLocation: sourceLocation)
}

/// Deterministic fuzzing of the STS XML reader, the timestamp parser and the Pod Identity answer: no input may
/// crash them, and what they accept is well formed.
@Suite(.serialized) struct STSFuzzTests {
    static let success = STSFixture.success(accessKeyID: "ASIAEXAMPLE", secret: "wJalr/K7MDENG+bPxRfiCY=", token: "IQoJb3JpZ2lu+/ZXIvYXdz==", expiration: "2014-10-24T23:00:23Z")
    static let corpus = [
        success,
        STSFixture.success(accessKeyID: "ASIA1", secret: "a&amp;b&lt;c&#x3E;&#61;", token: "t", expiration: "2014-10-24T23:00:23.250+02:00"),
        STSFixture.error(code: "AccessDenied", message: "Not authorized to perform sts:AssumeRoleWithWebIdentity &amp; more"),
        STSFixture.error(code: "IDPCommunicationError", message: "<unexpected>"),
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2014-10-24T23:00:23Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
    ]

    static let snippets = [
        "<", ">", "</", "/>", "&", "&amp;", "&#x110000;", "&#xD800;", "&#;", "&#x;", "&#65", "&#+65;", "&#0;", "&#99999999999;",
        "&#x41;", "&;", "&&&&&&&&&&&&&", "<!DOCTYPE x>", "<!ENTITY a \"b\">", "<![CDATA[x]]>", "<!-- c -->", "<?xml version=\"1.0\"?>",
        "<Credentials>", "</Credentials>", "<Credentials/>", "<AccessKeyId>", "</AccessKeyId >", "<AccessKeyId/>", "<Code>", "</Code>",
        "<ErrorResponse>", "<Error>", "</Error>", "<Expiration>2014-10-24T23:00:23Z</Expiration>", " ", "\r\n", "\t", "\u{0}", "é", "🦙",
        "<AssumeRoleWithWebIdentityResultX>", "<Arn>", "</Arn>",
    ]
    static let names = ["AssumeRoleWithWebIdentityResponse", "AssumeRoleWithWebIdentityResult", "Credentials", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "ErrorResponse", "Error", "Code", "Message", "Arn", "AssumedRoleUser", "X", ""]
    static let oddValues = [String(repeating: "A", count: 70_000), String(repeating: "&amp;", count: 5000), "", " \t\r\n ", "2014-02-30T00:00:00Z"]
    static let invalidUTF8: [[UInt8]] = [[0xFF], [0xFE, 0xFF], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80]]

    static func mutateBytes(_ bytes: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var output = bytes
        guard !output.isEmpty else { return rng.pick(invalidUTF8) }
        let position = rng.int(0..<output.count)
        switch rng.int(0..<6) {
        case 0: output[position] ^= UInt8(1 << rng.int(0..<8))
        case 1: output.removeSubrange(position..<min(output.count, position + rng.int(1..<32)))
        case 2: output.insert(contentsOf: Array(output[position..<min(output.count, position + rng.int(1..<64))]), at: rng.int(0..<(output.count + 1)))
        case 3: output.removeSubrange(rng.int(0..<output.count)...)
        case 4: output.insert(contentsOf: rng.pick(invalidUTF8), at: position)
        default: output[position] = rng.pick([0x3C, 0x3E, 0x2F, 0x26, 0x3B, 0x23, 0x20, 0x00, 0xFF])
        }
        return output
    }

    /// Byte damage, markup and entities spliced in, and element names swapped for one another.
    static func mutateXML(_ bytes: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var output = bytes
        for _ in 0..<rng.int(1..<4) {
            switch rng.int(0..<10) {
            case 0..<4:
                output = mutateBytes(output, using: &rng)
            case 4..<7:
                output.insert(contentsOf: Array(rng.pick(snippets).utf8), at: rng.int(0..<(output.count + 1)))
            case 7..<9:
                let from = Array(rng.pick(names).utf8)
                let to = Array(rng.pick(names).utf8)
                if let at = find(from, in: output, from: rng.int(0..<(output.count + 1))) { output.replaceSubrange(at..<(at + from.count), with: to) }
            default:
                // A value replaced by something long or odd.
                let value = rng.pick(oddValues)
                if let open = find(Array(">".utf8), in: output, from: rng.int(0..<(output.count + 1))) { output.insert(contentsOf: Array(value.utf8), at: open + 1) }
            }
        }
        return output
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        return (from...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    static func checkParsers(_ body: [UInt8], _ label: String) {
        if let credentials = STSResponse.credentials(from: body) {
            for value in [credentials.accessKeyID, credentials.secretAccessKey, credentials.sessionToken ?? ""] {
                check(!value.isEmpty, label, "an empty credential field")
            }
            check(credentials.expiration.map { $0.timeIntervalSince1970.isFinite } == true, label, "no finite expiration")
        }
        if let error = STSResponse.error(from: body) {
            check(!error.code.isEmpty, label, "an error without a code")
        }
        _ = STSResponse.assumedRoleARN(from: body)
        let status = [200, 204, 299, 400, 403, 429, 500, 503, -1, Int.max][Int(body.count % 10)]
        switch WebIdentityCredentialProvider.outcome(status: status, body: body, host: "sts.amazonaws.com", hiding: ["IQoJb3JpZ2lu", ""]) {
        case .success(let credentials):
            check((200..<300).contains(status) && !credentials.accessKeyID.isEmpty, label, "success from HTTP \(status)")
        case .retryable(let error), .final(let error):
            check(!error.message.contains("IQoJb3JpZ2lu"), label, "the token leaked into the error message")
        }
    }

    @Test func stsDocumentsNeverCrashTheReader() async {
        await fuzz("sts", seed: 0x5EED_0101, count: 2000) { rng, label in
            Self.checkParsers(Self.mutateXML(Array(rng.pick(Self.corpus).utf8), using: &rng), label)
        }
    }

    @Test func everyTruncationOfEveryDocumentIsSafe() async {
        await Fuzz.each(Self.corpus.enumerated()) { number, document in
            let bytes = Array(document.utf8)
            for length in 0...bytes.count {
                Self.checkParsers(Array(bytes[0..<length]), "document \(number) cut at \(length)")
            }
        }
    }

    @Test func adversarialDocumentsStayFast() async {
        // Each lookup is a forward scan; these must not turn quadratic or recurse.
        let size = XMLTagScanner.maximumDocumentBytes - 64
        let documents = [
            String(repeating: "<Credentials", count: size / 12),
            String(repeating: "<Credentials>", count: size / 13),
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>" + String(repeating: "</AccessKeyId", count: size / 14),
            "<ErrorResponse><Error><Code>" + String(repeating: "&amp;", count: size / 6) + "</Code></Error></ErrorResponse>",
            String(repeating: "<", count: size),
        ]
        let clock = ContinuousClock()
        await Fuzz.each(documents.enumerated()) { number, document in
            let elapsed = clock.measure { Self.checkParsers(Array(document.utf8), "adversarial \(number)") }
            // A guard against a quadratic scan (hours at 1 MiB), not a timing assertion: a linear one takes
            // milliseconds, so the bound holds on any machine however loaded.
            #expect(elapsed < .seconds(60), "adversarial document \(number) took \(elapsed)")
        }
    }

    @Test func entityDecodingNeverCrashes() async {
        await fuzz("entities", seed: 0x5EED_0102, count: 5000) { rng, label in
            var text: [UInt8] = []
            for _ in 0..<rng.int(0..<6) {
                switch rng.int(0..<4) {
                case 0: text += Array(rng.pick(Self.snippets).utf8)
                case 1: text += Array("&#\(rng.pick(["", "x", "X"]))\(String(rng.next() >> UInt64(rng.int(0..<64)), radix: rng.chance(50) ? 16 : 10));".utf8)
                case 2: text += rng.pick(Self.invalidUTF8)
                default: text += Array("plain text ".utf8)
                }
            }
            if let decoded = XMLTagScanner.decodeText(text[...]) {
                check(decoded.first.map { !" \t\r\n".contains($0) } ?? true, label, "leading space kept")
            }
        }
    }

    // MARK: Timestamps

    static let timestamps = [
        "2014-10-24T23:00:23Z", "2014-10-24T23:00:23.5Z", "2024-02-29T00:00:00.123Z", "1999-12-31T23:59:59+02:00",
        "2030-01-01T12:00:00-05:30", "2014-10-24T23:00:23.123456789Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:60Z",
    ]

    static let timestampPieces = ["9", "0", "-", "+", ":", ".", "Z", "T", "t", "z", "٣", "\u{0}", String(repeating: "9", count: 20), String(repeating: "9", count: 100_000), "99:99", "-99:99"]

    @Test func timestampsNeverCrashTheParser() async {
        await fuzz("timestamp", seed: 0x5EED_0103, count: 5000) { rng, label in
            var bytes = Array(rng.pick(Self.timestamps).utf8)
            for _ in 0..<rng.int(1..<4) {
                if rng.chance(60) {
                    bytes = Self.mutateBytes(bytes, using: &rng)
                } else {
                    let piece = rng.pick(Self.timestampPieces)
                    bytes.insert(contentsOf: Array(piece.utf8), at: rng.int(0..<(bytes.count + 1)))
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let date = ISO8601Timestamp.parse(text) {
                check(date.timeIntervalSince1970.isFinite, label, "a non-finite date from \(text.prefix(80))")
                check(text.utf8.count >= 20, label, "a date from too short a text: \(text)")
            }
        }
    }

    @Test func validTimestampsAgreeWithFoundation() async {
        let oracle = ISO8601DateFormatter()
        oracle.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        await fuzz("timestamp-oracle", seed: 0x5EED_0104, count: 400) { rng, label in
            let year = rng.int(1900..<2200)
            let month = rng.int(1..<13)
            let day = rng.int(1..<(ISO8601Timestamp.daysIn(month: month, year: year) + 1))
            var text = "\(year)-\(two(month))-\(two(day))T\(two(rng.int(0..<24))):\(two(rng.int(0..<60))):\(two(rng.int(0..<60)))"
            let withFraction = rng.chance(40)
            if withFraction { text += "." + String(rng.int(0..<1000)).leftPadded(to: 3) }
            text += rng.chance(50) ? "Z" : "\(rng.chance(50) ? "+" : "-")\(two(rng.int(0..<24))):\(two(rng.int(0..<60)))"
            guard let expected = (withFraction ? fractional : oracle).date(from: text) else {
                check(false, label, "Foundation refuses \(text)")
                return
            }
            let parsed = ISO8601Timestamp.parse(text)
            check(parsed.map { abs($0.timeIntervalSince(expected)) < 0.001 } == true, label, "\(text): \(String(describing: parsed)) ≠ \(expected)")
        }
    }

    // MARK: Pod Identity

    static let agentAnswers = [
        #"{"AccessKeyId":"ASIAX","SecretAccessKey":"s/+=","Token":"IQoJb3JpZ2lu","AccountId":"123456789012","Expiration":"2014-10-24T23:00:23.123456789Z"}"#,
        #"{"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"2014-10-24T23:00:23Z"}"#,
        #"{"code":"AccessDeniedException","message":"no IQoJb3JpZ2lu access"}"#,
    ]

    @Test func podIdentityAnswersNeverCrash() async {
        let values = [
            "null", "[]", "{}", "1e309", "-0", "9223372036854775808", "1.5", #""""#, #""\u0000""#, #""\ud800""#, #""\udc00x""#,
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600), #""\#(String(repeating: "x", count: 70_000))""#,
            #""2014-02-30T00:00:00Z""#, "true",
        ]
        let keys = ["AccessKeyId", "SecretAccessKey", "Token", "Expiration", "code", "message"]
        await fuzz("pod-identity", seed: 0x5EED_0105, count: 3000) { rng, label in
            var text = rng.pick(Self.agentAnswers)
            if rng.chance(70) {
                // Type confusion at a member: the value of a known key replaced.
                let key = rng.pick(keys)
                if let range = text.range(of: "\"\(key)\":") {
                    let valueStart = range.upperBound
                    let valueEnd = text[valueStart...].firstIndex { $0 == "," || $0 == "}" } ?? text.endIndex
                    text.replaceSubrange(valueStart..<valueEnd, with: rng.pick(values))
                }
            }
            var bytes = Array(text.utf8)
            if rng.chance(40) { bytes = Self.mutateBytes(bytes, using: &rng) }
            let status = rng.pick([200, 200, 200, 201, 400, 404, 429, 500, 503, 0, Int.min])
            switch ContainerCredentialProvider.outcome(status: status, body: bytes, host: "169.254.170.23", hiding: ["IQoJb3JpZ2lu"]) {
            case .success(let credentials):
                check(status == 200 && !credentials.accessKeyID.isEmpty && !credentials.secretAccessKey.isEmpty, label, "success from HTTP \(status)")
                check(credentials.expiration != nil, label, "credentials without an expiration")
            case .retryable(let error), .final(let error):
                check(!error.message.contains("IQoJb3JpZ2lu") && !(error.code ?? "").contains("IQoJb3JpZ2lu"), label, "the token leaked")
            }
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
