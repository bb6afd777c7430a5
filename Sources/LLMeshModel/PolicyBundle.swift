/// Every llmesh resource in force for one namespace (or one standalone file), validated together.
public struct PolicyBundle: Sendable, Hashable, Codable {
    public var providers: [LLMProvider]
    public var routes: [LLMRoute]
    public var virtualKeys: [VirtualKey]
    public var policies: [LLMPolicy]

    public init(providers: [LLMProvider] = [], routes: [LLMRoute] = [], virtualKeys: [VirtualKey] = [], policies: [LLMPolicy] = []) {
        self.providers = providers
        self.routes = routes
        self.virtualKeys = virtualKeys
        self.policies = policies
    }

    /// Number of resources of every kind.
    public var count: Int { providers.count + routes.count + virtualKeys.count + policies.count }

    /// Problems that span resources: duplicate names, dangling provider references, model names claimed twice.
    ///
    /// `locate` maps a resource reference (`Kind/name`) to its document index and line, when known.
    public func crossReferenceProblems(locate: (String) -> (document: Int, line: Int?)? = { _ in nil }) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        func report(_ reference: String, _ path: String, _ message: String) {
            let place = locate(reference)
            problems.append(ConfigProblem(documentIndex: place?.document, resource: reference, line: place?.line, fieldPath: path, message: message))
        }
        func checkUnique(_ references: [(String, String)]) {
            var seen: Set<String> = []
            for (name, reference) in references where !seen.insert(name).inserted {
                report(reference, "metadata.name", "another \(reference.prefix { $0 != "/" }) is already named \"\(name)\"")
            }
        }
        checkUnique(providers.map { ($0.metadata.name, $0.reference) })
        checkUnique(routes.map { ($0.metadata.name, $0.reference) })
        checkUnique(virtualKeys.map { ($0.metadata.name, $0.reference) })
        checkUnique(policies.map { ($0.metadata.name, $0.reference) })

        let providerNames = Set(providers.map(\.metadata.name))
        // A model name may be routed twice only when the header matches tell the routes apart.
        var claimedModels: [String: String] = [:]
        for route in routes {
            for (index, backend) in route.spec.backends.enumerated() where !providerNames.contains(backend.provider) {
                let known = providerNames.sorted().joined(separator: ", ")
                report(route.reference, "spec.backends[\(index)].provider", "provider \"\(backend.provider)\" is not defined (defined: \(known.isEmpty ? "none" : known))")
            }
            let headerKey = route.spec.match.headers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            for name in route.spec.exposedModelNames where !name.isEmpty {
                let claim = name + "|" + headerKey
                if let owner = claimedModels[claim] {
                    report(route.reference, "spec.match", "model name \"\(name)\" is already routed by \(owner)" + (headerKey.isEmpty ? "" : " with the same header match"))
                } else {
                    claimedModels[claim] = route.reference
                }
            }
        }
        return problems
    }
}
