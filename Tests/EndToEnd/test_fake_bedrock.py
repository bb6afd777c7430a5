"""The fakes themselves, checked against boto3 with no sidecar in between: the fake Bedrock parses and answers as
Bedrock does and refuses bad signatures; moto's STS records web-identity calls; botocore's bearer rule."""
import base64
import json

import boto3
import botocore.exceptions
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import HAIKU, PROFILE_ARN, SIDECAR_AWS_KEY, bedrock_client
from fake_aws import moto_assumed_roles
from fake_bedrock import CACHE_READ_TOKENS, DEFAULT_TEXT, INPUT_TOKENS, Reply, decode_events, encode_event

MESSAGES = [{"role": "user", "content": [{"text": "Say hello"}]}]
ANTHROPIC_BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role": "user", "content": "Say hello"}]}


@pytest.fixture
def direct(fake_bedrock, aws_env):
    """boto3 straight at the fake, with the static key the fake knows."""
    aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake_bedrock.base_url, AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID=SIDECAR_AWS_KEY[0], AWS_SECRET_ACCESS_KEY=SIDECAR_AWS_KEY[1])
    return bedrock_client()


def test_event_stream_encoder_round_trips_through_botocore():
    from botocore.eventstream import EventStreamBuffer
    frame = encode_event({":event-type": "metadata", ":message-type": "event"}, b'{"a":1}')
    buffer = EventStreamBuffer()
    buffer.add_data(frame[:5])
    buffer.add_data(frame[5:])
    [message] = list(buffer)
    assert message.headers == {":event-type": "metadata", ":message-type": "event"}
    assert message.payload == b'{"a":1}'
    assert decode_events(frame) == [({":event-type": "metadata", ":message-type": "event"}, b'{"a":1}')]


@pytest.mark.parametrize("model_id", [HAIKU, PROFILE_ARN])
def test_converse_parses_and_the_signature_is_checked(direct, fake_bedrock, model_id):
    answer = direct.converse(modelId=model_id, messages=MESSAGES)
    assert answer["output"]["message"]["content"] == [{"text": DEFAULT_TEXT}]
    assert answer["stopReason"] == "end_turn"
    assert answer["usage"] == {"inputTokens": INPUT_TOKENS, "outputTokens": 4, "totalTokens": INPUT_TOKENS + CACHE_READ_TOKENS + 4,
                               "cacheReadInputTokens": CACHE_READ_TOKENS, "cacheWriteInputTokens": 0}
    [seen] = fake_bedrock.recorded()
    assert seen.model_id == model_id
    assert seen.access_key == SIDECAR_AWS_KEY[0] and seen.region == "us-east-1"
    # On the wire the id is encoded once (the signature is over the double-encoded form).
    assert "%3A" in seen.path and "%253A" not in seen.path
    if model_id == PROFILE_ARN:
        assert "%2F" in seen.path
    assert seen.body["messages"] == MESSAGES
    assert "authorization" not in seen.headers


def test_converse_tool_use_and_errors(direct, fake_bedrock):
    fake_bedrock.script(Reply(tool=("get_weather", {"city": "Paris"})), Reply(error="ThrottlingException"))
    answer = direct.converse(modelId=HAIKU, messages=MESSAGES)
    assert answer["stopReason"] == "tool_use"
    assert answer["output"]["message"]["content"][1]["toolUse"] == {"toolUseId": "tooluse_fake_1", "name": "get_weather", "input": {"city": "Paris"}}
    with pytest.raises(botocore.exceptions.ClientError) as error:
        direct.converse(modelId=HAIKU, messages=MESSAGES)
    assert error.value.response["Error"]["Code"] == "ThrottlingException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_converse_stream_is_a_real_event_stream(direct, fake_bedrock):
    response = direct.converse_stream(modelId=HAIKU, messages=MESSAGES)
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/vnd.amazon.eventstream"
    events = list(response["stream"])
    assert [next(iter(e)) for e in events] == ["messageStart"] + ["contentBlockDelta"] * 4 + ["contentBlockStop", "messageStop", "metadata"]
    assert "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e) == DEFAULT_TEXT
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 4
    fake_bedrock.script(Reply(tool=("get_weather", {"city": "Paris"})))
    events = list(direct.converse_stream(modelId=HAIKU, messages=MESSAGES)["stream"])
    start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
    assert start == {"start": {"toolUse": {"toolUseId": "tooluse_fake_1", "name": "get_weather"}}, "contentBlockIndex": 1}
    arguments = "".join(e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events
                        if "contentBlockDelta" in e and "toolUse" in e["contentBlockDelta"]["delta"])
    assert json.loads(arguments) == {"city": "Paris"}
    assert next(e["messageStop"] for e in events if "messageStop" in e)["stopReason"] == "tool_use"


def test_converse_stream_exception_mid_way(direct, fake_bedrock):
    fake_bedrock.script(Reply(break_after=2))
    stream = direct.converse_stream(modelId=HAIKU, messages=MESSAGES)["stream"]
    seen = []
    with pytest.raises(botocore.exceptions.EventStreamError) as error:
        for item in stream:
            seen.append(item)
    assert error.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert len([e for e in seen if "contentBlockDelta" in e]) == 2


def test_invoke_model_with_anthropic_body(direct, fake_bedrock):
    response = direct.invoke_model(modelId=HAIKU, body=json.dumps(ANTHROPIC_BODY), contentType="application/json", accept="application/json")
    body = json.loads(response["body"].read())
    assert body["content"] == [{"type": "text", "text": DEFAULT_TEXT}]
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-bedrock-input-token-count"] == str(INPUT_TOKENS)
    assert headers["x-amzn-bedrock-output-token-count"] == "4"
    assert fake_bedrock.recorded("invoke")[0].body == ANTHROPIC_BODY


def test_invoke_model_with_response_stream(direct, fake_bedrock):
    response = direct.invoke_model_with_response_stream(modelId=HAIKU, body=json.dumps(ANTHROPIC_BODY))
    chunks = [json.loads(e["chunk"]["bytes"]) for e in response["body"]]
    assert [c["type"] for c in chunks] == ["message_start", "content_block_start"] + ["content_block_delta"] * 4 + ["content_block_stop", "message_delta", "message_stop"]
    assert "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta") == DEFAULT_TEXT
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 4


def test_refuses_a_wrong_secret(fake_bedrock, aws_env):
    aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake_bedrock.base_url, AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID=SIDECAR_AWS_KEY[0], AWS_SECRET_ACCESS_KEY="not-the-secret")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        bedrock_client().converse(modelId=HAIKU, messages=MESSAGES)
    assert error.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "signature we calculated does not match" in error.value.response["Error"]["Message"]
    assert fake_bedrock.recorded(verdict=None)[0].verdict == "signature mismatch"


def test_refuses_an_unexpected_or_missing_session_token(fake_bedrock, aws_env):
    aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake_bedrock.base_url, AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID=SIDECAR_AWS_KEY[0], AWS_SECRET_ACCESS_KEY=SIDECAR_AWS_KEY[1], AWS_SESSION_TOKEN="bogus")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        bedrock_client().converse(modelId=HAIKU, messages=MESSAGES)
    assert error.value.response["Error"]["Code"] == "InvalidSignatureException"
    fake_bedrock.credentials["ASIATEMPORARY0000001"] = ("temp-secret", "the-session-token")
    try:
        aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake_bedrock.base_url, AWS_REGION="us-east-1",
                AWS_ACCESS_KEY_ID="ASIATEMPORARY0000001", AWS_SECRET_ACCESS_KEY="temp-secret")
        with pytest.raises(botocore.exceptions.ClientError):
            bedrock_client().converse(modelId=HAIKU, messages=MESSAGES)
        aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake_bedrock.base_url, AWS_REGION="us-east-1",
                AWS_ACCESS_KEY_ID="ASIATEMPORARY0000001", AWS_SECRET_ACCESS_KEY="temp-secret", AWS_SESSION_TOKEN="the-session-token")
        assert bedrock_client().converse(modelId=HAIKU, messages=MESSAGES)["stopReason"] == "end_turn"
    finally:
        del fake_bedrock.credentials["ASIATEMPORARY0000001"]
    assert [r.verdict for r in fake_bedrock.recorded(verdict=None)] == [
        "x-amz-security-token sent for long-term credentials", "x-amz-security-token is missing or wrong", "ok"]


def signed(fake_bedrock, body, path=f"/model/{HAIKU.replace(':', '%3A')}/converse", secret=SIDECAR_AWS_KEY[1]):
    request = AWSRequest(method="POST", url=f"{fake_bedrock.base_url}{path}", data=body, headers={"content-type": "application/json"})
    SigV4Auth(Credentials(SIDECAR_AWS_KEY[0], secret), "bedrock", "us-east-1").add_auth(request)
    return dict(request.headers)


def test_refuses_a_tampered_body_or_a_single_encoded_signature(fake_bedrock):
    body = json.dumps({"messages": MESSAGES}).encode()
    headers = signed(fake_bedrock, body)
    assert httpx.post(f"{fake_bedrock.base_url}/model/{HAIKU.replace(':', '%3A')}/converse", content=body, headers=headers).status_code == 200
    tampered = body.replace(b"hello", b"HELLO")
    refused = httpx.post(f"{fake_bedrock.base_url}/model/{HAIKU.replace(':', '%3A')}/converse", content=tampered, headers=headers)
    assert refused.status_code == 403
    assert refused.headers["x-amzn-errortype"].startswith("InvalidSignatureException")
    assert refused.json()["message"].startswith("The request signature we calculated does not match")
    # A signature computed over the raw model id (the wire path decoded) is wrong, as it is at AWS.
    raw_path_headers = signed(fake_bedrock, body, path=f"/model/{HAIKU}/converse")
    assert httpx.post(f"{fake_bedrock.base_url}/model/{HAIKU.replace(':', '%3A')}/converse", content=body, headers=raw_path_headers).status_code == 403
    # A claimed payload hash must be the body's.
    lying = dict(headers, **{"x-amz-content-sha256": "0" * 64})
    assert httpx.post(f"{fake_bedrock.base_url}/model/{HAIKU.replace(':', '%3A')}/converse", content=body, headers=lying).status_code == 403
    assert [r.verdict for r in fake_bedrock.recorded(verdict=None)] == ["ok", "signature mismatch", "signature mismatch",
                                                                         "x-amz-content-sha256 is not the body's SHA-256"]


def test_unknown_key_is_unrecognized(fake_bedrock, aws_env):
    aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake_bedrock.base_url, AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="AKIDNOBODY0000000000", AWS_SECRET_ACCESS_KEY="x")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        bedrock_client().converse(modelId=HAIKU, messages=MESSAGES)
    assert error.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_botocore_sends_bearer_tokens_only_over_https(fake_bedrock, aws_env):
    """Why bearer mode needs the sidecar's TLS listener: botocore refuses `AWS_BEARER_TOKEN_BEDROCK` over http."""
    aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=fake_bedrock.base_url, AWS_REGION="us-east-1", AWS_BEARER_TOKEN_BEDROCK="bearer-over-http")
    with pytest.raises(botocore.exceptions.InvalidEndpointConfigurationError) as error:
        bedrock_client().converse(modelId=HAIKU, messages=MESSAGES)
    assert "Bearer authorization requires an HTTPS endpoint" in str(error.value)
    assert fake_bedrock.recorded(verdict=None) == []


def test_moto_sts_records_web_identity_calls_and_issues_credentials(moto_sts, aws_env):
    aws_env(AWS_REGION="us-east-1")
    from botocore import UNSIGNED
    from botocore.config import Config
    sts = boto3.session.Session().client("sts", endpoint_url=moto_sts.url, config=Config(signature_version=UNSIGNED))
    answer = sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::123456789012:role/llm", RoleSessionName="unit-check",
                                               WebIdentityToken="token-one", DurationSeconds=900)
    key = answer["Credentials"]["AccessKeyId"]
    [call] = moto_sts.web_identity_calls()
    assert call["WebIdentityToken"] == "token-one" and call["RoleSessionName"] == "unit-check" and call["DurationSeconds"] == "900"
    [role] = [r for r in moto_assumed_roles() if r.access_key_id == key]
    assert role.secret_access_key == answer["Credentials"]["SecretAccessKey"]
    assert role.session_token == answer["Credentials"]["SessionToken"]
    moto_sts.rejected_tokens.add("token-bad")
    with pytest.raises(botocore.exceptions.ClientError) as error:
        sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::123456789012:role/llm", RoleSessionName="unit-check", WebIdentityToken="token-bad")
    assert error.value.response["Error"]["Code"] == "InvalidIdentityToken"


def test_pod_identity_agent_checks_the_authorization_token():
    from fake_aws import FakePodIdentityAgent
    agent = FakePodIdentityAgent("pod-token").start()
    try:
        assert httpx.get(agent.url, headers={"Authorization": "wrong"}).status_code == 401
        answer = httpx.get(agent.url, headers={"Authorization": "pod-token"}).json()
        assert agent.lookup(answer["AccessKeyId"]) == (answer["SecretAccessKey"], answer["Token"])
    finally:
        agent.stop()


def test_base64_chunk_payloads_are_plain_json(direct, fake_bedrock):
    raw = httpx.post(f"{fake_bedrock.base_url}/model/{HAIKU.replace(':', '%3A')}/invoke-with-response-stream",
                     content=json.dumps(ANTHROPIC_BODY).encode(), headers=signed(fake_bedrock, json.dumps(ANTHROPIC_BODY).encode(),
                                                                                  path=f"/model/{HAIKU.replace(':', '%3A')}/invoke-with-response-stream"))
    events = decode_events(raw.content)
    assert all(h[":event-type"] == "chunk" for h, _ in events)
    assert json.loads(base64.b64decode(json.loads(events[0][1])["bytes"]))["type"] == "message_start"
