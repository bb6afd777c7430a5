"""Every example under manifests/examples validates, and the ones that run without credentials serve real SDK calls."""
import subprocess

import anthropic
import openai
import pytest

from conftest import BINARY, ROOT, Sidecar

EXAMPLES = sorted((ROOT / "manifests" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_validates(path):
    # Manifests for a cluster name their namespace; their Secret references are the operator's to resolve.
    cluster = ["--cluster"] if "namespace:" in path.read_text() else []
    result = subprocess.run([BINARY, "check", *cluster, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK ")


def run_example(name, tmp_path, sdk_env):
    car = Sidecar(tmp_path, (ROOT / "manifests" / "examples" / name).read_text()).start()
    sdk_env(car)
    return car


def test_quickstart_serves_both_sdks_with_no_api_key(tmp_path, sdk_env):
    car = run_example("quickstart.yaml", tmp_path, sdk_env)
    try:
        client = openai.OpenAI(max_retries=0)
        answer = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content == "Hello from llmesh! This answer comes from the Mock provider."
        streamed = client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "hi"}], stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == answer.choices[0].message.content
        assert len(client.embeddings.create(model="text-embedding-3-small", input="hi").data[0].embedding) == 8
        message = anthropic.Anthropic(max_retries=0).messages.create(model="claude", max_tokens=32, messages=[{"role": "user", "content": "hi"}])
        assert message.content[0].text == answer.choices[0].message.content
    finally:
        assert car.stop() == 0


def test_tiers_route_by_header_and_pick_the_cheapest_premium_backend(tmp_path, sdk_env):
    car = run_example("tiers-by-header.yaml", tmp_path, sdk_env)
    try:
        client = openai.OpenAI(max_retries=0)
        premium = client.chat.completions.with_raw_response.create(model="assistant", messages=[{"role": "user", "content": "hi"}], extra_headers={"x-tier": "premium"})
        assert premium.headers["x-llmesh-backend"] == "provider-b/large"
        basic = client.chat.completions.with_raw_response.create(model="assistant", messages=[{"role": "user", "content": "hi"}])
        assert basic.headers["x-llmesh-backend"] == "provider-b/small"
    finally:
        assert car.stop() == 0


def test_canary_example_sends_some_traffic_to_each_version(tmp_path, sdk_env):
    car = run_example("canary-split.yaml", tmp_path, sdk_env)
    try:
        client = openai.OpenAI(max_retries=0)
        seen = {client.chat.completions.with_raw_response.create(model="assistant", messages=[{"role": "user", "content": "hi"}]).headers["x-llmesh-backend"] for _ in range(200)}
        assert seen == {"stable/assistant-v1", "candidate/assistant-v2"}
    finally:
        assert car.stop() == 0


def test_tiers_and_limits_example(tmp_path, sdk_env, monkeypatch):
    car = run_example("tiers-and-limits.yaml", tmp_path, sdk_env)
    try:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-llmesh-demo-example")
        demo = openai.OpenAI(max_retries=0)
        assert demo.chat.completions.create(model="default", messages=[{"role": "user", "content": "hi"}]).choices[0].message.content
        with pytest.raises(openai.PermissionDeniedError):
            demo.chat.completions.create(model="large", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.PermissionDeniedError) as blocked:
            demo.chat.completions.create(model="small", messages=[{"role": "user", "content": "card 5500 0000 0000 0004"}])
        assert blocked.value.code == "guardrail_blocked"
        monkeypatch.setenv("OPENAI_API_KEY", "sk-llmesh-paid-example")
        paid = openai.OpenAI(max_retries=0)
        raw = paid.chat.completions.with_raw_response.create(model="large", messages=[{"role": "user", "content": "hi"}], extra_headers={"x-llmesh-user": "u1"})
        assert raw.headers["x-ratelimit-limit-requests"] == "30", "the per-user limit is the tightest"
        assert raw.headers["x-ratelimit-limit-tokens"] == "50000"
    finally:
        assert car.stop() == 0
