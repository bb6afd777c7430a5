"""A local AWS Bedrock Runtime that verifies every request's SigV4 signature, for end-to-end tests.

Serves `POST /model/{modelId}/converse`, `/converse-stream`, `/invoke` and `/invoke-with-response-stream` on
127.0.0.1. Each request's signature is checked independently with botocore's own signer: the request is rebuilt as an
`AWSRequest` from the received method, raw wire path (the model id percent-encoded once, e.g. `v1%3A0`; the signer
encodes it again for the canonical URI, as AWS does), the headers named in `SignedHeaders` and the body, signed with
`SigV4Auth(Credentials(ak, secret, token), "bedrock", region)` at the request's own `x-amz-date`, and the signatures
compared. The secret and session token of an access key come from `FakeBedrock.credentials` (a static table) and then
from the `lookups` callables (e.g. the credentials moto's STS issued). A wrong signature, an unknown key, a missing or
wrong `x-amz-security-token`, a stale date or an `x-amz-content-sha256` that is not the body's hash is refused with 403
`{"message": "The request signature we calculated does not match..."}` and `x-amzn-ErrorType: InvalidSignatureException`
(or `UnrecognizedClientException` for an unknown key), as Bedrock does.

Replies are scripted with `Reply` objects: `fake.default` answers every request, `fake.queue` (a list) answers the next
ones first. A reply is plain text, a tool call, an error status, or a stream that breaks with an exception mid-way.
Streams are real AWS event streams (`application/vnd.amazon.eventstream`), written by `encode_event` below.
"""
import base64
import datetime
import hashlib
import json
import re
import struct
import threading
import urllib.parse
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from loopback_server import LoopbackServer, ScriptedReplies

DEFAULT_TEXT = "Hello from fake Bedrock"
INPUT_TOKENS = 11
CACHE_READ_TOKENS = 2
SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
# Headers the fake drops from its records: they carry secrets.
SECRET_HEADERS = {"authorization", "x-amz-security-token"}
AUTH_PATTERN = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
                          r"SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$")
ERROR_STATUS = {"ThrottlingException": 429, "ValidationException": 400, "AccessDeniedException": 403,
                "ResourceNotFoundException": 404, "ModelNotReadyException": 429, "ServiceUnavailableException": 503,
                "InternalServerException": 500, "ModelTimeoutException": 408, "ModelErrorException": 424}


# -- the AWS event-stream encoding (botocore eventstream.py; reference E.5) ---------------------------------------

def encode_headers(headers):
    """String-valued headers (type 7): [name_len u8][name][7][value_len u16 BE][value]."""
    out = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack(">B", len(raw_name)) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value
    return out


def encode_event(headers, payload):
    """One event-stream message: prelude (total length, headers length, prelude CRC), headers, payload, message CRC."""
    raw_headers = encode_headers(headers)
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + raw_headers + payload
    return message + struct.pack(">I", zlib.crc32(message) & 0xFFFFFFFF)


def event(event_type, payload):
    return encode_event({":event-type": event_type, ":content-type": "application/json", ":message-type": "event"},
                        json.dumps(payload).encode())


def exception_event(exception_type, message):
    return encode_event({":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"},
                        json.dumps({"message": message}).encode())


def decode_events(data):
    """The inverse of encode_event for the fake's own unit checks: [(headers, payload bytes)], CRCs verified."""
    events = []
    while data:
        total, headers_length = struct.unpack(">II", data[:8])
        assert struct.unpack(">I", data[8:12])[0] == zlib.crc32(data[:8]) & 0xFFFFFFFF
        assert struct.unpack(">I", data[total - 4:total])[0] == zlib.crc32(data[:total - 4]) & 0xFFFFFFFF
        raw, headers, offset = data[12:12 + headers_length], {}, 0
        while offset < len(raw):
            name_length = raw[offset]
            name = raw[offset + 1:offset + 1 + name_length].decode()
            offset += 1 + name_length
            assert raw[offset] == 7
            value_length = struct.unpack(">H", raw[offset + 1:offset + 3])[0]
            headers[name] = raw[offset + 3:offset + 3 + value_length].decode()
            offset += 3 + value_length
        events.append((headers, data[12 + headers_length:total - 4]))
        data = data[total:]
    return events


# -- scripting ----------------------------------------------------------------------------------------------------

@dataclass
class Reply:
    """What the fake answers. `tool` is (name, input dict); `error` an AWS error code (status from ERROR_STATUS
    unless `status` is given); `break_after` streams that many content deltas, then `stream_exception`."""
    text: str = DEFAULT_TEXT
    tool: tuple = None
    tool_use_id: str = "tooluse_fake_1"
    error: str = None
    status: int = None
    error_message: str = "Too many requests, please wait before trying again."
    break_after: int = None
    stream_exception: str = "modelStreamErrorException"
    stop_reason: str = None

    @property
    def words(self):
        return re.findall(r"\S+\s*", self.text)

    @property
    def output_tokens(self):
        return len(self.words) if self.tool is None else 7

    @property
    def stop(self):
        return self.stop_reason or ("tool_use" if self.tool else "end_turn")


@dataclass
class BedrockRequest:
    method: str
    path: str                 # the raw wire path, e.g. /model/anthropic.claude-3-haiku-20240307-v1%3A0/converse
    operation: str            # converse, converse-stream, invoke, invoke-with-response-stream
    model_id: str             # the path's model id, percent-decoded once
    headers: dict             # lower-case names; authorization and x-amz-security-token left out
    body: object              # the JSON body
    access_key: str = None    # who signed it (None: not SigV4)
    region: str = None        # the signature's credential scope
    session_token_sent: bool = False
    verdict: str = "ok"       # ok, or why the signature was refused

    def header(self, name):
        return self.headers.get(name.lower())


@dataclass
class FakeBedrock(ScriptedReplies, LoopbackServer):
    """Runs the fake on 127.0.0.1 in a background thread. `credentials`: {access key: (secret, session token or None)}."""
    credentials: dict = field(default_factory=dict)
    lookups: list = field(default_factory=list)
    max_clock_skew_seconds: int = 300

    def __post_init__(self):
        self.default = self.default_reply()
        self.queue = []
        self.requests = []
        self.lock = threading.Lock()
        fake = self

        class Handler(_Handler):
            bedrock = fake

        self.serve(Handler, 0)

    @staticmethod
    def default_reply():
        return Reply()

    def recorded(self, operation=None, verdict="ok"):
        with self.lock:
            return [r for r in self.requests if (operation is None or r.operation == operation)
                    and (verdict is None or r.verdict == verdict)]

    def secret_for(self, access_key):
        """(secret, session token or None), or None for an unknown key."""
        if access_key in self.credentials:
            return self.credentials[access_key]
        for lookup in self.lookups:
            found = lookup(access_key)
            if found:
                return found
        return None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"


def verify_sigv4(method, path, headers, body, secret_for, now=None, max_skew=300):
    """Checks a request's SigV4 Authorization with botocore; returns (access key, region, None) or (key, region, why).

    `headers` is a list of (name, value) pairs as received (repeated names allowed)."""
    joined = {}
    for name, value in headers:
        joined.setdefault(name.lower(), []).append(value)
    authorization = ",".join(joined.get("authorization", []))
    match = AUTH_PATTERN.match(authorization.strip())
    if not match:
        return None, None, "no SigV4 Authorization header"
    access_key, date, region, service, signed_names, signature = match.groups()
    signed = signed_names.split(";")
    if service != "bedrock":
        return access_key, region, f"credential scope names service {service}, not bedrock"
    for required in ("host", "x-amz-date"):
        if required not in signed:
            return access_key, region, f"{required} is not signed"
    if signed != sorted(signed):
        return access_key, region, "SignedHeaders are not sorted"
    amz_date = ",".join(joined.get("x-amz-date", []))
    if not re.fullmatch(r"\d{8}T\d{6}Z", amz_date) or amz_date[:8] != date:
        return access_key, region, "x-amz-date is missing or does not match the credential scope"
    sent = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    if abs(((now or datetime.datetime.now(datetime.timezone.utc)) - sent).total_seconds()) > max_skew:
        return access_key, region, "x-amz-date is too far from now"
    known = secret_for(access_key)
    if known is None:
        return access_key, region, "unknown access key"
    secret, token = known
    sent_token = joined.get("x-amz-security-token")
    if token is not None:
        if sent_token != [token]:
            return access_key, region, "x-amz-security-token is missing or wrong"
        if "x-amz-security-token" not in signed:
            return access_key, region, "x-amz-security-token is not signed"
    elif sent_token is not None:
        return access_key, region, "x-amz-security-token sent for long-term credentials"
    content_hash = joined.get("x-amz-content-sha256")
    if content_hash is not None and content_hash != [hashlib.sha256(body).hexdigest()]:
        return access_key, region, "x-amz-content-sha256 is not the body's SHA-256"
    for name in signed:
        if name not in joined:
            return access_key, region, f"signed header {name} is absent"
    request = AWSRequest(method=method, url=f"http://{joined['host'][0]}{path}", data=body,
                         headers={name: ",".join(joined[name]) for name in signed})
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key, secret, token), "bedrock", region)
    if signer.signed_headers(signer.headers_to_sign(request)) != signed_names:
        return access_key, region, "SignedHeaders name headers botocore would not sign"
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if expected != signature:
        return access_key, region, "signature mismatch"
    return access_key, region, None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bedrock: FakeBedrock = None

    def log_message(self, *args):
        pass

    def _send_json(self, status, payload, extra_headers=None):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("x-amzn-requestid", "00000000-0000-4000-8000-000000000000")
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(self, code, message, status=None):
        self._send_json(status or ERROR_STATUS.get(code, 400), {"message": message}, {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"})

    def _stream(self, frames, extra_headers=None):
        self.send_response(200)
        self.send_header("content-type", "application/vnd.amazon.eventstream")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("x-amzn-requestid", "00000000-0000-4000-8000-000000000001")
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        # Frames do not line up with HTTP chunks on the wire: the first is split in two, the rest go two at a time.
        pieces = []
        if frames:
            first = frames[0]
            pieces += [first[:7], first[7:]]
        rest = frames[1:]
        pieces += [b"".join(rest[i:i + 2]) for i in range(0, len(rest), 2)]
        for piece in pieces:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self):
        self._error("UnknownOperationException", "not found", 404)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length) if length else b""
        segments = self.path.split("?")[0].split("/")
        if len(segments) != 4 or segments[1] != "model" or segments[3] not in ("converse", "converse-stream", "invoke", "invoke-with-response-stream"):
            return self._error("UnknownOperationException", f"no such path {self.path}", 404)
        operation = segments[3]
        model_id = urllib.parse.unquote(segments[2])
        pairs = list(self.headers.items())
        access_key, region, refusal = verify_sigv4("POST", self.path, pairs, raw, self.bedrock.secret_for,
                                                   max_skew=self.bedrock.max_clock_skew_seconds)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_raw": raw.decode(errors="replace")}
        headers = {k.lower(): v for k, v in pairs if k.lower() not in SECRET_HEADERS}
        record = BedrockRequest("POST", self.path, operation, model_id, headers, body, access_key, region,
                                "x-amz-security-token" in {k.lower() for k, _ in pairs}, refusal or "ok")
        with self.bedrock.lock:
            self.bedrock.requests.append(record)
        if refusal == "unknown access key":
            return self._error("UnrecognizedClientException", "The security token included in the request is invalid.", 403)
        if refusal:
            return self._error("InvalidSignatureException", SIGNATURE_MISMATCH, 403)
        if not isinstance(body, dict) or "_raw" in body:
            return self._error("ValidationException", "Malformed input request, please reformat your input and try again.")
        reply = self.bedrock.next_reply()
        if reply.error:
            return self._error(reply.error, reply.error_message, reply.status)
        {"converse": self._converse, "converse-stream": self._converse_stream, "invoke": self._invoke,
         "invoke-with-response-stream": self._invoke_stream}[operation](body, reply, model_id)

    # -- Converse -----------------------------------------------------------------------------------------------

    @staticmethod
    def _converse_usage(reply):
        return {"inputTokens": INPUT_TOKENS, "outputTokens": reply.output_tokens,
                "totalTokens": INPUT_TOKENS + CACHE_READ_TOKENS + reply.output_tokens,
                "cacheReadInputTokens": CACHE_READ_TOKENS, "cacheWriteInputTokens": 0}

    def _converse(self, body, reply, model_id):
        if not body.get("messages"):
            return self._error("ValidationException", "The model returned the following errors: messages: field required")
        if reply.tool:
            name, arguments = reply.tool
            content = [{"text": "Let me check."}, {"toolUse": {"toolUseId": reply.tool_use_id, "name": name, "input": arguments}}]
        else:
            content = [{"text": reply.text}]
        self._send_json(200, {"output": {"message": {"role": "assistant", "content": content}},
                              "stopReason": reply.stop, "usage": self._converse_usage(reply), "metrics": {"latencyMs": 42}})

    def _converse_stream(self, body, reply, model_id):
        if not body.get("messages"):
            return self._error("ValidationException", "The model returned the following errors: messages: field required")
        frames = [event("messageStart", {"role": "assistant", "p": "abcdefghij"})]
        if reply.tool:
            name, arguments = reply.tool
            frames.append(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Let me check."}, "p": "abc"}))
            frames.append(event("contentBlockStop", {"contentBlockIndex": 0, "p": "abcd"}))
            frames.append(event("contentBlockStart", {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": reply.tool_use_id, "name": name}}, "p": "ab"}))
            encoded = json.dumps(arguments)
            middle = len(encoded) // 2
            for part in (encoded[:middle], encoded[middle:]):
                frames.append(event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": part}}, "p": "abcdef"}))
            frames.append(event("contentBlockStop", {"contentBlockIndex": 1, "p": "a"}))
        else:
            for index, word in enumerate(reply.words):
                if reply.break_after is not None and index == reply.break_after:
                    frames.append(exception_event(reply.stream_exception, "The model stream broke off."))
                    return self._stream(frames)
                frames.append(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": word}, "p": "abcdefgh"[: index + 1]}))
            frames.append(event("contentBlockStop", {"contentBlockIndex": 0, "p": "abcd"}))
        frames.append(event("messageStop", {"stopReason": reply.stop, "p": "abcdefghijk"}))
        frames.append(event("metadata", {"usage": self._converse_usage(reply), "metrics": {"latencyMs": 42}, "p": "abc"}))
        self._stream(frames)

    # -- InvokeModel (Anthropic-native bodies) --------------------------------------------------------------

    def _invoke(self, body, reply, model_id):
        if body.get("anthropic_version") != "bedrock-2023-05-31" or "model" in body:
            return self._error("ValidationException", "Malformed input request: anthropic_version must be bedrock-2023-05-31 and model must not be set.")
        if reply.tool:
            name, arguments = reply.tool
            content = [{"type": "tool_use", "id": reply.tool_use_id, "name": name, "input": arguments}]
        else:
            content = [{"type": "text", "text": reply.text}]
        self._send_json(200, {"id": "msg_bdrk_fake", "type": "message", "role": "assistant", "model": "claude-3-haiku-20240307",
                              "content": content, "stop_reason": reply.stop, "stop_sequence": None,
                              "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": reply.output_tokens}},
                        {"x-amzn-bedrock-input-token-count": str(INPUT_TOKENS),
                         "x-amzn-bedrock-output-token-count": str(reply.output_tokens),
                         "x-amzn-bedrock-invocation-latency": "42"})

    def _invoke_stream(self, body, reply, model_id):
        if body.get("anthropic_version") != "bedrock-2023-05-31" or "model" in body:
            return self._error("ValidationException", "Malformed input request: anthropic_version must be bedrock-2023-05-31 and model must not be set.")

        def chunk(payload):
            return event("chunk", {"bytes": base64.b64encode(json.dumps(payload).encode()).decode(), "p": "abcdefg"})

        frames = [chunk({"type": "message_start", "message": {
            "id": "msg_bdrk_fake", "type": "message", "role": "assistant", "model": "claude-3-haiku-20240307", "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": 1}}})]
        frames.append(chunk({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))
        for index, word in enumerate(reply.words):
            if reply.break_after is not None and index == reply.break_after:
                frames.append(exception_event(reply.stream_exception, "The model stream broke off."))
                return self._stream(frames, {"x-amzn-bedrock-content-type": "application/json"})
            frames.append(chunk({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}}))
        frames.append(chunk({"type": "content_block_stop", "index": 0}))
        frames.append(chunk({"type": "message_delta", "delta": {"stop_reason": reply.stop, "stop_sequence": None},
                             "usage": {"output_tokens": reply.output_tokens}}))
        frames.append(chunk({"type": "message_stop", "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": INPUT_TOKENS, "outputTokenCount": reply.output_tokens, "invocationLatency": 42, "firstByteLatency": 7}}))
        self._stream(frames, {"x-amzn-bedrock-content-type": "application/json"})

