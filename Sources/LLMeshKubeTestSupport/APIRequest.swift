import Foundation
import LLMeshKube
import Yams

/// A parsed REST path of the API server.
enum APIPath: Equatable {
    case version
    case apiVersions
    case apiGroupList
    case group(String)
    case resourceList(group: String, version: String)
    case openAPI(String)
    case resource(group: String, version: String, namespace: String?, plural: String, name: String?, subresource: String?)

    init?(_ path: String) {
        let segments = path.split(separator: "/").map(String.init)
        switch segments.first {
        case "version": self = .version
        case "openapi": self = .openAPI(segments.dropFirst().joined(separator: "/"))
        case "api":
            if segments.count == 1 { self = .apiVersions; return }
            guard segments.count >= 2 else { return nil }
            if segments.count == 2 { self = .resourceList(group: "", version: segments[1]); return }
            guard let parsed = Self.resource(group: "", version: segments[1], rest: Array(segments.dropFirst(2))) else { return nil }
            self = parsed
        case "apis":
            if segments.count == 1 { self = .apiGroupList; return }
            if segments.count == 2 { self = .group(segments[1]); return }
            if segments.count == 3 { self = .resourceList(group: segments[1], version: segments[2]); return }
            guard let parsed = Self.resource(group: segments[1], version: segments[2], rest: Array(segments.dropFirst(3))) else { return nil }
            self = parsed
        default:
            return nil
        }
    }

    private static func resource(group: String, version: String, rest: [String]) -> APIPath? {
        if rest.count >= 3 && rest[0] == "namespaces" && rest[2] != "status" {
            guard rest.count <= 5 else { return nil }
            return .resource(group: group, version: version, namespace: rest[1], plural: rest[2], name: rest.count > 3 ? rest[3] : nil, subresource: rest.count > 4 ? rest[4] : nil)
        }
        guard !rest.isEmpty, rest.count <= 3 else { return nil }
        return .resource(group: group, version: version, namespace: nil, plural: rest[0], name: rest.count > 1 ? rest[1] : nil, subresource: rest.count > 2 ? rest[2] : nil)
    }
}

/// Decodes request bodies: JSON, or YAML for server-side apply (JSON is YAML, so both go through one parser).
enum BodyDecoder {
    static func decode(_ bytes: [UInt8], contentType: String) throws(APIStatus) -> JSONValue {
        if bytes.isEmpty { return .object([:]) }
        if contentType.contains("yaml") {
            guard let text = String(bytes: bytes, encoding: .utf8) else { throw .badRequest("body is not UTF-8") }
            do {
                guard let node = try Yams.compose(yaml: text) else { return .object([:]) }
                return try json(from: node)
            } catch let status as APIStatus {
                throw status
            } catch {
                throw .badRequest("error decoding YAML: \(error)")
            }
        }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw .badRequest("error decoding JSON body: \(error)")
        }
    }

    private static func json(from node: Node) throws -> JSONValue {
        switch node {
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw APIStatus.badRequest("YAML keys must be strings") }
                object[name] = try json(from: value)
            }
            return .object(object)
        case .sequence(let sequence):
            return .array(try sequence.map(json(from:)))
        case .scalar(let scalar):
            if scalar.style == .plain || scalar.style == .any {
                if scalar.string == "null" || scalar.string == "~" || scalar.string.isEmpty { return .null }
                if let flag = node.bool { return .bool(flag) }
                if let number = node.int { return .number(Double(number)) }
                if let number = node.float { return .number(number) }
            }
            return .string(scalar.string)
        case .alias:
            throw APIStatus.badRequest("YAML aliases are not accepted")
        }
    }
}
