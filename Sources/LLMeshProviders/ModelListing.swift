/// The `GET /v1/models` answer listing the model names routes expose, in either dialect.
public enum ModelListing {
    public static func body(models: [String], dialect: APIDialect, created: Int) -> [UInt8] {
        switch dialect {
        case .openAI, .bedrock:
            let items = models.map { #"{"id":\#(JSONText.quoted($0)),"object":"model","created":\#(created),"owned_by":"llmesh"}"# }
            return Array(#"{"object":"list","data":[\#(items.joined(separator: ","))]}"#.utf8)
        case .anthropic:
            let items = models.map { #"{"type":"model","id":\#(JSONText.quoted($0)),"display_name":\#(JSONText.quoted($0)),"created_at":"1970-01-01T00:00:00Z"}"# }
            let first = models.first.map(JSONText.quoted) ?? "null"
            let last = models.last.map(JSONText.quoted) ?? "null"
            return Array(#"{"data":[\#(items.joined(separator: ","))],"has_more":false,"first_id":\#(first),"last_id":\#(last)}"#.utf8)
        }
    }
}
