/// The upstream API families llmesh speaks to.
public enum ProviderType: String, Sendable, Hashable, Codable, CaseIterable {
    case openAI = "OpenAI"
    case anthropic = "Anthropic"
    case openAICompatible = "OpenAICompatible"
    /// AWS Bedrock Runtime, signed with SigV4 (endpoint `https://bedrock-runtime.REGION.amazonaws.com` by default).
    case bedrock = "Bedrock"
    case mock = "Mock"

    /// The endpoint used when the resource names none.
    public var defaultEndpoint: String? {
        switch self {
        case .openAI: return "https://api.openai.com/v1"
        case .anthropic: return "https://api.anthropic.com"
        case .openAICompatible, .bedrock, .mock: return nil
        }
    }
}

/// `LLMProvider.spec`: an upstream and how to authenticate to it.
public struct LLMProviderSpec: ResourceSpec, YAMLReadableSpec {
    public static let kind = "LLMProvider"

    public var type: ProviderType
    /// Base URL. OpenAI-style endpoints include the `/v1` prefix (like `OPENAI_BASE_URL`); Anthropic's do not.
    public var endpoint: String?
    public var auth: ProviderAuth?
    public var models: [ProviderModel]
    public var timeouts: ProviderTimeouts
    /// When to stop sending traffic to this provider's backends, and for how long.
    public var outlierDetection: OutlierDetection
    public var mock: MockSettings?

    public init(type: ProviderType, endpoint: String? = nil, auth: ProviderAuth? = nil, models: [ProviderModel] = [], timeouts: ProviderTimeouts = .init(), outlierDetection: OutlierDetection = OutlierDetection(), mock: MockSettings? = nil) {
        self.type = type
        self.endpoint = endpoint
        self.auth = auth
        self.models = models
        self.timeouts = timeouts
        self.outlierDetection = outlierDetection
        self.mock = mock
    }

    /// The endpoint in force: the resource's own or the type's default.
    public var effectiveEndpoint: String? { endpoint ?? type.defaultEndpoint }

    init(reading reader: inout FieldReader) {
        let parsedType = reader.choice("type", as: ProviderType.self, required: true)
        type = parsedType ?? .mock
        endpoint = reader.string("endpoint")
        auth = reader.object("auth") { ProviderAuth.read(&$0) }
        models = reader.objectList("models") { ProviderModel.read(&$0) }
        timeouts = reader.object("timeouts") { ProviderTimeouts.read(&$0) } ?? ProviderTimeouts()
        outlierDetection = reader.object("outlierDetection") { OutlierDetection.read(&$0) } ?? OutlierDetection()
        mock = reader.object("mock") { MockSettings.read(&$0) }

        if let endpoint, let problem = EndpointURL.problem(with: endpoint) { reader.report("endpoint", problem) }
        // Rules that depend on the type only make sense when the type itself is valid.
        guard parsedType != nil else { return }
        if endpoint == nil && type == .openAICompatible {
            reader.report("endpoint", "is required for type OpenAICompatible")
        }
        if auth?.aws != nil && type != .bedrock {
            reader.report("auth.aws", "is only allowed for type Bedrock")
        }
        if type == .mock {
            if endpoint != nil { reader.report("endpoint", "must not be set for type Mock") }
            if auth != nil { reader.report("auth", "must not be set for type Mock") }
        } else if mock != nil {
            reader.report("mock", "is only allowed for type Mock")
        }
        var seen: Set<String> = []
        for (index, model) in models.enumerated() where !seen.insert(model.name).inserted {
            reader.report("models", "model \"\(model.name)\" is listed twice (index \(index))")
        }
    }

    /// The pricing of `model`, if the provider lists it.
    public func pricing(for model: String) -> ModelPricing? {
        models.first { $0.name == model }?.pricing
    }
}

/// How llmesh authenticates to a provider.
public struct ProviderAuth: Sendable, Hashable, Codable {
    public var apiKey: APIKeySource?
    /// AWS credentials for SigV4 (Bedrock): the pod's IAM role by web identity (IRSA), EKS Pod Identity, or the
    /// sidecar's environment, resolved in the order the AWS SDKs use.
    public var aws: AWSAuth?

    public init(apiKey: APIKeySource?, aws: AWSAuth? = nil) {
        self.apiKey = apiKey
        self.aws = aws
    }

    static func read(_ reader: inout FieldReader) -> ProviderAuth {
        let apiKey = reader.object("apiKey") { APIKeySource.read(&$0) } ?? nil
        let aws = reader.object("aws") { AWSAuth.read(&$0) }
        if apiKey != nil && aws != nil { reader.report("", "must set only one of apiKey or aws") }
        return ProviderAuth(apiKey: apiKey, aws: aws)
    }
}

/// `LLMProvider.auth.aws`: where a Bedrock provider's AWS credentials come from.
///
/// With nothing set, the sidecar uses its environment as the AWS SDKs do: static keys, then web identity
/// (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`, as IRSA injects them), then EKS Pod Identity.
public struct AWSAuth: Sendable, Hashable, Codable {
    /// Region of the Bedrock endpoint and of STS; defaults to `AWS_REGION`, then `AWS_DEFAULT_REGION`.
    public var region: String?
    /// Assume this role by web identity, overriding `AWS_ROLE_ARN`.
    public var webIdentity: AWSWebIdentity?
    /// Use EKS Pod Identity (the container credential provider) even when other sources are configured.
    public var podIdentity: Bool

    public init(region: String? = nil, webIdentity: AWSWebIdentity? = nil, podIdentity: Bool = false) {
        self.region = region
        self.webIdentity = webIdentity
        self.podIdentity = podIdentity
    }

    static func read(_ reader: inout FieldReader) -> AWSAuth {
        let region = reader.string("region")
        let webIdentity = reader.object("webIdentity") { AWSWebIdentity.read(&$0) } ?? nil
        let podIdentity = reader.object("podIdentity") { _ in true } ?? false
        if let region, !AWSAuth.isRegionName(region) {
            reader.report("region", "must be an AWS region name such as us-east-1, got \"\(region)\"")
        }
        if webIdentity != nil && podIdentity { reader.report("", "must set only one of webIdentity or podIdentity") }
        return AWSAuth(region: region, webIdentity: webIdentity, podIdentity: podIdentity)
    }

    /// Lower-case letters, digits and dashes, as in `us-east-1` or `us-gov-west-1`: the name becomes part of a host.
    static func isRegionName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 32 && text.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
            && text.first != "-" && text.last != "-"
    }
}

/// `LLMProvider.auth.aws.webIdentity`: the IAM role to assume with the pod's projected service-account token.
public struct AWSWebIdentity: Sendable, Hashable, Codable {
    public var roleARN: String
    /// The token file; defaults to `AWS_WEB_IDENTITY_TOKEN_FILE`.
    public var tokenFile: String?
    /// `RoleSessionName`; defaults to `AWS_ROLE_SESSION_NAME`, else one llmesh generates.
    public var sessionName: String?

    public init(roleARN: String, tokenFile: String? = nil, sessionName: String? = nil) {
        self.roleARN = roleARN
        self.tokenFile = tokenFile
        self.sessionName = sessionName
    }

    static func read(_ reader: inout FieldReader) -> AWSWebIdentity? {
        let roleARN = reader.string("roleARN", required: true)
        let tokenFile = reader.string("tokenFile")
        let sessionName = reader.string("sessionName")
        if let roleARN, !(roleARN.hasPrefix("arn:aws") && roleARN.contains(":role/")) {
            reader.report("roleARN", "must be an IAM role ARN such as arn:aws:iam::123456789012:role/NAME, got \"\(roleARN)\"")
        }
        if let sessionName, !AWSWebIdentity.isSessionName(sessionName) {
            reader.report("sessionName", "must be 2 to 64 characters of letters, digits and +=,.@_-")
        }
        return roleARN.map { AWSWebIdentity(roleARN: $0, tokenFile: tokenFile, sessionName: sessionName) }
    }

    static func isSessionName(_ text: String) -> Bool {
        (2...64).contains(text.count) && text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "+=,.@_-".unicodeScalars.contains(scalar))
        }
    }
}

/// Where an API key comes from. Exactly one source is set.
public enum APIKeySource: Sendable, Hashable, Codable {
    /// A file, typically a mounted Secret; re-read when it changes.
    case file(String)
    /// An environment variable of the sidecar process.
    case environment(String)
    /// A key of a Secret; the operator resolves it into a file for the sidecar.
    case secret(SecretKeyReference)

    static func read(_ reader: inout FieldReader) -> APIKeySource? {
        let file = reader.string("file")
        let env = reader.string("env")
        let secret = reader.object("secretRef") { SecretKeyReference.read(&$0) } ?? nil
        var sources: [APIKeySource] = []
        if let file { sources.append(.file(file)) }
        if let env { sources.append(.environment(env)) }
        if let secret { sources.append(.secret(secret)) }
        guard sources.count == 1 else {
            reader.report("", sources.isEmpty ? "needs one of file, env or secretRef" : "must set only one of file, env or secretRef")
            return nil
        }
        return sources[0]
    }
}

/// A model a provider serves, with its price.
public struct ProviderModel: Sendable, Hashable, Codable {
    public var name: String
    public var pricing: ModelPricing?

    public init(name: String, pricing: ModelPricing? = nil) {
        self.name = name
        self.pricing = pricing
    }

    static func read(_ reader: inout FieldReader) -> ProviderModel? {
        let name = reader.string("name", required: true)
        let pricing = reader.object("pricing") { ModelPricing.read(&$0) } ?? nil
        return name.map { ProviderModel(name: $0, pricing: pricing) }
    }
}

/// USD per million tokens.
public struct ModelPricing: Sendable, Hashable, Codable {
    public var inputPerMillion: Double
    public var outputPerMillion: Double
    /// Price of input tokens served from the provider's prompt cache; defaults to the input price.
    public var cachedInputPerMillion: Double?

    public init(inputPerMillion: Double, outputPerMillion: Double, cachedInputPerMillion: Double? = nil) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.cachedInputPerMillion = cachedInputPerMillion
    }

    static func read(_ reader: inout FieldReader) -> ModelPricing? {
        let input = reader.double("inputPerMillion", minimum: 0)
        let output = reader.double("outputPerMillion", minimum: 0)
        let cached = reader.double("cachedInputPerMillion", minimum: 0)
        if input == nil && output == nil {
            reader.report("", "needs inputPerMillion or outputPerMillion")
            return nil
        }
        return ModelPricing(inputPerMillion: input ?? 0, outputPerMillion: output ?? 0, cachedInputPerMillion: cached)
    }
}

/// Upstream timeouts; unset values take the sidecar's defaults.
public struct ProviderTimeouts: Sendable, Hashable, Codable {
    /// TCP + TLS connection establishment.
    public var connect: TimeSpan?
    /// Whole request, from sending to the last byte of the response.
    public var request: TimeSpan?
    /// Longest silence allowed between two reads of a response.
    public var streamIdle: TimeSpan?

    public init(connect: TimeSpan? = nil, request: TimeSpan? = nil, streamIdle: TimeSpan? = nil) {
        self.connect = connect
        self.request = request
        self.streamIdle = streamIdle
    }

    static func read(_ reader: inout FieldReader) -> ProviderTimeouts {
        ProviderTimeouts(connect: reader.timeSpan("connect"), request: reader.timeSpan("request"), streamIdle: reader.timeSpan("streamIdle"))
    }
}

/// Behaviour of the `Mock` provider: deterministic local answers for dry runs, quick starts and tests.
public struct MockSettings: Sendable, Hashable, Codable {
    /// The text every answer carries; by default a sentence naming the model.
    public var response: String?
    /// Pause before the response starts.
    public var latency: TimeSpan?
    /// Pause between streamed chunks (one word each).
    public var chunkDelay: TimeSpan?
    /// Length of the vectors `/v1/embeddings` returns.
    public var embeddingDimensions: Int

    public init(response: String? = nil, latency: TimeSpan? = nil, chunkDelay: TimeSpan? = nil, embeddingDimensions: Int = 8) {
        self.response = response
        self.latency = latency
        self.chunkDelay = chunkDelay
        self.embeddingDimensions = embeddingDimensions
    }

    static func read(_ reader: inout FieldReader) -> MockSettings {
        MockSettings(
            response: reader.string("response"),
            latency: reader.timeSpan("latency"),
            chunkDelay: reader.timeSpan("chunkDelay"),
            embeddingDimensions: reader.int("embeddingDimensions", minimum: 1, maximum: 65536) ?? 8
        )
    }
}

/// Checks of an endpoint URL that need no Foundation.
enum EndpointURL {
    static func problem(with text: String) -> String? {
        guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
            return "must start with http:// or https://, got \"\(text)\""
        }
        let rest = text.drop { $0 != ":" }.dropFirst(3)
        let host = rest.prefix { $0 != "/" && $0 != "?" }
        if host.isEmpty { return "has no host: \"\(text)\"" }
        if text.contains("?") || text.contains("#") { return "must not carry a query or fragment: \"\(text)\"" }
        if text.contains(" ") { return "must not contain spaces" }
        return nil
    }
}
