/// The Kubernetes API group of llmesh's own resources.
public enum LLMeshAPIGroup {
    /// `llmesh.io`.
    public static let group = "llmesh.io"
    /// `v1alpha1`.
    public static let version = "v1alpha1"
}
