"""A small scripted OpenAI Chat Completions upstream (text or tool calls, streamed or not), for translation tests.

fake_provider.FakeProvider answers only text; an Anthropic-SDK app translated to an OpenAI-compatible backend needs
tool calls too. Requests must carry `Authorization: Bearer <key>`; each is recorded. Replies come from `script()`
(the next requests) or `default`: a `ChatReply` with `text`, or `tool` = (name, arguments dict), or `status` (an
OpenAI-shaped error).
"""
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from loopback_server import LoopbackServer, ScriptedReplies

PROMPT_TOKENS = 15
CACHED_TOKENS = 3


@dataclass
class ChatReply:
    text: str = "Hello from the OpenAI-compatible fake"
    tool: tuple = None
    tool_call_id: str = "call_fake_1"
    status: int = None

    @property
    def words(self):
        parts = self.text.split(" ")
        return [p if i == 0 else " " + p for i, p in enumerate(parts)]

    @property
    def completion_tokens(self):
        return len(self.words) if self.tool is None else 9


class ChatUpstream(ScriptedReplies, LoopbackServer):
    def __init__(self, key="sk-upstream-compatible"):
        self.key = key
        self.default = self.default_reply()
        self.queue = []
        self.requests = []
        self.lock = threading.Lock()
        upstream = self

        class Handler(_Handler):
            fake = upstream

        self.serve(Handler, 0)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def default_reply():
        return ChatReply()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: ChatUpstream = None

    def log_message(self, *args):
        pass

    def _send_json(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.fake.lock:
            self.fake.requests.append({"path": self.path, "headers": headers, "body": body})
        if self.path != "/v1/chat/completions":
            return self._send_json(404, {"error": {"message": f"no such path {self.path}", "type": "invalid_request_error"}})
        if headers.get("authorization") != f"Bearer {self.fake.key}":
            return self._send_json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}})
        reply = self.fake.next_reply()
        if reply.status:
            kind = "rate_limit_exceeded" if reply.status == 429 else "server_error"
            return self._send_json(reply.status, {"error": {"message": f"upstream says {reply.status}", "type": kind, "code": kind}})
        model = body.get("model")
        usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": reply.completion_tokens,
                 "total_tokens": PROMPT_TOKENS + reply.completion_tokens, "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS}}
        created = int(time.time())
        if not body.get("stream"):
            if reply.tool:
                name, arguments = reply.tool
                message = {"role": "assistant", "content": None, "tool_calls": [
                    {"id": reply.tool_call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}]}
                finish = "tool_calls"
            else:
                message, finish = {"role": "assistant", "content": reply.text}, "stop"
            return self._send_json(200, {"id": "chatcmpl-compat", "object": "chat.completion", "created": created, "model": model,
                                         "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage})

        def chunk(delta, finish=None):
            return {"id": "chatcmpl-compat", "object": "chat.completion.chunk", "created": created, "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        chunks = [chunk({"role": "assistant", "content": ""})]
        if reply.tool:
            name, arguments = reply.tool
            encoded = json.dumps(arguments)
            chunks.append(chunk({"tool_calls": [{"index": 0, "id": reply.tool_call_id, "type": "function", "function": {"name": name, "arguments": ""}}]}))
            for part in (encoded[:len(encoded) // 2], encoded[len(encoded) // 2:]):
                chunks.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]}))
            chunks.append(chunk({}, "tool_calls"))
        else:
            chunks += [chunk({"content": word}) for word in reply.words]
            chunks.append(chunk({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({"id": "chatcmpl-compat", "object": "chat.completion.chunk", "created": created, "model": model, "choices": [], "usage": usage})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for payload in chunks + ["[DONE]"]:
            data = ("data: " + (payload if isinstance(payload, str) else json.dumps(payload)) + "\n\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
