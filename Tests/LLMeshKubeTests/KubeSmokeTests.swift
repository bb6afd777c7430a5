import Testing
@testable import LLMeshKube

@Test func apiGroupIsLLMesh() {
    #expect(LLMeshAPIGroup.group == "llmesh.io")
}
