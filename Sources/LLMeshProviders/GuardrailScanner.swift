import Foundation
import LLMeshModel

/// A guardrail rule that matched, without the text it matched (which is never logged or echoed).
public struct GuardrailFinding: Sendable, Hashable {
    /// `emails`, `phoneNumbers`, `nationalIDs`, `creditCards`, `denyPatterns[N]` or `maxPromptTokens`.
    public var rule: String
    public var count: Int
}

/// The outcome of scanning one request against one policy's guardrails.
public struct GuardrailVerdict: Sendable {
    public var findings: [GuardrailFinding]
    /// For `Redact`: the body with every match replaced; `nil` when nothing changed.
    public var redactedBody: [UInt8]?
    /// The prompt is over `maxPromptTokens` (always blocked).
    public var promptTooLarge: Bool
}

/// Built-in prompt checks: e-mail addresses, phone numbers, national id numbers, Luhn-valid payment card numbers,
/// custom deny patterns and a maximum prompt size.
///
/// Compiled once per policy version; scanning touches only the prompt strings (see ``PromptText``).
public struct GuardrailScanner: Sendable {
    struct Rule: @unchecked Sendable {
        // NSRegularExpression is immutable after creation and documented as thread-safe for matching,
        // which is all a rule does with it.
        var name: String
        var expression: NSRegularExpression
        var replacement: String
        var validate: (@Sendable (String) -> Bool)?
        /// A cheap test on the text's shape that must hold for the rule to possibly match; regular expressions on
        /// Linux cost microseconds per call, and most prompts hold no '@' and few digits.
        var mayMatch: @Sendable (TextShape) -> Bool = { _ in true }
    }

    /// Counts that decide which rules are worth running on a string.
    struct TextShape {
        var hasAt = false
        var digits = 0

        init(_ text: String) {
            for byte in text.utf8 {
                if byte == UInt8(ascii: "@") { hasAt = true } else if byte >= 48 && byte <= 57 { digits += 1 }
            }
        }
    }

    let rules: [Rule]
    public let guardrails: Guardrails

    public init(_ guardrails: Guardrails) {
        self.guardrails = guardrails
        var rules: [Rule] = []
        func add(_ name: String, _ pattern: String, _ replacement: String, validate: (@Sendable (String) -> Bool)? = nil, mayMatch: @escaping @Sendable (TextShape) -> Bool = { _ in true }) {
            if let expression = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) {
                rules.append(Rule(name: name, expression: expression, replacement: replacement, validate: validate, mayMatch: mayMatch))
            }
        }
        if guardrails.emails || guardrails.pii {
            add("emails", #"[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}"#, "[REDACTED_EMAIL]", mayMatch: { $0.hasAt })
        }
        if guardrails.creditCards {
            add("creditCards", #"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])"#, "[REDACTED_CARD]", validate: Self.passesLuhn, mayMatch: { $0.digits >= 13 })
        }
        if guardrails.nationalIDs || guardrails.pii {
            add("nationalIDs", #"(?<![0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9])|\b[A-CEGHJ-PR-TW-Z]{2}[0-9]{6}[A-D]\b"#, "[REDACTED_ID]", mayMatch: { $0.digits >= 6 })
        }
        if guardrails.phoneNumbers || guardrails.pii {
            // International numbers with a + prefix, or North American (NXX) NXX-XXXX; never part of a longer digit run.
            add("phoneNumbers", #"(?<![0-9+-])(?:\+[0-9]{1,3}[ .-]?[0-9]{1,4}(?:[ .-]?[0-9]{2,4}){2,4}|\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4})(?![0-9-])"#, "[REDACTED_PHONE]", mayMatch: { $0.digits >= 7 })
        }
        for (index, pattern) in guardrails.denyPatterns.enumerated() {
            add("denyPatterns[\(index)]", pattern, "[REDACTED]")
        }
        self.rules = rules
    }

    /// Luhn checksum over the digits of `text`.
    @Sendable static func passesLuhn(_ text: String) -> Bool {
        let digits = text.compactMap(\.wholeNumberValue)
        guard digits.count >= 13, digits.count <= 19 else { return false }
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            if offset % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }

    /// Scans the prompt strings of `document`; with `redact`, also builds the rewritten body.
    public func scan(_ document: JSONDocument, kind: APIKind, redact: Bool) -> GuardrailVerdict {
        let nodes = PromptText.nodes(in: document, kind: kind)
        var counts: [String: Int] = [:]
        var edits: [(range: Range<Int>, text: String)] = []
        var promptBytes = 0
        for node in nodes {
            guard let text = document.string(node) else { continue }
            promptBytes += text.utf8.count
            var rewritten = text
            var changed = false
            let shape = TextShape(text)
            for rule in rules where rule.mayMatch(shape) {
                let range = NSRange(rewritten.startIndex..., in: rewritten)
                let matches = rule.expression.matches(in: rewritten, range: range).filter { match in
                    guard let validate = rule.validate, let swiftRange = Range(match.range, in: rewritten) else { return true }
                    return validate(String(rewritten[swiftRange]))
                }
                guard !matches.isEmpty else { continue }
                counts[rule.name, default: 0] += matches.count
                if redact {
                    for match in matches.reversed() {
                        if let swiftRange = Range(match.range, in: rewritten) { rewritten.replaceSubrange(swiftRange, with: rule.replacement) }
                    }
                    changed = true
                }
            }
            if changed { edits.append((node.range, JSONText.quoted(rewritten))) }
        }
        var findings = rules.compactMap { rule in counts[rule.name].map { GuardrailFinding(rule: rule.name, count: $0) } }
        let tooLarge = guardrails.maxPromptTokens.map { TokenEstimate.tokens(inUTF8Count: promptBytes) > $0 } ?? false
        if tooLarge { findings.append(GuardrailFinding(rule: "maxPromptTokens", count: 1)) }
        var redacted: [UInt8]?
        if !edits.isEmpty {
            var body = document.bytes
            for edit in edits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
                body.replaceSubrange(edit.range, with: Array(edit.text.utf8))
            }
            redacted = body
        }
        return GuardrailVerdict(findings: findings, redactedBody: redacted, promptTooLarge: tooLarge)
    }
}
