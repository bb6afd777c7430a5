import Testing
@testable import LLMeshOperator

@Test func portsFollowTheDesign() {
    #expect(OperatorPorts.https == 8443)
}
