import Crypto
import Foundation
import LLMeshKube
import LLMeshModel

/// Everything the operator knows about one namespace's llmesh resources.
public struct NamespaceInputs: Sendable {
    public var namespace: String
    public var providers: [KubeObject]
    public var routes: [KubeObject]
    public var virtualKeys: [KubeObject]
    public var policies: [KubeObject]
    /// Decoded `data` of the namespace's Secrets, by name.
    public var secrets: [String: [String: String]]

    public init(namespace: String, providers: [KubeObject] = [], routes: [KubeObject] = [], virtualKeys: [KubeObject] = [], policies: [KubeObject] = [], secrets: [String: [String: String]] = [:]) {
        self.namespace = namespace
        self.providers = providers
        self.routes = routes
        self.virtualKeys = virtualKeys
        self.policies = policies
        self.secrets = secrets
    }

    /// Decodes a Secret object's base64 `data`.
    public static func secretData(_ secret: KubeObject) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in secret.json["data"]?.objectValue ?? [:] {
            guard let text = value.stringValue, let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8) else { continue }
            result[key] = decoded
        }
        return result
    }
}

/// The outcome of compiling one namespace: a status for every resource and the bundle of ready resources.
public struct NamespaceCompilation: Sendable {
    /// One resource and the status computed for it.
    public struct Entry: Sendable {
        public var type: ResourceType
        public var object: KubeObject
        public var status: ResourceStatus
    }

    public var entries: [Entry]
    public var bundle: PolicyBundle
    public var credentials: [String: String]
    /// `Kind/name` of ready keys and policies whose fleet-wide spend reached their budget this period.
    public var exhaustedBudgets: [String]
    /// Names of Secrets the namespace's resources refer to (a change to one of them recompiles the namespace).
    public var referencedSecrets: Set<String>
}

/// Validates every resource of a namespace, resolves references and reduces the ready ones to a policy bundle.
///
/// Pure: no I/O, so it is tested without an API server and its cost is the operator's reconcile cost.
public enum NamespaceCompiler {
    public static func compile(_ inputs: NamespaceInputs, now: Date = Date(), cache: ParsedResourceCache? = nil) -> NamespaceCompilation {
        var compiler = Run(inputs: inputs, now: now, cache: cache)
        return compiler.compile()
    }

    private struct Run {
        let inputs: NamespaceInputs
        var entries: [NamespaceCompilation.Entry] = []
        var bundle = PolicyBundle()
        var credentials: [String: String] = [:]
        var referencedSecrets: Set<String> = []
        var exhaustedBudgets: [String] = []
        let loader = ConfigFileLoader(maximumBytes: 1024 * 1024)
        let now: Date
        let cache: ParsedResourceCache?

        init(inputs: NamespaceInputs, now: Date, cache: ParsedResourceCache?) {
            self.inputs = inputs
            self.now = now
            self.cache = cache
        }

        /// Records `object` as exhausted when its status says so for the budget period in force.
        mutating func noteExhaustion(_ object: KubeObject, kind: String) {
            guard object.status?["budgetExhausted"]?.boolValue == true, let period = BudgetPeriods.period(of: object, now: now),
                object.status?["periodStart"]?.stringValue == period.start, (object.status?["spend"]?.doubleValue ?? 0) >= period.usd
            else { return }
            exhaustedBudgets.append("\(kind)/\(object.name)")
        }

        mutating func compile() -> NamespaceCompilation {
            var readyProviders: [String: LLMProvider] = [:]
            var providerNotReady: [String: String] = [:]
            for object in inputs.providers.sorted(by: Self.creationOrder) {
                let (bundle, problems) = read(object)
                var resolved: [Condition] = []
                if let provider = bundle.providers.first {
                    if case .secret(let reference)? = provider.spec.auth?.apiKey {
                        let (value, failure) = resolve(reference, field: "spec.auth.apiKey.secretRef")
                        if let value { credentials[PolicySnapshot.credentialKey(reference)] = value }
                        resolved = failure.map { [$0] } ?? []
                    }
                    if resolved.isEmpty { resolved = [Condition(.resolvedRefs, true, reason: "ResolvedRefs", message: "Every reference resolves")] }
                }
                let status = finish(object, problems: problems, resolved: resolved.first)
                if status.isReady, let provider = bundle.providers.first {
                    readyProviders[object.name] = provider
                    self.bundle.providers.append(provider)
                } else {
                    providerNotReady[object.name] = status.condition(.ready)?.message ?? "not ready"
                }
                entries.append(.init(type: .llmProviders, object: object, status: status))
            }

            var claimed: [String: String] = [:]
            for object in inputs.routes.sorted(by: Self.creationOrder) {
                let (bundle, problems) = read(object)
                var resolved: Condition?
                var readyBackends = 0
                var accepted = problems
                if let route = bundle.routes.first {
                    var missing: [String] = []
                    for (index, backend) in route.spec.backends.enumerated() {
                        if readyProviders[backend.provider] != nil {
                            readyBackends += 1
                        } else if let why = providerNotReady[backend.provider] {
                            missing.append("spec.backends[\(index)]: LLMProvider \"\(backend.provider)\" is not ready (\(why))")
                        } else {
                            missing.append("spec.backends[\(index)]: LLMProvider \"\(backend.provider)\" does not exist in namespace \(inputs.namespace)")
                        }
                    }
                    let anyMissing = route.spec.backends.contains { readyProviders[$0.provider] == nil && providerNotReady[$0.provider] == nil }
                    resolved = missing.isEmpty
                        ? Condition(.resolvedRefs, true, reason: "ResolvedRefs", message: "Every backend's provider is ready")
                        : Condition(.resolvedRefs, false, reason: anyMissing ? "BackendNotFound" : "BackendNotReady", message: missing.joined(separator: "; "))
                    let headerKey = route.spec.match.headers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                    for name in route.spec.exposedModelNames where !name.isEmpty {
                        let claim = name + "|" + headerKey
                        if let owner = claimed[claim], owner != object.name {
                            accepted.append(ConfigProblem(fieldPath: "spec.match", message: "model name \"\(name)\" is already routed by LLMRoute \"\(owner)\"; rename it or add a header match"))
                        }
                    }
                    if accepted.isEmpty { for name in route.spec.exposedModelNames { claimed[name + "|" + headerKey] = object.name } }
                }
                var status = finish(object, problems: accepted, resolved: resolved, conflict: accepted.count > problems.count)
                status.backends = readyBackends
                if status.isReady, let route = bundle.routes.first { self.bundle.routes.append(route) }
                entries.append(.init(type: .llmRoutes, object: object, status: status))
            }

            for object in inputs.virtualKeys.sorted(by: Self.creationOrder) {
                let (bundle, problems) = read(object)
                var resolved: Condition?
                var key = bundle.virtualKeys.first
                if let reference = key?.spec.secretRef {
                    let (value, failure) = resolve(reference, field: "spec.secretRef")
                    if let value {
                        key?.spec.secretRef = nil
                        key?.spec.keyHash = "sha256:" + SHA256.hash(data: Data(value.utf8)).map { String(format: "%02x", $0) }.joined()
                    }
                    resolved = failure
                }
                if key != nil && resolved == nil { resolved = Condition(.resolvedRefs, true, reason: "ResolvedRefs", message: "Every reference resolves") }
                let status = finish(object, problems: problems, resolved: resolved)
                if status.isReady, let key {
                    self.bundle.virtualKeys.append(key)
                    noteExhaustion(object, kind: "VirtualKey")
                }
                entries.append(.init(type: .virtualKeys, object: object, status: status))
            }

            for object in inputs.policies.sorted(by: Self.creationOrder) {
                let (bundle, problems) = read(object)
                let resolved = bundle.policies.isEmpty ? nil : Condition(.resolvedRefs, true, reason: "ResolvedRefs", message: "The policy refers to nothing else")
                let status = finish(object, problems: problems, resolved: resolved)
                if status.isReady, let policy = bundle.policies.first {
                    self.bundle.policies.append(policy)
                    noteExhaustion(object, kind: "LLMPolicy")
                }
                entries.append(.init(type: .llmPolicies, object: object, status: status))
            }
            return NamespaceCompilation(entries: entries, bundle: bundle, credentials: credentials, exhaustedBudgets: exhaustedBudgets.sorted(), referencedSecrets: referencedSecrets)
        }

        /// Reads the object with the same code as the standalone file, after dropping server-managed metadata; an
        /// object whose spec, labels and name did not change is not read again.
        private func read(_ object: KubeObject) -> (PolicyBundle, [ConfigProblem]) {
            let fingerprint = ParsedResourceCache.fingerprint(object)
            if let cached = cache?.lookup(fingerprint) { return cached }
            let result = parse(object)
            cache?.store(fingerprint, result)
            return result
        }

        private func parse(_ object: KubeObject) -> (PolicyBundle, [ConfigProblem]) {
            ResourceValidation.read(object.json, loader: loader)
        }

        /// Resolves a Secret key: its value, or the failed `ResolvedRefs` condition naming what is missing.
        private mutating func resolve(_ reference: SecretKeyReference, field: String) -> (String?, Condition?) {
            referencedSecrets.insert(reference.name)
            guard let secret = inputs.secrets[reference.name] else {
                return (nil, Condition(.resolvedRefs, false, reason: "SecretNotFound", message: "\(field): Secret \"\(reference.name)\" does not exist in namespace \(inputs.namespace)"))
            }
            guard let value = secret[reference.key], !value.isEmpty else {
                let keys = secret.keys.sorted().joined(separator: ", ")
                return (nil, Condition(.resolvedRefs, false, reason: "SecretKeyNotFound", message: "\(field): Secret \"\(reference.name)\" has no key \"\(reference.key)\" (keys: \(keys.isEmpty ? "none" : keys))"))
            }
            return (value, nil)
        }

        private func finish(_ object: KubeObject, problems: [ConfigProblem], resolved: Condition?, conflict: Bool = false) -> ResourceStatus {
            let accepted: Condition
            if problems.isEmpty {
                accepted = Condition(.accepted, true, reason: "Accepted", message: "The spec is valid")
            } else {
                accepted = Condition(.accepted, false, reason: conflict ? "ModelAlreadyRouted" : "InvalidSpec", message: ResourceValidation.describe(problems))
            }
            let resolvedRefs = resolved ?? Condition(.resolvedRefs, false, reason: "NotChecked", message: "References are checked once the spec is valid")
            let ready: Condition
            if !accepted.status {
                ready = Condition(.ready, false, reason: accepted.reason, message: accepted.message)
            } else if !resolvedRefs.status {
                ready = Condition(.ready, false, reason: resolvedRefs.reason, message: resolvedRefs.message)
            } else {
                ready = Condition(.ready, true, reason: "Ready", message: "Sidecars in namespace \(inputs.namespace) enforce it")
            }
            return ResourceStatus(conditions: [accepted, resolvedRefs, ready], observedGeneration: object.generation)
        }

        static func creationOrder(_ lhs: KubeObject, _ rhs: KubeObject) -> Bool {
            let left = lhs.json[path: "metadata.creationTimestamp"]?.stringValue ?? ""
            let right = rhs.json[path: "metadata.creationTimestamp"]?.stringValue ?? ""
            return left == right ? lhs.name < rhs.name : left < right
        }
    }
}
