import ArgumentParser
import Foundation
import LLMeshModel

/// `llmesh crds`: prints or writes the CustomResourceDefinitions generated from the Swift types.
struct CRDsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crds",
        abstract: "Print the llmesh CustomResourceDefinitions (generated from the same types that read the YAML file)."
    )

    @Option(name: .customLong("output-dir"), help: "Write one file per CRD (llmesh.io_<plural>.yaml) into this directory instead of printing.")
    var outputDirectory: String?

    @Flag(name: .long, help: "Print the field reference of docs/crds.md instead of the CRDs.")
    var markdown = false

    func run() throws {
        if markdown {
            print(CRDReference.markdown(), terminator: "")
            return
        }
        for descriptor in CustomResourceDefinitions.descriptors {
            let text = try CustomResourceDefinitions.yaml(for: descriptor)
            if let outputDirectory {
                let path = URL(fileURLWithPath: outputDirectory).appendingPathComponent(CustomResourceDefinitions.fileName(for: descriptor))
                try Data(text.utf8).write(to: path)
            } else {
                print(text, terminator: "")
            }
        }
    }
}
