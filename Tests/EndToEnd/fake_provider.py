"""A local fake LLM provider speaking the OpenAI and Anthropic wire formats, for end-to-end tests.

Standard library only. HTTP/1.1 with keep-alive; JSON answers carry Content-Length, streams use chunked
transfer encoding exactly as the real APIs do. Every request is recorded for assertions. Faults are injected
per request with the `x-fake-fault` header, which the sidecar forwards like any other app header:

    status:N        answer HTTP N with the provider's own error body (429 adds retry-after: 1)
    stall:S         sleep S seconds before sending anything
    cut             stream two events, then drop the connection without the closing chunk
    reset           drop the connection before any response byte
    slowstream:S    sleep S seconds between streamed events
    context         answer 400 with the provider's context-length error
"""
import argparse
import base64
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler

from loopback_server import LoopbackServer

WORDS_PER_REPLY = 4


class Recorded:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())


class FakeProvider(LoopbackServer):
    """Runs the fake on 127.0.0.1 in a background thread."""

    def __init__(self, openai_key="sk-upstream-openai", anthropic_key="sk-upstream-anthropic", name="fake", port=0):
        self.openai_key = openai_key
        self.anthropic_key = anthropic_key
        self.name = name
        # The fault applied to requests that name none in x-fake-fault.
        self.fault = ""
        self.requests = []
        self.lock = threading.Lock()
        provider = self

        class Handler(_Handler):
            fake = provider

        self.serve(Handler, port)

    def reset(self):
        with self.lock:
            self.requests.clear()
        self.fault = ""

    def recorded(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"


def _words(model):
    return f"fake reply from {model}".split(" ")[:WORDS_PER_REPLY]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeProvider = None

    def log_message(self, *args):
        pass

    # -- plumbing ---------------------------------------------------------------------------------

    def _send_json(self, status, payload, extra_headers=None):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _start_stream(self):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _chunk(self, data):
        raw = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
        self.wfile.flush()

    def _end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _stream(self, events, fault):
        """events: list of (event_name or None, json_or_str)."""
        self._start_stream()
        delay = float(fault.split(":")[1]) if fault.startswith("slowstream:") else 0
        for index, (name, data) in enumerate(events):
            if fault == "cut" and index == 2:
                self._drop()
                return
            text = data if isinstance(data, str) else json.dumps(data)
            self._chunk((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
            if delay:
                time.sleep(delay)
        self._end_stream()

    # -- requests ---------------------------------------------------------------------------------

    def do_GET(self):
        if self.path == "/_fake/requests":
            self._send_json(200, [r.__dict__ for r in self.fake.recorded()])
        else:
            self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_raw": raw.decode(errors="replace")}
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.fake.lock:
            self.fake.requests.append(Recorded("POST", self.path, headers, body))

        anthropic = self.path.startswith("/v1/messages")
        if anthropic:
            if headers.get("x-api-key") != self.fake.anthropic_key:
                return self._send_json(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
        elif headers.get("authorization") != f"Bearer {self.fake.openai_key}":
            return self._send_json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})

        fault = headers.get("x-fake-fault", self.fake.fault)
        if fault.startswith("stall:"):
            time.sleep(float(fault.split(":")[1]))
        if fault == "reset":
            return self._drop()
        if fault.startswith("status:"):
            status = int(fault.split(":")[1])
            extra = {"retry-after": "1"} if status == 429 else {}
            message = f"{self.fake.name} says {status}"
            if anthropic:
                kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
                return self._send_json(status, {"type": "error", "error": {"type": kind, "message": message}}, extra)
            kind = "rate_limit_exceeded" if status == 429 else "server_error"
            return self._send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": kind}}, extra)
        if fault == "context":
            if anthropic:
                return self._send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long: 300000 tokens > 200000 maximum"}})
            return self._send_json(400, {"error": {"message": "This model's maximum context length is 128000 tokens.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}})

        handlers = {
            "/v1/chat/completions": self._chat,
            "/v1/completions": self._completions,
            "/v1/embeddings": self._embeddings,
            "/v1/responses": self._responses,
            "/v1/messages": self._messages,
            "/v1/messages/count_tokens": self._count_tokens,
        }
        handler = handlers.get(self.path.split("?")[0])
        if handler is None:
            return self._send_json(404, {"error": {"message": f"no such path {self.path}", "type": "invalid_request_error"}})
        handler(body, fault)

    # -- OpenAI -----------------------------------------------------------------------------------

    @staticmethod
    def _openai_usage(prompt=12, completion=WORDS_PER_REPLY, cached=2):
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": cached}, "completion_tokens_details": {"reasoning_tokens": 0}}

    def _chat(self, body, fault):
        model = body.get("model")
        words = _words(model)
        created = int(time.time())
        if not body.get("stream"):
            return self._send_json(200, {
                "id": "chatcmpl-fake", "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": " ".join(words), "refusal": None},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": self._openai_usage(), "system_fingerprint": "fp_fake"})
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta, finish=None):
            payload = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": model,
                       "system_fingerprint": "fp_fake",
                       "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            if include_usage:
                payload["usage"] = None
            return (None, payload)

        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": (w if i == 0 else " " + w)}) for i, w in enumerate(words)]
        events.append(chunk({}, "stop"))
        if include_usage:
            events.append((None, {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created,
                                  "model": model, "system_fingerprint": "fp_fake", "choices": [], "usage": self._openai_usage()}))
        events.append((None, "[DONE]"))
        self._stream(events, fault)

    def _completions(self, body, fault):
        model = body.get("model")
        words = _words(model)
        created = int(time.time())
        if not body.get("stream"):
            return self._send_json(200, {
                "id": "cmpl-fake", "object": "text_completion", "created": created, "model": model,
                "choices": [{"index": 0, "text": " ".join(words), "logprobs": None, "finish_reason": "stop"}],
                "usage": self._openai_usage()})
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events = []
        for i, w in enumerate(words):
            payload = {"id": "cmpl-fake", "object": "text_completion", "created": created, "model": model,
                       "choices": [{"index": 0, "text": (w if i == 0 else " " + w), "logprobs": None,
                                    "finish_reason": "stop" if i == len(words) - 1 else None}]}
            if include_usage:
                payload["usage"] = None
            events.append((None, payload))
        if include_usage:
            events.append((None, {"id": "cmpl-fake", "object": "text_completion", "created": created, "model": model,
                                  "choices": [], "usage": self._openai_usage()}))
        events.append((None, "[DONE]"))
        self._stream(events, fault)

    def _embeddings(self, body, fault):
        inputs = body.get("input")
        if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
            inputs = [inputs]
        data = []
        for index, _ in enumerate(inputs or []):
            vector = [0.1 * (index + 1), 0.2, 0.3]
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack("<%df" % len(vector), *vector)).decode()
                data.append({"object": "embedding", "index": index, "embedding": encoded})
            else:
                data.append({"object": "embedding", "index": index, "embedding": vector})
        self._send_json(200, {"object": "list", "data": data, "model": body.get("model"),
                              "usage": {"prompt_tokens": 5, "total_tokens": 5}})

    def _responses(self, body, fault):
        model = body.get("model")
        words = _words(model)
        text = " ".join(words)
        created = int(time.time())
        usage = {"input_tokens": 9, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": len(words),
                 "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 9 + len(words)}
        part = {"type": "output_text", "text": text, "annotations": []}
        message = {"type": "message", "id": "msg_fake", "status": "completed", "role": "assistant", "content": [part]}

        def response(status, output, usage_value):
            return {"id": "resp_fake", "object": "response", "created_at": created, "status": status, "error": None,
                    "incomplete_details": None, "instructions": None, "model": model, "output": output,
                    "parallel_tool_calls": True, "temperature": 1.0, "tool_choice": "auto", "tools": [], "top_p": 1.0,
                    "metadata": {}, "usage": usage_value}

        if not body.get("stream"):
            return self._send_json(200, response("completed", [message], usage))
        seq = iter(range(1000))
        events = []

        def add(kind, **fields):
            events.append((kind, {"type": kind, "sequence_number": next(seq), **fields}))

        add("response.created", response=response("in_progress", [], None))
        add("response.in_progress", response=response("in_progress", [], None))
        add("response.output_item.added", output_index=0,
            item={"type": "message", "id": "msg_fake", "status": "in_progress", "role": "assistant", "content": []})
        add("response.content_part.added", item_id="msg_fake", output_index=0, content_index=0,
            part={"type": "output_text", "text": "", "annotations": []})
        for i, w in enumerate(words):
            add("response.output_text.delta", item_id="msg_fake", output_index=0, content_index=0,
                delta=(w if i == 0 else " " + w), logprobs=[])
        add("response.output_text.done", item_id="msg_fake", output_index=0, content_index=0, text=text, logprobs=[])
        add("response.content_part.done", item_id="msg_fake", output_index=0, content_index=0, part=part)
        add("response.output_item.done", output_index=0, item=message)
        add("response.completed", response=response("completed", [message], usage))
        self._stream(events, fault)

    # -- Anthropic --------------------------------------------------------------------------------

    def _messages(self, body, fault):
        model = body.get("model")
        words = _words(model)
        usage = {"input_tokens": 10, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3, "output_tokens": len(words)}
        if not body.get("stream"):
            return self._send_json(200, {
                "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": " ".join(words)}], "stop_reason": "end_turn",
                "stop_sequence": None, "usage": usage})
        start_usage = dict(usage, output_tokens=1)
        events = [("message_start", {"type": "message_start", "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})]
        events.append(("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}))
        events.append(("ping", {"type": "ping"}))
        for i, w in enumerate(words):
            events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                   "delta": {"type": "text_delta", "text": (w if i == 0 else " " + w)}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                         "usage": {"output_tokens": len(words)}}))
        events.append(("message_stop", {"type": "message_stop"}))
        self._stream(events, fault)

    def _count_tokens(self, body, fault):
        self._send_json(200, {"input_tokens": 42})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    fake = FakeProvider(port=args.port)
    print(f"fake provider on {fake.base_url}", flush=True)
    fake.server.serve_forever()
