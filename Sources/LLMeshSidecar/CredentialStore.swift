import Foundation
import LLMeshModel
import NIOConcurrencyHelpers

/// API keys for upstream providers, read from files or the environment.
///
/// Key files are re-read on every ``refresh(sources:)`` (the config watcher calls it each tick), so rotating
/// a mounted Secret takes effect without a restart. Key values never leave this type except to be attached
/// to an upstream request; they are never logged or dumped.
public final class CredentialStore: Sendable {
    private let fileKeys = NIOLockedValueBox<[String: String]>([:])
    /// Keys the operator resolved from Secrets, from the snapshot in force, keyed `secretName/key`.
    private let snapshotKeys = NIOLockedValueBox<[String: String]>([:])
    private let environment: @Sendable (String) -> String?

    /// - Parameter environment: looks up a variable; by default in this process's environment, copied once here
    ///   (a process's environment does not change under it, and `ProcessInfo.environment` builds a whole dictionary
    ///   on every call, which cost more than the rest of a request's credential handling).
    public init(environment: (@Sendable (String) -> String?)? = nil) {
        if let environment {
            self.environment = environment
        } else {
            let variables = ProcessInfo.processInfo.environment
            self.environment = { variables[$0] }
        }
    }

    /// The key for `source`, or a reason it is unavailable.
    public func key(for source: APIKeySource) -> Result<String, CredentialUnavailable> {
        switch source {
        case .file(let path):
            if let key = fileKeys.withLockedValue({ $0[path] }) { return .success(key) }
            let loaded = Self.readKey(path: path)
            if case .success(let key) = loaded { fileKeys.withLockedValue { $0[path] = key } }
            return loaded
        case .environment(let name):
            guard let value = environment(name), !value.isEmpty else {
                return .failure(CredentialUnavailable(reason: "environment variable \(name) is not set"))
            }
            return .success(value)
        case .secret(let reference):
            if let key = snapshotKeys.withLockedValue({ $0[PolicySnapshot.credentialKey(reference)] }) { return .success(key) }
            return .failure(CredentialUnavailable(reason: "Secret \(reference.name) key \(reference.key) is not in the operator's snapshot"))
        }
    }

    /// Replaces the keys resolved by the operator (with each applied snapshot).
    public func setSnapshotKeys(_ keys: [String: String]) {
        snapshotKeys.withLockedValue { $0 = keys }
    }

    /// Re-reads every key file named by `sources`; files that cannot be read keep their last good value.
    public func refresh(sources: [APIKeySource]) {
        var updated: [String: String] = [:]
        for case .file(let path) in sources {
            if case .success(let key) = Self.readKey(path: path) { updated[path] = key }
        }
        fileKeys.withLockedValue { keys in
            for (path, key) in updated { keys[path] = key }
        }
    }

    /// Whether a key is available for `source`, for `/config_dump`.
    public func isAvailable(_ source: APIKeySource) -> Bool {
        if case .success = key(for: source) { return true }
        return false
    }

    private static func readKey(path: String) -> Result<String, CredentialUnavailable> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(CredentialUnavailable(reason: "key file \(path) cannot be read"))
        }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else { return .failure(CredentialUnavailable(reason: "key file \(path) is empty")) }
        guard !key.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            return .failure(CredentialUnavailable(reason: "key file \(path) holds more than one line"))
        }
        return .success(key)
    }
}

/// Why a provider credential cannot be had; the text names the source, never a value.
public struct CredentialUnavailable: Error, Sendable {
    public var reason: String
}
