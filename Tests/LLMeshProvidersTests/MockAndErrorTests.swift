import LLMeshModel
import Testing
@testable import LLMeshProviders

@Suite struct MockAndErrorTests {
    let mock = MockResponder(settings: MockSettings(response: "one two three", embeddingDimensions: 4))

    func answer(_ body: String, _ kind: APIKind, includeUsage: Bool = false) throws -> MockAnswer {
        let request = try InspectedRequest(body: Array(body.utf8), kind: kind)
        return mock.answer(request, kind: kind, model: "m", includeUsage: includeUsage, requestID: "r1", created: 1)
    }

    @Test(arguments: [APIKind.chatCompletions, .completions, .responses, .messages])
    func nonStreamedAnswersAreValidJSONWithUsage(kind: APIKind) throws {
        guard case .json(let body) = try answer(#"{"model":"m","messages":[],"input":"x","prompt":"p"}"#, kind) else {
            Issue.record("expected JSON")
            return
        }
        let usage = UsageReader.usage(inResponse: body, kind: kind)
        #expect(usage?.output == 3)
        #expect((usage?.input ?? 0) > 0)
        #expect(String(decoding: body, as: UTF8.self).contains("one two three"))
    }

    @Test(arguments: [APIKind.chatCompletions, .completions, .responses, .messages])
    func streamedAnswersCarryTheirUsageAndEnd(kind: APIKind) throws {
        guard case .stream(let events) = try answer(#"{"model":"m","stream":true,"messages":[]}"#, kind, includeUsage: true) else {
            Issue.record("expected a stream")
            return
        }
        var decoder = SSEDecoder()
        var accounting = StreamAccounting(kind: kind, hideInjectedUsage: false)
        var text = ""
        for item in decoder.feed(events.flatMap { $0 }) {
            guard case .event(let event) = item else { continue }
            #expect(event.data == Array("[DONE]".utf8) || (try? JSONDocument(validating: event.data)) != nil)
            _ = accounting.process(event)
            text += String(decoding: event.raw, as: UTF8.self)
        }
        #expect(accounting.sawEnd)
        #expect(accounting.usage?.output == 3)
        #expect(text.contains("three"))
    }

    @Test func embeddingsHonourBase64AndCountInputs() throws {
        guard case .json(let floats) = try answer(#"{"model":"m","input":["a","b"]}"#, .embeddings),
            case .json(let base64) = try answer(#"{"model":"m","input":"a","encoding_format":"base64"}"#, .embeddings)
        else {
            Issue.record("expected JSON")
            return
        }
        let doc = try JSONDocument(validating: floats)
        let data = doc.value(at: "data").map { doc.elements(of: $0) } ?? []
        #expect(data.count == 2)
        #expect(data.first.flatMap { doc.member("embedding", of: $0) }.map { doc.elements(of: $0).count } == 4)
        let encoded = try JSONDocument(validating: base64)
        let first = encoded.value(at: "data").flatMap { encoded.elements(of: $0).first }.flatMap { encoded.member("embedding", of: $0) }.flatMap(encoded.string)
        #expect(first?.count == 24)  // 4 floats = 16 bytes = 24 base64 characters
    }

    @Test func base64KnownAnswers() {
        #expect(Base64.encode(Array("".utf8)) == "")
        #expect(Base64.encode(Array("f".utf8)) == "Zg==")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(floats: [1.0]) == "AACAPw==")
    }

    @Test func errorBodiesAreValidJSONInBothDialects() throws {
        for code in SidecarError.Code.allCases {
            let error = SidecarError(code, "bad \"thing\"\n", parameter: "model")
            let openAI = try JSONDocument(validating: Array(error.body(for: .openAI).utf8))
            #expect(openAI.value(at: "error", "code").flatMap(openAI.string) == code.rawValue)
            #expect(openAI.value(at: "error", "message").flatMap(openAI.string) == "bad \"thing\"\n")
            let anthropic = try JSONDocument(validating: Array(error.body(for: .anthropic).utf8))
            #expect(anthropic.value(at: "type").flatMap(anthropic.string) == "error")
            #expect(anthropic.value(at: "error", "type").flatMap(anthropic.string) != nil)
        }
        #expect(SidecarError.Code.requestTooLarge.status == 413)
        #expect(SidecarError.Code.upstreamTimeout.status == 504)
        #expect(SidecarError.Code.modelNotFound.status == 404)
    }

    @Test func modelListingsMatchEachSDKShape() throws {
        let openAI = try JSONDocument(validating: ModelListing.body(models: ["a", "b"], dialect: .openAI, created: 5))
        #expect(openAI.value(at: "object").flatMap(openAI.string) == "list")
        let anthropic = try JSONDocument(validating: ModelListing.body(models: ["a", "b"], dialect: .anthropic, created: 5))
        #expect(anthropic.value(at: "last_id").flatMap(anthropic.string) == "b")
        #expect(anthropic.value(at: "has_more").flatMap(anthropic.bool) == false)
    }
}
