import Foundation
import Testing
@testable import LLMeshProviders
import LLMeshFuzzSupport

extension FuzzCase {
    /// Records an issue naming the case when `condition` is false.
    func check(_ condition: Bool, _ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard !condition else { return }
        Issue.record(Comment(rawValue: "\(label): \(message())"), sourceLocation: sourceLocation)
    }
}

extension Fuzz {
    /// Whether `bytes` is one JSON value. Translated bodies may nest a few levels deeper than the parser's own input
    /// limit (a caller's 128-deep tool schema inside `tools[].function.parameters`), which is still JSON.
    static func isJSON(_ bytes: [UInt8]) -> Bool {
        do {
            _ = try JSONDocument(validating: bytes)
            return true
        } catch {
            return error.reason.hasPrefix("nesting deeper")
        }
    }

    static func isJSONObject(_ bytes: [UInt8]) -> Bool {
        guard isJSON(bytes) else { return false }
        return bytes.first { !JSONFuzzing.isSpace($0) } == UInt8(ascii: "{")
    }

    /// Whether every count is in the range the translators promise (never negative, sums cannot overflow).
    static func isBounded(_ usage: TokenUsage?) -> Bool {
        guard let usage else { return true }
        let limit = 4 * Int(Int32.max)
        return (0...limit).contains(usage.input) && (0...limit).contains(usage.output) && (0...usage.input).contains(usage.cachedInput)
    }

    /// Splits `bytes` into random chunks (sometimes single bytes, sometimes everything at once). Inputs over 16 KiB
    /// go in chunks of at least 8 KiB: `SSEDecoder` rescans the current line on every feed, so tiny chunks of one long
    /// line cost time quadratic in its length.
    static func chunks(_ bytes: [UInt8], using rng: inout SplitMix64) -> [ArraySlice<UInt8>] {
        let style = bytes.count > 16 * 1024 ? 4 : rng.int(0..<4)
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let size: Int
            switch style {
            case 0: size = bytes.count
            case 1: size = 1
            case 2: size = rng.int(1..<16)
            case 3: size = rng.int(1..<512)
            default: size = rng.int(8 * 1024..<64 * 1024)
            }
            let end = min(bytes.count, start + size)
            result.append(bytes[start..<end])
            start = end
        }
        return result
    }
}

/// Hostile variants of valid inputs: byte damage, and JSON-aware type confusion at the leaves and keys.
struct JSONFuzzing {
    /// When false, integers near `Int.max` are left out (for paths whose own overflow is tracked apart).
    var allowsHugeIntegers = true
    /// Keys that readers look for, swapped in for other keys.
    var keys: [String]

    init(corpus: [String], allowsHugeIntegers: Bool = true) {
        self.allowsHugeIntegers = allowsHugeIntegers
        var seen: Set<String> = []
        for text in corpus {
            guard let document = try? JSONDocument(validating: Array(text.utf8)) else { continue }
            for site in Self.sites(document) where site.isKey {
                seen.insert(String(decoding: document.bytes[site.range].dropFirst().dropLast(), as: UTF8.self))
            }
        }
        keys = seen.sorted() + ["index", "contentBlockIndex", "usage", "error", "type", "__proto__", "", "\u{0}", "é", "🦙"]
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    static let hugeIntegers = [
        "9223372036854775807", "-9223372036854775808", "9223372036854775806", "4611686018427387904", "-4611686018427387904",
        "4611686018427387903", "-9223372036854775807",
    ]
    static let numbers = [
        "0", "-0", "-0.0", "0.0", "1", "-1", "2", "7", "1.5", "-1.5", "1e2", "1E-2", "1e309", "-1e309", "2.5e-324", "1e-400",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "123456789012345678901234567890", "9007199254740993",
        "9e15", "8999999999999999", "-8999999999999999", "1e18", "2147483647", "2147483648", "-2147483649", "4294967296", "0.0000001",
        "100000000000000000000000000000000000000000000000000e-50",
    ]
    static let strings = [
        #""""#, #""x""#, #"" ""#, #""\u0000""#, #""\ud800""#, #""\udc00""#, #""\ud800\ud800x""#, #""\udbff\udfff""#, #""\ud83e\udd99""#,
        #""\\""#, #""\"""#, #""\n\r\t\b\f\/""#, #""</x>&amp;""#, #""data:image/png;base64,""#, #""data:;base64,AAAA""#,
        #""data:image/png;base64,%%%""#, #""data:,""#, #""https://""#, #""HTTP://x""#, #""function""#, #""tool_use""#, #""text""#,
        #""image_url""#, #""image""#, #""document""#, #""tool_result""#, #""thinking""#, #""redacted_thinking""#, #""base64""#, #""url""#,
        #""user""#, #""assistant""#, #""system""#, #""tool""#, #""auto""#, #""none""#, #""required""#, #""any""#, #""enabled""#,
        #""disabled""#, #""[DONE]""#, #""message_start""#, #""content_block_start""#, #""error""#, #""text_delta""#,
        #""input_json_delta""#, #""image/png""#, #""application/pdf""#, #""{}""#, #""{\"a\":1}""#, #""[1""#, #""1""#, #""true""#,
        #""é\u0301""#, #""\u202e""#, #""\ufeff""#, #""\uffff""#,
    ]
    static let structures = [
        "null", "[]", "{}", "true", "false", "[null]", "[[]]", "[{}]", #"{"":null}"#, #"{"type":"text"}"#, #"{"type":"text","text":""}"#,
        #"[{"type":"text","text":"x"}]"#, #"{"type":"image","source":{"type":"base64"}}"#, #"{"type":"function","function":{}}"#,
        #"{"index":4611686018427387904}"#, #"[1,"a",null,{},[]]"#, #"{"a":1,"a":2}"#,
    ]
    static let invalidUTF8: [[UInt8]] = [[0xFF], [0xFE, 0xFF], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]]
    static let interestingBytes: [UInt8] = [0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x00, 0x0A, 0x0D, 0x20, 0x2D, 0x30, 0x65, 0x7F, 0x80, 0xC3, 0xED, 0xFF]

    /// A value, an object key, or a member (key through value), by byte range.
    struct Site {
        var range: Range<Int>
        var kind: JSONKind
        var isKey = false
        var member: Range<Int>?
    }

    static func sites(_ document: JSONDocument) -> [Site] {
        var result: [Site] = []
        func walk(_ node: JSONNode) {
            result.append(Site(range: node.range, kind: node.kind))
            switch node.kind {
            case .object:
                for member in document.members(of: node) {
                    var scanner = JSONScanner(bytes: document.bytes, position: member.range.lowerBound)
                    if let key = try? scanner.scanValue(depth: 0) {
                        result.append(Site(range: key.range, kind: .string, isKey: true, member: member.range))
                    }
                    walk(member.value)
                }
            case .array:
                document.elements(of: node).forEach(walk)
            default:
                break
            }
        }
        walk(document.root)
        return result
    }

    func hostileValue(for kind: JSONKind, using rng: inout SplitMix64) -> [UInt8] {
        if kind == .number && rng.chance(60) || rng.chance(25) {
            if allowsHugeIntegers && rng.chance(40) { return Array(rng.pick(Self.hugeIntegers).utf8) }
            return Array(rng.pick(Self.numbers).utf8)
        }
        switch rng.int(0..<100) {
        case 0..<40:
            return Array(rng.pick(Self.strings).utf8)
        case 40..<70:
            return Array(rng.pick(Self.structures).utf8)
        case 70..<78:
            let depth = rng.pick([2, 20, 126, 127, 128, 129, 300])
            return Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
        case 78..<83:
            let depth = rng.pick([2, 64, 127, 129])
            return Array((String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)).utf8)
        case 83..<87:
            let length = rng.pick([300, 4096, 70_000])
            return [0x22] + [UInt8](repeating: UInt8(ascii: "a"), count: length) + [0x22]
        case 87..<95:
            return [0x22] + rng.pick(Self.invalidUTF8) + [0x22]
        default:
            let length = rng.int(0..<40)
            return [0x22] + (0..<length).map { _ in UInt8(rng.int(0x20..<0x7F)) }.map { $0 == 0x22 || $0 == 0x5C ? UInt8(ascii: "_") : $0 } + [0x22]
        }
    }

    /// One to three damaging edits: most JSON-aware, some plain byte damage. A third of the inputs keep their shape
    /// (only string and number leaves change, within their kind), so that most of those still translate and the
    /// writers see hostile text and numbers too.
    func mutate(_ bytes: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var output = bytes
        let keepShape = rng.chance(33)
        for _ in 0..<rng.int(1..<4) {
            if keepShape {
                output = mutateLeaf(output, using: &rng)
            } else {
                output = rng.chance(75) ? mutateJSON(output, using: &rng) : Self.mutateBytes(output, using: &rng)
            }
        }
        return output
    }

    /// A free-text string leaf (longer than a type name or a role) replaced by a hostile string, or a number by a
    /// hostile number.
    func mutateLeaf(_ bytes: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        guard let document = try? JSONDocument(validating: bytes) else { return bytes }
        let leaves = Self.sites(document).filter { !$0.isKey && ($0.kind == .string && $0.range.count > 14 || $0.kind == .number) }
        guard !leaves.isEmpty else { return bytes }
        let site = rng.pick(leaves)
        let replacement: [UInt8]
        if site.kind == .number {
            replacement = Array((allowsHugeIntegers && rng.chance(40) ? rng.pick(Self.hugeIntegers) : rng.pick(Self.numbers)).utf8)
        } else {
            switch rng.int(0..<10) {
            case 0: replacement = [0x22] + rng.pick(Self.invalidUTF8) + [0x22]
            case 1: replacement = [0x22] + [UInt8](repeating: UInt8(ascii: "a"), count: rng.pick([300, 70_000])) + [0x22]
            case 2...4: replacement = Array(bytes[site.range].dropLast()) + Array(rng.pick(Self.strings).utf8.dropFirst())
            default: replacement = Array(rng.pick(Self.strings).utf8)
            }
        }
        var output = bytes
        output.replaceSubrange(site.range, with: replacement)
        return output
    }

    func mutateJSON(_ bytes: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        guard let document = try? JSONDocument(validating: bytes) else { return Self.mutateBytes(bytes, using: &rng) }
        let sites = Self.sites(document)
        let values = sites.filter { !$0.isKey }
        let keySites = sites.filter(\.isKey)
        var output = bytes
        let operation = rng.int(0..<100)
        if operation < 55 || keySites.isEmpty {
            let site = rng.pick(values)
            output.replaceSubrange(site.range, with: hostileValue(for: site.kind, using: &rng))
        } else if operation < 70 {
            // Type confusion with a realistic shape: another value of the same document.
            let site = rng.pick(values)
            let other = rng.pick(values)
            output.replaceSubrange(site.range, with: Array(bytes[other.range]))
        } else if operation < 85 {
            let site = rng.pick(keySites)
            output.replaceSubrange(site.range, with: Array(JSONText.quoted(rng.pick(keys)).utf8))
        } else if operation < 92 {
            let site = rng.pick(values)
            let inner = Array(bytes[site.range])
            output.replaceSubrange(site.range, with: rng.chance(50) ? [UInt8(ascii: "[")] + inner + [UInt8(ascii: "]")] : Array(#"{"a":"#.utf8) + inner + [UInt8(ascii: "}")])
        } else {
            // A duplicate member: readers take the first, writers must still write JSON.
            let site = rng.pick(keySites)
            if let member = site.member {
                output.insert(contentsOf: [UInt8(ascii: ",")] + Array(bytes[member]), at: member.upperBound)
            }
        }
        return output
    }

    static func mutateBytes(_ bytes: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var output = bytes
        guard !output.isEmpty else { return rng.pick(invalidUTF8) }
        let position = rng.int(0..<output.count)
        switch rng.int(0..<7) {
        case 0:
            output[position] ^= UInt8(1 << rng.int(0..<8))
        case 1:
            output[position] = rng.pick(interestingBytes)
        case 2:
            output.removeSubrange(position..<min(output.count, position + rng.int(1..<24)))
        case 3:
            let slice = Array(output[position..<min(output.count, position + rng.int(1..<48))])
            output.insert(contentsOf: slice, at: rng.int(0..<(output.count + 1)))
        case 4:
            output.removeSubrange(rng.int(0..<output.count)...)
        case 5:
            output.insert(contentsOf: rng.pick(invalidUTF8), at: position)
        default:
            output.insert(rng.pick(interestingBytes), at: position)
        }
        return output
    }
}

/// Valid inputs for every entry point, from the documented shapes the other translation tests use.
enum FuzzCorpus {
    static let openAIRequests = [
        TranslationRequestTests.openAIFull,
        #"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#,
        #"{"model":"g","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false}"#,
        #"{"model":"g","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}"#,
        #"{"model":"g","messages":[{"role":"developer","content":"rules"},{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"refusal","refusal":"no"}],"refusal":"sorry"},{"role":"user","content":[{"type":"text","text":"b"}]}],"stop":["X","Y"],"n":1,"logprobs":false,"response_format":{"type":"text"},"modalities":["text"],"presence_penalty":0,"frequency_penalty":0.0,"logit_bias":{},"safety_identifier":"s","seed":1,"stream":false,"max_completion_tokens":1000,"top_p":0.5}"#,
    ]

    static let anthropicRequests = [
        TranslationRequestTests.anthropicFull,
        #"{"model":"c","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
        TranslationRequestTests.anthropicForOpenAI,
        #"{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","title":"notes","source":{"type":"text","media_type":"text/plain","data":"hi"}},{"type":"document","title":"notes","source":{"type":"text","media_type":"text/plain","data":"again"}}]},{"role":"assistant","content":[{"type":"redacted_thinking","data":"abc"}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}],"thinking":{"type":"disabled"},"tool_choice":{"type":"none"},"tools":[{"name":"f","input_schema":{"type":"object"}}]}"#,
    ]

    static let converseRequests = [
        #"{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"maxTokens":64}}"#,
    ]

    static let anthropicResponses = [
        TranslationResponseTests.anthropicAnswer,
        #"{"id":"m","type":"message","role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"redacted_thinking","data":"d"},{"type":"text","text":"x"},{"type":"server_tool_use","id":"s"}],"stop_reason":"stop_sequence","stop_sequence":"END","usage":{"input_tokens":1,"output_tokens":0}}"#,
    ]

    static let converseResponses = [
        TranslationResponseTests.converseAnswer,
        #"{"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"redactedContent":"cmVk"}},{"text":"x"}]}},"stopReason":"guardrail_intervened","usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2,"cacheWriteInputTokens":5}}"#,
    ]

    static let openAIResponses = [
        TranslationResponseTests.openAIAnswer,
        #"{"choices":[{"index":0,"message":{"role":"assistant","content":"Hello","refusal":"no"},"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#,
    ]

    static let errors: [(WireSchema, String)] = [
        (.bedrockConverse, #"{"message":"Too many requests, please wait before trying again."}"#),
        (.bedrockConverse, #"{"message":"Malformed input request","__type":"com.amazon.coral.validate#ValidationException"}"#),
        (.bedrockConverse, #"{"Message":"Busy"}"#),
        (.anthropicMessages, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
        (.openAIChat, #"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#),
        (.openAIChat, #"{"error":"plain text error"}"#),
        (.openAIChat, "<html>Bad Gateway</html>"),
        (.anthropicMessages, ""),
    ]

    static func sse(_ events: [(String, String)]) -> String { events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined() }

    static let anthropicStreams = [
        TranslationStreamTests.anthropicStream,
        sse([
            ("message_start", #"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":2,"cache_creation_input_tokens":3,"output_tokens":1}}}"#),
            ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":"Hi"}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"END"},"usage":{"input_tokens":2,"output_tokens":9}}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ]),
        sse([
            ("message_start", #"{"type":"message_start","message":{"id":"m","usage":{"input_tokens":1,"output_tokens":1}}}"#),
            ("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
        ]),
    ]

    static let openAIStreams = [
        TranslationStreamTests.openAIStream,
        [
            #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":0,"delta":{"role":"assistant","refusal":"No."},"finish_reason":null}]}"#,
            #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt","choices":[{"index":1,"delta":{"content":"other choice"}},{"index":0,"delta":{},"finish_reason":"content_filter"}]}"#,
            "[DONE]",
        ].map { "data: \($0)\n\n" }.joined(),
        #"data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"# + "\n\n",
    ]

    /// Bedrock ConverseStream frames as header lists and payloads, so that they can be damaged and re-framed.
    static let converseStreams: [[(headers: [(String, AWSEventStreamHeaderValue)], payload: [UInt8])]] = {
        func frames(_ bytes: [UInt8]) -> [(headers: [(String, AWSEventStreamHeaderValue)], payload: [UInt8])] {
            var decoder = AWSEventStreamDecoder()
            let messages = (try? decoder.feed(bytes)) ?? []
            return messages.map { message in
                (message.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, message.payload)
            }
        }
        func event(_ type: String, _ json: String) -> [UInt8] { AWSEventStreamEncoder.event(type: type, payload: Array(json.utf8)) }
        let reasoning = event("messageStart", #"{"role":"assistant"}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Hmm."}}}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"sig=="}}}"#)
            + event("contentBlockStop", #"{"contentBlockIndex":0}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":"Yes."}}"#)
            + event("contentBlockStop", #"{"contentBlockIndex":1}"#)
            + event("metadata", #"{"usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7,"cacheWriteInputTokens":2}}"#)
            + event("messageStop", #"{"stopReason":"max_tokens"}"#)
        let failing = event("messageStart", #"{"role":"assistant"}"#)
            + AWSEventStreamEncoder.exception(type: "throttlingException", message: "Too many tokens, please wait.")
        let errorFrame = AWSEventStreamEncoder.encode(
            headers: [(":message-type", .string("error")), (":error-code", .string("InternalFailure")), (":error-message", .string("boom"))],
            payload: []
        )
        return [frames(TranslationStreamTests.converseStream), frames(reasoning), frames(failing), frames(event("messageStart", "{}") + errorFrame)]
    }()

    /// InvokeModelWithResponseStream chunks (Anthropic-native bodies, base64 inside `{"bytes": …}`).
    static let invokeChunks = [
        #"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":9,"output_tokens":1}}}"#,
        #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
        #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":6}}"#,
        #"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":9,"outputTokenCount":7,"invocationLatency":500,"firstByteLatency":200,"cacheReadInputTokenCount":30,"cacheWriteInputTokenCount":4}}"#,
        #"{"type":"error","error":{"type":"overloaded_error","message":"x"}}"#,
    ]

    static let converseUsageBodies = [
        #"{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":10,"outputTokens":5,"totalTokens":45,"cacheReadInputTokens":20,"cacheWriteInputTokens":10},"metrics":{"latencyMs":300}}"#,
        #"{"usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7}}"#,
    ]

    static let bedrockPaths = [
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", "/model/m/converse-stream", "/model/m/invoke",
        "/model/m/invoke-with-response-stream", "/model/anthropic.claude-3-haiku-20240307-v1:0/invoke",
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/converse",
        "/model/v1%253A0/converse", "/v1/chat/completions", "/v1/messages/count_tokens/", "/models?x=1",
    ]

    static let json = JSONFuzzing(
        corpus: openAIRequests + anthropicRequests + converseRequests + anthropicResponses + converseResponses + openAIResponses
            + errors.map(\.1) + invokeChunks + converseUsageBodies
    )
}

/// Deterministic fuzzing of the translators, the event-stream codec, Bedrock usage and path parsing: no input may
/// crash them, failures are the documented `SidecarError`s, and what they claim to have produced is well formed.
@Suite(.serialized) struct TranslationFuzzTests {
    static let requestPairs: [(WireSchema, [WireSchema], [String])] = [
        (.openAIChat, [.anthropicMessages, .bedrockConverse, .openAIChat], FuzzCorpus.openAIRequests),
        (.anthropicMessages, [.bedrockConverse, .openAIChat, .anthropicMessages], FuzzCorpus.anthropicRequests),
        (.bedrockConverse, [.bedrockConverse, .openAIChat], FuzzCorpus.converseRequests),
    ]

    static let models = ["upstream-model", "", "a\"b\\c", "line\nbreak", "\u{0}", "🦙 é", String(repeating: "m", count: 3000)]

    func checkRequest(_ body: [UInt8], from source: WireSchema, to target: WireSchema, model: String, _ fuzzCase: FuzzCase) {
        do {
            let result = try RequestTranslator.translate(body, from: source, to: target, upstreamModel: model)
            if source == target && target == .bedrockConverse {
                fuzzCase.check(result.body == body, "a Converse body must pass through unchanged")
            } else {
                fuzzCase.check(Fuzz.isJSONObject(result.body), "\(source) → \(target) wrote a body that is not a JSON object: \(String(decoding: result.body.prefix(300), as: UTF8.self))")
            }
        } catch {
            let expected: Set<SidecarError.Code> = [.invalidJSON, .invalidRequest, .untranslatable]
            fuzzCase.check(error.status == 400 && expected.contains(error.code), "\(source) → \(target) failed with \(error.code) (\(error.status)): \(error.message)")
        }
    }

    @Test func requestTranslationNeverCrashes() async {
        await Fuzz.run("request", seed: 0x5EED_0001, count: 1000) { fuzzCase in
            let (source, targets, corpus) = fuzzCase.rng.pick(Self.requestPairs)
            let body = FuzzCorpus.json.mutate(Array(fuzzCase.rng.pick(corpus).utf8), using: &fuzzCase.rng)
            let model = fuzzCase.rng.chance(80) ? "upstream-model" : fuzzCase.rng.pick(Self.models)
            for target in targets {
                checkRequest(body, from: source, to: target, model: model, fuzzCase)
            }
        }
    }

    @Test func everyTruncationOfShortRequestsFailsCleanly() async {
        let cases = Self.requestPairs.flatMap { source, targets, corpus in
            corpus.filter { $0.utf8.count < 700 }.map { (source, targets, Array($0.utf8)) }
        }
        await Fuzz.each(cases.enumerated()) { number, testCase in
            let (source, targets, bytes) = testCase
            for length in 0..<bytes.count {
                let fuzzCase = FuzzCase(seed: 0x7E0C, index: number * 10_000 + length)
                for target in targets {
                    do throws(SidecarError) {
                        _ = try RequestTranslator.translate(Array(bytes[0..<length]), from: source, to: target, upstreamModel: "m")
                        fuzzCase.check(false, "a \(length)-byte prefix was translated")
                    } catch {
                        fuzzCase.check(error.code == .invalidJSON, "a \(length)-byte prefix failed with \(error.code)")
                    }
                }
            }
        }
    }

    static let responsePairs: [(WireSchema, [WireSchema], [String])] = [
        (.anthropicMessages, [.openAIChat, .anthropicMessages], FuzzCorpus.anthropicResponses),
        (.bedrockConverse, [.openAIChat, .anthropicMessages, .bedrockConverse], FuzzCorpus.converseResponses),
        (.openAIChat, [.anthropicMessages, .openAIChat], FuzzCorpus.openAIResponses),
    ]

    func checkResponse(_ body: [UInt8], from source: WireSchema, to target: WireSchema, _ fuzzCase: FuzzCase) {
        do {
            let result = try ResponseTranslator.translate(body, from: source, to: target, requestModel: "my-model", id: "resp-1", created: 1_700_000_000)
            if source == target {
                fuzzCase.check(result.body == body, "same-schema answers pass through")
            } else {
                fuzzCase.check(Fuzz.isJSONObject(result.body), "\(source) → \(target) wrote an answer that is not a JSON object")
            }
            fuzzCase.check(Fuzz.isBounded(result.usage), "usage out of range: \(String(describing: result.usage))")
        } catch {
            fuzzCase.check(error.status == 502 && error.code == .upstreamProtocolError, "\(source) → \(target) failed with \(error.code): \(error.message)")
        }
    }

    @Test func responseTranslationNeverCrashes() async {
        await Fuzz.run("response", seed: 0x5EED_0002, count: 1000) { fuzzCase in
            let (source, targets, corpus) = fuzzCase.rng.pick(Self.responsePairs)
            let body = FuzzCorpus.json.mutate(Array(fuzzCase.rng.pick(corpus).utf8), using: &fuzzCase.rng)
            for target in targets {
                checkResponse(body, from: source, to: target, fuzzCase)
            }
        }
    }

    static let statuses = [Int.min, -1, 0, 200, 400, 401, 403, 404, 408, 413, 422, 429, 500, 503, 504, 529, 599, 1000, Int.max]
    static let errorTypes = [
        "ThrottlingException:http://internal.amazon.com/coral/", "ValidationException", ":", "", "#", "a#b#", "::x", "é:🦙",
        String(repeating: "x", count: 5000),
    ]

    @Test func errorTranslationNeverCrashes() async {
        let schemas: [WireSchema] = [.openAIChat, .anthropicMessages, .bedrockConverse]
        await Fuzz.run("error", seed: 0x5EED_0003, count: 1000) { fuzzCase in
            let (source, text) = fuzzCase.rng.pick(FuzzCorpus.errors)
            let body = fuzzCase.rng.chance(85) ? FuzzCorpus.json.mutate(Array(text.utf8), using: &fuzzCase.rng) : Array(text.utf8)
            let status = fuzzCase.rng.pick(Self.statuses)
            var headers: [(String, String)] = []
            if fuzzCase.rng.chance(50) { headers.append((fuzzCase.rng.pick(["x-amzn-errortype", "X-Amzn-ErrorType", "x-amzn-errortyp"]), fuzzCase.rng.pick(Self.errorTypes))) }
            for target in schemas {
                let output = ResponseTranslator.translateError(status: status, headers: headers, body: body, from: source, to: target)
                if source == target {
                    fuzzCase.check(output == body, "same-schema errors pass through")
                } else {
                    fuzzCase.check(Fuzz.isJSONObject(output), "\(source) → \(target) error is not a JSON object")
                }
            }
        }
    }

    // MARK: SSE streams

    /// Damages an SSE stream event by event (JSON edits, dropped, repeated and swapped events, renamed events), then
    /// sometimes as bytes.
    static func mutateSSE(_ text: String, using rng: inout SplitMix64) -> [UInt8] {
        var decoder = SSEDecoder()
        var events: [(name: String?, data: [UInt8])] = decoder.feed(Array(text.utf8)).compactMap {
            guard case .event(let event) = $0 else { return nil }
            return (event.name, event.data)
        }
        let names = ["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop", "error", "ping", "x"]
        for _ in 0..<rng.int(1..<5) where !events.isEmpty {
            let index = rng.int(0..<events.count)
            switch rng.int(0..<10) {
            case 0..<5: events[index].data = FuzzCorpus.json.mutate(events[index].data, using: &rng)
            case 5: events.remove(at: index)
            case 6: events.insert(events[index], at: rng.int(0..<(events.count + 1)))
            case 7: events.swapAt(index, rng.int(0..<events.count))
            case 8: events[index].name = rng.chance(80) ? rng.pick(names) : nil
            default: events[index].data = rng.pick([Array("[DONE]".utf8), [], Array("{}".utf8), Array("null".utf8)])
            }
        }
        var bytes: [UInt8] = []
        for event in events {
            if let name = event.name { bytes += Array("event: \(name)\n".utf8) }
            bytes += Array("data: ".utf8) + event.data + [0x0A, 0x0A]
        }
        if rng.chance(15) { bytes = JSONFuzzing.mutateBytes(bytes, using: &rng) }
        return bytes
    }

    /// The events a caller-side stream holds, and whether anything follows its error event.
    static func checkCallerStream(_ output: [UInt8], dialect target: WireSchema, _ fuzzCase: FuzzCase) {
        var decoder = SSEDecoder()
        var sawError = false
        var sawTerminal = false
        for item in decoder.feed(output) {
            guard case .event(let event) = item else {
                fuzzCase.check(false, "unparsed caller bytes")
                continue
            }
            fuzzCase.check(!sawError && !sawTerminal, "an event after the stream's error or end")
            if target == .openAIChat {
                fuzzCase.check(event.name == nil, "named event in an OpenAI stream")
                if event.data.elementsEqual("[DONE]".utf8) {
                    sawTerminal = true
                    continue
                }
            } else {
                fuzzCase.check(event.name != nil, "unnamed event in an Anthropic stream")
                if event.name == "message_stop" { sawTerminal = true }
            }
            guard let data = try? JSONTree(parsing: event.data), data.objectValue != nil else {
                fuzzCase.check(false, "caller event data is not a JSON object: \(String(decoding: event.data.prefix(200), as: UTF8.self))")
                continue
            }
            if data["error"]?.objectValue != nil { sawError = true }
        }
        fuzzCase.check(decoder.finish().isEmpty, "the caller stream ends inside an event")
    }

    static let ssePairs: [(WireSchema, WireSchema, [String])] = [
        (.anthropicMessages, .openAIChat, FuzzCorpus.anthropicStreams),
        (.anthropicMessages, .anthropicMessages, FuzzCorpus.anthropicStreams),
        (.anthropicMessages, .bedrockConverse, FuzzCorpus.anthropicStreams),
        (.openAIChat, .anthropicMessages, FuzzCorpus.openAIStreams),
        (.openAIChat, .openAIChat, FuzzCorpus.openAIStreams),
    ]

    @Test func sseStreamTranslationNeverCrashes() async {
        await Fuzz.run("sse", seed: 0x5EED_0004, count: 800) { fuzzCase in
            let (source, target, corpus) = fuzzCase.rng.pick(Self.ssePairs)
            let bytes = Self.mutateSSE(fuzzCase.rng.pick(corpus), using: &fuzzCase.rng)
            var translator = StreamTranslator(from: source, to: target, requestModel: "my-model", includeUsage: fuzzCase.rng.chance(50), id: "chatcmpl-1", created: 1)
            var decoder = SSEDecoder()
            var output: [UInt8] = []
            var raw: [UInt8] = []
            for chunk in Fuzz.chunks(bytes, using: &fuzzCase.rng) {
                for item in decoder.feed(chunk) {
                    guard case .event(let event) = item else { continue }
                    raw += event.raw
                    output += translator.feed(event)
                }
            }
            output += translator.finish()
            fuzzCase.check(translator.finish().isEmpty, "a second finish() wrote more")
            fuzzCase.check(Fuzz.isBounded(translator.usage), "usage out of range: \(String(describing: translator.usage))")
            if source == target {
                fuzzCase.check(output == raw, "same-schema events pass through unchanged")
            } else if target == .bedrockConverse {
                fuzzCase.check(output.isEmpty && translator.failure?.code == .untranslatable, "an unsupported pair writes nothing")
            } else {
                Self.checkCallerStream(output, dialect: target, fuzzCase)
            }
        }
    }

    // MARK: AWS event streams

    static let eventTypes = ["messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata", "chunk", "x", ""]
    static let messageTypes = ["event", "exception", "error", "", "EVENT"]

    static func randomHeaderValue(using rng: inout SplitMix64) -> AWSEventStreamHeaderValue {
        switch rng.int(0..<7) {
        case 0: return .bool(rng.chance(50))
        case 1:
            let random = Int64(truncatingIfNeeded: rng.next())
            return .int(rng.pick([0, -1, 1, Int64.max, Int64.min, Int64(Int32.max) + 1, random]))
        case 2: return .bytes((0..<rng.int(0..<20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        case 3: return .timestamp(Int64(bitPattern: rng.next()))
        case 4: return .uuid((0..<16).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        case 5: return .string(String(decoding: (0..<rng.int(0..<20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, as: UTF8.self))
        default: return .string(rng.pick(eventTypes + messageTypes + ["throttlingException", "application/json"]))
        }
    }

    /// Damages a ConverseStream frame by frame (payload JSON, headers, order), re-frames it with valid checksums,
    /// then sometimes damages the framed bytes too.
    static func mutateEventStream(_ frames: [(headers: [(String, AWSEventStreamHeaderValue)], payload: [UInt8])], using rng: inout SplitMix64) -> [UInt8] {
        var frames = frames
        for _ in 0..<rng.int(1..<5) where !frames.isEmpty {
            let index = rng.int(0..<frames.count)
            switch rng.int(0..<12) {
            case 0..<5:
                frames[index].payload = FuzzCorpus.json.mutate(frames[index].payload, using: &rng)
            case 5:
                frames.remove(at: index)
            case 6:
                frames.insert(frames[index], at: rng.int(0..<(frames.count + 1)))
            case 7:
                frames.swapAt(index, rng.int(0..<frames.count))
            case 8:
                let name = rng.pick([":event-type", ":message-type", ":exception-type", ":error-code", ":error-message", ":content-type"])
                frames[index].headers.removeAll { $0.0 == name }
                let value: AWSEventStreamHeaderValue = rng.chance(70) ? .string(rng.pick(name == ":message-type" ? messageTypes : eventTypes)) : randomHeaderValue(using: &rng)
                frames[index].headers.append((name, value))
            case 9:
                frames[index].headers.append((rng.pick(["x", "", ":x", String(repeating: "h", count: 300)]), randomHeaderValue(using: &rng)))
            case 10:
                frames[index].headers.removeAll()
            default:
                frames[index].payload = rng.pick([[], Array("{}".utf8), Array("[]".utf8), Array(#"{"contentBlockIndex":4611686018427387904,"delta":{"text":"x"}}"#.utf8)])
            }
        }
        var bytes = frames.flatMap { AWSEventStreamEncoder.encode(headers: $0.headers, payload: $0.payload) }
        if rng.chance(10) { bytes = JSONFuzzing.mutateBytes(bytes, using: &rng) }
        return bytes
    }

    @Test func eventStreamTranslationNeverCrashes() async {
        let targets: [WireSchema] = [.openAIChat, .anthropicMessages, .bedrockConverse]
        await Fuzz.run("event-stream", seed: 0x5EED_0005, count: 800) { fuzzCase in
            let bytes = Self.mutateEventStream(fuzzCase.rng.pick(FuzzCorpus.converseStreams), using: &fuzzCase.rng)
            let target = fuzzCase.rng.pick(targets)
            var translator = StreamTranslator(from: .bedrockConverse, to: target, requestModel: "m", includeUsage: fuzzCase.rng.chance(50), id: "id", created: 0)
            var accounting = BedrockStreamAccounting()
            var decoder = AWSEventStreamDecoder()
            var output: [UInt8] = []
            var raw: [UInt8] = []
            decoding: for chunk in Fuzz.chunks(bytes, using: &fuzzCase.rng) {
                do {
                    for message in try decoder.feed(chunk) {
                        raw += message.raw
                        output += translator.feed(message)
                        accounting.process(message)
                    }
                } catch {
                    break decoding
                }
                fuzzCase.check(decoder.pendingByteCount <= bytes.count, "the decoder holds more than it was given")
            }
            output += translator.finish()
            fuzzCase.check(translator.finish().isEmpty, "a second finish() wrote more")
            fuzzCase.check(Fuzz.isBounded(translator.usage), "usage out of range: \(String(describing: translator.usage))")
            fuzzCase.check(Fuzz.isBounded(accounting.usage), "accounting usage out of range: \(String(describing: accounting.usage))")
            if target == .bedrockConverse {
                fuzzCase.check(output == raw, "same-schema messages pass through unchanged")
            } else {
                Self.checkCallerStream(output, dialect: target, fuzzCase)
            }
            // Each reader ignores the other framing.
            fuzzCase.check(translator.feed(SSEEvent(raw: [1], name: "message_stop", data: [])).isEmpty, "an SSE event fed to a Converse reader")
        }
    }

    @Test func eventStreamDecoderRoundTripsRandomFramesInRandomChunks() async {
        await Fuzz.run("decoder-roundtrip", seed: 0x5EED_0006, count: 500) { fuzzCase in
            var expected: [[String: AWSEventStreamHeaderValue]] = []
            var bytes: [UInt8] = []
            for _ in 0..<fuzzCase.rng.int(1..<5) {
                var headers: [(String, AWSEventStreamHeaderValue)] = []
                var names: Set<String> = []
                for _ in 0..<fuzzCase.rng.int(0..<6) {
                    let name = String(fuzzCase.rng.int(0..<1000))
                    guard names.insert(name).inserted else { continue }
                    headers.append((name, Self.randomHeaderValue(using: &fuzzCase.rng)))
                }
                let payload = (0..<fuzzCase.rng.pick([0, 1, 100, 700])).map { _ in UInt8(truncatingIfNeeded: fuzzCase.rng.next()) }
                bytes += AWSEventStreamEncoder.encode(headers: headers, payload: payload)
                expected.append(Dictionary(headers.map { name, value -> (String, AWSEventStreamHeaderValue) in
                    // Strings are read back as decoded UTF-8.
                    if case .string(let text) = value { return (name, .string(String(decoding: Array(text.utf8), as: UTF8.self))) }
                    return (name, value)
                }, uniquingKeysWith: { first, _ in first }))
            }
            var decoder = AWSEventStreamDecoder()
            var messages: [AWSEventStreamMessage] = []
            do {
                for chunk in Fuzz.chunks(bytes, using: &fuzzCase.rng) { messages += try decoder.feed(chunk) }
            } catch {
                fuzzCase.check(false, "valid frames refused: \(error)")
            }
            fuzzCase.check(messages.map(\.raw).reduce([], +) == bytes, "frames do not round-trip")
            fuzzCase.check(messages.map(\.headers) == expected, "headers do not round-trip")
            fuzzCase.check(decoder.pendingByteCount == 0, "bytes left over")
        }
    }

    @Test func eventStreamDecoderSurvivesDamage() async {
        await Fuzz.run("decoder-damage", seed: 0x5EED_0007, count: 1500) { fuzzCase in
            var bytes: [UInt8]
            switch fuzzCase.rng.int(0..<3) {
            case 0:
                // Damaged framed bytes: caught by a checksum or a length check, or (rarely) still a frame.
                bytes = AWSEventStreamEncoderTests.stream + TranslationStreamTests.converseStream.prefix(300)
                for _ in 0..<fuzzCase.rng.int(1..<4) { bytes = JSONFuzzing.mutateBytes(bytes, using: &fuzzCase.rng) }
            case 1:
                // A random header block inside valid checksums, so that header parsing itself is exercised.
                var headers = (0..<fuzzCase.rng.int(0..<40)).map { _ in UInt8(truncatingIfNeeded: fuzzCase.rng.next()) }
                if fuzzCase.rng.chance(50), !headers.isEmpty { headers[0] = UInt8(fuzzCase.rng.int(0..<8)) }
                if fuzzCase.rng.chance(50), headers.count > 2 { headers[Int(min(headers[0], UInt8(headers.count - 1)))] = UInt8(fuzzCase.rng.int(0..<12)) }
                bytes = Self.frame(prelude: (UInt32(12 + headers.count + 4), UInt32(headers.count)), body: headers)
            default:
                // Arbitrary lengths in a prelude with a valid checksum.
                let random = (UInt32(truncatingIfNeeded: fuzzCase.rng.next()), UInt32(truncatingIfNeeded: fuzzCase.rng.next()))
                let totals: [UInt32] = [0, 1, 11, 12, 15, 16, 17, 100, 0x7FFF_FFFF, 0xFFFF_FFFF, 16 + 128 * 1024, 16 + 24 * 1024 * 1024, random.0]
                let headerLengths: [UInt32] = [0, 1, 4, 100, 128 * 1024, 128 * 1024 + 1, 0xFFFF_FFFF, random.1]
                let total = fuzzCase.rng.pick(totals)
                let headers = fuzzCase.rng.pick(headerLengths)
                bytes = Self.frame(prelude: (total, headers), body: (0..<fuzzCase.rng.int(0..<64)).map { _ in UInt8(truncatingIfNeeded: fuzzCase.rng.next()) })
            }
            var decoder = AWSEventStreamDecoder()
            do throws(AWSEventStreamError) {
                for chunk in Fuzz.chunks(bytes, using: &fuzzCase.rng) {
                    for message in try decoder.feed(chunk) {
                        // Whatever is accepted is a complete frame that decodes the same again.
                        var again = AWSEventStreamDecoder()
                        let replay = try? again.feed(message.raw)
                        fuzzCase.check(replay == [message], "an accepted frame does not decode the same again")
                    }
                    fuzzCase.check(decoder.pendingByteCount <= bytes.count, "the decoder holds more than it was given")
                }
            } catch {
                fuzzCase.check(!error.reason.isEmpty, "an error without a reason")
            }
        }
    }

    /// A frame with a valid prelude checksum and a valid message checksum around `body`.
    static func frame(prelude lengths: (UInt32, UInt32), body: [UInt8]) -> [UInt8] {
        func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        var bytes = bigEndian(lengths.0) + bigEndian(lengths.1)
        bytes += bigEndian(AWSEventStreamDecoder.crc32(bytes[...]))
        bytes += body
        return bytes + bigEndian(AWSEventStreamDecoder.crc32(bytes[...]))
    }

    // MARK: Bedrock usage

    static let tokenHeaderValues = [
        "12", " 7 ", "0", "-1", "+5", "", " ", "1e3", "1.5", "٣", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "4611686018427387904", "2147483647", "0x10", "12abc", "\t3\t",
    ]

    @Test func bedrockUsageNeverCrashes() async {
        let nativeBodies = JSONFuzzing(corpus: FuzzCorpus.invokeChunks)
        let headerNames = ["x-amzn-bedrock-input-token-count", "X-Amzn-Bedrock-Output-Token-Count", "x-amzn-bedrock-cache-read-input-token-count", "x-amzn-bedrock-cache-write-input-token-count"]
        await Fuzz.run("bedrock-usage", seed: 0x5EED_0008, count: 1200) { fuzzCase in
            let converse = FuzzCorpus.json.mutate(Array(fuzzCase.rng.pick(FuzzCorpus.converseUsageBodies).utf8), using: &fuzzCase.rng)
            fuzzCase.check(Fuzz.isBounded(BedrockUsage.usage(inConverseResponse: converse)), "Converse usage out of range")
            var headers: [(String, String)] = []
            for name in headerNames where fuzzCase.rng.chance(80) {
                headers.append((name, fuzzCase.rng.chance(50) ? String(fuzzCase.rng.int(0..<100_000)) : fuzzCase.rng.pick(Self.tokenHeaderValues)))
            }
            fuzzCase.check(Fuzz.isBounded(BedrockUsage.usage(inInvokeHeaders: headers)), "invoke header usage out of range: \(headers)")
            let native = nativeBodies.mutate(Array(fuzzCase.rng.pick(FuzzCorpus.invokeChunks).utf8), using: &fuzzCase.rng)
            _ = BedrockUsage.usage(inInvokeResponse: native, headers: fuzzCase.rng.chance(30) ? headers : [])

            var accounting = BedrockStreamAccounting()
            for _ in 0..<fuzzCase.rng.int(1..<6) {
                let inner = nativeBodies.mutate(Array(fuzzCase.rng.pick(FuzzCorpus.invokeChunks).utf8), using: &fuzzCase.rng)
                var payload = Array(#"{"bytes":"\#(Base64Text.encode(inner))","p":"abc"}"#.utf8)
                if fuzzCase.rng.chance(20) { payload = FuzzCorpus.json.mutate(payload, using: &fuzzCase.rng) }
                var messageHeaders: [String: AWSEventStreamHeaderValue] = [":message-type": .string("event"), ":event-type": .string("chunk")]
                if fuzzCase.rng.chance(15) { messageHeaders[":event-type"] = .string(fuzzCase.rng.pick(Self.eventTypes)) }
                if fuzzCase.rng.chance(5) { messageHeaders[":message-type"] = Self.randomHeaderValue(using: &fuzzCase.rng) }
                let event = fuzzCase.rng.chance(80) ? payload : FuzzCorpus.json.mutate(Array(fuzzCase.rng.pick(FuzzCorpus.converseUsageBodies).utf8), using: &fuzzCase.rng)
                accounting.process(AWSEventStreamMessage(raw: [], headers: messageHeaders, payload: event))
            }
        }
    }

    @Test func base64DecodingNeverCrashes() async {
        await Fuzz.run("base64", seed: 0x5EED_0009, count: 2000) { fuzzCase in
            let bytes = (0..<fuzzCase.rng.int(0..<40)).map { _ in UInt8(truncatingIfNeeded: fuzzCase.rng.next()) }
            var text = Array(Base64Text.encode(bytes).utf8)
            if fuzzCase.rng.chance(70) { text = JSONFuzzing.mutateBytes(text, using: &fuzzCase.rng) }
            // Non-zero padding bits are accepted (RFC 4648 §3.5 allows it), so only decode ∘ encode is the identity.
            guard let decoded = Base64Text.decode(String(decoding: text, as: UTF8.self)) else { return }
            fuzzCase.check(decoded.count == text.count / 4 * 3 - text.suffix(2).filter { $0 == UInt8(ascii: "=") }.count, "decoded length")
            fuzzCase.check(Base64Text.decode(Base64Text.encode(decoded)) == decoded, "decode is not the inverse of encode")
        }
    }

    // MARK: Parsing

    @Test func jsonTreeRoundTripsOrRefuses() async {
        let corpus = FuzzCorpus.openAIRequests + FuzzCorpus.anthropicRequests + FuzzCorpus.converseResponses + FuzzCorpus.invokeChunks
        await Fuzz.run("json-tree", seed: 0x5EED_000A, count: 1500) { fuzzCase in
            let bytes = FuzzCorpus.json.mutate(Array(fuzzCase.rng.pick(corpus).utf8), using: &fuzzCase.rng)
            do throws(SidecarError) {
                let tree = try JSONTree(parsing: bytes)
                let serialized = tree.serialized
                guard let again = try? JSONTree(parsing: serialized) else {
                    fuzzCase.check(false, "the serialisation of a parsed tree does not parse")
                    return
                }
                fuzzCase.check(Self.hasNonFiniteNumber(tree) || again == tree, "the tree does not round-trip")
            } catch {
                fuzzCase.check(error.code == .invalidJSON, "parsing failed with \(error.code)")
            }
        }
    }

    static func hasNonFiniteNumber(_ tree: JSONTree) -> Bool {
        switch tree {
        case .double(let value): return !value.isFinite
        case .array(let elements): return elements.contains(where: hasNonFiniteNumber)
        case .object(let object): return object.members.contains { hasNonFiniteNumber($0.value) }
        default: return false
        }
    }

    @Test func inspectedRequestNeverCrashes() async {
        let corpus = FuzzCorpus.openAIRequests + FuzzCorpus.anthropicRequests + FuzzCorpus.converseRequests + [
            #"{"model":"gpt","messages":[],"stream":true,"stream_options":{"include_usage":false}}"#,
            #"{"model":"gpt","messages":[],"stream":true,"stream_options":{}}"#,
            #"{"anthropic_version":"bedrock-2023-05-31","max_tokens":10,"messages":[]}"#,
        ]
        await Fuzz.run("inspect", seed: 0x5EED_000B, count: 1500) { fuzzCase in
            let bytes = FuzzCorpus.json.mutate(Array(fuzzCase.rng.pick(corpus).utf8), using: &fuzzCase.rng)
            let kind = fuzzCase.rng.pick(APIKind.allCases)
            let oddModels: [String?] = [nil, "", "a\"b"]
            let pathModel = fuzzCase.rng.chance(80) ? "m" : fuzzCase.rng.pick(oddModels)
            do throws(SidecarError) {
                let inspected = try InspectedRequest(body: bytes, kind: kind, pathModel: pathModel)
                let upstream = inspected.upstreamBody(model: fuzzCase.rng.pick(Self.models), forceIncludeUsage: fuzzCase.rng.chance(50))
                fuzzCase.check(Fuzz.isJSONObject(upstream), "the upstream body is not a JSON object")
            } catch {
                fuzzCase.check(error.status == 400 && [.invalidJSON, .invalidRequest].contains(error.code), "inspection failed with \(error.code)")
            }
        }
    }

    @Test func bedrockPathsNeverCrash() async {
        let pieces = ["%", "%2", "%2F", "%3A", "%FF", "%C3%A9", "%ED%A0%80", "/", "//", "?", "é", "🦙", "\u{0}", ":", "converse", "a"]
        await Fuzz.run("bedrock-path", seed: 0x5EED_000C, count: 3000) { fuzzCase in
            var path = fuzzCase.rng.pick(FuzzCorpus.bedrockPaths)
            for _ in 0..<fuzzCase.rng.int(1..<4) {
                var bytes = Array(path.utf8)
                if fuzzCase.rng.chance(50) {
                    bytes = JSONFuzzing.mutateBytes(bytes, using: &fuzzCase.rng)
                } else {
                    let piece = fuzzCase.rng.chance(5) ? String(repeating: "a", count: fuzzCase.rng.pick([2040, 2048, 2049, 6200])) : fuzzCase.rng.pick(pieces)
                    bytes.insert(contentsOf: Array(piece.utf8), at: fuzzCase.rng.int(0..<(bytes.count + 1)))
                }
                path = String(decoding: bytes, as: UTF8.self)
            }
            let parsed = BedrockPath(path: path)
            if let parsed {
                fuzzCase.check(!parsed.modelID.isEmpty && parsed.modelID.utf8.count <= BedrockPath.maximumModelIDLength, "model id out of bounds")
                fuzzCase.check(parsed.kind.isBedrock && path.hasSuffix(parsed.kind.upstreamPath.dropFirst()), "kind does not match the path")
            }
            fuzzCase.check(BedrockPath(path: path[...]) == parsed, "a Substring parses differently")
            _ = APIKind.classify(method: fuzzCase.rng.pick(["POST", "GET", "", "post"]), path: path)
        }
    }

    // MARK: Regressions

    /// External token counts near `Int.max` (or negative) used to overflow when the translators added them up.
    @Test func hugeTokenCountsNeitherTrapNorGoNegative() throws {
        let huge = "9223372036854775807"
        let anthropic = #"{"content":[],"usage":{"input_tokens":\#(huge),"cache_creation_input_tokens":\#(huge),"cache_read_input_tokens":\#(huge),"output_tokens":\#(huge)}}"#
        let fromAnthropic = try ResponseTranslator.translate(Array(anthropic.utf8), from: .anthropicMessages, to: .openAIChat, requestModel: "m", id: "i", created: 0)
        #expect(fromAnthropic.usage == TokenUsage(input: 3 * Int(Int32.max), output: Int(Int32.max), cachedInput: Int(Int32.max)))
        #expect(Fuzz.isJSONObject(fromAnthropic.body))
        let sameSchema = try ResponseTranslator.translate(Array(anthropic.utf8), from: .anthropicMessages, to: .anthropicMessages, requestModel: "m", id: "i", created: 0)
        #expect(sameSchema.usage == fromAnthropic.usage)
        let openAI = #"{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":-9223372036854775808,"completion_tokens":-5,"prompt_tokens_details":{"cached_tokens":\#(huge)}}}"#
        let fromOpenAI = try ResponseTranslator.translate(Array(openAI.utf8), from: .openAIChat, to: .anthropicMessages, requestModel: "m", id: "i", created: 0)
        #expect(fromOpenAI.usage == TokenUsage(input: Int(Int32.max), output: 0, cachedInput: Int(Int32.max)))
        let converse = #"{"output":{"message":{"content":[]}},"usage":{"inputTokens":\#(huge),"outputTokens":\#(huge),"cacheReadInputTokens":\#(huge),"cacheWriteInputTokens":\#(huge)}}"#
        #expect(try ResponseTranslator.translate(Array(converse.utf8), from: .bedrockConverse, to: .anthropicMessages, requestModel: "m", id: "i", created: 0).usage?.input == 3 * Int(Int32.max))

        let stream = FuzzCorpus.sse([
            ("message_start", #"{"type":"message_start","message":{"usage":{"input_tokens":\#(huge),"cache_read_input_tokens":\#(huge),"output_tokens":1}}}"#),
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":\#(huge),"cache_creation_input_tokens":\#(huge),"output_tokens":\#(huge)}}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ])
        var translator = TranslationStreamTests.translator(.anthropicMessages, .openAIChat)
        let chunks = OpenAIStreamAccumulator(StreamFeeding.sse(stream, into: &translator))
        // message_delta's input counts replace message_start's (cache reads 0, writes huge).
        #expect(chunks.usage?["total_tokens"] == .int(3 * Int(Int32.max)))
        #expect(translator.usage == TokenUsage(input: 2 * Int(Int32.max), output: Int(Int32.max), cachedInput: 0))

        let metadata = AWSEventStreamEncoder.event(type: "messageStop", payload: Array(#"{"stopReason":"end_turn"}"#.utf8))
            + AWSEventStreamEncoder.event(type: "metadata", payload: Array(#"{"usage":{"inputTokens":\#(huge),"outputTokens":\#(huge),"cacheReadInputTokens":\#(huge),"cacheWriteInputTokens":\#(huge)}}"#.utf8))
        var converseTranslator = TranslationStreamTests.translator(.bedrockConverse, .anthropicMessages)
        let events = AnthropicStreamAccumulator(try StreamFeeding.eventStream(metadata, into: &converseTranslator))
        #expect(events.usage?["input_tokens"] == .int(Int(Int32.max)) && events.problems.isEmpty)

        #expect(BedrockUsage.usage(inConverseResponse: Array(converse.utf8)) == TokenUsage(input: 3 * Int(Int32.max), output: Int(Int32.max), cachedInput: Int(Int32.max)))
        let headers = [("x-amzn-bedrock-input-token-count", huge), ("x-amzn-bedrock-output-token-count", "-3"), ("x-amzn-bedrock-cache-read-input-token-count", huge), ("x-amzn-bedrock-cache-write-input-token-count", huge)]
        #expect(BedrockUsage.usage(inInvokeHeaders: headers) == TokenUsage(input: 3 * Int(Int32.max), output: 0, cachedInput: Int(Int32.max)))
        var accounting = BedrockStreamAccounting()
        accounting.process(BedrockUsageTests.chunk(#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":\#(huge),"outputTokenCount":\#(huge),"cacheReadInputTokenCount":\#(huge),"cacheWriteInputTokenCount":\#(huge)}}"#))
        #expect(accounting.usage == TokenUsage(input: 3 * Int(Int32.max), output: Int(Int32.max), cachedInput: Int(Int32.max)))
        accounting.process(BedrockUsageTests.event("metadata", #"{"usage":{"inputTokens":\#(huge),"cacheReadInputTokens":\#(huge),"cacheWriteInputTokens":-1}}"#))
        #expect(accounting.usage == TokenUsage(input: 2 * Int(Int32.max), output: 0, cachedInput: Int(Int32.max)))
    }

    /// Stream block numbers are the upstream's: 2^62, negative or repeated numbers are map keys, never array sizes.
    @Test func hugeAndNegativeStreamIndexesAreOnlyKeys() throws {
        let openAI = [
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":4611686018427387904,"id":"a","type":"function","function":{"name":"f","arguments":"{"}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":4611686018427387904,"function":{"arguments":"}"}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":-9223372036854775808,"id":"b","type":"function","function":{"name":"g","arguments":""}}]},"finish_reason":"tool_calls"}]}"#,
            "[DONE]",
        ].map { "data: \($0)\n\n" }.joined()
        var toAnthropic = TranslationStreamTests.translator(.openAIChat, .anthropicMessages)
        let events = AnthropicStreamAccumulator(StreamFeeding.sse(openAI, into: &toAnthropic))
        #expect(events.problems.isEmpty, "\(events.problems)")
        #expect(events.blocks.map(\.type) == ["tool_use", "tool_use"] && events.stopped)
        #expect(events.input(0) == [:] && events.blocks[1].json.isEmpty)

        let anthropic = FuzzCorpus.sse([
            ("message_start", #"{"type":"message_start","message":{"usage":{"input_tokens":1,"output_tokens":1}}}"#),
            ("content_block_start", #"{"type":"content_block_start","index":4611686018427387904,"content_block":{"type":"tool_use","id":"t","name":"f"}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":4611686018427387904,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":-1,"delta":{"type":"text_delta","text":"x"}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":9223372036854775807}"#),
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":2}}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ])
        var toOpenAI = TranslationStreamTests.translator(.anthropicMessages, .openAIChat)
        let chunks = OpenAIStreamAccumulator(StreamFeeding.sse(anthropic, into: &toOpenAI))
        #expect(chunks.problems.isEmpty, "\(chunks.problems)")
        #expect(chunks.toolCalls[0]?.id == "t" && chunks.content == "x" && chunks.done)

        func event(_ type: String, _ json: String) -> [UInt8] { AWSEventStreamEncoder.event(type: type, payload: Array(json.utf8)) }
        let converse = event("contentBlockStart", #"{"contentBlockIndex":4611686018427387904,"start":{"toolUse":{"toolUseId":"u","name":"f"}}}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":4611686018427387904,"delta":{"toolUse":{"input":"{}"}}}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":-4611686018427387904,"delta":{"text":"y"}}"#)
            + event("contentBlockDelta", #"{"contentBlockIndex":1e300,"delta":{"text":"z"}}"#)
            + event("messageStop", #"{"stopReason":"tool_use"}"#)
            + event("metadata", #"{"usage":{"inputTokens":1,"outputTokens":1}}"#)
        var fromConverse = TranslationStreamTests.translator(.bedrockConverse, .anthropicMessages)
        let converseEvents = AnthropicStreamAccumulator(try StreamFeeding.eventStream(converse, into: &fromConverse))
        #expect(converseEvents.problems.isEmpty, "\(converseEvents.problems)")
        // 1e300 is no integer, so it reads as block 0: a third block.
        #expect(converseEvents.blocks.map(\.type) == ["tool_use", "text", "text"] && converseEvents.stopped)
    }

    /// `UsageReader.usage(in:node:)` adds Anthropic's three input counts; they are clamped so the sum cannot trap.
    @Test func usageReaderClampsHugeCounts() {
        let body = Array(#"{"type":"message","usage":{"input_tokens":9223372036854775807,"cache_read_input_tokens":1,"output_tokens":1}}"#.utf8)
        #expect(BedrockUsage.usage(inInvokeResponse: body, headers: []) != nil)
        let openAI = Array(#"{"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":-5}}"#.utf8)
        #expect(UsageReader.usage(inResponse: openAI, kind: .chatCompletions) == TokenUsage(input: Int(Int32.max), output: 0))
        #expect(TokenUsage(input: .max, output: 1).total == .max)
        var accounting = BedrockStreamAccounting()
        accounting.process(BedrockUsageTests.chunk(#"{"type":"message_start","message":{"usage":{"input_tokens":9223372036854775807,"cache_creation_input_tokens":9223372036854775807}}}"#))
        #expect(accounting.usage != nil)
    }
}
