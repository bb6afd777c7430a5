/// The field reference of docs/crds.md, rendered from the same schema as the CRDs.
public enum CRDReference {
    /// Markers around the generated part of docs/crds.md.
    public static let beginMarker = "<!-- BEGIN GENERATED FIELD REFERENCE (llmesh crds --markdown) -->"
    public static let endMarker = "<!-- END GENERATED FIELD REFERENCE -->"

    /// Markdown tables of every field of every kind, spec then status.
    public static func markdown() -> String {
        var lines: [String] = [beginMarker, ""]
        for descriptor in CustomResourceDefinitions.descriptors {
            lines.append("### \(descriptor.kind) (`\(descriptor.name)`, short names: \(descriptor.shortNames.map { "`\($0)`" }.joined(separator: ", ")))")
            lines.append("")
            lines.append(descriptor.description)
            lines.append("")
            lines.append("| field | type | required | description |")
            lines.append("|---|---|---|---|")
            var spec = CustomResourceDefinitions.specSchema(for: descriptor)
            append(&spec, prefix: "spec", to: &lines)
            var status = CustomResourceDefinitions.statusSchema(for: descriptor)
            append(&status, prefix: "status", to: &lines)
            let columns = descriptor.printerColumns.map { $0.priority == 0 ? $0.name : "\($0.name) (wide)" }
            lines.append("")
            lines.append("`kubectl get \(descriptor.plural)` columns: \(columns.joined(separator: ", ")).")
            lines.append("")
        }
        lines.append(endMarker)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func append(_ schema: inout OpenAPISchema, prefix: String, to lines: inout [String]) {
        var requiredPaths: Set<String> = []
        schema.visit(path: prefix) { path, node in
            for name in node.required { requiredPaths.insert("\(path).\(name)") }
            guard path != prefix, !path.hasSuffix("[]") else { return }
            var type = node.type
            if let items = node.items { type = "[]\(items.type)" }
            if node.mapsToStrings { type = "map[string]string" }
            var notes: [String] = []
            if !node.enumValues.isEmpty { notes.append("one of " + node.enumValues.map { "`\($0)`" }.joined(separator: ", ")) }
            if let items = node.items, !items.enumValues.isEmpty { notes.append("each one of " + items.enumValues.map { "`\($0)`" }.joined(separator: ", ")) }
            if let minimum = node.minimum { notes.append("min \(format(minimum))") }
            if let maximum = node.maximum { notes.append("max \(format(maximum))") }
            if node.pattern != nil && node.type == "string" { notes.append("duration such as `500ms`, `30s`, `2m`") }
            let description = (node.description ?? "") + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
            let display = path.replacingOccurrences(of: "[]", with: "[*]")
            lines.append("| `\(display)` | \(type) | \(requiredPaths.contains(path) ? "yes" : "") | \(description.replacingOccurrences(of: "|", with: "\\|")) |")
        }
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number ? String(Int(number)) : String(number)
    }
}
