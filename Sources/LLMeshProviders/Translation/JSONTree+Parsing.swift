extension JSONTree {
    /// Parses `bytes` as one JSON value, validated strictly and with bounded nesting by ``JSONDocument``.
    public init(parsing bytes: [UInt8]) throws(SidecarError) {
        let document: JSONDocument
        do {
            document = try JSONDocument(validating: bytes)
        } catch {
            throw SidecarError(.invalidJSON, "The body is not valid JSON: \(error.description).")
        }
        self.init(document: document, node: document.root)
    }

    /// The tree of `node` in a validated document.
    public init(document: JSONDocument, node: JSONNode) {
        switch node.kind {
        case .null:
            self = .null
        case .bool:
            self = .bool(document.bool(node) ?? false)
        case .string:
            self = .string(document.string(node) ?? "")
        case .number:
            let slice = document.slice(node)
            let integral = !slice.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            if integral, let value = document.int(node) {
                self = .int(value)
            } else {
                self = .double(document.double(node) ?? 0)
            }
        case .array:
            self = .array(document.elements(of: node).map { JSONTree(document: document, node: $0) })
        case .object:
            let members = document.members(of: node).map { JSONObject.Member(key: $0.key, value: JSONTree(document: document, node: $0.value)) }
            self = .object(JSONObject(members))
        }
    }
}
