import Foundation
import Testing
@testable import LLMeshModel

@Suite struct CRDGenerationTests {
    @Test func everySpecFieldHasADescription() {
        #expect(CustomResourceDefinitions.undocumentedFields() == [])
    }
}

@Suite struct CommittedCRDTests {
    /// `crds/` must be exactly what the Swift types generate; regenerate with `llmesh crds --output-dir crds`.
    @Test(arguments: CustomResourceDefinitions.descriptors.map(\.kind))
    func committedCRDMatchesTheTypes(kind: String) throws {
        let descriptor = try #require(CustomResourceDefinitions.descriptors.first { $0.kind == kind })
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = repository.appendingPathComponent("crds").appendingPathComponent(CustomResourceDefinitions.fileName(for: descriptor))
        let committed = try String(contentsOf: file, encoding: .utf8)
        #expect(committed == (try CustomResourceDefinitions.yaml(for: descriptor)), "crds/ is stale: run `llmesh crds --output-dir crds`")
    }

    @Test func schemaCarriesTheReadersConstraints() throws {
        let route = try #require(CustomResourceDefinitions.descriptors.first { $0.kind == "LLMRoute" })
        let spec = CustomResourceDefinitions.specSchema(for: route)
        #expect(spec.required.contains("match"))
        #expect(spec.required.contains("backends"))
        let backends = try #require(spec.property("backends"))
        #expect(backends.minItems == 1)
        #expect(backends.items?.required == ["provider"])
        #expect(spec.property("strategy")?.enumValues == SelectionStrategy.allCases.map(\.rawValue))
        #expect(spec.property("retry")?.property("attempts")?.maximum == 10)
        #expect(spec.property("timeout")?.pattern != nil)
        #expect(spec.property("fallbackOn")?.items?.enumValues == FailureTrigger.allCases.map(\.rawValue))
        #expect(!spec.validations.isEmpty)
    }

    @Test func statusHasConditionsAsAMapList() throws {
        let key = try #require(CustomResourceDefinitions.descriptors.first { $0.kind == "VirtualKey" })
        let status = CustomResourceDefinitions.statusSchema(for: key)
        #expect(status.property("conditions")?.listMapKeys == ["type"])
        #expect(status.property("spend")?.type == "number")
    }
}

@Suite struct CRDReferenceDocTests {
    /// docs/crds.md carries the generated field reference; regenerate with `llmesh crds --markdown`.
    @Test func docsCarryTheCurrentFieldReference() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: repository.appendingPathComponent("docs/crds.md"), encoding: .utf8)
        let start = try #require(text.range(of: CRDReference.beginMarker))
        let end = try #require(text.range(of: CRDReference.endMarker))
        let committed = String(text[start.lowerBound..<end.upperBound]) + "\n"
        #expect(committed == CRDReference.markdown(), "docs/crds.md is stale: replace its generated part with `llmesh crds --markdown`")
    }
}
