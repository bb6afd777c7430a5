import Foundation

/// The selected profile of the AWS shared files, as the AWS SDKs find it.
///
/// - Files: `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`) and `AWS_CONFIG_FILE` (default
///   `~/.aws/config`); `~` is `HOME`. A missing file is no error; an unreadable or malformed one is.
/// - Profile: `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default`. In the credentials file its section is
///   `[name]`; in the config file `[profile name]` (or `[default]`). A profile named in the environment that neither
///   file has is an error, as in botocore; a missing `default` profile is not.
/// - Settings: the credentials file's win over the config file's for the same key.
struct AWSSharedConfig: Sendable, Equatable {
    static let source = "profile"

    /// The profile's name.
    var profile: String
    /// Its settings from both files, keys lowercased.
    var settings: [String: String]
    /// The config file's settings alone (where botocore reads `region`).
    var configSettings: [String: String]

    /// The selected profile, or nil when no file has it and none was asked for.
    static func load(environment: AWSEnvironment) throws(AWSCredentialError) -> AWSSharedConfig? {
        let named = environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"]
        let profile = named ?? "default"
        let credentialsPath = path(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", environment: environment)
        let configPath = path(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", environment: environment)
        let credentialsFile = try read(credentialsPath)
        let configFile = try read(configPath)
        let fromCredentials = credentialsFile?.sections[profile]
        let fromConfig = configFile?.sections[profile == "default" ? "default" : "profile \(profile)"]
            ?? (profile == "default" ? configFile?.sections["profile default"] : nil)
        guard fromCredentials != nil || fromConfig != nil else {
            guard named != nil else { return nil }
            let looked = [credentialsPath, configPath].compactMap { $0 }.joined(separator: " and ")
            throw AWSCredentialError(kind: .notConfigured, source: source, message: "AWS profile \"\(profile)\" (from AWS_PROFILE) is in neither \(looked.isEmpty ? "shared file (HOME is unset)" : looked)")
        }
        let configSettings = fromConfig ?? [:]
        return AWSSharedConfig(profile: profile, settings: configSettings.merging(fromCredentials ?? [:]) { _, credentials in credentials }, configSettings: configSettings)
    }

    /// The non-empty value of `key`.
    subscript(_ key: String) -> String? {
        settings[key]?.nonEmpty
    }

    /// `path` with a leading `~` expanded from `HOME`; nil when it needs `HOME` and there is none.
    static func path(_ path: String, environment: AWSEnvironment) -> String? {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        guard let home = environment["HOME"] else { return nil }
        return home + path.dropFirst()
    }

    private static func read(_ path: String?) throws(AWSCredentialError) -> AWSProfileFile? {
        guard let path, FileManager.default.fileExists(atPath: path) else { return nil }
        // One byte past the limit is enough to refuse an oversized file without reading all of it.
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.read(upToCount: AWSProfileFile.maximumBytes + 1) ?? Data() else {
            throw AWSCredentialError(kind: .notConfigured, source: source, message: "cannot read \(path)")
        }
        try? handle.close()
        do throws(AWSProfileFile.ParseError) {
            return try AWSProfileFile(parsing: data)
        } catch {
            let place = error.line > 0 ? "\(path) line \(error.line)" : path
            throw AWSCredentialError(kind: .notConfigured, source: source, message: "\(place): \(error.message)")
        }
    }
}
