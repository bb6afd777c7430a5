/// A JSON value held in full, for the translators that re-shape one API's body into another's.
///
/// Unlike ``JSONDocument`` (which reads a few fields in place), a tree is built, edited and serialised whole. Object
/// members keep their order and duplicates, integers stay apart from fractions, so a value that passes through a
/// translation comes out as it went in. Named `JSONTree` so as not to be confused with `LLMeshKube.JSONValue`.
public enum JSONTree: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in `Int`.
    case int(Int)
    /// Any other number.
    case double(Double)
    case string(String)
    case array([JSONTree])
    case object(JSONObject)

    /// The member `key` of an object; `nil` for other kinds or a missing key.
    public subscript(key: String) -> JSONTree? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The text of a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// An integer, or a fraction-free double in `Int` range.
    public var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value == value.rounded() && abs(value) < 9e15: return Int(value)
        default: return nil
        }
    }

    /// Any number as a double.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// A boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements of an array.
    public var arrayValue: [JSONTree]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members of an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool { self == .null }

    /// Whether this is a number.
    public var isNumber: Bool {
        switch self {
        case .int, .double: return true
        default: return false
        }
    }
}

/// The members of a JSON object in the order they were written or added.
public struct JSONObject: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// One `"key": value` pair.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONTree

        public init(key: String, value: JSONTree) {
            self.key = key
            self.value = value
        }
    }

    /// The members in order; duplicates are kept as read.
    public var members: [Member]

    /// An object with `members` in the given order.
    public init(_ members: [Member] = []) {
        self.members = members
    }

    /// Keeps the literal's order: `["b": 1, "a": 2]` serialises as `{"b":1,"a":2}`.
    public init(dictionaryLiteral elements: (String, JSONTree)...) {
        members = elements.map { Member(key: $0.0, value: $0.1) }
    }

    /// The first member named `key`. Setting replaces it in place (or appends); setting `nil` removes every such member.
    public subscript(key: String) -> JSONTree? {
        get { members.first { $0.key == key }?.value }
        set {
            guard let newValue else {
                members.removeAll { $0.key == key }
                return
            }
            if let index = members.firstIndex(where: { $0.key == key }) {
                members[index].value = newValue
            } else {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    /// Whether the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// Appends `value` under `key` only when it is not `nil`.
    public mutating func setIfPresent(_ key: String, _ value: JSONTree?) {
        if let value { self[key] = value }
    }
}

extension JSONTree: ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONTree: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
}

extension JSONTree: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONTree: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONTree: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension JSONTree: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JSONTree...) { self = .array(elements) }
}

extension JSONTree: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONTree)...) {
        self = .object(JSONObject(elements.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }
}
