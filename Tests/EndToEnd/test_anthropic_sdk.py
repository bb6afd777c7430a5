"""The official anthropic SDK, configured only by ANTHROPIC_BASE_URL, against the real sidecar."""
import json

import httpx

from conftest import ANTHROPIC_APP_KEY


def test_messages_attach_the_real_key(anthropic_client, fake):
    raw = anthropic_client.messages.with_raw_response.create(
        model="claude-fast", max_tokens=64, messages=[{"role": "user", "content": "Hello"}])
    message = raw.parse()
    assert message.content[0].text == "fake reply from fake-claude-1"
    assert message.usage.input_tokens == 10
    # Anthropic reports cache reads apart; llmesh adds them to the input count.
    assert raw.headers["x-llmesh-input-tokens"] == "13"
    assert raw.headers["x-llmesh-cached-input-tokens"] == "3"
    [seen] = fake.recorded("/v1/messages")
    assert seen.header("x-api-key") == "sk-upstream-anthropic"
    assert seen.header("anthropic-version")
    assert seen.body["model"] == "fake-claude-1"
    assert ANTHROPIC_APP_KEY not in json.dumps([r.headers for r in fake.recorded()])


def test_streamed_messages(anthropic_client, fake, sidecar):
    with anthropic_client.messages.stream(model="claude-fast", max_tokens=64, messages=[{"role": "user", "content": "Hello"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "fake reply from fake-claude-1"
    assert final.usage.output_tokens == 4
    entries = sidecar.wait_for_log(lambda e: e.get("api") == "messages" and e.get("stream"))
    assert entries[-1]["input_tokens"] == 13
    assert entries[-1]["output_tokens"] == 4


def test_count_tokens(anthropic_client, fake):
    result = anthropic_client.messages.count_tokens(model="claude-fast", messages=[{"role": "user", "content": "Hello"}])
    assert result.input_tokens == 42
    assert fake.recorded("/v1/messages/count_tokens")[0].body["model"] == "fake-claude-1"


def test_model_listing_in_anthropic_shape(anthropic_client):
    page = anthropic_client.models.list()
    assert [m.id for m in page.data] == ["gpt-fast", "fast", "claude-fast", "mock-model", "mock-alias"]


def test_mock_speaks_anthropic_too(anthropic_client):
    message = anthropic_client.messages.create(model="mock-model", max_tokens=16, messages=[{"role": "user", "content": "x"}])
    assert message.content[0].text == "Hello from the llmesh mock provider"
    with anthropic_client.messages.stream(model="mock-model", max_tokens=16, messages=[{"role": "user", "content": "x"}]) as stream:
        assert "".join(stream.text_stream) == "Hello from the llmesh mock provider"


def test_openai_operations_without_a_translation_cannot_reach_an_anthropic_provider(sidecar):
    # Chat completions are translated to Anthropic Messages (test_translation.py); embeddings have no counterpart.
    response = httpx.post(f"{sidecar.url}/v1/embeddings", json={"model": "claude-fast", "input": "hi"})
    assert response.status_code == 400
    assert response.headers["x-llmesh-error"] == "dialect_mismatch"
