import Testing
@testable import LLMeshKube

@Suite struct WorkQueueTests {
    @Test func deduplicatesWaitingKeys() async {
        let queue = WorkQueue<String>()
        await queue.add("a")
        await queue.add("b")
        await queue.add("a")
        #expect(await queue.depth == 2)
        #expect(await queue.next() == "a")
        #expect(await queue.next() == "b")
    }

    @Test func keyChangedDuringProcessingComesBackOnceDone() async {
        let queue = WorkQueue<String>()
        await queue.add("a")
        let key = await queue.next()
        #expect(key == "a")
        await queue.add("a")
        #expect(await queue.depth == 0, "a key being processed is not handed out twice")
        await queue.done("a")
        #expect(await queue.depth == 1)
        #expect(await queue.next() == "a")
    }

    @Test func rateLimitedRequeueBacksOffAndForgetResets() async {
        let queue = WorkQueue<String>(baseDelay: .milliseconds(1), maximumDelay: .milliseconds(20))
        await queue.addRateLimited("a")
        await queue.addRateLimited("a")
        #expect(await queue.failureCount("a") == 2)
        #expect(await queue.next() == "a")
        await queue.forget("a")
        #expect(await queue.failureCount("a") == 0)
    }

    @Test func shutDownReleasesWaitingConsumers() async {
        let queue = WorkQueue<String>()
        async let waiting = queue.next()
        try? await Task.sleep(for: .milliseconds(20))
        await queue.shutDown()
        #expect(await waiting == nil)
    }

    @Test func backoffGrowsToItsCapAndResets() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(400))
        let waits = (0..<5).map { _ in backoff.next() }
        #expect(waits[0] <= .milliseconds(100) && waits[0] >= .milliseconds(50))
        #expect(waits[4] <= .milliseconds(400) && waits[4] >= .milliseconds(200))
        backoff.reset()
        #expect(backoff.next() <= .milliseconds(100))
    }

    @Test func microTimeHasSixFractionalDigits() {
        let text = MicroTime.now()
        #expect(text.hasSuffix("Z"))
        let fraction = text.split(separator: ".").last.map { $0.dropLast() }
        #expect(fraction?.count == 6)
        #expect(text.count == 27)
    }
}
