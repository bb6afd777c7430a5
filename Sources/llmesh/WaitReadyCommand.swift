import ArgumentParser
import AsyncHTTPClient
import Foundation
import LLMeshModel

/// `llmesh wait-ready`: waits until a URL answers 200; the `postStart` hook of a non-native sidecar, so the app
/// containers start only once the sidecar serves.
struct WaitReadyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait-ready",
        abstract: "Wait until a URL (the sidecar's /readyz) answers 200, or fail after a timeout."
    )

    @Option(name: .long, help: "URL to poll.")
    var url = "http://127.0.0.1:15090/readyz"

    @Option(name: .long, help: "Give up after this long, for example 60s.")
    var timeout = "60s"

    func run() async throws {
        guard let limit = TimeSpan(parsing: timeout) else { throw ValidationError("--timeout must be a duration such as 60s") }
        let deadline = ContinuousClock.now + limit.duration
        while ContinuousClock.now < deadline {
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(1)), response.status == .ok { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        FileHandle.standardError.write(Data("\(url) did not answer 200 within \(timeout)\n".utf8))
        throw ExitCode(1)
    }
}
