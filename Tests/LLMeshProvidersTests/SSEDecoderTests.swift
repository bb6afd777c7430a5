import Testing
@testable import LLMeshProviders

@Suite struct SSEDecoderTests {
    static let stream = "event: message_start\ndata: {\"a\":1}\n\n: a comment\n\ndata: line one\ndata: line two\n\nevent: x\r\ndata:no-space\r\n\r\ndata: cr\r\rdata: [DONE]\n\n"

    func events(_ items: [SSEItem]) -> [SSEEvent] {
        items.compactMap { if case .event(let event) = $0 { return event } else { return nil } }
    }

    @Test func parsesFieldsAndKeepsRawBytes() {
        var decoder = SSEDecoder()
        let parsed = events(decoder.feed(Array(Self.stream.utf8)))
        #expect(parsed.count == 6)
        #expect(parsed[0].name == "message_start")
        #expect(String(decoding: parsed[0].data, as: UTF8.self) == #"{"a":1}"#)
        #expect(parsed[1].data.isEmpty)  // comment-only event
        #expect(String(decoding: parsed[2].data, as: UTF8.self) == "line one\nline two")
        #expect(parsed[3].name == "x")
        #expect(String(decoding: parsed[3].data, as: UTF8.self) == "no-space")
        #expect(String(decoding: parsed[4].data, as: UTF8.self) == "cr")
        #expect(String(decoding: parsed[5].data, as: UTF8.self) == "[DONE]")
        #expect(parsed.flatMap(\.raw) == Array(Self.stream.utf8))
        #expect(decoder.finish().isEmpty)
    }

    @Test func givesTheSameEventsWhateverTheChunking() {
        let bytes = Array(Self.stream.utf8)
        var whole = SSEDecoder()
        let expected = events(whole.feed(bytes))
        for split in 1..<bytes.count {
            var decoder = SSEDecoder()
            let parsed = events(decoder.feed(bytes[0..<split])) + events(decoder.feed(bytes[split...]))
            #expect(parsed == expected, "split at \(split)")
        }
        var byteByByte = SSEDecoder()
        let parsed = bytes.flatMap { events(byteByByte.feed([$0])) }
        #expect(parsed == expected)
    }

    @Test func handsBackATruncatedEventAtTheEnd() {
        var decoder = SSEDecoder()
        #expect(decoder.feed(Array("data: {\"partial\":".utf8)).isEmpty)
        #expect(decoder.finish() == Array("data: {\"partial\":".utf8))
    }

    @Test func passesOversizedEventsThroughUnparsed() {
        var decoder = SSEDecoder(maximumEventBytes: 64)
        let big = Array(("data: " + String(repeating: "x", count: 100)).utf8)
        let items = decoder.feed(big)
        #expect(items == [.unparsed(big)])
        #expect(decoder.gaveUp)
        #expect(decoder.feed(Array("\n\ndata: y\n\n".utf8)) == [.unparsed(Array("\n\ndata: y\n\n".utf8))])
    }

    @Test func aLongLineInSmallPiecesIsOneEventAndResumesWhereItStopped() {
        var decoder = SSEDecoder()
        let payload = String(repeating: "x", count: 200_000)
        let bytes = Array("event: big\ndata: \(payload)\r".utf8)
        var items: [SSEItem] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + 1000, bytes.count)
            items += decoder.feed(bytes[offset..<end])
            offset = end
        }
        #expect(items.isEmpty)
        items += decoder.feed(Array("\n\r\n".utf8))
        guard case .event(let event)? = items.first, items.count == 1 else {
            Issue.record("expected one event, got \(items.count)")
            return
        }
        #expect(event.name == "big")
        #expect(event.data.count == 200_000)
        #expect(decoder.finish().isEmpty)
    }
}

