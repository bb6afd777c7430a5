/// A schema-neutral stream event: what the stream readers make of upstream events and the writers turn into the
/// caller's SSE. `block` is the upstream's content-block number; writers renumber for the caller.
enum ChatStreamEvent: Sendable, Equatable {
    /// The answer began.
    case start
    case text(block: Int, String)
    case thinking(block: Int, String)
    case signature(block: Int, String)
    case toolStart(block: Int, id: String, name: String)
    /// A piece of a tool call's arguments JSON.
    case toolInput(block: Int, String)
    case blockStop(block: Int)
    case stop(ChatStopReason, stopSequence: String?)
    /// The upstream's normal end of stream.
    case end
    case failure(UpstreamError)
}

/// Reading an upstream stream event's JSON, failing the stream cleanly when it is not JSON.
enum StreamJSON {
    static func parse(_ data: [UInt8]) -> JSONTree? {
        guard let tree = try? JSONTree(parsing: data), tree.objectValue != nil else { return nil }
        return tree
    }

    static let malformed = UpstreamError(kind: .server, message: "The upstream sent a stream event that is not a JSON object.", upstreamType: "upstream_protocol_error")
}
