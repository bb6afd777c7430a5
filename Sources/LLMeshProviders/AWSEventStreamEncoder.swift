/// Builds AWS event-stream messages (`application/vnd.amazon.eventstream`): the frames Bedrock streams, for answers
/// the sidecar makes itself (mock answers, mid-stream errors) and for tests.
///
/// Frame layout as ``AWSEventStreamDecoder`` reads it: total length, headers length, prelude CRC-32, headers, payload,
/// message CRC-32. Integer headers use the narrowest type that holds the value (int8, int16, int32 or int64); the
/// decoder reads them all back as `.int`. Names longer than 255 bytes and string or byte values longer than 65,535
/// bytes are cut to fit their length fields, and UUIDs are padded or cut to 16 bytes: the encoder is meant for the
/// short, fixed headers Bedrock uses, never for caller data.
public enum AWSEventStreamEncoder {
    /// One message with `headers` in the given order and `payload`.
    public static func encode(headers: [(String, AWSEventStreamHeaderValue)], payload: [UInt8]) -> [UInt8] {
        var headerBytes: [UInt8] = []
        for (name, value) in headers {
            let nameBytes = Array(name.utf8.prefix(255))
            headerBytes.append(UInt8(nameBytes.count))
            headerBytes.append(contentsOf: nameBytes)
            append(value, to: &headerBytes)
        }
        let total = 12 + headerBytes.count + payload.count + 4
        var message: [UInt8] = []
        message.reserveCapacity(total)
        appendBigEndian(UInt64(total), width: 4, to: &message)
        appendBigEndian(UInt64(headerBytes.count), width: 4, to: &message)
        appendBigEndian(UInt64(AWSEventStreamDecoder.crc32(message[0..<8])), width: 4, to: &message)
        message.append(contentsOf: headerBytes)
        message.append(contentsOf: payload)
        appendBigEndian(UInt64(AWSEventStreamDecoder.crc32(message[...])), width: 4, to: &message)
        return message
    }

    /// An event as Bedrock sends one: `:event-type`, `:content-type: application/json`, `:message-type: event`.
    public static func event(type: String, payload: [UInt8]) -> [UInt8] {
        encode(
            headers: [(":event-type", .string(type)), (":content-type", .string("application/json")), (":message-type", .string("event"))],
            payload: payload
        )
    }

    /// A modeled exception (`:message-type: exception`, `:exception-type`), payload `{"message": …}`, as Bedrock ends a
    /// stream that failed after it started (for example `modelStreamErrorException`, `throttlingException`).
    public static func exception(type: String, message: String) -> [UInt8] {
        encode(
            headers: [(":exception-type", .string(type)), (":content-type", .string("application/json")), (":message-type", .string("exception"))],
            payload: Array(#"{"message":\#(JSONText.quoted(message))}"#.utf8)
        )
    }

    private static func append(_ value: AWSEventStreamHeaderValue, to bytes: inout [UInt8]) {
        switch value {
        case .bool(let flag):
            bytes.append(flag ? 0 : 1)
        case .int(let number):
            let (type, width): (UInt8, Int)
            switch number {
            case Int64(Int8.min)...Int64(Int8.max): (type, width) = (2, 1)
            case Int64(Int16.min)...Int64(Int16.max): (type, width) = (3, 2)
            case Int64(Int32.min)...Int64(Int32.max): (type, width) = (4, 4)
            default: (type, width) = (5, 8)
            }
            bytes.append(type)
            appendBigEndian(UInt64(bitPattern: number), width: width, to: &bytes)
        case .bytes(let content):
            bytes.append(6)
            appendLengthPrefixed(content[...], to: &bytes)
        case .string(let text):
            bytes.append(7)
            appendLengthPrefixed(Array(text.utf8)[...], to: &bytes)
        case .timestamp(let milliseconds):
            bytes.append(8)
            appendBigEndian(UInt64(bitPattern: milliseconds), width: 8, to: &bytes)
        case .uuid(let content):
            bytes.append(9)
            let fixed = Array(content.prefix(16))
            bytes.append(contentsOf: fixed + [UInt8](repeating: 0, count: 16 - fixed.count))
        }
    }

    private static func appendLengthPrefixed(_ content: ArraySlice<UInt8>, to bytes: inout [UInt8]) {
        let cut = content.prefix(Int(UInt16.max))
        appendBigEndian(UInt64(cut.count), width: 2, to: &bytes)
        bytes.append(contentsOf: cut)
    }

    private static func appendBigEndian(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
