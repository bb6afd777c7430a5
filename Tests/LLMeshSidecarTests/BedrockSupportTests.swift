import Foundation
import LLMeshModel
import LLMeshProviders
import NIOCore
import NIOHTTP1
import Testing
@testable import LLMeshSidecar

@Suite struct BedrockSupportTests {
    @Test func formatsAMZDatesInUTC() {
        #expect(AMZDate.format(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
        #expect(AMZDate.format(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
    }

    @Test func choosesNativeTranslatedOrNoPath() {
        #expect(ProviderType.bedrock.fit(for: .converse) == .native)
        #expect(ProviderType.bedrock.fit(for: .invokeStream) == .native)
        #expect(ProviderType.bedrock.fit(for: .chatCompletions) == .translated(SchemaTranslation(caller: .openAIChat, upstream: .bedrockConverse)))
        #expect(ProviderType.bedrock.fit(for: .messages) == .translated(SchemaTranslation(caller: .anthropicMessages, upstream: .bedrockConverse)))
        #expect(ProviderType.anthropic.fit(for: .chatCompletions) == .translated(SchemaTranslation(caller: .openAIChat, upstream: .anthropicMessages)))
        #expect(ProviderType.openAICompatible.fit(for: .messages) == .translated(SchemaTranslation(caller: .anthropicMessages, upstream: .openAIChat)))
        #expect(ProviderType.openAI.fit(for: .chatCompletions) == .native)
        // No translation exists for these: refused with dialect_mismatch rather than sent in the wrong schema.
        #expect(ProviderType.bedrock.fit(for: .embeddings) == .unsupported)
        #expect(ProviderType.anthropic.fit(for: .converse) == .unsupported)
        #expect(ProviderType.openAI.fit(for: .invoke) == .unsupported)
        #expect(ProviderType.mock.fit(for: .converse) == .unsupported)
    }

    @Test func keepsOnlyBedrockHeadersAndNeverTheAppSignature() {
        var incoming = HTTPHeaders()
        incoming.add(name: "Authorization", value: "AWS4-HMAC-SHA256 Credential=AKIDAPP/20250101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=abc")
        incoming.add(name: "X-Amz-Date", value: "20250101T000000Z")
        incoming.add(name: "X-Amz-Security-Token", value: "app-token")
        incoming.add(name: "X-Amz-Content-SHA256", value: "UNSIGNED-PAYLOAD")
        incoming.add(name: "Content-Type", value: "application/json")
        incoming.add(name: "Accept", value: "application/vnd.amazon.eventstream")
        incoming.add(name: "X-Amzn-Bedrock-GuardrailIdentifier", value: "gr-1")
        incoming.add(name: "User-Agent", value: "Boto3/1.40")
        incoming.add(name: "amz-sdk-invocation-id", value: "x")
        let headers = LLMRequestHandler.bedrockHeaders(incoming)
        #expect(headers["authorization"].isEmpty && headers["x-amz-security-token"].isEmpty && headers["x-amz-date"].isEmpty && headers["x-amz-content-sha256"].isEmpty)
        #expect(headers.first(name: "x-amzn-bedrock-guardrailidentifier") == "gr-1")
        #expect(headers.first(name: "accept") == "application/vnd.amazon.eventstream")
        #expect(headers.first(name: "content-type") == "application/json")
        #expect(headers["user-agent"].isEmpty && headers["amz-sdk-invocation-id"].isEmpty)
    }

    @Test func recognisesStaleCredentialAnswers() {
        func reply(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
        #expect(LLMRequestHandler.rejectsCredentials(reply(#"{"message":"The security token included in the request is expired"}"#)))
        #expect(LLMRequestHandler.rejectsCredentials(reply(#"{"__type":"UnrecognizedClientException","message":"x"}"#)))
        #expect(!LLMRequestHandler.rejectsCredentials(reply(#"{"message":"User is not authorized to perform: bedrock:InvokeModel"}"#)))
        #expect(!LLMRequestHandler.rejectsCredentials(nil))
    }

    @Test func writesTheCAAndABundleWithTheSystemRoots() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmesh-tls-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tls = try LoopbackTLS()
        let roots = "-----BEGIN CERTIFICATE-----\nROOTS\n-----END CERTIFICATE-----"
        let bundlePath = try tls.writeFiles(to: directory + "/nested", systemRoots: roots)
        let bundle = try String(contentsOfFile: bundlePath, encoding: .utf8)
        let ca = try String(contentsOfFile: directory + "/nested/ca.crt", encoding: .utf8)
        #expect(bundle.hasPrefix(roots + "\n"))
        #expect(bundle.hasSuffix(ca))
        #expect(ca == tls.authority.certificatePEM)
        #expect(!bundle.contains("PRIVATE KEY") && !ca.contains("PRIVATE KEY"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/nested").sorted() == ["ca-bundle.crt", "ca.crt"])
        _ = try tls.serverContext()
        // Without system roots the bundle is the CA alone.
        let alone = try tls.writeFiles(to: directory, systemRoots: nil)
        #expect(try String(contentsOfFile: alone, encoding: .utf8).hasSuffix(ca))
        #expect(LoopbackTLS.readSystemRoots(candidates: ["/nonexistent/roots.pem"]) == nil)
    }

    @Test func keepsTheCAAcrossRestartsInTheStateDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmesh-state-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try LoopbackTLS.loadOrCreate(stateDirectory: directory)
        let second = try LoopbackTLS.loadOrCreate(stateDirectory: directory)
        #expect(first.authority.certificatePEM == second.authority.certificatePEM)
        #expect(first.serving.certificatePEM != second.serving.certificatePEM)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/loopback-ca.key")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        // A corrupt kept CA is replaced, not trusted.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: directory + "/loopback-ca.crt"))
        let third = try LoopbackTLS.loadOrCreate(stateDirectory: directory)
        #expect(third.authority.certificatePEM != first.authority.certificatePEM)
        #expect(try LoopbackTLS.loadOrCreate(stateDirectory: nil).authority.certificatePEM != first.authority.certificatePEM)
    }
}
