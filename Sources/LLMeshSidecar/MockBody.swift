import NIOCore

/// The events of a mock stream as an async sequence of buffers, paced by `chunkDelay`.
struct MockBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunks: [[UInt8]]
    let initialDelay: Duration
    let chunkDelay: Duration

    struct AsyncIterator: AsyncIteratorProtocol {
        let body: MockBody
        var index = 0

        mutating func next() async throws -> ByteBuffer? {
            guard index < body.chunks.count else { return nil }
            let delay = index == 0 ? body.initialDelay : body.chunkDelay
            if delay > .zero { try await Task.sleep(for: delay) }
            defer { index += 1 }
            return ByteBuffer(bytes: body.chunks[index])
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}
