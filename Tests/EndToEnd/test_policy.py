"""Virtual keys, model access, tiers, rate limits, budgets and guardrails, through the official SDKs."""
import time

import anthropic
import httpx
import openai
import pytest

from conftest import Sidecar, dollar_a_token_provider, virtual_key

MESSAGES = [{"role": "user", "content": "hello there"}]


def policy_config(fake):
    return dollar_a_token_provider("fake", fake, ["cheap-model", "premium-model"]) + f"""---
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: fake-anthropic}}
spec:
  type: Anthropic
  endpoint: {fake.base_url}
  auth: {{apiKey: {{env: E2E_ANTHROPIC_KEY}}}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: cheap}}
spec:
  match: {{model: cheap}}
  backends: [{{provider: fake, model: cheap-model}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: premium}}
spec:
  match: {{model: premium}}
  backends: [{{provider: fake, model: premium-model}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: claude}}
spec:
  match: {{model: claude}}
  backends: [{{provider: fake-anthropic, model: claude-model}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMPolicy
metadata: {{name: no-cards}}
spec:
  workloadSelector: {{matchLabels: {{app: web}}}}
  guardrails: {{creditCards: true, action: Block}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMPolicy
metadata: {{name: hide-emails}}
spec:
  guardrails: {{emails: true, action: Redact}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMPolicy
metadata: {{name: other-app}}
spec:
  workloadSelector: {{matchLabels: {{app: batch}}}}
  allowedModels: [nothing-at-all]
""" + virtual_key("demo", "sk-llmesh-demo-1", "  allowedModels: [cheap]\n") \
    + virtual_key("paid", "sk-llmesh-paid-1", "  allowedModels: [cheap, premium, claude]\n  limits: {requestsPerMinute: 2, window: 3s}\n") \
    + virtual_key("capped", "sk-llmesh-capped-1", "  budget: {usd: 100, period: Daily}\n") \
    + virtual_key("off", "sk-llmesh-off-1", "  disabled: true\n") \
    + virtual_key("solo", "sk-llmesh-solo-1", "  limits: {maxParallel: 1}\n") \
    + virtual_key("old", "sk-llmesh-old-1", "  expiresAt: 2020-01-01T00:00:00Z\n")


@pytest.fixture(scope="module")
def policy_sidecar(fake, tmp_path_factory):
    car = Sidecar(tmp_path_factory.mktemp("policy"), policy_config(fake), extra_args=["--workload-label", "app=web"],
                  env={"E2E_OPENAI_KEY": "sk-upstream-openai", "E2E_ANTHROPIC_KEY": "sk-upstream-anthropic"})
    car.start()
    yield car
    assert car.stop() == 0


def client(car, key, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", f"{car.url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", key)
    return openai.OpenAI(max_retries=0)


def test_a_tier_may_use_one_model_and_not_another(policy_sidecar, fake, monkeypatch):
    demo = client(policy_sidecar, "sk-llmesh-demo-1", monkeypatch)
    assert demo.chat.completions.create(model="cheap", messages=MESSAGES).choices[0].message.content == "fake reply from cheap-model"
    with pytest.raises(openai.PermissionDeniedError) as raised:
        demo.chat.completions.create(model="premium", messages=MESSAGES)
    assert raised.value.code == "model_not_allowed"
    assert "premium" in raised.value.message and "VirtualKey/demo" in raised.value.message
    paid = client(policy_sidecar, "sk-llmesh-paid-1", monkeypatch)
    assert paid.chat.completions.create(model="premium", messages=MESSAGES).choices[0].message.content == "fake reply from premium-model"
    # The virtual key is the app's credential: it never reaches the provider.
    assert all("sk-llmesh" not in str(r.headers) for r in fake.recorded())


@pytest.mark.parametrize("key,reason", [("sk-llmesh-unknown", "not known"), ("sk-llmesh-off-1", "disabled"), ("sk-llmesh-old-1", "expired")])
def test_unknown_disabled_and_expired_keys_get_401(policy_sidecar, monkeypatch, key, reason):
    with pytest.raises(openai.AuthenticationError) as raised:
        client(policy_sidecar, key, monkeypatch).chat.completions.create(model="cheap", messages=MESSAGES)
    assert raised.value.code == "invalid_api_key"
    assert reason in raised.value.message
    monkeypatch.setenv("ANTHROPIC_BASE_URL", policy_sidecar.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    with pytest.raises(anthropic.AuthenticationError) as raised_anthropic:
        anthropic.Anthropic(max_retries=0).messages.create(model="claude", max_tokens=5, messages=MESSAGES)
    assert raised_anthropic.value.body["error"]["type"] == "authentication_error"


def test_rate_limit_429_then_success_after_retry_after(policy_sidecar, monkeypatch):
    paid = client(policy_sidecar, "sk-llmesh-paid-1", monkeypatch)
    window = 3  # the `paid` key's epoch-aligned limit window, in seconds

    # The three requests must fall in one window. Start each attempt at a window's beginning; if a loaded machine made
    # the attempt run past the window's end (seen from this process's clock, which the sidecar shares), what it saw
    # proves nothing either way and the attempt is repeated. An attempt that stayed inside one window is judged fully.
    for _attempt in range(3):
        time.sleep(window - time.time() % window + 0.05)
        started = time.time()
        first = paid.chat.completions.with_raw_response.create(model="cheap", messages=MESSAGES)
        second_error = refused = None
        try:
            paid.chat.completions.create(model="cheap", messages=MESSAGES)
        except openai.RateLimitError as error:
            second_error = error
        try:
            paid.chat.completions.create(model="cheap", messages=MESSAGES)
        except openai.RateLimitError as error:
            refused = error
        if int(time.time() // window) == int(started // window):
            break
    else:
        pytest.fail("three attempts in a row crossed a rate-limit window boundary; the machine is too slow for this test")

    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    assert second_error is None, "the second request of a window is within the limit"
    assert refused is not None, "the third request in one window must be refused"
    assert refused.code == "rate_limit_exceeded"
    retry_after = int(refused.response.headers["retry-after"])
    assert 1 <= retry_after <= 3
    assert refused.response.headers["x-ratelimit-remaining-requests"] == "0"
    time.sleep(retry_after)
    assert paid.chat.completions.create(model="cheap", messages=MESSAGES).choices[0].message.content


def test_a_budget_stops_a_key_mid_run(policy_sidecar, fake, monkeypatch):
    capped = client(policy_sidecar, "sk-llmesh-capped-1", monkeypatch)
    served = 0
    refused = None
    for _ in range(10):
        try:
            capped.chat.completions.create(model="cheap", messages=MESSAGES, max_tokens=8)
            served += 1
        except openai.RateLimitError as error:
            refused = error
            break
    # Each call costs $16 (12 prompt + 4 completion tokens at $1 each) and reserves its estimate first.
    assert 3 <= served <= 6
    assert refused is not None and refused.code == "budget_exceeded"
    assert "resets at" in refused.message
    assert int(refused.response.headers["retry-after"]) > 0
    policy_sidecar.wait_idle()
    spend = {s["subject"]: s for s in httpx.get(policy_sidecar.admin("/config_dump")).json()["spend"]}
    assert spend["key:capped"]["spentUSD"] == pytest.approx(16 * served)
    assert spend["key:capped"]["spentUSD"] <= 100
    metrics = httpx.get(policy_sidecar.admin("/metrics")).text
    assert f'llmesh_spend_usd{{subject="key:capped"}} {16 * served}' in metrics


def test_guardrails_block_cards_and_redact_emails(policy_sidecar, fake, monkeypatch):
    demo = client(policy_sidecar, "sk-llmesh-demo-1", monkeypatch)
    with pytest.raises(openai.PermissionDeniedError) as raised:
        demo.chat.completions.create(model="cheap", messages=[{"role": "user", "content": "my card is 4111 1111 1111 1111"}])
    assert raised.value.code == "guardrail_blocked"
    assert "creditCards" in raised.value.message and "LLMPolicy/no-cards" in raised.value.message
    assert "4111" not in raised.value.message
    fake.reset()
    demo.chat.completions.create(model="cheap", messages=[{"role": "user", "content": "write to ann@example.com today"}])
    [seen] = fake.recorded("/v1/chat/completions")
    assert seen.body["messages"][0]["content"] == "write to [REDACTED_EMAIL] today"


def test_policies_apply_only_to_the_workloads_they_select(policy_sidecar, monkeypatch):
    # `other-app` selects app=batch and would allow no model; this sidecar serves app=web, so it does not apply.
    assert client(policy_sidecar, "unused", monkeypatch).chat.completions.create(model="premium", messages=MESSAGES).choices[0].message.content


def test_a_policy_can_require_a_virtual_key(fake, tmp_path, monkeypatch):
    config = policy_config(fake) + """
---
apiVersion: llmesh.io/v1alpha1
kind: LLMPolicy
metadata: {name: keys-only}
spec:
  requireVirtualKey: true
"""
    car = Sidecar(tmp_path, config, env={"E2E_OPENAI_KEY": "sk-upstream-openai", "E2E_ANTHROPIC_KEY": "x"}).start()
    try:
        with pytest.raises(openai.AuthenticationError) as raised:
            client(car, "sk-some-app-key", monkeypatch).chat.completions.create(model="cheap", messages=MESSAGES)
        assert "LLMPolicy/keys-only requires a virtual key" in raised.value.message
        assert client(car, "sk-llmesh-demo-1", monkeypatch).chat.completions.create(model="cheap", messages=MESSAGES)
    finally:
        assert car.stop() == 0


def test_a_stream_abandoned_by_the_client_gives_its_parallel_slot_back(policy_sidecar, monkeypatch):
    # Seven events 8 s apart: left alone the stream would run for about 56 s, so it is certainly still running while
    # the `busy` request is refused, and the slot coming back within the 40 s deadline below is the abandonment's
    # doing, not the stream ending on its own. The sidecar notices the hang-up at its next write, within 8 s.
    body = {"model": "cheap", "messages": MESSAGES, "stream": True}
    headers = {"authorization": "Bearer sk-llmesh-solo-1", "x-fake-fault": "slowstream:8"}
    with httpx.stream("POST", f"{policy_sidecar.url}/v1/chat/completions", json=body, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        next(response.iter_raw())
        busy = httpx.post(f"{policy_sidecar.url}/v1/chat/completions", json={"model": "cheap", "messages": MESSAGES},
                          headers={"authorization": "Bearer sk-llmesh-solo-1"}, timeout=30)
        assert busy.status_code == 429 and busy.headers["x-llmesh-error"] == "rate_limit_exceeded"
    # The client hung up mid-stream; the slot comes back once the sidecar notices.
    deadline = time.time() + 40
    status = None
    while time.time() < deadline:
        status = httpx.post(f"{policy_sidecar.url}/v1/chat/completions", json={"model": "cheap", "messages": MESSAGES},
                            headers={"authorization": "Bearer sk-llmesh-solo-1"}, timeout=30).status_code
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200
