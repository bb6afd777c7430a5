import Testing
@testable import LLMeshProviders

@Suite struct RequestInspectionTests {
    func inspect(_ text: String, kind: APIKind = .chatCompletions) throws -> InspectedRequest {
        try InspectedRequest(body: Array(text.utf8), kind: kind)
    }

    func code(of text: String) -> SidecarError.Code? {
        do {
            _ = try inspect(text)
            return nil
        } catch let error as SidecarError {
            return error.code
        } catch {
            return nil
        }
    }

    @Test func readsRoutingFields() throws {
        let request = try inspect(#"{"model":"fast","stream":true,"stream_options":{"include_usage":true},"max_tokens":50,"messages":[]}"#)
        #expect(request.model == "fast")
        #expect(request.stream)
        #expect(request.includeUsageRequested)
        #expect(request.maxOutputTokens == 50)
    }

    @Test func streamIsIgnoredWhereTheAPICannotStream() throws {
        #expect(try inspect(#"{"model":"e","stream":true,"input":"x"}"#, kind: .embeddings).stream == false)
    }

    @Test func refusesBadBodiesWithStableCodes() {
        #expect(code(of: "not json") == .invalidJSON)
        #expect(code(of: #"{"model":"m""#) == .invalidJSON)
        #expect(code(of: "[1,2]") == .invalidRequest)
        #expect(code(of: #"{"messages":[]}"#) == .invalidRequest)
        #expect(code(of: #"{"model":""}"#) == .invalidRequest)
        #expect(code(of: #"{"model":42}"#) == .invalidRequest)
        #expect(code(of: #"{"model":"m","stream":"yes"}"#) == .invalidRequest)
    }

    @Test func rewritesOnlyTheModelAndKeepsEverythingElseByteForByte() throws {
        let original = #"{ "model" : "fast", "messages":[{"role":"user","content":"1.0e2 \u00e9"}], "temperature": 0.70 }"#
        let request = try inspect(original)
        let rewritten = String(decoding: request.upstreamBody(model: "gpt-4o-mini-2024-07-18", forceIncludeUsage: false), as: UTF8.self)
        #expect(rewritten == original.replacingOccurrences(of: "\"fast\"", with: "\"gpt-4o-mini-2024-07-18\""))
        #expect(request.upstreamBody(model: "fast", forceIncludeUsage: false) == Array(original.utf8))
    }

    @Test(arguments: [
        (#"{"model":"m","stream":true}"#, #"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#),
        (#"{"model":"m","stream":true,"stream_options":{}}"#, #"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#),
        (#"{"model":"m","stream":true,"stream_options":{"x":1}}"#, #"{"model":"m","stream":true,"stream_options":{"include_usage":true,"x":1}}"#),
        (#"{"model":"m","stream":true,"stream_options":{"include_usage":false}}"#, #"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#),
        (#"{"model":"m","stream":true,"stream_options":null}"#, #"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#),
    ])
    func switchesOnStreamUsage(input: String, expected: String) throws {
        let body = try inspect(input).upstreamBody(model: "m", forceIncludeUsage: true)
        #expect(String(decoding: body, as: UTF8.self) == expected)
        #expect((try? JSONDocument(validating: body)) != nil)
    }

    @Test func classifiesPaths() {
        #expect(APIKind.classify(method: "POST", path: "/v1/chat/completions") == .api(.chatCompletions))
        #expect(APIKind.classify(method: "POST", path: "/v1/messages?beta=true") == .api(.messages))
        #expect(APIKind.classify(method: "POST", path: "/v1/messages/count_tokens") == .api(.countTokens))
        #expect(APIKind.classify(method: "GET", path: "/v1/models") == .api(.models))
        #expect(APIKind.classify(method: "GET", path: "/v1/chat/completions") == .methodNotAllowed(allowed: "POST"))
        #expect(APIKind.classify(method: "POST", path: "/v1/files") == .unknownPath)
        #expect(APIKind.classify(method: "POST", path: "") == .unknownPath)
    }
}
