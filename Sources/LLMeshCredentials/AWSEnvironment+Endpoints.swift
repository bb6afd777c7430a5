/// Region and STS endpoint resolution, with the precedence of the AWS SDKs.
extension AWSEnvironment {
    /// The region when nothing is configured anywhere, as in soto and the AWS CLI's global endpoint.
    static let fallbackRegion = "us-east-1"

    /// `configured` (from `auth.aws.region`), else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the selected
    /// profile's `region` in the shared files, else `us-east-1`. A malformed shared file gives no region here;
    /// choosing the credential source reports why.
    func region(configured: String?) -> String {
        region(configured: configured, profile: try? AWSSharedConfig.load(environment: self))
    }

    /// The same, with the profile already read (evaluated only when the configuration and environment name no region).
    func region(configured: String?, profile: @autoclosure () -> AWSSharedConfig?) -> String {
        if let configured = configured?.trimmingCharacters(in: .whitespacesAndNewlines), !configured.isEmpty { return configured }
        if let region = self["AWS_REGION"] ?? self["AWS_DEFAULT_REGION"] { return region }
        return profile()?["region"] ?? Self.fallbackRegion
    }

    /// The STS endpoint: `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL` (both ignored when
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), else the regional `https://sts.REGION.amazonaws.com` (botocore's
    /// default), or the global `https://sts.amazonaws.com` when `AWS_STS_REGIONAL_ENDPOINTS=legacy`.
    func stsEndpoint(region: String) -> String {
        let ignoreConfigured = self["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        if !ignoreConfigured, let url = self["AWS_ENDPOINT_URL_STS"] ?? self["AWS_ENDPOINT_URL"] { return url }
        if self["AWS_STS_REGIONAL_ENDPOINTS"]?.lowercased() == "legacy" { return "https://sts.amazonaws.com" }
        return "https://sts.\(region).\(Self.dnsSuffix(region: region))"
    }

    /// The partition's DNS suffix: China regions live under `amazonaws.com.cn`.
    static func dnsSuffix(region: String) -> String {
        region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
    }
}
