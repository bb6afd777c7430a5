import LLMeshModel
import NIOConcurrencyHelpers
import Testing
@testable import LLMeshLimits

@Suite struct LocalCounterStoreTests {
    @Test func admitsAllChargesOrNone() {
        let store = LocalCounterStore()
        let charges = [CounterCharge(key: "req", amount: 1, limit: 2, ttlSeconds: 60), CounterCharge(key: "tok", amount: 60, limit: 100, ttlSeconds: 60)]
        #expect(store.charge(charges) == .admitted(values: [1, 60]))
        #expect(store.charge(charges) == .refused(index: 1, current: 60))
        // The refused request took nothing: the request counter is still 1.
        #expect(store.values(["req", "tok"]) == [1, 60])
        store.adjust([("tok", -50, 60)])
        #expect(store.charge(charges) == .admitted(values: [2, 70]))
        #expect(store.charge(charges) == .refused(index: 0, current: 2))
    }

    @Test func countersExpire() {
        let now = NIOLockedValueBox(ContinuousClock.now)
        let store = LocalCounterStore(clock: { now.withLockedValue { $0 } })
        #expect(store.charge([CounterCharge(key: "k", amount: 5, limit: 5, ttlSeconds: 10)]) == .admitted(values: [5]))
        #expect(store.charge([CounterCharge(key: "k", amount: 1, limit: 5, ttlSeconds: 10)]) == .refused(index: 0, current: 5))
        now.withLockedValue { $0 += .seconds(11) }
        #expect(store.charge([CounterCharge(key: "k", amount: 1, limit: 5, ttlSeconds: 10)]) == .admitted(values: [1]))
    }

    @Test func concurrentChargesNeverPassTheLimit() async {
        let store = LocalCounterStore()
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<500 {
                group.addTask {
                    if case .admitted = store.charge([CounterCharge(key: "k", amount: 1, limit: 37, ttlSeconds: 60)]) { return true }
                    return false
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 37)
    }
}

@Suite struct LimitWindowTests {
    @Test func fixedWindowsAlignToTheirLength() {
        #expect(LimitWindow.fixed(length: 60, at: 120) == (2, 60))
        #expect(LimitWindow.fixed(length: 60, at: 179) == (2, 1))
        #expect(LimitWindow.fixed(length: 60, at: 180) == (3, 60))
    }

    // 2026-11-22T11:00:00Z is a Sunday.
    let sunday: Int64 = 1_795_345_200

    @Test func dailyWindowsEndAtMidnightUTC() {
        let window = LimitWindow.budget(.daily, at: sunday)
        #expect(window.label == "2026-11-22")
        #expect(window.end == 1_795_392_000)  // 2026-11-23T00:00:00Z
        #expect(LimitWindow.budget(.daily, at: window.end).label == "2026-11-23")
        #expect(LimitWindow.budget(.daily, at: window.end - 1).label == "2026-11-22")
    }

    @Test func weeklyWindowsStartOnMonday() {
        let window = LimitWindow.budget(.weekly, at: sunday)
        #expect(window.label == "week-2026-11-16")
        #expect(window.end == 1_795_392_000)  // Monday 2026-11-23
        #expect(LimitWindow.budget(.weekly, at: window.end).label == "week-2026-11-23")
    }

    @Test func monthlyWindowsRollOverTheYearAndLeapDays() {
        #expect(LimitWindow.budget(.monthly, at: sunday).label == "2026-11")
        let december = LimitWindow.budget(.monthly, at: 1_798_761_599)  // 2026-12-31T23:59:59Z
        #expect(december.label == "2026-12")
        #expect(december.end == 1_798_761_600)  // 2027-01-01
        let leap = LimitWindow.budget(.monthly, at: 1_709_164_800)  // 2024-02-29T00:00:00Z
        #expect(leap.label == "2024-02")
        #expect(leap.end == 1_709_251_200)  // 2024-03-01
    }
}

@Suite struct RESPParserTests {
    func parseAll(_ text: String) throws -> [RESPValue] {
        var parser = RESPParser()
        parser.feed(Array(text.utf8))
        var values: [RESPValue] = []
        while let value = try parser.next() { values.append(value) }
        return values
    }

    @Test func parsesEveryType() throws {
        let values = try parseAll("+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n:1\r\n$0\r\n\r\n*-1\r\n")
        #expect(values == [.simpleString("OK"), .error("ERR bad"), .integer(42), .bulkString(Array("hello".utf8)), .bulkString(nil), .array([.integer(1), .bulkString([])]), .array(nil)])
    }

    @Test func waitsForMoreBytesAtEverySplit() throws {
        let text = Array("*3\r\n:0\r\n$3\r\nabc\r\n:-7\r\n".utf8)
        for split in 1..<text.count {
            var parser = RESPParser()
            parser.feed(text[0..<split])
            #expect(try parser.next() == nil, "split \(split)")
            parser.feed(text[split...])
            #expect(try parser.next() == .array([.integer(0), .bulkString(Array("abc".utf8)), .integer(-7)]))
        }
    }

    @Test(arguments: ["?x\r\n", ":abc\r\n", "$3\r\nabcd\r\n", "$-5\r\n", "*-3\r\n", "+OK\rX", "$999999999999\r\n"])
    func refusesMalformedReplies(text: String) {
        #expect(throws: RESPParseError.self) { try parseAll(text) }
    }

    @Test func refusesDeepNestingAndHugeLines() {
        #expect(throws: RESPParseError.self) { try parseAll(String(repeating: "*1\r\n", count: 40) + ":1\r\n") }
        #expect(throws: RESPParseError.self) { try parseAll("+" + String(repeating: "a", count: 70_000)) }
    }

    @Test func encodesCommandsAsBulkArrays() {
        #expect(RESPValue.command(["GET", "k"]) == Array("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".utf8))
    }
}
