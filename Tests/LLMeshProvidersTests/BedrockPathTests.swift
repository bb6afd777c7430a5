import Testing
@testable import LLMeshProviders

@Suite struct BedrockPathTests {
    @Test func classifiesTheFourOperationsAndDecodesTheModelOnce() {
        #expect(APIKind.classify(method: "POST", path: "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse") == .api(.converse))
        #expect(APIKind.classify(method: "POST", path: "/model/m/converse-stream") == .api(.converseStream))
        #expect(APIKind.classify(method: "POST", path: "/model/m/invoke") == .api(.invoke))
        #expect(APIKind.classify(method: "POST", path: "/model/m/invoke-with-response-stream?x=1") == .api(.invokeStream))
        #expect(APIKind.classify(method: "GET", path: "/model/m/converse") == .methodNotAllowed(allowed: "POST"))
        #expect(BedrockPath(path: "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")?.modelID == "anthropic.claude-3-haiku-20240307-v1:0")
        // A literal colon (curl, other SDKs) is the same model.
        #expect(BedrockPath(path: "/model/anthropic.claude-3-haiku-20240307-v1:0/invoke")?.modelID == "anthropic.claude-3-haiku-20240307-v1:0")
        let arn = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/converse"
        #expect(BedrockPath(path: arn)?.modelID == "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0")
        // Decoded once: a double-encoded id stays encoded once (and is then simply an unknown model).
        #expect(BedrockPath(path: "/model/v1%253A0/converse")?.modelID == "v1%3A0")
        #expect(APIKind.converse.dialect == .bedrock && APIKind.invokeStream.canStream && !APIKind.invoke.canStream)
    }

    @Test func refusesMalformedPaths() {
        for path in ["/model//converse", "/model/converse", "/model/a/b/converse", "/model/m/conversed", "/model/m/", "/models/m/converse",
                     "/model/%zz/converse", "/model/%4/converse", "/model/%FF%FE/converse", "/model/" + String(repeating: "a", count: 2049) + "/converse"] {
            #expect(BedrockPath(path: path) == nil, "\(path)")
            #expect(APIKind.classify(method: "POST", path: path) == .unknownPath, "\(path)")
        }
        #expect(BedrockPath(path: "/model/" + String(repeating: "a", count: 2048) + "/converse") != nil)
    }

    @Test func inspectsBedrockBodiesByPathModel() throws {
        let converse = Array(#"{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"maxTokens":64}}"#.utf8)
        let inspected = try InspectedRequest(body: converse, kind: .converseStream, pathModel: "m:0")
        #expect(inspected.model == "m:0" && inspected.stream && inspected.maxOutputTokens == 64)
        let invoke = try InspectedRequest(body: Array(#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":10,"messages":[]}"#.utf8), kind: .invoke, pathModel: "m")
        #expect(!invoke.stream && invoke.maxOutputTokens == 10)
        #expect(throws: SidecarError.self) { try InspectedRequest(body: converse, kind: .converse, pathModel: nil) }
        #expect(throws: SidecarError.self) { try InspectedRequest(body: Array("[1]".utf8), kind: .converse, pathModel: "m") }
        #expect(throws: SidecarError.self) { try InspectedRequest(body: Array(#"{"messages":"#.utf8), kind: .converse, pathModel: "m") }
    }

    @Test func bedrockErrorsCarryTheAWSErrorType() {
        let error = SidecarError(.rateLimitExceeded, "slow down")
        #expect(error.body(for: .bedrock) == #"{"message":"slow down","__type":"ThrottlingException"}"#)
        #expect(SidecarError(.credentialUnavailable, "x").awsErrorType == "ServiceUnavailableException")
        #expect(SidecarError(.untranslatable, "x").status == 400)
    }
}
