"""Checks one answer of a contender before the benchmark measures it (run.sh fetches it with curl).

    python check.py KIND STATUS HEADERS_FILE BODY_FILE [EXPECTED_FILE]

KIND: openai-json (an OpenAI chat.completion), translated-json (an OpenAI chat.completion carrying the Converse
answer's text and usage), converse-json (Converse JSON), openai-sse (an OpenAI chunk stream ending in [DONE]),
translated-sse (chunks carrying the event stream's text, finish_reason stop, usage when asked for), same-bytes (the
body is EXPECTED_FILE byte for byte: pass-through). Prints one line; exits 1 when the answer is wrong.
"""
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import make_stream  # noqa: E402

kind, status, headers_file, body_file = sys.argv[1:5]
expected_file = sys.argv[5] if len(sys.argv) > 5 else None
body = pathlib.Path(body_file).read_bytes()
headers = pathlib.Path(headers_file).read_text(errors="replace").lower()
converse = json.loads((pathlib.Path(__file__).parent / "converse.json").read_text())
CONVERSE_TEXT = converse["output"]["message"]["content"][0]["text"]
STREAM_TEXT = "".join(make_stream.WORDS)


def fail(reason):
    print(f"FAIL {kind}: {reason}; status {status}; body {body[:300]!r}")
    sys.exit(1)


def sse_chunks():
    if "content-type: text/event-stream" not in headers:
        fail("content-type is not text/event-stream")
    events = [line[6:] for line in body.decode().splitlines() if line.startswith("data: ")]
    if not events or events[-1] != "[DONE]":
        fail("the stream does not end in data: [DONE]")
    return [json.loads(event) for event in events[:-1]]


if status != "200":
    fail("status is not 200")
if kind in ("openai-json", "translated-json"):
    answer = json.loads(body)
    if answer.get("object") != "chat.completion":
        fail("not a chat.completion")
    text, usage = answer["choices"][0]["message"]["content"], answer.get("usage") or {}
    if kind == "translated-json":
        want = {"prompt_tokens": 38, "completion_tokens": 71, "total_tokens": 109}
        if text != CONVERSE_TEXT:
            fail("text differs from the Converse answer's")
        if {k: usage.get(k) for k in want} != want:
            fail(f"usage {usage} is not {want}")
        if answer["choices"][0].get("finish_reason") != "stop":
            fail("finish_reason is not stop")
    print(f"ok {kind}: chat.completion, {len(text)} characters of text, usage {usage.get('prompt_tokens')}/"
          f"{usage.get('completion_tokens')}/{usage.get('total_tokens')}, finish_reason {answer['choices'][0].get('finish_reason')}")
elif kind == "converse-json":
    answer = json.loads(body)
    if answer["output"]["message"]["content"][0]["text"] != CONVERSE_TEXT or answer["usage"]["inputTokens"] != 38:
        fail("not the Converse answer")
    print(f"ok {kind}: Converse answer, usage {answer['usage']['inputTokens']}/{answer['usage']['outputTokens']}")
elif kind in ("openai-sse", "translated-sse"):
    chunks = sse_chunks()
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c.get("choices") and c["choices"][0].get("finish_reason")]
    usage = next((c["usage"] for c in chunks if c.get("usage")), None)
    if kind == "translated-sse":
        if text != STREAM_TEXT:
            fail(f"text {text!r} differs from the event stream's")
        if finish != ["stop"]:
            fail(f"finish reasons {finish}")
        if usage is not None and (usage.get("prompt_tokens"), usage.get("completion_tokens")) != (38, 20):
            fail(f"usage {usage}")
    print(f"ok {kind}: {len(chunks)} chunks + [DONE], {len(text)} characters of text, finish {finish}, usage "
          f"{'none (not asked for)' if usage is None else str(usage.get('prompt_tokens')) + '/' + str(usage.get('completion_tokens'))}")
elif kind == "same-bytes":
    want = pathlib.Path(expected_file).read_bytes()
    if body != want:
        fail(f"{len(body)} bytes differ from the {len(want)} bytes of {expected_file}")
    print(f"ok {kind}: {len(body)} bytes identical to {pathlib.Path(expected_file).name}")
else:
    fail("unknown kind")
