"""Writes the ConverseStream answer nginx serves (AWS event stream, application/vnd.amazon.eventstream) and checks that
botocore decodes it.

    python make_stream.py OUT_FILE

Framing (botocore eventstream.py): [total_len u32][headers_len u32][prelude CRC32] [headers] [payload] [message CRC32],
big-endian; each header [name_len u8][name][type 7 = string][value_len u16][value]. The events are what Bedrock sends
for a text answer: messageStart, 20 contentBlockDelta, contentBlockStop, messageStop, metadata (usage), each payload
with Bedrock's "p" padding field.
"""
import json
import struct
import sys
import zlib

WORDS = ["Prince", " Hamlet", " seeks", " revenge", " on", " his", " uncle", " Claudius,", " who", " murdered",
         " his", " father", " and", " married", " his", " mother", " Gertrude,", " then", " feigns", " madness."]
USAGE = {"inputTokens": 38, "outputTokens": len(WORDS), "totalTokens": 38 + len(WORDS)}
PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"


def encode_headers(headers):
    out = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack(">B", len(raw_name)) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value
    return out


def encode_message(headers, payload):
    raw_headers = encode_headers(headers)
    prelude = struct.pack(">II", 12 + len(raw_headers) + len(payload) + 4, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + raw_headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event(event_type, payload, padding):
    payload = dict(payload, p=PADDING[:padding])
    return encode_message({":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
                          json.dumps(payload, separators=(",", ":")).encode())


def events():
    yield "messageStart", {"role": "assistant"}
    for index, word in enumerate(WORDS):
        yield "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": word}}
    yield "contentBlockStop", {"contentBlockIndex": 0}
    yield "messageStop", {"stopReason": "end_turn"}
    yield "metadata", {"usage": USAGE, "metrics": {"latencyMs": 612}}


def check(data):
    """Decodes `data` with botocore's EventStreamBuffer; returns (event types, text, usage) or raises."""
    from botocore.eventstream import EventStreamBuffer
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    types, text, usage = [], "", None
    for message in buffer:
        assert message.headers[":message-type"] == "event", message.headers
        payload = json.loads(message.payload)
        types.append(message.headers[":event-type"])
        text += payload.get("delta", {}).get("text", "")
        usage = payload.get("usage", usage)
    expected = [name for name, _ in events()]
    assert types == expected, types
    assert text == "".join(WORDS) and usage == USAGE, (text, usage)
    return types, text, usage


def main():
    data = b"".join(event(name, payload, 8 + index % 40) for index, (name, payload) in enumerate(events()))
    types, text, usage = check(data)
    with open(sys.argv[1], "wb") as out:
        out.write(data)
    print(f"{sys.argv[1]}: {len(data)} bytes, {len(types)} events ({types.count('contentBlockDelta')} contentBlockDelta), "
          f"botocore decodes it: {text!r}, usage {usage}")


if __name__ == "__main__":
    main()
