/// The errors the translators raise, with the offending field named in the message and in `parameter`.
enum TranslationErrors {
    /// A feature the target schema cannot express: refused (400 `untranslatable_request`) rather than dropped.
    static func untranslatable(_ field: String, _ why: String, to target: WireSchema) -> SidecarError {
        SidecarError(.untranslatable, "'\(field)' cannot be translated for a \(target.displayName) upstream: \(why).", parameter: field)
    }

    /// A field with the wrong shape for its own schema (400 `invalid_request`).
    static func invalid(_ field: String, _ why: String) -> SidecarError {
        SidecarError(.invalidRequest, "'\(field)' \(why).", parameter: field)
    }

    /// An upstream answer that does not have the shape its schema promises (502 `upstream_protocol_error`).
    static func badUpstream(_ why: String) -> SidecarError {
        SidecarError(.upstreamProtocolError, "The upstream answer could not be translated: \(why).")
    }

    /// A schema pair with no translator.
    static func unsupportedPair(from source: WireSchema, to target: WireSchema) -> SidecarError {
        SidecarError(.untranslatable, "Translating \(source.displayName) to \(target.displayName) is not supported.")
    }

    /// Parses a request body that must be a JSON object.
    static func requestObject(_ body: [UInt8]) throws(SidecarError) -> JSONObject {
        let tree = try JSONTree(parsing: body)
        guard let object = tree.objectValue else { throw SidecarError(.invalidRequest, "The request body must be a JSON object.") }
        return object
    }

    /// Parses an upstream answer that must be a JSON object.
    static func upstreamObject(_ body: [UInt8]) throws(SidecarError) -> JSONTree {
        let tree: JSONTree
        do {
            tree = try JSONTree(parsing: body)
        } catch {
            throw badUpstream("the body is not valid JSON")
        }
        guard tree.objectValue != nil else { throw badUpstream("the body is not a JSON object") }
        return tree
    }
}

/// Typed reads of request fields that fail with the field's path.
struct FieldReader {
    let path: String
    let value: JSONTree?

    init(_ path: String, _ value: JSONTree?) {
        self.path = path
        self.value = value.flatMap { $0.isNull ? nil : $0 }
    }

    func string() throws(SidecarError) -> String? {
        guard let value else { return nil }
        guard let text = value.stringValue else { throw TranslationErrors.invalid(path, "must be a string") }
        return text
    }

    func requiredString() throws(SidecarError) -> String {
        guard let text = try string() else { throw TranslationErrors.invalid(path, "is required") }
        return text
    }

    func int() throws(SidecarError) -> Int? {
        guard let value else { return nil }
        guard let number = value.intValue else { throw TranslationErrors.invalid(path, "must be an integer") }
        return number
    }

    func number() throws(SidecarError) -> JSONTree? {
        guard let value else { return nil }
        guard value.isNumber else { throw TranslationErrors.invalid(path, "must be a number") }
        return value
    }

    func bool() throws(SidecarError) -> Bool? {
        guard let value else { return nil }
        guard let flag = value.boolValue else { throw TranslationErrors.invalid(path, "must be true or false") }
        return flag
    }

    func array() throws(SidecarError) -> [JSONTree]? {
        guard let value else { return nil }
        guard let elements = value.arrayValue else { throw TranslationErrors.invalid(path, "must be an array") }
        return elements
    }

    func object() throws(SidecarError) -> JSONObject? {
        guard let value else { return nil }
        guard let object = value.objectValue else { throw TranslationErrors.invalid(path, "must be an object") }
        return object
    }

    /// A string or an array of strings (OpenAI `stop`).
    func strings() throws(SidecarError) -> [String] {
        guard let value else { return [] }
        if let text = value.stringValue { return [text] }
        guard let elements = value.arrayValue else { throw TranslationErrors.invalid(path, "must be a string or an array of strings") }
        var result: [String] = []
        for element in elements {
            guard let text = element.stringValue else { throw TranslationErrors.invalid(path, "must hold only strings") }
            result.append(text)
        }
        return result
    }
}
