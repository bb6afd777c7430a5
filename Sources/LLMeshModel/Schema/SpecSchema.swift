import Yams

/// The OpenAPI schema of each llmesh kind's `spec`, recorded from the same readers that load the standalone file.
public enum SpecSchema {
    /// The `spec` schema of `kind`, or `nil` for a kind llmesh does not define.
    public static func of(kind: String) -> OpenAPISchema? {
        switch kind {
        case LLMProviderSpec.kind: return describe(LLMProviderSpec.self)
        case LLMRouteSpec.kind: return describe(LLMRouteSpec.self)
        case VirtualKeySpec.kind: return describe(VirtualKeySpec.self)
        case LLMPolicySpec.kind: return describe(LLMPolicySpec.self)
        default: return nil
        }
    }

    static func describe<Spec: YAMLReadableSpec>(_ type: Spec.Type) -> OpenAPISchema {
        let collector = ProblemCollector(documentIndex: nil, recordsSchema: true)
        var reader = FieldReader(.mapping(Node.Mapping([])), path: "", problems: collector)
        _ = Spec(reading: &reader)
        return reader.schema?.objectSchema ?? .object()
    }
}
