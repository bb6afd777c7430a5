import LLMeshModel
import Testing
@testable import LLMeshProviders

@Suite struct GuardrailTests {
    func scan(_ body: String, _ guardrails: Guardrails, kind: APIKind = .chatCompletions, redact: Bool = false) throws -> GuardrailVerdict {
        GuardrailScanner(guardrails).scan(try JSONDocument(validating: Array(body.utf8)), kind: kind, redact: redact)
    }

    @Test func luhnSeparatesCardsFromOtherNumbers() {
        #expect(GuardrailScanner.passesLuhn("4111 1111 1111 1111"))
        #expect(GuardrailScanner.passesLuhn("5500-0000-0000-0004"))
        #expect(!GuardrailScanner.passesLuhn("4111 1111 1111 1112"))
        #expect(!GuardrailScanner.passesLuhn("1234"))
    }

    @Test func findsEachKindOnlyInPromptText() throws {
        let body = #"{"model":"jane@example.com","messages":[{"role":"user","content":"mail jane@example.com, card 4111-1111-1111-1111, order 4111-1111-1111-1112, ssn 123-45-6789, call +1 415 555 0100"}]}"#
        let verdict = try scan(body, Guardrails(pii: true, creditCards: true))
        let rules = Dictionary(uniqueKeysWithValues: verdict.findings.map { ($0.rule, $0.count) })
        #expect(rules == ["emails": 1, "creditCards": 1, "nationalIDs": 1, "phoneNumbers": 1])
        #expect(verdict.redactedBody == nil)
    }

    @Test func redactsInsideStringsAndKeepsValidJSON() throws {
        let body = #"{"model":"m","messages":[{"role":"system","content":"be nice"},{"role":"user","content":[{"type":"text","text":"I am \"jane@example.com\""}]}]}"#
        let verdict = try scan(body, Guardrails(emails: true, action: .redact), redact: true)
        let redacted = try #require(verdict.redactedBody)
        let document = try JSONDocument(validating: redacted)
        let text = String(decoding: redacted, as: UTF8.self)
        #expect(!text.contains("jane@example.com"))
        #expect(text.contains(#"I am \"[REDACTED_EMAIL]\""#))
        #expect(document.value(at: "model").flatMap(document.string) == "m")
    }

    @Test func coversAnthropicAndResponsesShapes() throws {
        let anthropic = try scan(#"{"model":"c","system":"secret-project-x","messages":[{"role":"user","content":"hi"}]}"#, Guardrails(denyPatterns: ["secret-project-[a-z]"]), kind: .messages)
        #expect(anthropic.findings.map(\.rule) == ["denyPatterns[0]"])
        let responses = try scan(#"{"model":"m","input":[{"role":"user","content":"bob@example.org"}],"instructions":"x"}"#, Guardrails(emails: true), kind: .responses)
        #expect(responses.findings.map(\.rule) == ["emails"])
    }

    @Test func refusesPromptsOverTheSizeLimit() throws {
        let verdict = try scan(#"{"model":"m","messages":[{"role":"user","content":""# + String(repeating: "word ", count: 100) + #""}]}"#, Guardrails(maxPromptTokens: 50))
        #expect(verdict.promptTooLarge)
        #expect(try !scan(#"{"model":"m","messages":[{"role":"user","content":"short"}]}"#, Guardrails(maxPromptTokens: 50)).promptTooLarge)
    }
}
