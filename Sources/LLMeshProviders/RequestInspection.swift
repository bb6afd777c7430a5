/// What routing needs to know about a request body, read without decoding the rest.
public struct InspectedRequest: Sendable {
    public let document: JSONDocument
    /// The `model` the caller asked for.
    public let model: String
    /// Whether the caller asked for a stream.
    public let stream: Bool
    /// Whether the caller asked for `stream_options.include_usage` (OpenAI).
    public let includeUsageRequested: Bool
    /// `max_tokens`, `max_completion_tokens` or `max_output_tokens`, when given.
    public let maxOutputTokens: Int?

    /// Validates `body` and reads the routing fields, or throws the error the caller should see.
    ///
    /// Bedrock Runtime operations carry the model id in the path (`pathModel`), not in the body, and stream by
    /// operation (`converse-stream`, `invoke-with-response-stream`) rather than by a body field.
    public init(body: [UInt8], kind: APIKind, pathModel: String? = nil) throws(SidecarError) {
        let document: JSONDocument
        do {
            document = try JSONDocument(validating: body)
        } catch {
            throw SidecarError(.invalidJSON, "The request body is not valid JSON: \(error.description).")
        }
        guard document.root.kind == .object else {
            throw SidecarError(.invalidRequest, "The request body must be a JSON object.")
        }
        let members = document.members(of: document.root)
        func member(_ key: String) -> JSONNode? { members.first { $0.key == key }?.value }
        if kind.isBedrock {
            guard let pathModel, !pathModel.isEmpty else {
                throw SidecarError(.invalidRequest, "The path names no model id.", parameter: "modelId")
            }
            self.document = document
            self.model = pathModel
            self.stream = kind == .converseStream || kind == .invokeStream
            self.includeUsageRequested = false
            let converseLimit = member("inferenceConfig").flatMap { document.member("maxTokens", of: $0) }
            self.maxOutputTokens = (converseLimit ?? member("max_tokens") ?? member("max_gen_len") ?? member("maxTokenCount")).flatMap(document.int)
            return
        }
        guard let modelNode = member("model") else {
            throw SidecarError(.invalidRequest, "The request has no 'model' field.", parameter: "model")
        }
        guard let model = document.string(modelNode), !model.isEmpty else {
            throw SidecarError(.invalidRequest, "'model' must be a non-empty string.", parameter: "model")
        }
        var stream = false
        if let streamNode = member("stream"), streamNode.kind != .null {
            guard let flag = document.bool(streamNode) else {
                throw SidecarError(.invalidRequest, "'stream' must be true or false.", parameter: "stream")
            }
            stream = flag
        }
        self.document = document
        self.model = model
        self.stream = stream && kind.canStream
        self.includeUsageRequested = member("stream_options").flatMap { document.member("include_usage", of: $0) }.flatMap(document.bool) ?? false
        self.maxOutputTokens = (member("max_tokens") ?? member("max_completion_tokens") ?? member("max_output_tokens")).flatMap(document.int)
    }

    /// The body to send upstream: `model` replaced by `upstreamModel` and, when asked, usage reporting
    /// switched on for the stream. Everything else is left byte for byte as the caller sent it.
    public func upstreamBody(model upstreamModel: String, forceIncludeUsage: Bool) -> [UInt8] {
        var edits: [(range: Range<Int>, replacement: [UInt8])] = []
        let members = document.members(of: document.root)
        if upstreamModel != model, let modelMember = members.first(where: { $0.key == "model" }) {
            edits.append((modelMember.value.range, Array(JSONText.quoted(upstreamModel).utf8)))
        }
        if forceIncludeUsage && !includeUsageRequested {
            if let options = members.first(where: { $0.key == "stream_options" }), options.value.kind == .object {
                let optionMembers = document.members(of: options.value)
                if let existing = optionMembers.first(where: { $0.key == "include_usage" }) {
                    edits.append((existing.value.range, Array("true".utf8)))
                } else {
                    let insertAt = options.value.range.lowerBound + 1
                    let text = optionMembers.isEmpty ? #""include_usage":true"# : #""include_usage":true,"#
                    edits.append((insertAt..<insertAt, Array(text.utf8)))
                }
            } else if let options = members.first(where: { $0.key == "stream_options" }) {
                edits.append((options.value.range, Array(#"{"include_usage":true}"#.utf8)))
            } else {
                let closing = document.root.range.upperBound - 1
                let text = members.isEmpty ? #""stream_options":{"include_usage":true}"# : #","stream_options":{"include_usage":true}"#
                edits.append((closing..<closing, Array(text.utf8)))
            }
        }
        guard !edits.isEmpty else { return document.bytes }
        var output = document.bytes
        for edit in edits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            output.replaceSubrange(edit.range, with: edit.replacement)
        }
        return output
    }
}
