/// The description of every field of the llmesh kinds, shown by `kubectl explain` and in docs/crds.md.
///
/// Lookup tries `Kind.path` first, then ever shorter suffixes of the path in the shared table, so a structure used in
/// several places (limits, budgets, secret references) is described once.
enum FieldDescriptions {
    static func description(kind: String, path: String) -> String? {
        if path.hasSuffix("[]") { return nil }
        var segments = path.split(separator: ".").map { $0.hasSuffix("[]") ? String($0.dropLast(2)) : String($0) }
        if let exact = byKind["\(kind).\(segments.joined(separator: "."))"] { return exact }
        while !segments.isEmpty {
            if let text = shared[segments.joined(separator: ".")] { return text }
            segments.removeFirst()
        }
        return nil
    }

    static func statusDescription(path: String) -> String? { status[path] }

    private static let byKind: [String: String] = [
        "LLMProvider.type": "Provider API family: OpenAI, Anthropic, OpenAICompatible (any server speaking the OpenAI API), Bedrock, or Mock (local deterministic answers, no network).",
        "LLMProvider.endpoint": "Base URL. OpenAI-style endpoints include the /v1 prefix (like OPENAI_BASE_URL); Anthropic's do not. Defaults to the provider's public API.",
        "LLMProvider.auth": "How the sidecar authenticates upstream. The app never sees these credentials.",
        "LLMProvider.auth.apiKey": "An API key; exactly one of file, env or secretRef.",
        "LLMProvider.auth.apiKey.file": "Path of a file holding the key (a mounted Secret), re-read when it changes.",
        "LLMProvider.auth.apiKey.env": "Name of an environment variable of the sidecar holding the key.",
        "LLMProvider.auth.apiKey.secretRef": "A key of a Secret in the same namespace; the operator resolves it into the policy snapshot.",
        "LLMProvider.auth.aws": "AWS credentials for SigV4 signing (type Bedrock). Empty: the sidecar's environment, in the AWS SDKs' order (static keys, IRSA web identity, EKS Pod Identity).",
        "LLMProvider.auth.aws.region": "Region of the Bedrock Runtime endpoint and of STS; defaults to AWS_REGION, then AWS_DEFAULT_REGION.",
        "LLMProvider.auth.aws.webIdentity": "Assume an IAM role with the pod's projected service-account token (AssumeRoleWithWebIdentity), as IRSA does.",
        "LLMProvider.auth.aws.webIdentity.roleARN": "The IAM role to assume; overrides AWS_ROLE_ARN.",
        "LLMProvider.auth.aws.webIdentity.tokenFile": "The projected token file; defaults to AWS_WEB_IDENTITY_TOKEN_FILE. Re-read on every STS call.",
        "LLMProvider.auth.aws.webIdentity.sessionName": "RoleSessionName; defaults to AWS_ROLE_SESSION_NAME, else llmesh generates one.",
        "LLMProvider.auth.aws.podIdentity": "Use EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI and its token file) even if other sources are set.",
        "LLMProvider.models": "Models this provider serves, with prices used for budgets, cost metrics and cheapest-first routing.",
        "LLMProvider.models.name": "Model name as the provider knows it.",
        "LLMProvider.models.pricing": "USD per million tokens.",
        "LLMProvider.timeouts": "Upstream timeouts; unset values take the sidecar's defaults.",
        "LLMProvider.mock": "Behaviour of a Mock provider.",
        "LLMRoute.match": "The model names this route answers to, and optional header conditions.",
        "LLMRoute.match.model": "Model name the app asks for.",
        "LLMRoute.match.aliases": "Further names that reach the same route.",
        "LLMRoute.backends": "Where requests go: one or more providers, with weights and priorities.",
        "LLMRoute.backends.model": "Model name sent upstream; defaults to match.model.",
        "LLMRoute.retry": "Retries of the same backend, only before the first response byte reached the app.",
        "LLMRoute.timeout": "Whole-request timeout; overrides the provider's.",
        "LLMRoute.streamIdleTimeout": "Longest silence between two streamed chunks; overrides the provider's.",
        "VirtualKey.secretRef": "A Secret key holding the virtual key itself; the sidecar only ever receives its SHA-256.",
        "VirtualKey.allowedModels": "Model names or globs (with *) this key may use; empty allows all routed models.",
        "VirtualKey.limits": "Limits counted per key.",
        "VirtualKey.modelLimits": "Limits for particular models used with this key.",
        "VirtualKey.budget": "Spending cap for this key; spend is reported in status.spend.",
        "LLMPolicy.allowedModels": "Model names or globs (with *) the matched workloads may use; empty allows all routed models.",
        "LLMPolicy.limits": "Limits counted per matched workload.",
        "LLMPolicy.modelLimits": "Limits for particular models.",
        "LLMPolicy.budget": "Spending cap for the matched workloads; spend is reported in status.spend.",
    ]

    private static let shared: [String: String] = [
        "secretRef.name": "Name of a Secret in the resource's namespace.",
        "secretRef.key": "Key inside the Secret's data.",
        "inputPerMillion": "USD per million input tokens.",
        "outputPerMillion": "USD per million output tokens.",
        "cachedInputPerMillion": "USD per million input tokens served from the provider's prompt cache; defaults to inputPerMillion.",
        "timeouts.connect": "TCP and TLS connection establishment.",
        "timeouts.request": "Whole request, from sending to the last byte of the response.",
        "timeouts.streamIdle": "Longest silence allowed between two reads of a response.",
        "outlierDetection": "Passive health checking of this provider's backends: eject on failures, probe again after a cool-down.",
        "consecutiveFailures": "Eject after this many failures in a row (0 turns the rule off).",
        "errorRatePercent": "Eject when failures reach this share of requests in the last interval (0 turns the rule off).",
        "minimumRequests": "The error-rate rule applies once the interval holds at least this many requests.",
        "interval": "Window of the error-rate rule.",
        "baseEjectionTime": "First ejection length; each further ejection in a row adds as much again, up to maxEjectionTime.",
        "maxEjectionTime": "Longest ejection.",
        "mock.response": "The text every answer carries; by default a sentence naming the model.",
        "mock.latency": "Pause before the response starts.",
        "mock.chunkDelay": "Pause between streamed chunks (one word each).",
        "mock.embeddingDimensions": "Length of the vectors /v1/embeddings returns.",
        "match.headers": "Request headers that must all be present with exactly these values (names are case-insensitive).",
        "backends.provider": "Name of an LLMProvider in the same namespace.",
        "backends.weight": "Share of traffic among backends of the same priority.",
        "backends.priority": "Lower numbers are tried first; higher ones only when all lower ones are unavailable.",
        "strategy": "How a backend is chosen inside the best healthy priority group.",
        "retry.attempts": "Attempts per backend, the first one included (1 means no retry).",
        "retry.on": "Failures that are retried.",
        "retry.backoff": "First backoff; each retry doubles it, with full jitter, up to maxBackoff.",
        "retry.maxBackoff": "Longest backoff between two retries.",
        "retry.budgetPercent": "Retries may add at most this share of the route's requests (over 10 s), beyond a floor of 3 retries.",
        "fallbackOn": "Failures that move the request on to the next backend (none by default).",
        "firstTokenTimeout": "Longest wait for the first response byte of an attempt.",
        "keyHash": "sha256: followed by the 64 lowercase hex digits of the key's SHA-256 (standalone files).",
        "keyFile": "A file holding the key itself, hashed when read (standalone files).",
        "keyIDPrefix": "A public, loggable prefix identifying the key (for example team-a).",
        "expiresAt": "RFC 3339 time after which the key is refused.",
        "disabled": "Refuse the key without deleting it.",
        "requestsPerMinute": "Requests allowed per window.",
        "tokensPerMinute": "Tokens (input plus output) allowed per window.",
        "maxParallel": "Requests allowed in flight at once.",
        "scope": "Pod counts in each sidecar's memory; Global counts across every sidecar through shared Redis-compatible storage.",
        "window": "Length of the counting window, whole seconds (default one minute).",
        "onStoreUnavailable": "For scope Global: Allow lets requests through while the shared store is unreachable, Deny refuses them with 503.",
        "modelLimits.model": "A model name, alias, or glob with *.",
        "modelLimits.limits": "The limits for that model.",
        "budget.usd": "US dollars allowed per period.",
        "budget.period": "Calendar window the budget resets on, in UTC.",
        "userLimits": "Limits for each end user (the x-llmesh-user header) of the matched workloads.",
        "workloadSelector": "Which workloads the policy applies to; absent means every workload in the namespace.",
        "workloadSelector.matchLabels": "Pod labels that must all match.",
        "workloadSelector.serviceAccounts": "Service accounts (names in this namespace) of the workloads.",
        "guardrails": "Content checks applied to prompts, built in (no external service).",
        "guardrails.pii": "Shorthand for emails, phoneNumbers and nationalIDs together.",
        "guardrails.emails": "Detect e-mail addresses.",
        "guardrails.phoneNumbers": "Detect phone numbers.",
        "guardrails.nationalIDs": "Detect US social security numbers and UK national insurance numbers.",
        "guardrails.creditCards": "Detect payment card numbers (Luhn-checked).",
        "guardrails.denyPatterns": "Regular expressions (ICU syntax) that must not appear.",
        "guardrails.maxPromptTokens": "Prompts estimated above this many tokens are refused, whatever the action.",
        "guardrails.action": "Block refuses the request, Redact replaces the match before forwarding, Log only records it.",
        "requireVirtualKey": "Refuse matched workloads' requests that carry no virtual key.",
    ]

    private static let status: [String: String] = [
        "conditions": "Accepted (the spec is valid), ResolvedRefs (everything it names exists and is usable) and Ready (sidecars enforce it).",
        "observedGeneration": "The metadata.generation the conditions describe.",
        "snapshotVersion": "Version of the first policy snapshot of the namespace that enforced this generation of the resource.",
        "backends": "Backends whose provider is ready.",
        "spend": "USD spent in the current budget period, summed over every sidecar.",
        "periodStart": "Start of the current budget period.",
        "budgetExhausted": "Whether spend has reached the budget; sidecars then refuse requests until the period ends.",
        "lastUsed": "Last time a sidecar reported use.",
        "usageSequences": "Per sidecar, the last usage batch applied (sequence@unix-seconds), so a retried batch is never counted twice.",
    ]
}
