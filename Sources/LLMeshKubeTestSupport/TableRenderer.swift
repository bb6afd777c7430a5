import Foundation
import LLMeshKube

/// Builds the `meta.k8s.io/v1` Table that `kubectl get` asks for: Name, then the CRD's printer columns (or Age).
enum TableRenderer {
    static func table(for objects: [JSONValue], info: ResourceInfo, listMetadata: JSONValue) -> JSONValue {
        let columns: [JSONValue] = info.printerColumns.isEmpty
            ? [["name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp", "description": "", "priority": 0]]
            : info.printerColumns
        var definitions: [JSONValue] = [["name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0]]
        for column in columns {
            definitions.append([
                "name": column["name"] ?? "", "type": column["type"] ?? "string", "format": column["format"] ?? "",
                "description": column["description"] ?? "", "priority": column["priority"] ?? 0,
            ])
        }
        let rows = objects.map { object -> JSONValue in
            var cells: [JSONValue] = [object[path: "metadata.name"] ?? ""]
            for column in columns {
                let value = column["jsonPath"]?.stringValue.flatMap { SimpleJSONPath.evaluate($0, in: object) }
                if column["type"]?.stringValue == "date", let text = value?.stringValue {
                    cells.append(.string(HumanDuration.since(text)))
                } else {
                    cells.append(value ?? .null)
                }
            }
            return [
                "cells": .array(cells),
                "object": ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]],
            ]
        }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": listMetadata, "columnDefinitions": .array(definitions), "rows": .array(rows)]
    }
}

/// Ages as `kubectl get` shows them (`45s`, `3m12s`, `2h`, `4d`), rendered by the server as the real one does.
enum HumanDuration {
    static func since(_ timestamp: String, now: Date = Date()) -> String {
        guard let date = try? Date(timestamp, strategy: .iso8601) else { return "<invalid>" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 48 { return "\(hours)h" }
        return "\(hours / 24)d"
    }
}
