import Foundation

/// The AWS SDK environment variables that apply: the process environment in production, a dictionary in tests.
///
/// A variable that is set but empty (or only whitespace) counts as unset, as in botocore.
public struct AWSEnvironment: Sendable {
    public var variables: [String: String]

    public init(_ variables: [String: String]) {
        self.variables = variables
    }

    /// The environment of this process.
    public static var process: AWSEnvironment { AWSEnvironment(ProcessInfo.processInfo.environment) }

    /// The trimmed value of `name`, or nil when it is unset or blank.
    public subscript(_ name: String) -> String? {
        guard let value = variables[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}
