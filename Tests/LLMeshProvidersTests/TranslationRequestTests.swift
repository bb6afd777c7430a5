import LLMeshFuzzSupport
import Testing
@testable import LLMeshProviders

/// Request translation for each pair, built from the public API documentation's shapes.
@Suite struct TranslationRequestTests {
    static let png = "iVBORw0KGgo="

    func translate(_ json: String, _ from: WireSchema, _ to: WireSchema, model: String = "upstream-model") throws -> (body: JSONTree, stream: Bool) {
        let result = try RequestTranslator.translate(Array(json.utf8), from: from, to: to, upstreamModel: model)
        return (try JSONTree(parsing: result.body), result.stream)
    }

    func error(_ json: String, _ from: WireSchema, _ to: WireSchema) -> SidecarError? {
        do {
            _ = try RequestTranslator.translate(Array(json.utf8), from: from, to: to, upstreamModel: "m")
            return nil
        } catch {
            return error
        }
    }

    static let openAIFull = #"""
    {"model":"gpt-4o","messages":[
      {"role":"system","content":"Be brief."},
      {"role":"developer","content":[{"type":"text","text":"Use tools."}]},
      {"role":"user","content":[{"type":"text","text":"What is in this image, and the weather?"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,\#(png)","detail":"low"}}]},
      {"role":"assistant","content":"Let me check.","tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
        {"id":"call_2","type":"function","function":{"name":"get_time","arguments":""}}]},
      {"role":"tool","tool_call_id":"call_1","content":"18C"},
      {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"noon"}]},
      {"role":"user","content":"Thanks","name":"bob"}],
     "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather by city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}},
              {"type":"function","function":{"name":"get_time"}}],
     "tool_choice":"required","max_completion_tokens":300,"temperature":0.2,"top_p":1,"stop":"END",
     "stream":true,"stream_options":{"include_usage":true},"user":"u-42","seed":7,"n":1,"logprobs":false}
    """#

    @Test func openAIToAnthropic() throws {
        let (body, stream) = try translate(Self.openAIFull, .openAIChat, .anthropicMessages)
        #expect(stream)
        #expect(body["model"] == "upstream-model")
        #expect(body["max_tokens"] == 300)
        #expect(body["system"] == [["type": "text", "text": "Be brief."], ["type": "text", "text": "Use tools."]])
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue } == ["user", "assistant", "user"])
        let first = try #require(messages[0]["content"]?.arrayValue)
        #expect(first[0] == ["type": "text", "text": "What is in this image, and the weather?"])
        #expect(first[1] == ["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": .string(Self.png)]])
        let assistant = try #require(messages[1]["content"]?.arrayValue)
        #expect(assistant[0] == ["type": "text", "text": "Let me check."])
        #expect(assistant[1] == ["type": "tool_use", "id": "call_1", "name": "get_weather", "input": ["city": "Paris"]])
        #expect(assistant[2]["input"] == [:])
        let results = try #require(messages[2]["content"]?.arrayValue)
        #expect(results[0] == ["type": "tool_result", "tool_use_id": "call_1", "content": [["type": "text", "text": "18C"]]])
        #expect(results[1]["tool_use_id"] == "call_2")
        #expect(results[2] == ["type": "text", "text": "Thanks"])
        let tools = try #require(body["tools"]?.arrayValue)
        #expect(tools[0]["name"] == "get_weather" && tools[0]["description"] == "Weather by city")
        #expect(tools[0]["input_schema"]?["required"] == ["city"])
        #expect(tools[0]["strict"] == nil)
        #expect(tools[1]["input_schema"] == ["type": "object", "properties": [:]])
        #expect(body["tool_choice"] == ["type": "any"])
        #expect(body["temperature"] == 0.2 && body["top_p"] == 1)
        #expect(body["stop_sequences"] == ["END"])
        #expect(body["stream"] == true)
        #expect(body["metadata"] == ["user_id": "u-42"])
        #expect(body["seed"] == nil && body["stream_options"] == nil && body["n"] == nil)
    }

    @Test func openAIToAnthropicDefaultsAndChoices() throws {
        let minimal = #"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#
        let (body, stream) = try translate(minimal, .openAIChat, .anthropicMessages)
        #expect(!stream)
        #expect(body["max_tokens"] == 4096)
        #expect(body["stream"] == nil && body["system"] == nil && body["tools"] == nil)
        #expect(body["messages"] == [["role": "user", "content": [["type": "text", "text": "hi"]]]])
        let tool = #"{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}"#
        let named = try translate(#"{"model":"g","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[\#(tool)],"tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false}"#, .openAIChat, .anthropicMessages).body
        #expect(named["tool_choice"] == ["type": "tool", "name": "f", "disable_parallel_tool_use": true])
        #expect(named["max_tokens"] == 5)
        let none = try translate(#"{"model":"g","messages":[{"role":"user","content":"x"}],"tools":[\#(tool)],"tool_choice":"none"}"#, .openAIChat, .anthropicMessages).body
        #expect(none["tool_choice"] == ["type": "none"])
        let url = try translate(#"{"model":"g","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}"#, .openAIChat, .anthropicMessages).body
        #expect(url["messages"]?.arrayValue?.first?["content"] == [["type": "image", "source": ["type": "url", "url": "https://example.com/a.png"]]])
    }

    @Test func openAIToConverse() throws {
        let (body, stream) = try translate(Self.openAIFull, .openAIChat, .bedrockConverse)
        #expect(stream)
        #expect(body["model"] == nil && body["stream"] == nil)
        #expect(body["system"] == [["text": "Be brief."], ["text": "Use tools."]])
        #expect(body["inferenceConfig"] == ["maxTokens": 300, "temperature": 0.2, "topP": 1, "stopSequences": ["END"]])
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue } == ["user", "assistant", "user"])
        #expect(messages[0]["content"]?.arrayValue?[1] == ["image": ["format": "png", "source": ["bytes": .string(Self.png)]]])
        let assistant = try #require(messages[1]["content"]?.arrayValue)
        #expect(assistant[0] == ["text": "Let me check."])
        #expect(assistant[1] == ["toolUse": ["toolUseId": "call_1", "name": "get_weather", "input": ["city": "Paris"]]])
        let results = try #require(messages[2]["content"]?.arrayValue)
        #expect(results[0] == ["toolResult": ["toolUseId": "call_1", "content": [["text": "18C"]]]])
        #expect(results[2] == ["text": "Thanks"])
        let config = try #require(body["toolConfig"])
        #expect(config["tools"]?.arrayValue?[0] == ["toolSpec": [
            "name": "get_weather", "description": "Weather by city",
            "inputSchema": ["json": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]],
        ]])
        #expect(config["toolChoice"] == ["any": [:]])
        #expect(body["metadata"] == nil && body["additionalModelRequestFields"] == nil)
    }

    @Test func openAIToConverseRefusalsAndToolChoiceNone() throws {
        let http = error(#"{"model":"g","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}"#, .openAIChat, .bedrockConverse)
        #expect(http?.status == 400 && http?.code == .untranslatable)
        #expect(http?.parameter == "messages[0].content")
        let tool = #"{"type":"function","function":{"name":"f"}}"#
        let none = try translate(#"{"model":"g","messages":[{"role":"user","content":"x"}],"tools":[\#(tool)],"tool_choice":"none"}"#, .openAIChat, .bedrockConverse).body
        #expect(none["toolConfig"] == nil)
        let history = #"[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"ok"}]"#
        #expect(error(#"{"model":"g","messages":\#(history),"tools":[\#(tool)],"tool_choice":"none"}"#, .openAIChat, .bedrockConverse)?.parameter == "tool_choice")
        #expect(error(#"{"model":"g","messages":\#(history),"tools":[\#(tool)],"parallel_tool_calls":false}"#, .openAIChat, .bedrockConverse)?.parameter == "parallel_tool_calls")
        let tiff = error(#"{"model":"g","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AAAA"}}]}]}"#, .openAIChat, .bedrockConverse)
        #expect(tiff?.code == .untranslatable)
    }

    static let anthropicFull = #"""
    {"model":"claude-sonnet-4","max_tokens":1024,"system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}}],
     "messages":[
      {"role":"user","content":[{"type":"text","text":"Read this"},
        {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/"}},
        {"type":"document","title":"Q3 report","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}]},
      {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"text","text":"Checking."},
        {"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"x"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"not found","is_error":true},{"type":"text","text":"Try again"}]}],
     "tools":[{"name":"lookup","description":"Look up","input_schema":{"type":"object","properties":{"q":{"type":"string"}}},"cache_control":{"type":"ephemeral"}}],
     "tool_choice":{"type":"any"},"temperature":0.5,"top_p":0.9,"top_k":40,"stop_sequences":["STOP"],"stream":true,
     "thinking":{"type":"enabled","budget_tokens":2000},"metadata":{"user_id":"u-1"},"service_tier":"auto"}
    """#

    @Test func anthropicToConverse() throws {
        let (body, stream) = try translate(Self.anthropicFull, .anthropicMessages, .bedrockConverse)
        #expect(stream)
        #expect(body["system"] == [["text": "You are terse."], ["cachePoint": ["type": "default"]]])
        #expect(body["inferenceConfig"] == ["maxTokens": 1024, "temperature": 0.5, "topP": 0.9, "stopSequences": ["STOP"]])
        #expect(body["additionalModelRequestFields"] == ["top_k": 40, "thinking": ["type": "enabled", "budget_tokens": 2000]])
        let messages = try #require(body["messages"]?.arrayValue)
        let first = try #require(messages[0]["content"]?.arrayValue)
        #expect(first[1] == ["image": ["format": "jpeg", "source": ["bytes": "/9j/"]]])
        #expect(first[2] == ["document": ["format": "pdf", "name": "Q3 report", "source": ["bytes": "JVBERi0="]]])
        let assistant = try #require(messages[1]["content"]?.arrayValue)
        #expect(assistant[0] == ["reasoningContent": ["reasoningText": ["text": "hmm", "signature": "sig"]]])
        #expect(assistant[2] == ["toolUse": ["toolUseId": "toolu_1", "name": "lookup", "input": ["q": "x"]]])
        let last = try #require(messages[2]["content"]?.arrayValue)
        #expect(last[0] == ["toolResult": ["toolUseId": "toolu_1", "content": [["text": "not found"]], "status": "error"]])
        #expect(body["toolConfig"]?["toolChoice"] == ["any": [:]])
        #expect(body["toolConfig"]?["tools"]?.arrayValue?.first?["toolSpec"]?["inputSchema"]?["json"]?["properties"] != nil)
        #expect(body["toolConfig"]?["tools"]?.arrayValue?.last == ["cachePoint": ["type": "default"]])
        #expect(body["metadata"] == nil && body["service_tier"] == nil)
    }

    @Test func anthropicToConverseRefusals() {
        let url = error(#"{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}"#, .anthropicMessages, .bedrockConverse)
        #expect(url?.code == .untranslatable && url?.parameter == "messages[0].content")
        let server = error(#"{"model":"c","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}"#, .anthropicMessages, .bedrockConverse)
        #expect(server?.parameter == "tools[0].type")
        let unknownBlock = error(#"{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"search_result","source":"s","title":"t","content":[]}]}]}"#, .anthropicMessages, .bedrockConverse)
        #expect(unknownBlock?.parameter == "messages[0].content[0].type")
        let unknownField = error(#"{"model":"c","max_tokens":5,"messages":[],"mcp_servers":[]}"#, .anthropicMessages, .bedrockConverse)
        #expect(unknownField?.parameter == "mcp_servers")
        let parallel = error(#"{"model":"c","max_tokens":5,"messages":[],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}"#, .anthropicMessages, .bedrockConverse)
        #expect(parallel?.parameter == "parallel_tool_calls")
    }

    static let anthropicWithCacheControl = #"""
    {"model":"claude","max_tokens":64,
     "system":[{"type":"text","text":"Rules."},{"type":"text","text":"A long manual.","cache_control":{"type":"ephemeral","ttl":"1h"}}],
     "tools":[{"name":"a","input_schema":{"type":"object"}},{"name":"b","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],
     "messages":[
      {"role":"user","content":[{"type":"text","text":"Document:","cache_control":{"type":"ephemeral","ttl":"5m"}},{"type":"text","text":"question"}]},
      {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"a","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"big","cache_control":{"type":"ephemeral"}}]}]}]}
    """#

    @Test func cacheControlBecomesConverseCachePoints() throws {
        let body = try translate(Self.anthropicWithCacheControl, .anthropicMessages, .bedrockConverse).body
        #expect(body["system"] == [["text": "Rules."], ["text": "A long manual."], ["cachePoint": ["type": "default", "ttl": "1h"]]])
        #expect(body["toolConfig"]?["tools"]?.arrayValue?.count == 3)
        #expect(body["toolConfig"]?["tools"]?.arrayValue?.last == ["cachePoint": ["type": "default"]])
        #expect(body["toolConfig"]?["tools"]?.arrayValue?[1]["toolSpec"]?["name"] == "b")
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages[0]["content"] == [["text": "Document:"], ["cachePoint": ["type": "default", "ttl": "5m"]], ["text": "question"]])
        // A checkpoint inside a tool result (Converse has none there) follows the result.
        let last = try #require(messages[2]["content"]?.arrayValue)
        #expect(last.count == 2 && last[0]["toolResult"] != nil && last[1] == ["cachePoint": ["type": "default"]])
    }

    @Test func cacheControlIsDroppedForOpenAIAndCheckedEverywhere() throws {
        let body = try translate(Self.anthropicWithCacheControl, .anthropicMessages, .openAIChat).body
        #expect(!body.text.contains("cache"))
        #expect(body["messages"]?.arrayValue?.first == ["role": "system", "content": "Rules.\nA long manual."])
        let badType = error(#"{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"x","cache_control":{"type":"persistent"}}]}]}"#, .anthropicMessages, .bedrockConverse)
        #expect(badType?.code == .untranslatable && badType?.parameter == "messages[0].content[0].cache_control.type")
        let badTTL = error(#"{"model":"c","max_tokens":5,"system":[{"type":"text","text":"x","cache_control":{"type":"ephemeral","ttl":"2d"}}],"messages":[]}"#, .anthropicMessages, .openAIChat)
        #expect(badTTL?.status == 400 && badTTL?.parameter == "system[0].cache_control.ttl")
        let notAnObject = error(#"{"model":"c","max_tokens":5,"tools":[{"name":"f","cache_control":"yes"}],"messages":[]}"#, .anthropicMessages, .bedrockConverse)
        #expect(notAnObject?.status == 400 && notAnObject?.parameter == "tools[0].cache_control.type")
    }

    /// Every feature the Anthropic → OpenAI pair translates, in one request.
    static let anthropicForOpenAI = #"""
        {"model":"claude","max_tokens":256,"system":"Be nice.","stream":true,"metadata":{"user_id":"u-9"},
         "messages":[
          {"role":"user","content":[{"type":"text","text":"Look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
          {"role":"assistant","content":[{"type":"text","text":"Calling."},{"type":"tool_use","id":"toolu_9","name":"lookup","input":{"q":"a \"b\""}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_9","content":[{"type":"text","text":"found"}]},{"type":"text","text":"and?"}]}],
         "tools":[{"name":"lookup","description":"d","input_schema":{"type":"object","properties":{}}}],
         "tool_choice":{"type":"tool","name":"lookup","disable_parallel_tool_use":true},"stop_sequences":["X","Y"],"temperature":1}
        """#

    @Test func anthropicToOpenAI() throws {
        let request = Self.anthropicForOpenAI
        let (body, stream) = try translate(request, .anthropicMessages, .openAIChat)
        #expect(stream)
        #expect(body["model"] == "upstream-model")
        #expect(body["max_completion_tokens"] == 256)
        #expect(body["stream"] == true && body["stream_options"] == ["include_usage": true])
        #expect(body["user"] == "u-9")
        #expect(body["stop"] == ["X", "Y"] && body["temperature"] == 1)
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue } == ["system", "user", "assistant", "tool", "user"])
        #expect(messages[0]["content"] == "Be nice.")
        #expect(messages[1]["content"] == [["type": "text", "text": "Look"], ["type": "image_url", "image_url": ["url": "data:image/png;base64,AAAA"]]])
        #expect(messages[2]["content"] == "Calling.")
        let call = try #require(messages[2]["tool_calls"]?.arrayValue?.first)
        #expect(call["id"] == "toolu_9" && call["type"] == "function" && call["function"]?["name"] == "lookup")
        let arguments = try #require(call["function"]?["arguments"]?.stringValue)
        #expect(try JSONTree(parsing: Array(arguments.utf8)) == ["q": "a \"b\""])
        #expect(messages[3] == ["role": "tool", "tool_call_id": "toolu_9", "content": "found"])
        #expect(messages[4] == ["role": "user", "content": "and?"])
        #expect(body["tools"] == [["type": "function", "function": ["name": "lookup", "description": "d", "parameters": ["type": "object", "properties": [:]]]]])
        #expect(body["tool_choice"] == ["type": "function", "function": ["name": "lookup"]])
        #expect(body["parallel_tool_calls"] == false)
    }

    @Test func anthropicToOpenAIRefusals() {
        let document = error(#"{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"hi"}}]}]}"#, .anthropicMessages, .openAIChat)
        #expect(document?.code == .untranslatable && document?.parameter == "messages[0].content")
        #expect(document?.message.contains("document") == true)
        #expect(error(#"{"model":"c","max_tokens":5,"messages":[],"top_k":3}"#, .anthropicMessages, .openAIChat)?.parameter == "top_k")
        #expect(error(#"{"model":"c","max_tokens":5,"messages":[],"thinking":{"type":"enabled","budget_tokens":1024}}"#, .anthropicMessages, .openAIChat)?.parameter == "thinking")
        let image = error(#"{"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}]}]}"#, .anthropicMessages, .openAIChat)
        #expect(image?.code == .untranslatable)
        // Thinking disabled is simply dropped.
        #expect(error(#"{"model":"c","max_tokens":5,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"disabled"}}"#, .anthropicMessages, .openAIChat) == nil)
    }

    @Test(arguments: [
        (#""n":2"#, "n"), (#""logprobs":true"#, "logprobs"), (#""top_logprobs":3"#, "top_logprobs"),
        (#""response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}}"#, "response_format"),
        (#""response_format":{"type":"json_object"}"#, "response_format"),
        (#""presence_penalty":0.5"#, "presence_penalty"), (#""logit_bias":{"50256":-100}"#, "logit_bias"),
        (#""functions":[{"name":"f"}]"#, "functions"), (#""audio":{"voice":"alloy","format":"wav"}"#, "audio"),
        (#""modalities":["text","audio"]"#, "modalities"), (#""reasoning_effort":"high""#, "reasoning_effort"),
        (#""frobnicate":true"#, "frobnicate"),
        (#""tools":[{"type":"custom","custom":{"name":"x"}}]"#, "tools[0].type"),
    ])
    func openAIRefusals(field: String, parameter: String) {
        for target in [WireSchema.anthropicMessages, .bedrockConverse] {
            let failure = error(#"{"model":"g","messages":[{"role":"user","content":"hi"}],\#(field)}"#, .openAIChat, target)
            #expect(failure?.status == 400 && failure?.code == .untranslatable, "\(field)")
            #expect(failure?.parameter == parameter)
            #expect(failure?.message.contains(parameter) == true)
        }
    }

    @Test(arguments: [
        (#"{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}"#, "messages[0].content[0].type"),
        (#"{"type":"file","file":{"file_id":"file-1"}}"#, "messages[0].content[0].type"),
        (#"{"type":"video","video":{}}"#, "messages[0].content[0].type"),
    ])
    func openAIPartRefusals(part: String, parameter: String) {
        let failure = error(#"{"model":"g","messages":[{"role":"user","content":[\#(part)]}]}"#, .openAIChat, .anthropicMessages)
        #expect(failure?.code == .untranslatable && failure?.parameter == parameter)
    }

    @Test func droppedFieldsDoNotFail() throws {
        let body = try translate(#"{"model":"g","messages":[{"role":"user","content":"hi"}],"seed":1,"store":false,"metadata":{"a":"b"},"service_tier":"auto","n":1,"presence_penalty":0,"logit_bias":{},"response_format":{"type":"text"},"modalities":["text"],"stream":false}"#, .openAIChat, .bedrockConverse).body
        #expect(body.objectValue?.keys == ["messages"])
    }

    @Test func malformedRequestsFailCleanly() {
        #expect(error("{", .openAIChat, .anthropicMessages)?.code == .invalidJSON)
        #expect(error(String(repeating: "[", count: 500), .openAIChat, .anthropicMessages)?.code == .invalidJSON)
        #expect(error("[]", .openAIChat, .anthropicMessages)?.code == .invalidRequest)
        #expect(error(#"{"model":"g"}"#, .openAIChat, .anthropicMessages)?.parameter == "messages")
        #expect(error(#"{"model":"g","messages":{}}"#, .openAIChat, .anthropicMessages)?.parameter == "messages")
        #expect(error(#"{"model":"g","messages":[{"role":"wizard","content":"x"}]}"#, .openAIChat, .anthropicMessages)?.parameter == "messages[0].role")
        #expect(error(#"{"model":"g","messages":[{"role":"user","content":5}]}"#, .openAIChat, .anthropicMessages)?.parameter == "messages[0].content")
        #expect(error(#"{"model":"g","messages":[{"role":"tool","content":"x"}]}"#, .openAIChat, .anthropicMessages)?.parameter == "messages[0].tool_call_id")
        #expect(error(#"{"model":"g","messages":[],"max_tokens":"lots"}"#, .openAIChat, .anthropicMessages)?.parameter == "max_tokens")
        let badArguments = error(#"{"model":"g","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{not json"}}]}]}"#, .openAIChat, .anthropicMessages)
        #expect(badArguments?.code == .untranslatable && badArguments?.parameter == "messages[0].tool_calls[0].function.arguments")
        #expect(error(#"{"model":"c","max_tokens":5,"messages":[{"role":"system","content":"x"}]}"#, .anthropicMessages, .openAIChat)?.parameter == "messages[0].role")
        #expect(error(#"{"model":"c","max_tokens":5,"messages":[{"role":"user"}]}"#, .anthropicMessages, .openAIChat)?.parameter == "messages[0].content")
        #expect(error(#"{"model":"c","messages":[]}"#, .bedrockConverse, .openAIChat)?.code == .untranslatable)
    }

    @Test func everyTruncatedRequestFailsCleanly() async {
        let bytes = Array(Self.openAIFull.utf8)
        let lastSignificant = bytes.lastIndex { $0 != 0x20 && $0 != 0x0A } ?? 0
        await Fuzz.each(0...lastSignificant) { cut in
            for target in [WireSchema.anthropicMessages, .bedrockConverse] {
                #expect(throws: SidecarError.self) { try RequestTranslator.translate(Array(bytes[0..<cut]), from: .openAIChat, to: target, upstreamModel: "m") }
            }
        }
        let anthropic = Array(Self.anthropicFull.utf8)
        for cut in stride(from: 0, to: anthropic.count - 1, by: 3) {
            #expect(throws: SidecarError.self) { try RequestTranslator.translate(Array(anthropic[0..<cut]), from: .anthropicMessages, to: .openAIChat, upstreamModel: "m") }
        }
    }

    @Test func sameSchemaOnlyReplacesTheModel() throws {
        let original = #"{"model" : "alias","messages":[],"stream":true,"x":1e3}"#
        let result = try RequestTranslator.translate(Array(original.utf8), from: .openAIChat, to: .openAIChat, upstreamModel: "real")
        #expect(String(decoding: result.body, as: UTF8.self) == #"{"model" : "real","messages":[],"stream":true,"x":1e3}"#)
        #expect(result.stream)
        let added = try RequestTranslator.translate(Array(#"{"max_tokens":5}"#.utf8), from: .anthropicMessages, to: .anthropicMessages, upstreamModel: "c")
        #expect(String(decoding: added.body, as: UTF8.self) == #"{"max_tokens":5,"model":"c"}"#)
        let converse = #"{"messages":[]}"#
        #expect(try RequestTranslator.translate(Array(converse.utf8), from: .bedrockConverse, to: .bedrockConverse, upstreamModel: "x").body == Array(converse.utf8))
    }
}
