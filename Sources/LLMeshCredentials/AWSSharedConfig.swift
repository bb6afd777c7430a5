import Foundation

/// The selected profile of the AWS shared files, as the AWS SDKs find it.
///
/// - Files: `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`) and `AWS_CONFIG_FILE` (default
///   `~/.aws/config`); `~` is `HOME`. A missing or unreadable file is skipped, as botocore skips it; a malformed one is
///   an error.
/// - Profile: `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default`. In the credentials file its section is
///   `[name]`; in the config file `[profile name]` (any spacing, the name optionally quoted, as botocore splits it) or
///   `[default]`. A profile named in the environment that neither file has is an error, as in botocore; a missing
///   `default` profile is not.
/// - Settings: the credentials file's win over the config file's for the same key.
struct AWSSharedConfig: Sendable, Equatable {
    static let source = "profile"

    /// The profile's name.
    var profile: String
    /// Its settings from both files, keys lowercased.
    var settings: [String: String]
    /// The credentials file's settings alone: its keys come before `credential_process` in botocore's chain, the
    /// config file's after.
    var credentialsFileSettings: [String: String]

    /// ``load(environment:)`` as a result, to read the files once and use them for both the region and the source.
    static func read(environment: AWSEnvironment) -> Result<AWSSharedConfig?, AWSCredentialError> {
        do throws(AWSCredentialError) {
            return .success(try load(environment: environment))
        } catch {
            return .failure(error)
        }
    }

    /// The selected profile, or nil when no file has it and none was asked for.
    static func load(environment: AWSEnvironment) throws(AWSCredentialError) -> AWSSharedConfig? {
        let variable = environment["AWS_PROFILE"] != nil ? "AWS_PROFILE" : environment["AWS_DEFAULT_PROFILE"] != nil ? "AWS_DEFAULT_PROFILE" : nil
        let profile = variable.flatMap { environment[$0] } ?? "default"
        let credentialsPath = path(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", environment: environment)
        let configPath = path(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", environment: environment)
        let fromCredentials = try read(credentialsPath)?.sections[profile]
        let fromConfig = try read(configPath).flatMap { configProfiles($0)[profile] }
        guard fromCredentials != nil || fromConfig != nil else {
            guard let variable else { return nil }
            let looked = [credentialsPath, configPath].compactMap { $0 }.joined(separator: " and ")
            throw AWSCredentialError(kind: .notConfigured, source: source, message: "AWS profile \"\(profile)\" (from \(variable)) is in neither \(looked.isEmpty ? "shared file (HOME is unset)" : looked)")
        }
        let credentialsFileSettings = fromCredentials ?? [:]
        return AWSSharedConfig(profile: profile, settings: (fromConfig ?? [:]).merging(credentialsFileSettings) { _, credentials in credentials }, credentialsFileSettings: credentialsFileSettings)
    }

    /// The config file's profiles by name, as botocore's `build_profile_map` reads the sections: `[default]`, and
    /// `[profile NAME]` split like a shell line (so `[profile  dev]` and `[profile "dev"]` are `dev`). `[default]`
    /// wins over `[profile default]`.
    static func configProfiles(_ file: AWSProfileFile) -> [String: [String: String]] {
        var profiles: [String: [String: String]] = [:]
        for (section, settings) in file.sections where section.hasPrefix("profile") {
            let words = section.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { word -> Substring in
                guard word.count >= 2, let first = word.first, first == "\"" || first == "'", word.last == first else { return word }
                return word.dropFirst().dropLast()
            }
            if words.count == 2, words[0] == "profile", !words[1].isEmpty { profiles[String(words[1])] = settings }
        }
        if let defaults = file.sections["default"] { profiles["default"] = defaults }
        return profiles
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
        // One byte past the limit is enough to refuse an oversized file without reading all of it.
        guard let path, let handle = FileHandle(forReadingAtPath: path), let data = try? handle.read(upToCount: AWSProfileFile.maximumBytes + 1) ?? Data() else {
            return nil
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
