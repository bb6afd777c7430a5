import Foundation

/// `POST /v1/usage`: usage batches from sidecars, answered once written (200) or refused for a retry (503).
public struct UsageService: Sendable {
    let intake: UsageIntake
    let authenticator: TokenAuthenticator
    let isLeader: @Sendable () -> Bool
    /// Largest batch accepted.
    let maximumBytes: Int

    public init(intake: UsageIntake, authenticator: TokenAuthenticator, isLeader: @escaping @Sendable () -> Bool, maximumBytes: Int = 1024 * 1024) {
        self.intake = intake
        self.authenticator = authenticator
        self.isLeader = isLeader
        self.maximumBytes = maximumBytes
    }

    public static let path = "/v1/usage"

    public func handle(_ request: ServiceRequest) async -> ServiceResponse {
        guard request.method == "POST" else { return .error(405, "use POST") }
        guard request.body.count <= maximumBytes else { return .error(413, "usage batch larger than \(maximumBytes) bytes") }
        let identity: SidecarIdentity
        switch await authenticator.authenticate(authorization: request.header("authorization")) {
        case .success(let who): identity = who
        case .failure(let failure): return .error(failure.status, failure.message)
        }
        let report: UsageReport
        do {
            report = try JSONDecoder().decode(UsageReport.self, from: Data(request.body))
        } catch {
            return .error(400, "not a usage batch: \(error)")
        }
        guard report.namespace == identity.namespace else {
            return .error(403, "service account \(identity.namespace)/\(identity.serviceAccount) may only report usage in namespace \(identity.namespace)")
        }
        guard report.sequence > 0, !report.sidecar.isEmpty, report.sidecar.count <= 253, report.deltas.count <= 10_000,
            report.deltas.allSatisfy({ $0.costUSD.isFinite && $0.costUSD >= 0 && $0.requests >= 0 })
        else {
            return .error(400, "usage batch fields out of range")
        }
        guard isLeader() else {
            var response = ServiceResponse.error(503, "this replica is not the leader; retry")
            response.headers.append(("retry-after", "1"))
            return response
        }
        guard await intake.submit(report) else {
            var response = ServiceResponse.error(503, "usage not written yet; retry")
            response.headers.append(("retry-after", "1"))
            return response
        }
        return ServiceResponse(status: 200, headers: [("content-type", "application/json")], body: Array(#"{"applied":true}"#.utf8))
    }
}
