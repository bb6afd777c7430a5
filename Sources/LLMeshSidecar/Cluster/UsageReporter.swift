import AsyncHTTPClient
import Foundation
import LLMeshModel
import LLMeshProviders
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ServiceLifecycle

/// One line of a usage batch: what one key or policy used of one model since the last batch.
public struct UsageDelta: Sendable, Hashable, Codable {
    /// `VirtualKey` or `LLMPolicy`.
    public var kind: String
    public var name: String
    public var model: String
    public var requests: Int
    public var inputTokens: Int
    public var outputTokens: Int
    public var cachedInputTokens: Int
    public var costUSD: Double
}

/// A batch of usage deltas from one sidecar. `(sidecar, sequence)` identifies it: the operator applies each batch once,
/// however often it is retried, and records the last sequence it applied in the resources' status.
public struct UsageBatch: Sendable, Hashable, Codable {
    public var sidecar: String
    public var sequence: Int
    public var namespace: String
    public var deltas: [UsageDelta]
}

/// Adds up what requests used and sends it to the operator in batches; a batch is retried, unchanged, until the
/// operator confirms it, while new usage gathers for the next one.
public final class UsageReporter: Service, Sendable {
    private struct State {
        var gathering: [String: UsageDelta] = [:]
        var inFlight: UsageBatch?
        var nextSequence = 1
    }

    let subscription: OperatorSubscription
    let sidecarID: String
    let interval: Duration
    let logger: Logger
    private let http: HTTPClient
    private let state = NIOLockedValueBox(State())

    public init(subscription: OperatorSubscription, sidecarID: String, interval: Duration = .seconds(2), eventLoopGroup: any EventLoopGroup, logger: Logger) throws {
        self.subscription = subscription
        self.sidecarID = sidecarID
        self.interval = interval
        self.logger = logger
        self.http = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: .init(tlsConfiguration: try subscription.tlsConfiguration(), timeout: .init(connect: .seconds(5), read: .seconds(30))))
    }

    /// Counts one finished request towards each subject (`Kind/name`).
    public func record(subjects: [String], model: String, usage: TokenUsage?, costUSD: Double) {
        guard !subjects.isEmpty else { return }
        state.withLockedValue { state in
            for subject in subjects {
                let parts = subject.split(separator: "/", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let slot = "\(subject)|\(model)"
                var delta = state.gathering[slot] ?? UsageDelta(kind: String(parts[0]), name: String(parts[1]), model: model, requests: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUSD: 0)
                delta.requests += 1
                delta.inputTokens += usage?.input ?? 0
                delta.outputTokens += usage?.output ?? 0
                delta.cachedInputTokens += usage?.cachedInput ?? 0
                delta.costUSD += costUSD
                state.gathering[slot] = delta
            }
        }
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: self.interval)
                await self.flush()
            }
        }
        // One last attempt on the way out, so a drained pod's final usage is not lost.
        await flush()
        try? await http.shutdown()
    }

    /// Sends the batch in flight, or a new one from what gathered; keeps it for the next round on failure.
    func flush() async {
        let batch = state.withLockedValue { state -> UsageBatch? in
            if let inFlight = state.inFlight { return inFlight }
            guard !state.gathering.isEmpty else { return nil }
            let batch = UsageBatch(sidecar: sidecarID, sequence: state.nextSequence, namespace: subscription.namespace, deltas: state.gathering.values.sorted { ($0.kind, $0.name, $0.model) < ($1.kind, $1.name, $1.model) })
            state.gathering = [:]
            state.nextSequence += 1
            state.inFlight = batch
            return batch
        }
        guard let batch else { return }
        do {
            let token = try String(contentsOfFile: subscription.tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            var request = HTTPClientRequest(url: "\(subscription.url)/v1/usage")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(batch)))
            let response = try await http.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 64 * 1024)
            guard response.status == .ok else { throw SnapshotFetchError(status: Int(response.status.code), message: "usage batch \(batch.sequence) not accepted") }
            state.withLockedValue { if $0.inFlight?.sequence == batch.sequence { $0.inFlight = nil } }
        } catch {
            logger.debug("usage batch not delivered yet; it will be retried", metadata: ["sequence": "\(batch.sequence)", "error": "\(error)"])
        }
    }
}
