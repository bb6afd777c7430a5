/// Finds the strings of a request body that carry prompt text, for guardrails and prompt-size estimates.
///
/// Covers OpenAI chat `messages[].content` (a string or text parts), completions `prompt`, embeddings and Responses
/// `input` (strings, lists of strings, or message items), Responses `instructions`, and Anthropic `system` and
/// `messages[].content`. Only these strings are looked at, so model names, tool schemas and ids are never redacted.
public enum PromptText {
    /// The string nodes holding prompt text, in document order.
    public static func nodes(in document: JSONDocument, kind: APIKind) -> [JSONNode] {
        var found: [JSONNode] = []
        func collectContent(_ node: JSONNode) {
            switch node.kind {
            case .string:
                found.append(node)
            case .array:
                for part in document.elements(of: node) {
                    if part.kind == .string {
                        found.append(part)
                    } else if let text = document.member("text", of: part), text.kind == .string {
                        found.append(text)
                    } else if let content = document.member("content", of: part) {
                        collectContent(content)
                    }
                }
            default:
                break
            }
        }
        let root = document.root
        for key in ["messages", "input", "prompt"] {
            guard let node = document.member(key, of: root) else { continue }
            if node.kind == .array {
                for item in document.elements(of: node) {
                    if item.kind == .object, let content = document.member("content", of: item) {
                        collectContent(content)
                    } else {
                        collectContent(item)
                    }
                }
            } else {
                collectContent(node)
            }
        }
        for key in ["system", "instructions"] {
            if let node = document.member(key, of: root) { collectContent(node) }
        }
        return found
    }

    /// Total UTF-8 size of the prompt strings, for a token estimate.
    public static func utf8Count(in document: JSONDocument, kind: APIKind) -> Int {
        nodes(in: document, kind: kind).reduce(0) { $0 + $1.range.count - 2 }
    }
}
