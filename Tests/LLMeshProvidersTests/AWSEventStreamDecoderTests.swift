import Testing
@testable import LLMeshProviders

/// Frames built with Python's `struct` and `zlib.crc32`, independently of this decoder.
@Suite struct AWSEventStreamDecoderTests {
    static let delta = bytes("0000009f00000057c37babff0b3a6576656e742d74797065070011636f6e74656e74426c6f636b44656c74610d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d747970650700056576656e747b22636f6e74656e74426c6f636b496e646578223a302c2264656c7461223a7b2274657874223a224869227d2c2270223a2261626364227df2ace5ff")
    static let metadata = bytes("000000b80000004ed4f1f02b0b3a6576656e742d747970650700086d657461646174610d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d747970650700056576656e747b226d657472696373223a7b226c6174656e63794d73223a3132307d2c227573616765223a7b22696e707574546f6b656e73223a31322c226f7574707574546f6b656e73223a342c22746f74616c546f6b656e73223a31367d7d98ff8128")

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return out
    }

    @Test func decodesBedrockEventsWithTheirHeadersAndPayloads() throws {
        var decoder = AWSEventStreamDecoder()
        let messages = try decoder.feed(Self.delta + Self.metadata)
        #expect(messages.map(\.eventType) == ["contentBlockDelta", "metadata"])
        #expect(messages.allSatisfy { $0.messageType == "event" })
        #expect(String(decoding: messages[0].payload, as: UTF8.self) == #"{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcd"}"#)
        #expect(messages[1].raw == Self.metadata)
        let usage = try JSONDocument(validating: messages[1].payload)
        #expect(usage.value(at: "usage", "outputTokens").flatMap(usage.int) == 4)
        #expect(decoder.pendingByteCount == 0)
    }

    @Test func waitsForTheRestAtEverySplit() throws {
        let stream = Self.delta + Self.metadata
        for split in 1..<stream.count {
            var decoder = AWSEventStreamDecoder()
            let first = try decoder.feed(stream[0..<split])
            let second = try decoder.feed(stream[split...])
            #expect((first + second).map(\.eventType) == ["contentBlockDelta", "metadata"], "split \(split)")
        }
    }

    @Test func refusesCorruptFrames() {
        var flippedPayload = Self.delta
        flippedPayload[100] ^= 0x01
        var flippedLength = Self.delta
        flippedLength[3] ^= 0x01
        var hugeLength = Self.delta
        hugeLength[0] = 0x7F
        for corrupt in [flippedPayload, flippedLength, hugeLength] {
            var decoder = AWSEventStreamDecoder()
            #expect(throws: AWSEventStreamError.self) { try decoder.feed(corrupt) }
        }
    }

    @Test func crcMatchesZlib() {
        #expect(AWSEventStreamDecoder.crc32(ArraySlice(Array("123456789".utf8))) == 0xCBF4_3926)
    }
}
