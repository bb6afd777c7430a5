"""Routing resilience end to end: fallbacks, retries, ejection and weighted splits, seen through the openai SDK."""
import time

import httpx
import openai
import pytest

from conftest import Sidecar
from fake_provider import FakeProvider

MESSAGES = [{"role": "user", "content": "hi"}]


def provider(name, fake, detection="{consecutiveFailures: 3, baseEjectionTime: 30s}"):
    return f"""
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: {name}}}
spec:
  type: OpenAI
  endpoint: {fake.base_url}/v1
  auth: {{apiKey: {{env: E2E_OPENAI_KEY}}}}
  outlierDetection: {detection}
  models: [{{name: {name}-model, pricing: {{inputPerMillion: 1000000, outputPerMillion: 1000000}}}}]
---"""


def routing_config(primary, secondary):
    return provider("primary", primary) + provider("secondary", secondary, "{consecutiveFailures: 0}") + """
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {name: resilient}
spec:
  match: {model: resilient}
  backends:
    - {provider: primary, model: primary-model, priority: 0}
    - {provider: secondary, model: secondary-model, priority: 1}
  retry: {attempts: 2, on: ["429"], backoff: 50ms, maxBackoff: 500ms}
  fallbackOn: ["429", 5xx, connectFailure, timeout, firstTokenTimeout, contextLength]
  # Generous, so the secondary's first byte (from an in-process Python fake) arrives in time on a loaded machine;
  # the stall faults below last well beyond it, and the tests bound the elapsed time so a missing fallback shows.
  firstTokenTimeout: 6s
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {name: strict}
spec:
  match: {model: strict}
  backends:
    - {provider: primary, model: primary-model}
    - {provider: secondary, model: secondary-model, priority: 1}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {name: mock-a}
spec: {type: Mock, mock: {response: "from a"}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {name: mock-b}
spec: {type: Mock, mock: {response: "from b"}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {name: canary}
spec:
  match: {model: canary}
  backends:
    - {provider: mock-a, model: stable, weight: 90}
    - {provider: mock-b, model: canary, weight: 10}
"""


@pytest.fixture(scope="module")
def fakes():
    primary = FakeProvider(openai_key="sk-e2e", name="primary").start()
    secondary = FakeProvider(openai_key="sk-e2e", name="secondary").start()
    yield primary, secondary
    primary.stop()
    secondary.stop()


@pytest.fixture
def mesh(fakes, tmp_path, sdk_env):
    """A fresh sidecar per test, so backend health starts clean."""
    primary, secondary = fakes
    primary.reset()
    secondary.reset()
    car = Sidecar(tmp_path, routing_config(primary, secondary), env={"E2E_OPENAI_KEY": "sk-e2e"}).start()
    sdk_env(car)
    yield car, primary, secondary, openai.OpenAI(max_retries=0)
    assert car.stop() == 0


@pytest.mark.parametrize("fault", ["status:503", "status:500", "reset", "stall:20", "context"])
def test_the_app_sees_success_where_a_fallback_exists(mesh, fault):
    car, primary, secondary, client = mesh
    primary.fault = fault
    started = time.monotonic()
    raw = client.chat.completions.with_raw_response.create(model="resilient", messages=MESSAGES, extra_headers={"x-request-id": f"fb-{fault}"})
    elapsed = time.monotonic() - started
    if fault.startswith("stall:"):
        assert elapsed < 20, f"the first-token timeout (6s) must cut the 20 s stall short, not wait it out ({elapsed:.1f}s)"
    assert raw.parse().choices[0].message.content == "fake reply from secondary-model"
    assert raw.headers["x-llmesh-backend"] == "secondary/secondary-model"
    assert raw.headers["x-llmesh-attempts"] == "2"
    assert len(primary.recorded()) == 1 and len(secondary.recorded()) == 1
    [entry] = car.wait_for_log(lambda e: e.get("request_id") == f"fb-{fault}")
    assert entry["attempts"] == 2
    assert [a["backend"] for a in entry["attempt_log"]] == ["primary/primary-model", "secondary/secondary-model"]
    # Usage is counted once, for the attempt that served.
    assert entry["input_tokens"] == 12 and entry["output_tokens"] == 4
    assert entry["cost_usd"] == 16


def test_429_is_retried_after_retry_after_then_falls_back(mesh):
    car, primary, secondary, client = mesh
    primary.fault = "status:429"
    started = time.monotonic()
    raw = client.chat.completions.with_raw_response.create(model="resilient", messages=MESSAGES)
    elapsed = time.monotonic() - started
    assert raw.headers["x-llmesh-attempts"] == "3"
    assert len(primary.recorded()) == 2
    assert elapsed >= 1.0, "the provider's retry-after: 1 must be honoured before the retry"
    assert raw.parse().choices[0].message.content == "fake reply from secondary-model"


def test_a_stall_before_the_first_byte_of_a_stream_falls_back_without_duplicates(mesh):
    car, primary, secondary, client = mesh
    primary.fault = "stall:20"
    started = time.monotonic()
    chunks = list(client.chat.completions.create(model="resilient", messages=MESSAGES, stream=True))
    elapsed = time.monotonic() - started
    assert elapsed < 20, f"the first-token timeout (6s) must cut the 20 s stall short, not wait it out ({elapsed:.1f}s)"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "fake reply from secondary-model"
    roles = [c.choices[0].delta.role for c in chunks if c.choices and c.choices[0].delta.role]
    assert roles == ["assistant"], "exactly one stream reached the app"


def test_a_cut_after_the_first_byte_is_an_error_not_a_fallback(mesh):
    car, primary, secondary, client = mesh
    primary.fault = "cut"
    with pytest.raises(openai.APIError) as raised:
        list(client.chat.completions.create(model="resilient", messages=MESSAGES, stream=True))
    assert "broke after it started" in str(raised.value)
    assert secondary.recorded() == []


def test_without_a_fallback_the_app_gets_the_upstream_error(mesh):
    car, primary, secondary, client = mesh
    primary.fault = "status:503"
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="strict", messages=MESSAGES)
    assert raised.value.status_code == 503
    assert raised.value.body["message"] == "primary says 503"
    assert secondary.recorded() == []


def test_failing_backends_are_ejected_and_shown(mesh):
    car, primary, secondary, client = mesh
    primary.fault = "status:503"
    for _ in range(3):
        assert client.chat.completions.create(model="resilient", messages=MESSAGES).choices[0].message.content
    raw = client.chat.completions.with_raw_response.create(model="resilient", messages=MESSAGES)
    assert raw.headers["x-llmesh-attempts"] == "1", "an ejected backend is skipped"
    assert len(primary.recorded()) == 3
    health = {b["backend"]: b for b in httpx.get(car.admin("/config_dump")).json()["backendHealth"]}
    assert health["primary/primary-model"]["ejected"] is True
    assert 'llmesh_backend_ejected{backend="primary/primary-model"} 1' in httpx.get(car.admin("/metrics")).text


def test_weighted_split_converges_over_2000_requests(mesh):
    car, _, _, client = mesh
    served = {"mock-a/stable": 0, "mock-b/canary": 0}
    for _ in range(2000):
        raw = client.chat.completions.with_raw_response.create(model="canary", messages=MESSAGES)
        served[raw.headers["x-llmesh-backend"]] += 1
    share = served["mock-a/stable"] / 2000
    # Binomial standard deviation at n=2000, p=0.9 is 0.0067; 0.03 is 4.5 of them.
    assert abs(share - 0.9) < 0.03, served
