"""The admin listener and the access log."""
import json

import httpx

SECRET_VALUES = ["sk-upstream-openai", "sk-upstream-anthropic", "sk-app-not-forwarded", "sk-ant-app-not-forwarded"]
PROMPT = "tell me a secret recipe"


def test_health_and_readiness(sidecar):
    assert httpx.get(sidecar.admin("/healthz")).text == "ok\n"
    assert httpx.get(sidecar.admin("/readyz")).status_code == 200
    assert httpx.get(sidecar.admin("/nope")).status_code == 404


def test_metrics_follow_the_genai_conventions(openai_client, sidecar):
    openai_client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x"}])
    list(openai_client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x"}], stream=True))
    text = httpx.get(sidecar.admin("/metrics")).text
    for name in ["gen_ai_client_token_usage", "gen_ai_server_request_duration_seconds",
                 "gen_ai_server_time_to_first_token_seconds", "llmesh_sidecar_overhead_seconds", "llmesh_cost_usd_total",
                 "llmesh_upstream_attempts_total"]:
        assert name in text, name
    assert 'gen_ai_client_token_usage_count{gen_ai_operation_name="chat",gen_ai_provider_name="fake-openai",gen_ai_request_model="fast",gen_ai_token_type="output"}' in text


def test_config_dump_shows_policy_but_no_secret(sidecar):
    dump = httpx.get(sidecar.admin("/config_dump")).json()
    assert dump["models"] == ["gpt-fast", "fast", "claude-fast", "mock-model", "mock-alias"]
    providers = {p["name"]: p for p in dump["providerStatus"]}
    assert providers["fake-openai"]["credentialAvailable"] is True
    assert providers["fake-anthropic"]["credentialSource"] == "env:E2E_ANTHROPIC_KEY"
    text = json.dumps(dump)
    for secret in SECRET_VALUES:
        assert secret not in text


def test_access_log_has_one_line_per_request_and_no_content(openai_client, sidecar):
    openai_client.chat.completions.create(model="fast", messages=[{"role": "user", "content": PROMPT}], extra_headers={"x-request-id": "req-access-log"})
    [entry] = sidecar.wait_for_log(lambda e: e.get("request_id") == "req-access-log")
    assert entry["path"] == "/v1/chat/completions"
    assert entry["status"] == 200
    assert entry["model"] == "fast"
    assert entry["upstream_model"] == "fake-gpt-1"
    assert entry["provider"] == "fake-openai"
    assert entry["input_tokens"] == 12 and entry["output_tokens"] == 4
    assert entry["cost_usd"] == 19
    assert entry["duration_ms"] > 0 and entry["overhead_us"] > 0
    raw = sidecar.stdout_path.read_text()
    assert PROMPT not in raw
    for secret in SECRET_VALUES:
        assert secret not in raw
        assert secret not in sidecar.stderr()
