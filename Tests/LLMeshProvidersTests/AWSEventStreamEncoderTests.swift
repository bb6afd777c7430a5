import Testing
@testable import LLMeshProviders

@Suite struct AWSEventStreamEncoderTests {
    static let allHeaders: [(String, AWSEventStreamHeaderValue)] = [
        ("t", .bool(true)), ("f", .bool(false)), ("i8", .int(-7)), ("i16", .int(300)), ("i32", .int(-70_000)),
        ("i64", .int(Int64.max)), ("b", .bytes([0, 1, 2, 255])), ("s", .string("héllo")), ("ts", .timestamp(1_700_000_000_123)),
        ("u", .uuid(Array(0..<16))),
    ]

    static var stream: [UInt8] {
        AWSEventStreamEncoder.event(type: "contentBlockDelta", payload: Array(#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#.utf8))
            + AWSEventStreamEncoder.encode(headers: allHeaders, payload: Array("payload".utf8))
            + AWSEventStreamEncoder.exception(type: "throttlingException", message: "Too \"many\" requests")
    }

    @Test func matchesAFrameBuiltWithPython() throws {
        // The payload of AWSEventStreamDecoderTests.delta, with the same header order, gives the same bytes.
        let payload = Array(#"{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcd"}"#.utf8)
        #expect(AWSEventStreamEncoder.event(type: "contentBlockDelta", payload: payload) == AWSEventStreamDecoderTests.delta)
    }

    @Test func roundTripsEveryHeaderType() throws {
        var decoder = AWSEventStreamDecoder()
        let messages = try decoder.feed(Self.stream)
        #expect(messages.count == 3)
        #expect(messages[0].eventType == "contentBlockDelta")
        #expect(messages[0].messageType == "event")
        #expect(messages[0].string(":content-type") == "application/json")
        let headers = messages[1].headers
        for (name, value) in Self.allHeaders { #expect(headers[name] == value, "\(name)") }
        #expect(messages[1].payload == Array("payload".utf8))
        #expect(messages[2].messageType == "exception")
        #expect(messages[2].exceptionType == "throttlingException")
        let body = try JSONDocument(validating: messages[2].payload)
        #expect(body.value(at: "message").flatMap(body.string) == #"Too "many" requests"#)
        #expect(messages.map(\.raw).reduce([], +) == Self.stream)
    }

    @Test func usesTheNarrowestIntegerType() {
        func typeByte(_ value: Int64) -> UInt8 {
            let frame = AWSEventStreamEncoder.encode(headers: [("n", .int(value))], payload: [])
            return frame[12 + 2]
        }
        #expect(typeByte(127) == 2)
        #expect(typeByte(-129) == 3)
        #expect(typeByte(40_000) == 4)
        #expect(typeByte(Int64(Int32.max) + 1) == 5)
    }

    @Test func everyTruncationYieldsNoPartialMessageAndNoError() throws {
        let frame = AWSEventStreamEncoder.encode(headers: Self.allHeaders, payload: Array("payload".utf8))
        for cut in 0..<frame.count {
            var decoder = AWSEventStreamDecoder()
            let messages = try decoder.feed(frame[0..<cut])
            #expect(messages.isEmpty, "cut \(cut)")
            #expect(decoder.pendingByteCount == cut)
        }
    }

    @Test func everySingleBitFlipIsRejected() {
        let frame = AWSEventStreamEncoder.event(type: "metadata", payload: Array(#"{"usage":{"inputTokens":1}}"#.utf8))
        for bit in 0..<(frame.count * 8) {
            var corrupt = frame
            corrupt[bit / 8] ^= UInt8(1 << (bit % 8))
            var decoder = AWSEventStreamDecoder()
            var decoded: [AWSEventStreamMessage] = []
            var failed = false
            do {
                decoded = try decoder.feed(corrupt)
            } catch {
                failed = true
            }
            // A flip is caught by a checksum or a length check; it never yields a message.
            #expect(failed && decoded.isEmpty, "bit \(bit)")
        }
    }

    /// A prelude with a valid CRC but the given lengths.
    func prelude(total: UInt32, headers: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in [total, headers] {
            bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
        let crc = AWSEventStreamDecoder.crc32(bytes[...])
        return bytes + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
    }

    @Test func oversizedLengthsAreRejectedBeforeWaiting() {
        let cases: [(UInt32, UInt32)] = [
            (UInt32.max, 0),  // payload far beyond 24 MiB
            (UInt32(16 + 200 * 1024), 200 * 1024),  // headers beyond 128 KiB
            (10, 0),  // total shorter than the frame's fixed parts
            (20, 8),  // headers longer than the frame allows
        ]
        for (total, headers) in cases {
            var decoder = AWSEventStreamDecoder()
            #expect(throws: AWSEventStreamError.self, "total \(total) headers \(headers)") { try decoder.feed(prelude(total: total, headers: headers)) }
        }
    }

    @Test func duplicateHeaderNamesAreRejected() {
        let frame = AWSEventStreamEncoder.encode(headers: [(":event-type", .string("a")), (":event-type", .string("b"))], payload: [])
        var decoder = AWSEventStreamDecoder()
        #expect(throws: AWSEventStreamError(reason: "duplicate header :event-type")) { try decoder.feed(frame) }
    }

    @Test func unknownHeaderTypeIsRejected() {
        // Header "x" of type 10, built by hand with valid checksums.
        let headers: [UInt8] = [1, UInt8(ascii: "x"), 10]
        var frame = prelude(total: UInt32(12 + headers.count + 4), headers: UInt32(headers.count)) + headers
        let crc = AWSEventStreamDecoder.crc32(frame[...])
        frame += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        var decoder = AWSEventStreamDecoder()
        #expect(throws: AWSEventStreamError(reason: "unknown header type 10")) { try decoder.feed(frame) }
    }

    @Test func truncatedHeaderValueIsRejected() {
        // A string header claiming 50 bytes in a 5-byte header block.
        let headers: [UInt8] = [1, UInt8(ascii: "s"), 7, 0, 50]
        var frame = prelude(total: UInt32(12 + headers.count + 4), headers: UInt32(headers.count)) + headers
        let crc = AWSEventStreamDecoder.crc32(frame[...])
        frame += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        var decoder = AWSEventStreamDecoder()
        #expect(throws: AWSEventStreamError.self) { try decoder.feed(frame) }
    }

    @Test func byteByByteFeedingYieldsEveryMessageOnce() throws {
        var decoder = AWSEventStreamDecoder()
        var messages: [AWSEventStreamMessage] = []
        for byte in Self.stream { messages += try decoder.feed([byte]) }
        #expect(messages.count == 3)
        #expect(messages.map(\.raw).reduce([], +) == Self.stream)
        #expect(decoder.pendingByteCount == 0)
    }

    @Test func emptyPayloadAndNoHeaders() throws {
        let frame = AWSEventStreamEncoder.encode(headers: [], payload: [])
        #expect(frame.count == 16)
        var decoder = AWSEventStreamDecoder()
        let messages = try decoder.feed(frame)
        #expect(messages.count == 1 && messages[0].headers.isEmpty && messages[0].payload.isEmpty)
    }
}
