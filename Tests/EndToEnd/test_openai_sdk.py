"""The official openai SDK, configured only by OPENAI_BASE_URL, against the real sidecar."""
import json

from conftest import OPENAI_APP_KEY, raw_sse

MESSAGES = [{"role": "user", "content": "Say hello"}]


def assert_no_app_key(recorded):
    for request in recorded:
        assert OPENAI_APP_KEY not in json.dumps(request.headers)
        assert "sk-ant-app-not-forwarded" not in json.dumps(request.headers)


def test_chat_rewrites_model_and_attaches_the_real_key(openai_client, fake):
    raw = openai_client.chat.completions.with_raw_response.create(model="fast", messages=MESSAGES)
    completion = raw.parse()
    assert completion.choices[0].message.content == "fake reply from fake-gpt-1"
    assert completion.usage.prompt_tokens == 12
    assert raw.headers["x-llmesh-input-tokens"] == "12"
    assert raw.headers["x-llmesh-output-tokens"] == "4"
    assert raw.headers["x-llmesh-cached-input-tokens"] == "2"
    # 10 uncached at $1/token, 2 cached at $0.5, 4 output at $2.
    assert float(raw.headers["x-llmesh-cost-usd"]) == 10 + 1 + 8
    assert raw.headers["x-llmesh-provider"] == "fake-openai"
    assert raw.headers["x-llmesh-backend"] == "fake-openai/fake-gpt-1"
    [seen] = fake.recorded("/v1/chat/completions")
    assert seen.body["model"] == "fake-gpt-1"
    assert seen.body["messages"] == MESSAGES
    assert seen.header("authorization") == "Bearer sk-upstream-openai"
    assert_no_app_key(fake.recorded())


def test_stream_hides_the_usage_the_sidecar_asked_for(openai_client, fake, sidecar):
    chunks = list(openai_client.chat.completions.create(model="gpt-fast", messages=MESSAGES, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "fake reply from fake-gpt-1"
    assert all(c.choices for c in chunks), "the usage-only chunk must not reach a client that did not ask for it"
    assert all(c.usage is None for c in chunks)
    [seen] = fake.recorded("/v1/chat/completions")
    assert seen.body["stream_options"] == {"include_usage": True}
    # The raw stream carries no usage member at all, and ends with the sidecar's usage comment.
    status, _, body = raw_sse(f"{sidecar.url}/v1/chat/completions", {"model": "fast", "messages": MESSAGES, "stream": True})
    assert status == 200
    data_lines = [line for line in body.splitlines() if line.startswith("data:")]
    assert data_lines[-1] == "data: [DONE]"
    assert not any('"usage"' in line for line in data_lines)
    comment = [line for line in body.splitlines() if line.startswith(": llmesh-usage ")]
    assert len(comment) == 1
    usage = json.loads(comment[0][len(": llmesh-usage "):])
    assert usage == {"input_tokens": 12, "output_tokens": 4, "cached_input_tokens": 2, "cost_usd": 19}


def test_stream_keeps_usage_when_the_client_asked(openai_client, fake):
    chunks = list(openai_client.chat.completions.create(
        model="fast", messages=MESSAGES, stream=True, stream_options={"include_usage": True}))
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == 4
    assert fake.recorded("/v1/chat/completions")[0].body["stream_options"] == {"include_usage": True}


def test_completions_plain_and_streamed(openai_client, fake):
    completion = openai_client.completions.create(model="fast", prompt="Once upon")
    assert completion.choices[0].text == "fake reply from fake-gpt-1"
    streamed = list(openai_client.completions.create(model="fast", prompt="Once upon", stream=True))
    assert "".join(c.choices[0].text for c in streamed if c.choices) == "fake reply from fake-gpt-1"
    assert all(c.choices for c in streamed)


def test_embeddings(openai_client, fake):
    result = openai_client.embeddings.create(model="fast", input=["a", "b"])
    assert len(result.data) == 2
    assert [round(x, 3) for x in result.data[1].embedding] == [0.2, 0.2, 0.3]
    assert result.usage.prompt_tokens == 5
    assert fake.recorded("/v1/embeddings")[0].body["model"] == "fake-gpt-1"


def test_responses_plain_and_streamed(openai_client, fake):
    response = openai_client.responses.create(model="fast", input="Say hello")
    assert response.output_text == "fake reply from fake-gpt-1"
    assert response.usage.input_tokens == 9
    events = list(openai_client.responses.create(model="fast", input="Say hello", stream=True))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == "fake reply from fake-gpt-1"
    assert events[-1].type == "response.completed"
    assert all(r.body["model"] == "fake-gpt-1" for r in fake.recorded("/v1/responses"))


def test_model_listing_shows_every_routed_name(openai_client):
    ids = [m.id for m in openai_client.models.list()]
    assert ids == ["gpt-fast", "fast", "claude-fast", "mock-model", "mock-alias"]


def test_mock_provider_answers_without_any_upstream(openai_client, fake):
    completion = openai_client.chat.completions.create(model="mock-alias", messages=MESSAGES)
    assert completion.choices[0].message.content == "Hello from the llmesh mock provider"
    assert completion.usage.completion_tokens == 6
    streamed = list(openai_client.chat.completions.create(model="mock-model", messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "Hello from the llmesh mock provider"
    vectors = openai_client.embeddings.create(model="mock-model", input="x")
    assert len(vectors.data[0].embedding) == 8
    response = openai_client.responses.create(model="mock-model", input="x")
    assert response.output_text == "Hello from the llmesh mock provider"
    assert fake.recorded() == []
