"""An unmodified boto3 bedrock-runtime client, configured only by environment variables, through the real sidecar.

The sidecar holds the pod's IAM role (IRSA: web identity against moto's STS) and re-signs every call; the fake
Bedrock verifies each signature with botocore and records which access key signed it. The app signs with its own
dummy keys (SigV4 mode) or sends `AWS_BEARER_TOKEN_BEDROCK` to the sidecar's loopback TLS listener (bearer mode).
"""
import json

import botocore.exceptions
import httpx
import pytest

from bedrock_support import (ANTHROPIC_BODY, EXPECTED_COST, MESSAGES, ROLE_ARN, TEAM_KEY, WEB_IDENTITY_TOKEN, bedrock_config, irsa_env,
                             new_log_entries)
from conftest import APP_AWS_KEY, HAIKU, PROFILE_ARN, aws_sidecar, bedrock_client, free_port, virtual_key
from fake_aws import moto_assumed_roles
from fake_bedrock import CACHE_READ_TOKENS, DEFAULT_TEXT, INPUT_TOKENS, Reply


@pytest.fixture(scope="module")
def bedrock_sidecar(fake_bedrock, moto_sts, tmp_path_factory):
    directory = tmp_path_factory.mktemp("bedrock-sidecar")
    token_file = directory / "token"
    token_file.write_text(WEB_IDENTITY_TOKEN)
    tls_port = free_port()
    car = aws_sidecar(directory, bedrock_config(fake_bedrock.base_url, extra=virtual_key("bedrock-team", TEAM_KEY)),
                      env=irsa_env(moto_sts, token_file),
                      extra_args=["--tls-listen", f"127.0.0.1:{tls_port}", "--tls-dir", str(directory / "tls")])
    car.tls_port = tls_port
    car.tls_dir = directory / "tls"
    car.start()
    yield car
    assert car.stop() == 0


@pytest.fixture
def sigv4_app(bedrock_sidecar, aws_env):
    """The app: its own dummy static keys, boto3 pointed at the sidecar by AWS_ENDPOINT_URL_BEDROCK_RUNTIME."""
    aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=bedrock_sidecar.url, AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID=APP_AWS_KEY[0], AWS_SECRET_ACCESS_KEY=APP_AWS_KEY[1])
    return bedrock_client()


def issued_keys():
    return {role.access_key_id for role in moto_assumed_roles() if role.role_arn == ROLE_ARN}


def assert_signed_by_the_sidecar(fake_bedrock, count=1):
    seen = fake_bedrock.recorded(verdict=None)
    assert len(seen) == count, [r.verdict for r in seen]
    for request in seen:
        assert request.verdict == "ok", request.verdict
        assert request.access_key in issued_keys(), "signed with the role credentials moto's STS issued"
        assert request.access_key != APP_AWS_KEY[0]
        assert request.session_token_sent
        assert APP_AWS_KEY[0] not in json.dumps(request.headers) and APP_AWS_KEY[1] not in json.dumps(request.headers)
    return seen


def test_converse_is_re_signed_with_the_role_credentials(sigv4_app, fake_bedrock, moto_sts, bedrock_sidecar):
    answer = sigv4_app.converse(modelId=HAIKU, messages=MESSAGES, inferenceConfig={"maxTokens": 32})
    assert answer["output"]["message"]["content"] == [{"text": DEFAULT_TEXT}]
    assert answer["usage"]["outputTokens"] == 4
    [seen] = assert_signed_by_the_sidecar(fake_bedrock)
    assert seen.model_id == HAIKU and seen.operation == "converse"
    assert seen.path == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    assert seen.region == "us-east-1"
    assert seen.body == {"messages": MESSAGES, "inferenceConfig": {"maxTokens": 32}}
    assert answer["ResponseMetadata"]["HTTPHeaders"]["x-llmesh-provider"] == "bedrock"


def test_converse_usage_and_cost_in_headers_and_access_log(sigv4_app, bedrock_sidecar):
    before = bedrock_sidecar.idle_log_length()
    answer = sigv4_app.converse(modelId=HAIKU, messages=MESSAGES)
    headers = answer["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-llmesh-backend"] == f"bedrock/{HAIKU}"
    [entry] = new_log_entries(bedrock_sidecar, before)
    assert entry["provider"] == "bedrock" and entry["upstream_model"] == HAIKU and entry["stream"] is False
    assert entry["input_tokens"] == INPUT_TOKENS + CACHE_READ_TOKENS and entry["output_tokens"] == 4
    assert entry["cost_usd"] == pytest.approx(EXPECTED_COST)
    assert headers["x-llmesh-input-tokens"] == str(INPUT_TOKENS + CACHE_READ_TOKENS)
    assert headers["x-llmesh-cached-input-tokens"] == str(CACHE_READ_TOKENS)
    assert headers["x-llmesh-output-tokens"] == "4"
    assert float(headers["x-llmesh-cost-usd"]) == pytest.approx(EXPECTED_COST)


def test_an_alias_resolves_to_the_backend_model(sigv4_app, fake_bedrock):
    sigv4_app.converse(modelId="claude-haiku", messages=MESSAGES)
    [seen] = assert_signed_by_the_sidecar(fake_bedrock)
    assert seen.model_id == HAIKU


@pytest.mark.parametrize("model_id", [PROFILE_ARN, "haiku-everywhere"])
def test_inference_profile_arns_survive_encoding_and_signing(sigv4_app, fake_bedrock, model_id):
    answer = sigv4_app.converse(modelId=model_id, messages=MESSAGES)
    assert answer["stopReason"] == "end_turn"
    [seen] = assert_signed_by_the_sidecar(fake_bedrock)
    assert seen.model_id == PROFILE_ARN
    assert seen.path == ("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
                         "us.anthropic.claude-3-haiku-20240307-v1%3A0/converse")


def test_converse_stream_passes_events_and_counts_usage(sigv4_app, fake_bedrock, bedrock_sidecar):
    before = bedrock_sidecar.idle_log_length()
    response = sigv4_app.converse_stream(modelId=HAIKU, messages=MESSAGES)
    events = list(response["stream"])
    assert "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e) == DEFAULT_TEXT
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 4
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/vnd.amazon.eventstream"
    [seen] = assert_signed_by_the_sidecar(fake_bedrock)
    assert seen.operation == "converse-stream"
    [entry] = new_log_entries(bedrock_sidecar, before)
    assert entry["path"].endswith("/converse-stream") and entry["status"] == 200
    assert entry["stream"] is True
    assert entry["input_tokens"] == INPUT_TOKENS + CACHE_READ_TOKENS and entry["output_tokens"] == 4
    assert entry["provider"] == "bedrock" and entry["upstream_model"] == HAIKU
    assert entry["cost_usd"] == pytest.approx(EXPECTED_COST)


def test_invoke_model_with_a_native_anthropic_body(sigv4_app, fake_bedrock, bedrock_sidecar):
    before = bedrock_sidecar.idle_log_length()
    response = sigv4_app.invoke_model(modelId=HAIKU, body=json.dumps(ANTHROPIC_BODY), contentType="application/json",
                                      accept="application/json")
    body = json.loads(response["body"].read())
    assert body["content"] == [{"type": "text", "text": DEFAULT_TEXT}]
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-input-token-count"] == str(INPUT_TOKENS)
    [seen] = assert_signed_by_the_sidecar(fake_bedrock)
    assert seen.operation == "invoke" and seen.body == ANTHROPIC_BODY
    [entry] = new_log_entries(bedrock_sidecar, before)
    assert entry["path"].endswith("/invoke") and entry["status"] == 200
    assert entry["input_tokens"] == INPUT_TOKENS and entry["output_tokens"] == 4


def test_invoke_model_with_response_stream(sigv4_app, fake_bedrock, bedrock_sidecar):
    before = bedrock_sidecar.idle_log_length()
    response = sigv4_app.invoke_model_with_response_stream(modelId="claude-haiku", body=json.dumps(ANTHROPIC_BODY))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in response["body"]]
    assert "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta") == DEFAULT_TEXT
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 4
    [seen] = assert_signed_by_the_sidecar(fake_bedrock)
    assert seen.operation == "invoke-with-response-stream" and seen.model_id == HAIKU
    [entry] = new_log_entries(bedrock_sidecar, before)
    assert entry["path"].endswith("/invoke-with-response-stream") and entry["status"] == 200
    assert entry["stream"] is True
    assert entry["input_tokens"] == INPUT_TOKENS and entry["output_tokens"] == 4


def test_usage_reaches_the_metrics(sigv4_app, bedrock_sidecar):
    sigv4_app.converse(modelId=HAIKU, messages=MESSAGES)
    text = httpx.get(bedrock_sidecar.admin("/metrics")).text
    usage = [line for line in text.splitlines() if line.startswith("gen_ai_client_token_usage_sum{")
             and 'gen_ai_provider_name="bedrock"' in line and f'gen_ai_request_model="{HAIKU}"' in line]
    assert any('gen_ai_token_type="output"' in line for line in usage), usage
    assert any('gen_ai_token_type="input"' in line for line in usage), usage
    assert "llmesh_cost_usd_total" in text


def test_upstream_errors_keep_the_aws_shape(sigv4_app, fake_bedrock):
    fake_bedrock.default = Reply(error="ValidationException", error_message="messages.0.content: must not be empty")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        sigv4_app.converse(modelId=HAIKU, messages=MESSAGES)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert error.value.response["Error"]["Message"] == "messages.0.content: must not be empty"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_throttling_reaches_boto3_as_throttling(sigv4_app, fake_bedrock):
    fake_bedrock.default = Reply(error="ThrottlingException")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        sigv4_app.converse(modelId=HAIKU, messages=MESSAGES)
    assert error.value.response["Error"]["Code"] == "ThrottlingException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_an_exception_mid_stream_reaches_boto3(sigv4_app, fake_bedrock):
    fake_bedrock.script(Reply(break_after=2))
    stream = sigv4_app.converse_stream(modelId=HAIKU, messages=MESSAGES)["stream"]
    seen = []
    with pytest.raises(botocore.exceptions.EventStreamError) as error:
        for item in stream:
            seen.append(item)
    assert error.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert [e["contentBlockDelta"]["delta"]["text"] for e in seen if "contentBlockDelta" in e] == ["Hello ", "from "]


def test_an_unrouted_model_is_refused_in_the_aws_shape(sigv4_app, fake_bedrock):
    with pytest.raises(botocore.exceptions.ClientError) as error:
        sigv4_app.converse(modelId="anthropic.claude-unknown-v9:0", messages=MESSAGES)
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error.value.response["ResponseMetadata"]["HTTPHeaders"]["x-llmesh-error"]
    assert fake_bedrock.recorded(verdict=None) == []


# -- bearer mode: no AWS credentials in the app; AWS_BEARER_TOKEN_BEDROCK over the sidecar's TLS listener -------

@pytest.fixture
def bearer_app(bedrock_sidecar, aws_env):
    def make(token):
        aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=f"https://127.0.0.1:{bedrock_sidecar.tls_port}", AWS_REGION="us-east-1",
                AWS_BEARER_TOKEN_BEDROCK=token, AWS_CA_BUNDLE=str(bedrock_sidecar.tls_dir / "ca-bundle.crt"))
        return bedrock_client()
    return make


def test_the_sidecar_writes_its_ca_and_bundle_before_ready(bedrock_sidecar):
    ca = (bedrock_sidecar.tls_dir / "ca.crt").read_text()
    bundle = (bedrock_sidecar.tls_dir / "ca-bundle.crt").read_text()
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    assert ca.strip() in bundle
    assert bundle.count("BEGIN CERTIFICATE") > 1, "the bundle keeps the system roots"


def test_bearer_mode_with_no_aws_credentials(bearer_app, fake_bedrock, bedrock_sidecar):
    client = bearer_app("app-bearer-token-not-a-virtual-key")
    answer = client.converse(modelId="claude-haiku", messages=MESSAGES)
    assert answer["output"]["message"]["content"] == [{"text": DEFAULT_TEXT}]
    events = list(client.converse_stream(modelId=HAIKU, messages=MESSAGES)["stream"])
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 4
    for request in assert_signed_by_the_sidecar(fake_bedrock, count=2):
        assert "app-bearer-token-not-a-virtual-key" not in json.dumps(request.headers)


def test_bearer_mode_with_a_virtual_key(bearer_app, fake_bedrock, bedrock_sidecar):
    before = bedrock_sidecar.idle_log_length()
    client = bearer_app(TEAM_KEY)
    answer = client.converse(modelId=HAIKU, messages=MESSAGES, requestMetadata={"e2e": "bearer-vk"})
    assert answer["stopReason"] == "end_turn"
    [seen] = assert_signed_by_the_sidecar(fake_bedrock)
    assert TEAM_KEY not in json.dumps(seen.headers)
    [entry] = new_log_entries(bedrock_sidecar, before)
    assert entry["caller"] == "key:bedrock-team", "the access log names the virtual key as the caller"


def test_bearer_mode_refuses_a_wrong_virtual_key(bearer_app, fake_bedrock):
    client = bearer_app("sk-llmesh-not-a-real-key-9999")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        client.converse(modelId=HAIKU, messages=MESSAGES)
    status = error.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status in (401, 403)
    assert error.value.response["ResponseMetadata"]["HTTPHeaders"]["x-llmesh-error"] == "invalid_api_key"
    assert error.value.response["Error"]["Message"]
    assert fake_bedrock.recorded(verdict=None) == []


def test_the_tls_listener_is_only_trusted_through_the_bundle(bedrock_sidecar, fake_bedrock, aws_env):
    """Without AWS_CA_BUNDLE the system roots alone do not trust the sidecar's local CA."""
    aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=f"https://127.0.0.1:{bedrock_sidecar.tls_port}", AWS_REGION="us-east-1",
            AWS_BEARER_TOKEN_BEDROCK="app-bearer-token-not-a-virtual-key", AWS_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt")
    with pytest.raises(botocore.exceptions.SSLError):
        bedrock_client().converse(modelId=HAIKU, messages=MESSAGES)
    assert fake_bedrock.recorded(verdict=None) == []


def test_no_app_key_reaches_bedrock_and_no_secret_the_logs_or_config_dump(sigv4_app, fake_bedrock, bedrock_sidecar):
    sigv4_app.converse(modelId=HAIKU, messages=MESSAGES)
    assert_signed_by_the_sidecar(fake_bedrock)
    dump = httpx.get(bedrock_sidecar.admin("/config_dump")).json()
    [status] = [p["aws"] for p in dump["providerStatus"] if p["name"] == "bedrock"]
    assert status["source"] == "web-identity" and status["roleARN"] == ROLE_ARN
    logs = bedrock_sidecar.stdout_path.read_text() + bedrock_sidecar.stderr() + json.dumps(dump)
    for secret in [APP_AWS_KEY[1], TEAM_KEY, WEB_IDENTITY_TOKEN]:
        assert secret not in logs
    for role in moto_assumed_roles():
        assert role.secret_access_key not in logs and role.session_token not in logs
