"""Every error case as the SDKs surface it."""
import anthropic
import httpx
import openai
import pytest

from conftest import Sidecar, dead_port, standard_config

MESSAGES = [{"role": "user", "content": "hi"}]


def test_malformed_json_is_400_invalid_json(sidecar):
    response = httpx.post(f"{sidecar.url}/v1/chat/completions", content=b'{"model": "fast", "messages": [', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["x-llmesh-error"] == "invalid_json"
    assert response.json()["error"]["code"] == "invalid_json"
    assert "byte 31" in response.json()["error"]["message"]


def test_missing_model_is_400(openai_client):
    with pytest.raises(openai.BadRequestError) as raised:
        openai_client.chat.completions.create(model="", messages=MESSAGES)
    assert raised.value.code == "invalid_request"


def test_unknown_model_is_404_model_not_found(openai_client, anthropic_client):
    with pytest.raises(openai.NotFoundError) as raised:
        openai_client.chat.completions.create(model="gpt-9", messages=MESSAGES)
    assert raised.value.code == "model_not_found"
    assert "gpt-9" in raised.value.message
    assert raised.value.response.headers["x-llmesh-error"] == "model_not_found"
    with pytest.raises(anthropic.NotFoundError) as raised_anthropic:
        anthropic_client.messages.create(model="claude-9", max_tokens=5, messages=MESSAGES)
    assert raised_anthropic.value.body["error"]["type"] == "not_found_error"


def test_unserved_path_is_404_no_route(sidecar):
    response = httpx.post(f"{sidecar.url}/v1/files", json={})
    assert response.status_code == 404
    assert response.headers["x-llmesh-error"] == "no_route"


def test_upstream_errors_pass_through_with_their_own_body(openai_client, anthropic_client):
    with pytest.raises(openai.RateLimitError) as raised:
        openai_client.chat.completions.create(model="fast", messages=MESSAGES, extra_headers={"x-fake-fault": "status:429"})
    assert raised.value.message.endswith("fake says 429")
    assert raised.value.body["message"] == "fake says 429"
    assert raised.value.response.headers["retry-after"] == "1"
    with pytest.raises(openai.InternalServerError) as raised_503:
        openai_client.chat.completions.create(model="fast", messages=MESSAGES, extra_headers={"x-fake-fault": "status:503"})
    assert raised_503.value.status_code == 503
    with pytest.raises(anthropic.RateLimitError) as raised_anthropic:
        anthropic_client.messages.create(model="claude-fast", max_tokens=5, messages=MESSAGES, extra_headers={"x-fake-fault": "status:429"})
    assert raised_anthropic.value.body["error"]["message"] == "fake says 429"


def test_upstream_reset_is_502(openai_client):
    with pytest.raises(openai.InternalServerError) as raised:
        openai_client.chat.completions.create(model="fast", messages=MESSAGES, extra_headers={"x-fake-fault": "reset"})
    assert raised.value.status_code == 502
    assert raised.value.code == "upstream_unreachable"


def test_a_stream_cut_by_the_upstream_raises_in_the_sdk(openai_client):
    with pytest.raises(openai.APIError) as raised:
        for _ in openai_client.chat.completions.create(model="fast", messages=MESSAGES, stream=True, extra_headers={"x-fake-fault": "cut"}):
            pass
    assert "The stream from provider 'fake-openai' broke after it started" in str(raised.value)


@pytest.fixture(scope="module")
def nobody_port():
    """Held bound but never listening for the module's lifetime: connections to it are refused for certain."""
    with dead_port() as port:
        yield port


@pytest.fixture(scope="module")
def strict_sidecar(fake, tmp_path_factory, nobody_port):
    """A sidecar with a tiny body limit, a short upstream timeout and a provider nobody listens for."""
    directory = tmp_path_factory.mktemp("strict")
    key_file = directory / "key"
    key_file.write_text("sk-upstream-openai")
    extra = f"""
---
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: nobody}}
spec: {{type: OpenAICompatible, endpoint: "http://127.0.0.1:{nobody_port}/v1", timeouts: {{connect: 1s}}}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: dead}}
spec:
  match: {{model: dead-model}}
  backends: [{{provider: nobody}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: short-idle}}
spec:
  type: OpenAI
  endpoint: {fake.base_url}/v1
  auth: {{apiKey: {{file: {key_file}}}}}
  timeouts: {{request: 10s, streamIdle: 1s}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: slow-thinker}}
spec:
  match: {{model: slow-thinker}}
  backends: [{{provider: short-idle, model: fake-gpt-1}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: impatient}}
spec:
  match: {{model: impatient}}
  backends: [{{provider: fake-openai, model: fake-gpt-1}}]
  timeout: 1s
"""
    car = Sidecar(directory, standard_config(fake, key_file, extra), extra_args=["--max-request-body-bytes", "2048"],
                  env={"E2E_ANTHROPIC_KEY": "sk-upstream-anthropic"})
    car.start()
    yield car
    assert car.stop() == 0


@pytest.fixture
def strict_client(strict_sidecar, sdk_env):
    sdk_env(strict_sidecar)
    return openai.OpenAI(max_retries=0)


def test_body_over_the_limit_is_413(strict_client, strict_sidecar):
    with pytest.raises(openai.APIStatusError) as raised:
        strict_client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x" * 5000}])
    assert raised.value.status_code == 413
    assert raised.value.code == "request_too_large"
    with pytest.raises(anthropic.APIStatusError) as raised_anthropic:
        anthropic.Anthropic(max_retries=0).messages.create(model="claude-fast", max_tokens=5, messages=[{"role": "user", "content": "x" * 5000}])
    assert raised_anthropic.value.status_code == 413
    assert raised_anthropic.value.body["error"]["type"] == "request_too_large"
    # The connection-level failure did not hurt the sidecar.
    assert strict_client.chat.completions.create(model="fast", messages=MESSAGES).choices[0].message.content


def test_unreachable_upstream_is_502(strict_client):
    with pytest.raises(openai.InternalServerError) as raised:
        strict_client.chat.completions.create(model="dead-model", messages=MESSAGES)
    assert raised.value.status_code == 502
    assert raised.value.code == "upstream_unreachable"


def test_upstream_timeout_is_504(strict_client):
    with pytest.raises(openai.InternalServerError) as raised:
        strict_client.chat.completions.create(model="impatient", messages=MESSAGES, extra_headers={"x-fake-fault": "stall:3"})
    assert raised.value.status_code == 504
    assert raised.value.code == "upstream_timeout"


def test_stream_idle_does_not_cap_the_wait_for_a_non_streamed_answer(strict_client):
    # streamIdle (1 s) is silence between reads of an answer under way; the 2 s wait for the answer is bounded by
    # the request timeout (10 s) only.
    answer = strict_client.chat.completions.create(model="slow-thinker", messages=MESSAGES, extra_headers={"x-fake-fault": "stall:2"})
    assert answer.choices[0].message.content == "fake reply from fake-gpt-1"
