import Foundation
import LLMeshLimits
import LLMeshModel
import LLMeshProviders
import Logging
import NIOHTTP1

/// What admission needs to know about one request.
struct AdmissionRequest {
    var policy: RuntimePolicy
    var headers: HTTPHeaders
    var inspected: InspectedRequest
    var kind: APIKind
    var route: ResolvedRoute
    /// Unix seconds.
    var now: Int64
}

/// A request that got in: what it reserved, to settle when it ends, and what the caller is told about its limits.
struct AdmissionGrant: Sendable {
    struct Reservation: Sendable {
        var global: Bool
        var key: String
        var amount: Int64
        var ttlSeconds: Int
        var kind: Kind
        enum Kind: Sendable { case tokens, microdollars, parallel, requests }
    }

    /// `key:<id>` or `workload:<namespace>/<serviceAccount>`, for logs.
    var caller: String
    var user: String?
    /// The key and policies whose spend this request counts towards (`VirtualKey/NAME`, `LLMPolicy/NAME`).
    var spendSubjects: [String] = []
    /// The model asked for, for usage reports.
    var model = ""
    var reservations: [Reservation] = []
    /// OpenAI-style `x-ratelimit-*` headers.
    var headers: [(String, String)] = []
    /// The body after guardrail redaction, when it changed.
    var redacted: InspectedRequest?
}

/// A refusal, with the rate-limit headers that go with it.
struct AdmissionRefusal: Error {
    var error: SidecarError
    var headers: [(String, String)] = []
}

/// Decides whether a request may go upstream: caller, model access, guardrails, rate limits and budgets, in that
/// order; and settles what it reserved when the request ends.
///
/// Limits are fixed windows counted in a ``CounterStore``: this sidecar's memory for `scope: Pod`, the shared
/// Redis-compatible store for `scope: Global` (and for budgets, whenever one is configured). Every charge of a request
/// is applied in one atomic step per store, so no request holds a slot it was then refused for.
public final class PolicyEngine: Sendable {
    let workload: WorkloadIdentity
    let local: LocalCounterStore
    let global: (any CounterStore)?
    let metrics: SidecarMetrics
    let logger: Logger
    /// Cluster mode: where fleet-wide spend is reported.
    let usageReporter: UsageReporter?
    /// Output tokens reserved when a request names no `max_tokens`.
    static let defaultOutputReservation = 1024

    public init(workload: WorkloadIdentity, global: (any CounterStore)?, metrics: SidecarMetrics, logger: Logger, local: LocalCounterStore = LocalCounterStore(), usageReporter: UsageReporter? = nil) {
        self.usageReporter = usageReporter
        self.workload = workload
        self.global = global
        self.metrics = metrics
        self.logger = logger
        self.local = local
    }

    /// Whether any policy or key applies at all (the fast path skips admission entirely otherwise).
    static func hasWork(_ policy: RuntimePolicy) -> Bool {
        !policy.policies.isEmpty || !policy.keysByHash.isEmpty
    }

    func admit(_ request: AdmissionRequest) async throws(AdmissionRefusal) -> AdmissionGrant {
        let policy = request.policy
        let presented = Self.presentedKey(request.headers)
        var key: ResolvedVirtualKey?
        if let presented {
            key = policy.keysByHash[KeyHash.sha256Hex(presented)]
            if key == nil && presented.hasPrefix("sk-llmesh-") {
                throw AdmissionRefusal(error: SidecarError(.invalidAPIKey, "The virtual key is not known to llmesh."))
            }
        }
        let applicable = policy.policies.filter { workload.matches($0.spec.workloadSelector) }
        if key == nil, let requiring = applicable.first(where: { $0.spec.requireVirtualKey }) {
            let message = presented == nil ? "LLMPolicy/\(requiring.name) requires a virtual key; none was sent." : "LLMPolicy/\(requiring.name) requires a virtual key; the key sent is not one."
            throw AdmissionRefusal(error: SidecarError(presented == nil ? .virtualKeyRequired : .invalidAPIKey, message))
        }
        if let key {
            if key.spec.disabled { throw AdmissionRefusal(error: SidecarError(.invalidAPIKey, "Virtual key '\(key.id)' is disabled.")) }
            if let expiry = key.expiresAt, request.now >= expiry {
                throw AdmissionRefusal(error: SidecarError(.invalidAPIKey, "Virtual key '\(key.id)' expired at \(key.spec.expiresAt ?? "").")) }
        }
        let user = request.headers.first(name: "x-llmesh-user").flatMap { $0.isEmpty || $0.count > 128 ? nil : $0 }
        var grant = AdmissionGrant(caller: key.map { "key:\($0.id)" } ?? "workload:\(workload.namespace)/\(workload.serviceAccount)", user: user)

        // Fleet-wide budgets the operator reports spent refuse at once, before any local accounting.
        grant.model = request.inspected.model
        grant.spendSubjects = (key.map { ["VirtualKey/\($0.name)"] } ?? []) + applicable.map { "LLMPolicy/\($0.name)" }
        if let spent = grant.spendSubjects.first(where: { policy.exhaustedBudgets.contains($0) }) {
            throw AdmissionRefusal(error: SidecarError(.budgetExceeded, "The budget of \(spent) is spent for this period across all pods.", retryAfterSeconds: 60))
        }

        // Model access: the requested name and the route's own name both count, globs allowed.
        let names = [request.inspected.model, request.route.spec.match.model]
        if let key, !ModelGlob.allows(key.spec.allowedModels, names: names) {
            throw AdmissionRefusal(error: SidecarError(.modelNotAllowed, "Model '\(request.inspected.model)' is not allowed for VirtualKey/\(key.name).", parameter: "model"))
        }
        for entry in applicable where !ModelGlob.allows(entry.spec.allowedModels, names: names) {
            throw AdmissionRefusal(error: SidecarError(.modelNotAllowed, "Model '\(request.inspected.model)' is not allowed by LLMPolicy/\(entry.name).", parameter: "model"))
        }

        // Guardrails, in policy order; a redaction feeds the next policy's scan.
        var inspected = request.inspected
        for entry in applicable {
            guard let scanner = entry.scanner else { continue }
            let verdict = scanner.scan(inspected.document, kind: request.kind, redact: scanner.guardrails.action == .redact)
            if verdict.promptTooLarge {
                metrics.recordGuardrail(policy: entry.name, rule: "maxPromptTokens", action: "Block")
                throw AdmissionRefusal(error: SidecarError(.promptTooLarge, "The prompt is larger than LLMPolicy/\(entry.name) allows (maxPromptTokens \(scanner.guardrails.maxPromptTokens ?? 0))."))
            }
            guard !verdict.findings.isEmpty else { continue }
            let rules = verdict.findings.map(\.rule)
            for rule in rules { metrics.recordGuardrail(policy: entry.name, rule: rule, action: scanner.guardrails.action.rawValue) }
            switch scanner.guardrails.action {
            case .block:
                throw AdmissionRefusal(error: SidecarError(.guardrailBlocked, "The request was blocked by guardrail \(rules.joined(separator: ", ")) of LLMPolicy/\(entry.name)."))
            case .redact:
                if let body = verdict.redactedBody, let redacted = try? InspectedRequest(body: body, kind: request.kind, pathModel: request.inspected.model) {
                    inspected = redacted
                    grant.redacted = redacted
                }
            case .log:
                logger.warning("guardrail matched", metadata: ["policy": "\(entry.name)", "rules": "\(rules.joined(separator: ","))", "caller": "\(grant.caller)"])
            }
        }

        try await charge(request, inspected: inspected, key: key, applicable: applicable, grant: &grant)
        return grant
    }

    /// Settles a grant with what the request really used; unknown usage keeps the reservation.
    func settle(_ grant: AdmissionGrant, usage: TokenUsage?, costUSD: Double) async {
        usageReporter?.record(subjects: grant.spendSubjects, model: grant.model, usage: usage, costUSD: costUSD)
        guard !grant.reservations.isEmpty else { return }
        var localAdjustments: [(key: String, delta: Int64, ttlSeconds: Int)] = []
        var globalAdjustments: [(key: String, delta: Int64, ttlSeconds: Int)] = []
        for reservation in grant.reservations {
            let delta: Int64
            switch reservation.kind {
            case .requests: continue
            case .parallel: delta = -1
            case .tokens: delta = usage.map { Int64($0.total) - reservation.amount } ?? 0
            case .microdollars: delta = usage.map { _ in Int64((costUSD * 1_000_000).rounded(.up)) - reservation.amount } ?? 0
            }
            guard delta != 0 else { continue }
            if reservation.global { globalAdjustments.append((reservation.key, delta, reservation.ttlSeconds)) } else { localAdjustments.append((reservation.key, delta, reservation.ttlSeconds)) }
        }
        local.adjust(localAdjustments)
        if let global, !globalAdjustments.isEmpty {
            do {
                try await global.adjust(globalAdjustments)
            } catch {
                metrics.recordStoreError(operation: "settle")
                logger.error("could not settle usage in the global limit store", metadata: ["error": "\(error)"])
            }
        }
    }

    private struct PendingCharge {
        var charge: CounterCharge
        var global: Bool
        var kind: AdmissionGrant.Reservation.Kind
        var subject: String
        var failClosed: Bool
        var windowSecondsLeft: Int64
        var budgetEnd: Int64?
    }

    private func charge(_ request: AdmissionRequest, inspected: InspectedRequest, key: ResolvedVirtualKey?, applicable: [CompiledPolicy], grant: inout AdmissionGrant) async throws(AdmissionRefusal) {
        let promptTokens = TokenEstimate.tokens(inUTF8Count: inspected.document.bytes.count)
        let outputTokens = request.kind == .embeddings || request.kind == .countTokens ? 0 : (inspected.maxOutputTokens ?? Self.defaultOutputReservation)
        let reservedTokens = Int64(promptTokens + outputTokens)
        // Budgets reserve at the most expensive backend of the route: the backend is chosen later.
        let prices = request.route.backends.compactMap { $0.provider.pricing(for: $0.upstreamModel) }
        let inputPrice = prices.map(\.inputPerMillion).max() ?? 0
        let outputPrice = prices.map(\.outputPerMillion).max() ?? 0
        let reservedMicros = Int64((Double(promptTokens) * inputPrice + Double(outputTokens) * outputPrice).rounded(.up))

        var pending: [PendingCharge] = []
        func addLimits(_ limits: RateLimits?, subject: String) {
            guard let limits else { return }
            let global = limits.scope == .global && self.global != nil
            let window = max(1, limits.window.milliseconds / 1000)
            let (index, left) = LimitWindow.fixed(length: window, at: request.now)
            let ttl = Int(window) + 5
            let closed = limits.onStoreUnavailable == .failClosed
            if let rpm = limits.requestsPerMinute {
                pending.append(PendingCharge(charge: CounterCharge(key: "req:\(subject):\(index)", amount: 1, limit: Int64(rpm), ttlSeconds: ttl), global: global, kind: .requests, subject: subject, failClosed: closed, windowSecondsLeft: left))
            }
            if let tpm = limits.tokensPerMinute {
                pending.append(PendingCharge(charge: CounterCharge(key: "tok:\(subject):\(index)", amount: reservedTokens, limit: Int64(tpm), ttlSeconds: ttl), global: global, kind: .tokens, subject: subject, failClosed: closed, windowSecondsLeft: left))
            }
            if let parallel = limits.maxParallel {
                pending.append(PendingCharge(charge: CounterCharge(key: "par:\(subject)", amount: 1, limit: Int64(parallel), ttlSeconds: 3600), global: global, kind: .parallel, subject: subject, failClosed: closed, windowSecondsLeft: 1))
            }
        }
        func addBudget(_ budget: Budget?, subject: String, failClosed: Bool) {
            guard let budget else { return }
            let window = LimitWindow.budget(budget.period, at: request.now)
            pending.append(PendingCharge(
                charge: CounterCharge(key: "usd:\(subject):\(window.label)", amount: reservedMicros, limit: Int64((budget.usd * 1_000_000).rounded(.down)), ttlSeconds: Int(window.end - request.now) + 86_400),
                global: global != nil, kind: .microdollars, subject: subject, failClosed: failClosed, windowSecondsLeft: window.end - request.now, budgetEnd: window.end))
        }
        let names = [request.inspected.model, request.route.spec.match.model]
        if let key {
            let subject = "key:\(key.name)"
            addLimits(key.spec.limits, subject: subject)
            for modelLimit in key.spec.modelLimits where ModelGlob.allows([modelLimit.model], names: names) {
                addLimits(modelLimit.limits, subject: "\(subject):model:\(modelLimit.model)")
            }
            addBudget(key.spec.budget, subject: subject, failClosed: key.spec.limits?.onStoreUnavailable == .failClosed)
        }
        for entry in applicable {
            let subject = "policy:\(entry.name)"
            addLimits(entry.spec.limits, subject: subject)
            if let user = grant.user { addLimits(entry.spec.userLimits, subject: "\(subject):user:\(user)") }
            for modelLimit in entry.spec.modelLimits where ModelGlob.allows([modelLimit.model], names: names) {
                addLimits(modelLimit.limits, subject: "\(subject):model:\(modelLimit.model)")
            }
            addBudget(entry.spec.budget, subject: subject, failClosed: entry.spec.limits?.onStoreUnavailable == .failClosed)
        }
        guard !pending.isEmpty else { return }

        let globalCharges = pending.filter(\.global)
        let localCharges = pending.filter { !$0.global }
        var globalValues: [Int64] = []
        var globalApplied = false
        if let global, !globalCharges.isEmpty {
            do {
                switch try await global.charge(globalCharges.map(\.charge)) {
                case .admitted(let values):
                    globalValues = values
                    globalApplied = true
                case .refused(let index, let current):
                    throw refusal(globalCharges[index], current: current, all: pending, values: [])
                }
            } catch let refusal as AdmissionRefusal {
                throw refusal
            } catch {
                metrics.recordStoreError(operation: "charge")
                if globalCharges.contains(where: \.failClosed) {
                    logger.error("global limit store unavailable; refusing (FailClosed)", metadata: ["error": "\(error)"])
                    throw AdmissionRefusal(error: SidecarError(.limitStoreUnavailable, "The shared limit store is unavailable and the policy fails closed.", retryAfterSeconds: 1))
                }
                logger.warning("global limit store unavailable; admitting (FailOpen)", metadata: ["error": "\(error)"])
            }
        }
        var localValues: [Int64] = []
        switch local.charge(localCharges.map(\.charge)) {
        case .admitted(let values):
            localValues = values
        case .refused(let index, let current):
            if globalApplied, let global {
                try? await global.adjust(globalCharges.map { ($0.charge.key, -$0.charge.amount, $0.charge.ttlSeconds) })
            }
            throw refusal(localCharges[index], current: current, all: pending, values: [])
        }
        var admitted: [(PendingCharge, Int64)] = []
        if globalApplied { admitted += zip(globalCharges, globalValues).map { ($0, $1) } }
        admitted += zip(localCharges, localValues).map { ($0, $1) }
        grant.reservations = admitted.map { charge, _ in
            AdmissionGrant.Reservation(global: charge.global, key: charge.charge.key, amount: charge.charge.amount, ttlSeconds: charge.charge.ttlSeconds, kind: charge.kind)
        }
        grant.headers = Self.rateLimitHeaders(admitted.map { ($0.0, $0.1) })
    }

    private func refusal(_ charge: PendingCharge, current: Int64, all: [PendingCharge], values: [Int64]) -> AdmissionRefusal {
        let wait = max(1, Int(charge.windowSecondsLeft))
        metrics.recordLimitRefusal(subject: charge.subject, kind: "\(charge.kind)")
        switch charge.kind {
        case .microdollars:
            let reset = Date(timeIntervalSince1970: TimeInterval(charge.budgetEnd ?? 0)).formatted(.iso8601)
            let budget = Double(charge.charge.limit) / 1_000_000
            return AdmissionRefusal(error: SidecarError(.budgetExceeded, "The budget of \(charge.subject) ($\(budget)) is spent for this period; it resets at \(reset).", retryAfterSeconds: wait))
        case .requests:
            return AdmissionRefusal(error: SidecarError(.rateLimitExceeded, "Rate limit of \(charge.charge.limit) requests per window reached for \(charge.subject); retry in \(wait)s.", retryAfterSeconds: wait),
                                   headers: [("x-ratelimit-limit-requests", String(charge.charge.limit)), ("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "\(wait)s")])
        case .tokens:
            return AdmissionRefusal(error: SidecarError(.rateLimitExceeded, "Token limit of \(charge.charge.limit) tokens per window reached for \(charge.subject) (this request reserves \(charge.charge.amount)); retry in \(wait)s.", retryAfterSeconds: wait),
                                   headers: [("x-ratelimit-limit-tokens", String(charge.charge.limit)), ("x-ratelimit-remaining-tokens", String(max(0, charge.charge.limit - current))), ("x-ratelimit-reset-tokens", "\(wait)s")])
        case .parallel:
            return AdmissionRefusal(error: SidecarError(.rateLimitExceeded, "\(charge.charge.limit) requests of \(charge.subject) are already in flight.", retryAfterSeconds: 1))
        }
    }

    /// `x-ratelimit-*` from the tightest request and token limits a request passed.
    private static func rateLimitHeaders(_ admitted: [(PendingCharge, Int64)]) -> [(String, String)] {
        var headers: [(String, String)] = []
        for (kind, noun) in [(AdmissionGrant.Reservation.Kind.requests, "requests"), (.tokens, "tokens")] {
            let candidates = admitted.filter { $0.0.kind == kind }
            guard let tightest = candidates.min(by: { ($0.0.charge.limit - $0.1) < ($1.0.charge.limit - $1.1) }) else { continue }
            headers.append(("x-ratelimit-limit-\(noun)", String(tightest.0.charge.limit)))
            headers.append(("x-ratelimit-remaining-\(noun)", String(max(0, tightest.0.charge.limit - tightest.1))))
            headers.append(("x-ratelimit-reset-\(noun)", "\(tightest.0.windowSecondsLeft)s"))
        }
        return headers
    }

    /// The credential the app sent: `Authorization: Bearer`, else `x-api-key`.
    static func presentedKey(_ headers: HTTPHeaders) -> String? {
        if let authorization = headers.first(name: "authorization") {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
        }
        return headers.first(name: "x-api-key")
    }

    /// Spend per budget subject in its current window, for `/metrics` and `/config_dump`.
    func spend(_ policy: RuntimePolicy, now: Int64) async -> [SpendRecord] {
        var records: [SpendRecord] = []
        for key in policy.keysByHash.values {
            if let budget = key.spec.budget { records.append(SpendRecord(subject: "key:\(key.name)", budget: budget, window: LimitWindow.budget(budget.period, at: now).label)) }
        }
        for entry in policy.policies {
            if let budget = entry.spec.budget { records.append(SpendRecord(subject: "policy:\(entry.name)", budget: budget, window: LimitWindow.budget(budget.period, at: now).label)) }
        }
        let keys = records.map { "usd:\($0.subject):\($0.window)" }
        let values: [Int64]
        if let global {
            values = (try? await global.values(keys)) ?? local.values(keys)
        } else {
            values = local.values(keys)
        }
        for index in records.indices { records[index].spentUSD = Double(values[index]) / 1_000_000 }
        return records.sorted { $0.subject < $1.subject }
    }
}

/// Spend of one key or policy in its current budget window.
struct SpendRecord: Sendable, Encodable {
    var subject: String
    var budget: Budget
    var window: String
    var spentUSD: Double = 0
}
