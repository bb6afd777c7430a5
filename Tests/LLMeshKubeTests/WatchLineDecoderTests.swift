import Testing
@testable import LLMeshKube

@Suite struct WatchLineDecoderTests {
    @Test func splitsEventsAcrossChunks() throws {
        var decoder = WatchLineDecoder()
        let text = #"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}"# + "\n" + #"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}"# + "\n"
        let bytes = Array(text.utf8)
        var events: [WatchEvent] = []
        for chunk in stride(from: 0, to: bytes.count, by: 7) {
            events += try decoder.feed(bytes[chunk..<min(chunk + 7, bytes.count)])
        }
        #expect(events.map(\.type) == [.added, .bookmark])
        #expect(KubeObject(events[0].object).resourceVersion == "5")
        #expect(KubeObject(events[1].object).resourceVersion == "9")
        #expect(try decoder.finish().isEmpty)
    }

    @Test func inStreamExpiryIsAnError() throws {
        var decoder = WatchLineDecoder()
        let line = #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (3171407)","reason":"Expired","code":410}}"# + "\n"
        let events = try decoder.feed(Array(line.utf8))
        let error = try #require(events.first?.error)
        #expect(error.isExpired)
        #expect(error.message.contains("too old"))
    }

    @Test func lastLineWithoutNewlineIsDelivered() throws {
        var decoder = WatchLineDecoder()
        #expect(try decoder.feed(Array(#"{"type":"DELETED","object":{"metadata":{"name":"x"}}}"#.utf8)).isEmpty)
        #expect(try decoder.finish().map(\.type) == [.deleted])
    }

    @Test(arguments: [
        "not json\n",
        #"{"type":"ADDED"}"# + "\n",
        #"{"type":"EXPLODED","object":{}}"# + "\n",
        #"{"type":"ADDED","object":{"#,
    ])
    func malformedEventsAreRefused(text: String) {
        var decoder = WatchLineDecoder()
        #expect(throws: KubeAPIError.self) {
            _ = try decoder.feed(Array(text.utf8))
            _ = try decoder.finish()
        }
    }

    @Test func oversizedLineIsRefused() {
        var decoder = WatchLineDecoder(maximumLineBytes: 64)
        #expect(throws: KubeAPIError.self) { _ = try decoder.feed([UInt8](repeating: UInt8(ascii: "a"), count: 100)) }
    }
}
