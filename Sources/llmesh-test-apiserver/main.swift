import Foundation
import LLMeshKubeTestSupport

// Runs the in-process test API server as a process, for end-to-end tests that drive it with kubectl:
//   llmesh-test-apiserver [--port N] [--kubeconfig PATH] [--history N]
// Prints the bound port on the first line of standard output and runs until SIGTERM or SIGINT.
var options = TestAPIServer.Options()
var kubeconfig: String?
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--port": options.port = arguments.next().flatMap(Int.init) ?? 0
    case "--kubeconfig": kubeconfig = arguments.next()
    case "--history": options.historyLimit = arguments.next().flatMap(Int.init) ?? options.historyLimit
    default:
        FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
        exit(64)
    }
}
let server = try await TestAPIServer.start(options: options)
if let kubeconfig { try server.writeKubeconfig(to: kubeconfig) }
FileHandle.standardOutput.write(Data("\(server.port)\n".utf8))
// SIGTERM and SIGINT end the process with their default action; everything lives in memory.
while true {
    try await Task.sleep(for: .seconds(3600))
}
