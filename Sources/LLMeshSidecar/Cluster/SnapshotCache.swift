import Foundation
import LLMeshModel

/// The last good snapshot on disk: written atomically (temporary file, then rename) with owner-only permissions,
/// because it carries provider API keys; read at start when the operator cannot be reached.
enum SnapshotCache {
    static func read(path: String) -> PolicySnapshot? {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 64 * 1024 * 1024 else { return nil }
        return try? JSONDecoder().decode(PolicySnapshot.self, from: data)
    }

    static func write(_ snapshot: PolicySnapshot, path: String) throws {
        let data = try JSONEncoder().encode(snapshot)
        let temporary = "\(path).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CocoaError(.fileWriteUnknown)
        }
    }
}
