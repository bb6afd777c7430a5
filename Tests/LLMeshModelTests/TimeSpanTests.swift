import Testing
@testable import LLMeshModel

@Suite struct TimeSpanTests {
    @Test(arguments: [("500ms", 500), ("30s", 30_000), ("2m", 120_000), ("1h30m", 5_400_000), ("1.5s", 1500), ("0", 0), (" 10s ", 10_000)])
    func parsesKubernetesDurations(text: String, milliseconds: Int64) {
        #expect(TimeSpan(parsing: text)?.milliseconds == milliseconds)
    }

    @Test(arguments: ["", "10", "-5s", "5x", "s", "1..5s", "10 s", "ms", "99999999999999999h"])
    func refusesMalformedDurations(text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test func printsTheShortestUnit() {
        #expect(TimeSpan(milliseconds: 120_000).description == "2m")
        #expect(TimeSpan(milliseconds: 1500).description == "1500ms")
        #expect(TimeSpan(milliseconds: 7_200_000).description == "2h")
        #expect(TimeSpan(milliseconds: 0).description == "0s")
    }
}
