import Foundation

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny seeded generator, so every fuzz run replays the same cases.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    public mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }

    public mutating func chance(_ percent: Int) -> Bool { int(0..<100) < percent }

    public mutating func pick<Element>(_ elements: [Element]) -> Element { elements[int(0..<elements.count)] }
}

/// One generated case: its own generator, derived from the suite's seed and the case number, and the label that
/// failure messages carry so a failing case can be replayed.
public struct FuzzCase {
    public let seed: UInt64
    public let index: Int
    public var rng: SplitMix64

    public init(seed: UInt64, index: Int) {
        self.seed = seed
        self.index = index
        rng = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03))
    }

    public var label: String { "seed 0x\(String(seed, radix: 16)) case \(index)" }
}

/// Runs generated cases. A trap kills the test process before any message is printed, so with
/// `LLMESH_FUZZ_TRACE=1` every case's label goes to stderr before it runs: the last line names the crashing case.
public enum Fuzz {
    static let trace = ProcessInfo.processInfo.environment["LLMESH_FUZZ_TRACE"] != nil

    /// Runs `count` cases of `body`, yielding between cases. Seconds of CPU-bound work must not hold a thread of
    /// the cooperative pool: tests running beside it, whose servers answer on that pool, would stall behind it.
    public static func run(_ name: String, seed: UInt64, count: Int, _ body: (inout FuzzCase) -> Void) async {
        for index in 0..<count {
            var fuzzCase = FuzzCase(seed: seed, index: index)
            if trace { FileHandle.standardError.write(Data("fuzz \(name) \(fuzzCase.label)\n".utf8)) }
            body(&fuzzCase)
            await Task.yield()
        }
    }

    /// Runs `body` once per element, yielding between elements, for exhaustive loops as heavy as a fuzz run.
    public static func each<Element>(_ elements: some Sequence<Element>, _ body: (Element) -> Void) async {
        for element in elements {
            body(element)
            await Task.yield()
        }
    }
}
