import Yams

/// Reads a standalone llmesh configuration: a multi-document YAML file of llmesh resources.
///
/// Loading never stops at the first mistake. It reads every document, checks every field and every
/// cross-reference, and either returns a complete ``PolicyBundle`` or throws a ``ConfigValidationError``
/// listing all problems, so a bad file is never half-applied.
public struct ConfigFileLoader: Sendable {
    /// Files larger than this are refused before parsing.
    public var maximumBytes: Int

    public init(maximumBytes: Int = 8 * 1024 * 1024) {
        self.maximumBytes = maximumBytes
    }

    /// Parses and validates YAML text.
    public func load(yaml text: String) throws(ConfigValidationError) -> PolicyBundle {
        guard text.utf8.count <= maximumBytes else {
            throw ConfigValidationError(problems: [ConfigProblem(fieldPath: "", message: "file is \(text.utf8.count) bytes; the limit is \(maximumBytes)")])
        }
        var bundle = PolicyBundle()
        var problems: [ConfigProblem] = []
        var locations: [String: (document: Int, line: Int?)] = [:]

        let documents: YamlSequence<Node>
        do {
            documents = try compose_all(yaml: text)
        } catch {
            throw ConfigValidationError(problems: [Self.problem(fromYAMLError: error, document: nil)])
        }
        var index = 0
        var iterator = documents.makeIterator()
        while let node = iterator.next() {
            index += 1
            let collector = ProblemCollector(documentIndex: index)
            if let resource = Self.read(document: node, into: &bundle, collector: collector) {
                locations[resource] = (index, node.mark?.line)
            }
            problems += collector.problems
        }
        if let error = iterator.error {
            problems.append(Self.problem(fromYAMLError: error, document: index + 1))
        }
        if index == 0 && problems.isEmpty {
            problems.append(ConfigProblem(fieldPath: "", message: "the file holds no resources"))
        } else if bundle.count == 0 && problems.isEmpty {
            problems.append(ConfigProblem(fieldPath: "", message: "the file holds no llmesh resources"))
        }
        problems += bundle.crossReferenceProblems { locations[$0] }
        guard problems.isEmpty else { throw ConfigValidationError(problems: problems) }
        return bundle
    }

    /// Reads one resource (for example a Kubernetes object serialised as JSON) without cross-reference checks, which
    /// need its neighbours: the bundle holds the resource when it is valid, and `problems` lists what is wrong.
    public func readResource(yaml text: String) -> (bundle: PolicyBundle, problems: [ConfigProblem]) {
        guard text.utf8.count <= maximumBytes else {
            return (PolicyBundle(), [ConfigProblem(fieldPath: "", message: "resource is \(text.utf8.count) bytes; the limit is \(maximumBytes)")])
        }
        let node: Node?
        do {
            node = try compose(yaml: text)
        } catch {
            return (PolicyBundle(), [Self.problem(fromYAMLError: error, document: nil)])
        }
        guard let node else { return (PolicyBundle(), [ConfigProblem(fieldPath: "", message: "empty resource")]) }
        var bundle = PolicyBundle()
        let collector = ProblemCollector(documentIndex: nil)
        _ = Self.read(document: node, into: &bundle, collector: collector)
        return collector.problems.isEmpty ? (bundle, []) : (PolicyBundle(), collector.problems)
    }

    /// Reads one document, appends its resource to `bundle` and returns its `Kind/name`.
    private static func read(document node: Node, into bundle: inout PolicyBundle, collector: ProblemCollector) -> String? {
        if case .scalar(let scalar) = node, scalar.tag == Tag(.null) || scalar.string.isEmpty { return nil }
        if isOtherAPIGroup(node) { return nil }
        var top = FieldReader(node, path: "", problems: collector)
        guard case .mapping = node else { return nil }
        let kind = top.string("kind", required: true)
        let apiVersion = top.string("apiVersion", required: true)
        let metadata = top.object("metadata", required: true) { readMetadata(&$0) } ?? nil
        if let name = metadata?.name { collector.resource = "\(kind ?? "?")/\(name)" }
        if let apiVersion, apiVersion != llmeshAPIVersion {
            top.report("apiVersion", "must be \(llmeshAPIVersion), got \"\(apiVersion)\"")
        }
        guard let kind else {
            top.finish()
            return nil
        }
        func readSpec<Spec: YAMLReadableSpec>(_ type: Spec.Type) -> Resource<Spec>? {
            let spec = top.object("spec", required: true) { Spec(reading: &$0) }
            top.value("status").map { _ in () }
            guard let spec, let metadata else { return nil }
            return Resource(metadata: metadata, spec: spec)
        }
        var reference: String?
        switch kind {
        case LLMProviderSpec.kind:
            if let resource = readSpec(LLMProviderSpec.self) { bundle.providers.append(resource); reference = resource.reference }
        case LLMRouteSpec.kind:
            if let resource = readSpec(LLMRouteSpec.self) { bundle.routes.append(resource); reference = resource.reference }
        case VirtualKeySpec.kind:
            if let resource = readSpec(VirtualKeySpec.self) { bundle.virtualKeys.append(resource); reference = resource.reference }
        case LLMPolicySpec.kind:
            if let resource = readSpec(LLMPolicySpec.self) { bundle.policies.append(resource); reference = resource.reference }
        default:
            top.report("kind", "must be one of LLMProvider, LLMRoute, VirtualKey, LLMPolicy, got \"\(kind)\"")
            _ = top.value("spec")
            _ = top.value("status")
        }
        top.finish()
        return reference
    }

    /// Documents of other API groups (a Secret or a Deployment next to llmesh resources in one manifest) belong to
    /// Kubernetes, not to llmesh: they are skipped. A misspelt llmesh group is still an error.
    private static func isOtherAPIGroup(_ node: Node) -> Bool {
        guard case .mapping(let mapping) = node, let apiVersion = mapping["apiVersion"]?.string else { return false }
        let group = apiVersion.contains("/") ? String(apiVersion.prefix { $0 != "/" }) : ""
        return !group.contains("llmesh") && !group.contains("llmsh") && !group.hasPrefix("llm")
    }

    private static func readMetadata(_ reader: inout FieldReader) -> ObjectMeta? {
        let name = reader.string("name", required: true)
        let namespace = reader.string("namespace")
        let labels = reader.stringMap("labels")
        let annotations = reader.stringMap("annotations")
        let generation = reader.int("generation")
        for ignored in ["uid", "resourceVersion", "creationTimestamp", "managedFields", "finalizers", "ownerReferences", "generateName", "deletionTimestamp"] {
            _ = reader.value(ignored)
        }
        guard let name else { return nil }
        if !KubernetesName.isValid(name) {
            reader.report("name", "must be a lowercase DNS-1123 name (a-z, 0-9, '-', '.', at most 253 characters), got \"\(name)\"")
        }
        return ObjectMeta(name: name, namespace: namespace, labels: labels, annotations: annotations, generation: generation)
    }

    private static func problem(fromYAMLError error: any Error, document: Int?) -> ConfigProblem {
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                return ConfigProblem(documentIndex: document, line: mark.line, fieldPath: "", message: "YAML syntax error: \(problem) (column \(mark.column))")
            case .duplicatedKeysInMapping(let duplicates, _):
                return ConfigProblem(documentIndex: document, fieldPath: "", message: "YAML mapping repeats keys: \(duplicates.joined(separator: ", "))")
            default:
                break
            }
        }
        return ConfigProblem(documentIndex: document, fieldPath: "", message: "YAML error: \(error)")
    }
}

/// Kubernetes object-name rules (DNS-1123 subdomain).
enum KubernetesName {
    static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let allowed = name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 46 }
        guard allowed, let first = name.utf8.first, let last = name.utf8.last else { return false }
        return first != 45 && first != 46 && last != 45 && last != 46
    }
}
