import LLMeshKube

/// The status the operator computed for one resource.
public struct ResourceStatus: Sendable, Hashable {
    public var conditions: [Condition]
    public var observedGeneration: Int
    public var snapshotVersion: Int?
    /// `LLMRoute` only: backends whose provider is ready.
    public var backends: Int?

    public init(conditions: [Condition], observedGeneration: Int, snapshotVersion: Int? = nil, backends: Int? = nil) {
        self.conditions = conditions
        self.observedGeneration = observedGeneration
        self.snapshotVersion = snapshotVersion
        self.backends = backends
    }

    public func condition(_ kind: Condition.Kind) -> Condition? { conditions.first { $0.type == kind } }

    public var isReady: Bool { condition(.ready)?.status == true }

    /// The new `status` object: the computed fields over `current`, whose other fields (spend, written by usage
    /// intake) are kept.
    func merged(into current: JSONValue?, now: String) -> JSONValue {
        var status = current?.objectValue ?? [:]
        let previous = current?["conditions"]?.arrayValue ?? []
        status["conditions"] = .array(conditions.map { condition in
            condition.json(observedGeneration: observedGeneration, previous: previous.first { $0["type"]?.stringValue == condition.type.rawValue }, now: now)
        })
        status["observedGeneration"] = .number(Double(observedGeneration))
        status["snapshotVersion"] = snapshotVersion.map { .number(Double($0)) }
        if let backends { status["backends"] = .number(Double(backends)) }
        return .object(status.filter { $0.value != .null })
    }

    /// Whether writing this status would change `current` (timestamps aside). `snapshotVersion` alone does not count:
    /// it records the first snapshot that enforced this generation, so a change elsewhere in the namespace does not
    /// rewrite the status of every resource in it.
    func differs(from current: JSONValue?) -> Bool {
        var proposed = Self.withoutTimes(merged(into: current, now: ""))
        var existing = Self.withoutTimes(current)
        if existing["snapshotVersion"] != nil || !isReady {
            proposed["snapshotVersion"] = nil
            existing["snapshotVersion"] = nil
        }
        return proposed != existing
    }

    private static func withoutTimes(_ status: JSONValue?) -> JSONValue {
        guard var status = status?.objectValue else { return .object([:]) }
        if let conditions = status["conditions"]?.arrayValue {
            status["conditions"] = .array(conditions.map { condition in
                var copy = condition
                copy["lastTransitionTime"] = ""
                return copy
            })
        }
        return .object(status)
    }
}
