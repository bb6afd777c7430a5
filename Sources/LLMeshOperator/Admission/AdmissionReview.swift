import Foundation
import LLMeshKube
import LLMeshModel

/// `admission.k8s.io/v1` AdmissionReview handling for the `/inject` and `/validate` webhooks.
///
/// A review that cannot be read gets a clean answer: HTTP 400 with a message when the body is not a review at all,
/// and an allowing response with a warning when only the object is unusable: the webhook never blocks a pod
/// because of its own trouble.
public struct AdmissionWebhooks: Sendable {
    let settings: InjectionSettings
    /// The operator's CA bundle as sidecars should trust it, when the operator manages its own certificates.
    let operatorCA: @Sendable () -> String?
    /// Largest review accepted (the API server sends at most a few MiB).
    let maximumBytes: Int
    private let loader = ConfigFileLoader(maximumBytes: 1024 * 1024)

    public init(settings: InjectionSettings, operatorCA: @escaping @Sendable () -> String? = { nil }, maximumBytes: Int = 3 * 1024 * 1024) {
        self.settings = settings
        self.operatorCA = operatorCA
        self.maximumBytes = maximumBytes
    }

    public static let injectPath = "/inject"
    public static let validatePath = "/validate"

    /// `POST /inject`: the mutating webhook.
    public func inject(_ request: ServiceRequest) -> ServiceResponse {
        review(request) { review in
            guard let object = review[path: "request.object"], object["kind"]?.stringValue == "Pod" || review[path: "request.kind.kind"]?.stringValue == "Pod" else {
                return Self.allow(review, warnings: ["llmesh: /inject only mutates Pods"])
            }
            let namespace = review[path: "request.namespace"]?.stringValue ?? object[path: "metadata.namespace"]?.stringValue ?? "default"
            let result = SidecarInjector.inject(pod: object, namespace: namespace, settings: settings, operatorCA: operatorCA())
            guard !result.patch.isEmpty else { return Self.allow(review, warnings: result.warnings) }
            var answer = Self.allow(review, warnings: result.warnings)
            answer["patchType"] = "JSONPatch"
            answer["patch"] = .string(Data(JSONValue.array(result.patch).jsonBytes()).base64EncodedString())
            return answer
        }
    }

    /// `POST /validate`: the validating webhook for llmesh kinds. It runs the same reader as `llmesh check`, so rules
    /// the CRD's CEL cannot express (regular expressions that compile, RFC 3339 times, duplicate models) are refused at
    /// apply time with the field named. References to other resources are not checked here (kubectl applies a file's
    /// documents in any order); the operator reports them in status.
    public func validate(_ request: ServiceRequest) -> ServiceResponse {
        review(request) { review in
            guard review[path: "request.operation"]?.stringValue != "DELETE", let object = review[path: "request.object"] else {
                return Self.allow(review, warnings: [])
            }
            let (_, problems) = ResourceValidation.read(object, loader: loader)
            guard !problems.isEmpty else { return Self.allow(review, warnings: []) }
            var answer = Self.allow(review, warnings: [])
            answer["allowed"] = false
            answer["status"] = ["code": 422, "reason": "Invalid", "message": .string(ResourceValidation.describe(problems))]
            return answer
        }
    }

    private func review(_ request: ServiceRequest, _ decide: (JSONValue) -> JSONValue) -> ServiceResponse {
        guard request.method == "POST" else { return .error(405, "use POST") }
        guard request.body.count <= maximumBytes else { return .error(413, "AdmissionReview larger than \(maximumBytes) bytes") }
        guard let review = try? JSONValue.parse(request.body), review["kind"]?.stringValue == "AdmissionReview",
            review[path: "request.uid"]?.stringValue != nil
        else {
            return .error(400, "expected an admission.k8s.io/v1 AdmissionReview with request.uid")
        }
        let response: JSONValue = ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": decide(review)]
        return ServiceResponse(status: 200, headers: [("content-type", "application/json")], body: response.jsonBytes())
    }

    static func allow(_ review: JSONValue, warnings: [String]) -> JSONValue {
        var answer: JSONValue = ["uid": review[path: "request.uid"] ?? "", "allowed": true]
        if !warnings.isEmpty { answer["warnings"] = .array(warnings.map(JSONValue.string)) }
        return answer
    }
}
