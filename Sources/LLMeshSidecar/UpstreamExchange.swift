import Foundation
import LLMeshCredentials
import LLMeshModel
import LLMeshProviders
import NIOHTTP1

/// The caller's schema and the upstream's, when a route sends a request to a provider of another API family.
struct SchemaTranslation: Sendable, Hashable {
    var caller: WireSchema
    var upstream: WireSchema
}

/// Whether a provider can serve an operation: as it is, through a translation, or not at all.
enum BackendFit: Sendable, Hashable {
    case native
    case translated(SchemaTranslation)
    case unsupported
}

extension ProviderType {
    /// How this provider serves `kind`. Translations cover chat: OpenAI chat completions to Anthropic Messages or
    /// Bedrock Converse, and Anthropic Messages to Bedrock Converse or an OpenAI-compatible model.
    func fit(for kind: APIKind) -> BackendFit {
        if speaks(kind.dialect) { return .native }
        switch (kind, self) {
        case (.chatCompletions, .anthropic): return .translated(SchemaTranslation(caller: .openAIChat, upstream: .anthropicMessages))
        case (.chatCompletions, .bedrock): return .translated(SchemaTranslation(caller: .openAIChat, upstream: .bedrockConverse))
        case (.messages, .bedrock): return .translated(SchemaTranslation(caller: .anthropicMessages, upstream: .bedrockConverse))
        case (.messages, .openAI), (.messages, .openAICompatible): return .translated(SchemaTranslation(caller: .anthropicMessages, upstream: .openAIChat))
        default: return .unsupported
        }
    }
}

/// Signs Bedrock requests with the provider's AWS credentials (service `bedrock`).
struct BedrockSigning: Sendable {
    let resolver: AWSCredentialResolver
    let signer: SigV4Signer

    /// Adds `x-amz-date`, `x-amz-security-token` (for temporary credentials) and `authorization` to `headers`,
    /// signing every header that is sent.
    func sign(_ headers: inout HTTPHeaders, url: URLParts, body: [UInt8], now: Date = Date()) async throws(AWSCredentialError) {
        let credentials = try await resolver.credentials()
        let path = url.pathAndQuery.prefix { $0 != "?" }
        let query = url.pathAndQuery.contains("?") ? String(url.pathAndQuery.drop { $0 != "?" }.dropFirst()) : ""
        let sent = headers.map { ($0.name, $0.value) }
        let added = signer.sign(method: "POST", host: url.authority, wirePath: String(path), query: query, headers: sent, body: body, credentials: credentials, amzDate: AMZDate.format(now))
        for (name, value) in added { headers.replaceOrAdd(name: name, value: value) }
    }
}

/// `yyyyMMdd'T'HHmmss'Z'` in UTC, formatted by hand.
enum AMZDate {
    static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let pad = ZeroPadding.pad
        return "\(pad(parts.tm_year + 1900, 4))\(pad(parts.tm_mon + 1, 2))\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2))\(pad(parts.tm_min, 2))\(pad(parts.tm_sec, 2))Z"
    }
}

/// What one attempt sends upstream, and how its answer is to be read.
struct UpstreamExchange: Sendable {
    var url: URLParts
    var headers: HTTPHeaders
    var body: [UInt8]
    /// Set when the request was translated; the answer is translated back.
    var translation: SchemaTranslation?
    /// Set for Bedrock providers without an API key: the request is signed right before it is sent.
    var signing: BedrockSigning?
}

extension LLMRequestHandler {
    /// Headers of the app's own AWS signature, never sent upstream: the sidecar signs with its own credentials.
    static let appSignatureHeaders: Set<String> = ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]

    /// Builds the upstream request of one attempt: URL, headers, body (translated where the schemas differ) and how
    /// it is authenticated.
    func makeExchange(_ context: AttemptContext) throws(AttemptFailureError) -> UpstreamExchange {
        let backend = context.backend
        let provider = backend.provider
        var translation: SchemaTranslation?
        var body: [UInt8]
        var upstreamStreams = context.inspected.stream
        if case .translated(let schemas) = context.fit {
            do {
                let translated = try RequestTranslator.translate(context.inspected.document.bytes, from: schemas.caller, to: schemas.upstream, upstreamModel: backend.upstreamModel)
                body = translated.body
                upstreamStreams = translated.stream
            } catch {
                throw AttemptFailureError(.sidecar(error, trigger: nil, countsAgainstBackend: false))
            }
            translation = schemas
        } else if context.kind.isBedrock {
            body = context.inspected.document.bytes
        } else {
            body = context.inspected.upstreamBody(model: backend.upstreamModel, forceIncludeUsage: context.injectUsage)
        }

        let upstreamSchema = translation?.upstream
        var signing: BedrockSigning?
        var headers: HTTPHeaders
        let urlText: String
        if provider.type == .bedrock {
            let resolver = awsCredentials.resolver(for: provider.auth?.aws)
            let base = provider.endpoint ?? "https://bedrock-runtime.\(resolver.region).amazonaws.com"
            let operation: String
            if upstreamSchema == .bedrockConverse {
                operation = upstreamStreams ? APIKind.converseStream.upstreamPath : APIKind.converse.upstreamPath
            } else {
                operation = context.kind.upstreamPath
            }
            urlText = base + "/model/" + SigV4Signer.encodePathSegment(backend.upstreamModel) + operation
            headers = translation == nil ? Self.bedrockHeaders(context.incomingHeaders) : Self.translatedHeaders()
            if provider.auth?.apiKey == nil {
                signing = BedrockSigning(resolver: resolver, signer: SigV4Signer(service: "bedrock", region: resolver.region, keyCache: resolver.signingKeys))
            }
        } else {
            guard let endpoint = provider.effectiveEndpoint else {
                throw AttemptFailureError(.sidecar(SidecarError(.internalError, "Provider '\(backend.providerName)' has no usable endpoint."), trigger: nil, countsAgainstBackend: false))
            }
            switch upstreamSchema {
            case .anthropicMessages?: urlText = endpoint + APIKind.messages.upstreamPath
            case .openAIChat?: urlText = endpoint + APIKind.chatCompletions.upstreamPath
            default: urlText = endpoint + context.kind.upstreamPath
            }
            headers = translation == nil ? Self.forwardedHeaders(context.incomingHeaders) : Self.translatedHeaders()
        }
        guard let url = URLParts(urlText) else {
            throw AttemptFailureError(.sidecar(SidecarError(.internalError, "Provider '\(backend.providerName)' has no usable endpoint."), trigger: nil, countsAgainstBackend: false))
        }
        if let source = provider.auth?.apiKey {
            switch credentials.key(for: source) {
            case .success(let key):
                if provider.type == .anthropic {
                    headers.add(name: "x-api-key", value: key)
                } else {
                    headers.add(name: "authorization", value: "Bearer \(key)")
                }
            case .failure(let unavailable):
                logger.error("provider credential unavailable", metadata: ["provider": "\(backend.providerName)", "reason": "\(unavailable.reason)"])
                throw AttemptFailureError(.sidecar(SidecarError(.credentialUnavailable, "The credential for provider '\(backend.providerName)' is unavailable."), trigger: .connectFailure, countsAgainstBackend: false))
            }
        }
        if provider.type == .anthropic && !headers.contains(name: "anthropic-version") {
            headers.add(name: "anthropic-version", value: "2023-06-01")
        }
        return UpstreamExchange(url: url, headers: headers, body: body, translation: translation, signing: signing)
    }

    /// Headers kept from a Bedrock caller: the body's type, what it accepts, and Bedrock's own `x-amzn-bedrock-*`
    /// options (guardrails, trace, performance, service tier). The app's signature and everything else stay behind.
    static func bedrockHeaders(_ incoming: HTTPHeaders) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in incoming {
            let lower = name.lowercased()
            guard lower == "content-type" || lower == "accept" || lower.hasPrefix("x-amzn-bedrock-") else { continue }
            headers.add(name: lower, value: value)
        }
        if !headers.contains(name: "content-type") { headers.add(name: "content-type", value: "application/json") }
        headers.add(name: "accept-encoding", value: "identity")
        return headers
    }

    /// Headers of a translated request: none of the caller's, whose API they belong to is not the upstream's.
    static func translatedHeaders() -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "accept-encoding", value: "identity")
        return headers
    }

    /// Signs the exchange when its provider needs it, mapping a credential failure to the caller's error.
    func signIfNeeded(_ exchange: inout UpstreamExchange, provider: String) async throws(AttemptFailureError) {
        guard let signing = exchange.signing else { return }
        exchange.headers.replaceOrAdd(name: "host", value: exchange.url.authority)
        exchange.headers.replaceOrAdd(name: "content-length", value: String(exchange.body.count))
        do {
            try await signing.sign(&exchange.headers, url: exchange.url, body: exchange.body)
        } catch {
            logger.error("AWS credentials unavailable", metadata: ["provider": "\(provider)", "reason": "\(error.description)"])
            throw AttemptFailureError(.sidecar(SidecarError(.credentialUnavailable, "AWS credentials for provider '\(provider)' are unavailable: \(error.description)"), trigger: .connectFailure, countsAgainstBackend: false))
        }
    }
}
