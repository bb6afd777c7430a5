"""Where the sidecar's AWS credentials come from: IRSA (web identity against moto's STS), token rotation, the
roleARN override, EKS Pod Identity, an AWS CLI profile in the shared files, and what the app sees when STS is down or refuses; never a secret in a log."""
import json
import re
import time

import botocore.exceptions
import httpx
import openai
import pytest

from bedrock_support import MESSAGES, ROLE_ARN, aws_home, bedrock_config, irsa_env
from conftest import APP_AWS_KEY, HAIKU, SIDECAR_AWS_KEY, aws_sidecar, bedrock_client, write_atomically
from fake_aws import FakePodIdentityAgent, moto_assumed_roles
from fake_bedrock import DEFAULT_TEXT

SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
# 900 s sessions with a 885 s advisory window: credentials enter it about 15 s after they were fetched. The window is
# honoured only while it is shorter than the credentials' lifetime as the sidecar measures it (expiration minus the
# time the fetch finished), so it leaves 15 s for STS latency and the whole-second expiration on a loaded machine.
FAST_REFRESH = ["--aws-session-duration", "900s", "--aws-refresh-advisory", "885s", "--aws-refresh-mandatory", "1s"]


@pytest.fixture
def run(tmp_path, fake_bedrock, aws_env, sdk_env):
    """Starts a sidecar on the fake Bedrock with exactly `env` as its AWS environment, points boto3 (app keys) and the
    openai SDK at it, and stops it afterwards."""
    started = []

    def start(env, aws="{region: us-east-1}", extra_args=()):
        car = aws_sidecar(tmp_path / f"car{len(started)}", bedrock_config(fake_bedrock.base_url, aws=aws), env=env, extra_args=extra_args)
        started.append(car)
        car.start()
        car.ready = True
        aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=car.url, AWS_REGION="us-east-1",
                AWS_ACCESS_KEY_ID=APP_AWS_KEY[0], AWS_SECRET_ACCESS_KEY=APP_AWS_KEY[1])
        sdk_env(car)
        car.app = bedrock_client()
        return car

    yield start
    for car in started:
        code = car.stop()
        assert code == 0 or not getattr(car, "ready", False), code


def write_token(path, token):
    """Replaces the token file atomically, as the kubelet does when it rotates a projected token."""
    write_atomically(path, token)


def aws_status(car):
    dump = httpx.get(car.admin("/config_dump"), timeout=30).json()
    [provider] = [p for p in dump["providerStatus"] if p["name"] == "bedrock"]
    return provider.get("aws"), json.dumps(dump)


def assert_no_secrets(car, *more):
    """No secret key, session token or identity token in stdout, stderr or /config_dump."""
    _, dump = aws_status(car)
    texts = {"stdout": car.stdout_path.read_text(), "stderr": car.stderr(), "config_dump": dump}
    secrets = [APP_AWS_KEY[1], *more]
    for role in moto_assumed_roles():
        secrets += [role.secret_access_key, role.session_token]
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret ({secret[:6]}…) appears in {where}"


def key_for_session(session_name):
    return {r.access_key_id for r in moto_assumed_roles() if r.session_name == session_name}


def test_web_identity_reads_the_token_file_and_generates_a_session_name(run, moto_sts, fake_bedrock, tmp_path):
    token_file = tmp_path / "token"
    token = "eyJhbGciOiJSUzI1NiJ9.irsa-first-token.sig-0001"
    write_token(token_file, token)
    car = run(irsa_env(moto_sts, token_file))
    assert car.app.converse(modelId=HAIKU, messages=MESSAGES)["output"]["message"]["content"] == [{"text": DEFAULT_TEXT}]
    [call] = moto_sts.web_identity_calls()
    assert call["RoleArn"] == ROLE_ARN
    assert call["WebIdentityToken"] == token
    assert call["Version"] == "2011-06-15"
    assert call["DurationSeconds"] == "3600"
    assert SESSION_NAME.match(call["RoleSessionName"]), call["RoleSessionName"]
    [seen] = fake_bedrock.recorded(verdict=None)
    assert seen.verdict == "ok"
    assert seen.access_key in key_for_session(call["RoleSessionName"])
    status, _ = aws_status(car)
    assert status["source"] == "web-identity"
    assert status["roleARN"] == ROLE_ARN
    assert status["region"] == "us-east-1"
    assert status["refreshes"] == 1
    assert status["expiration"]
    assert_no_secrets(car, token)


def test_a_rotated_token_is_used_by_the_next_refresh(run, moto_sts, fake_bedrock, tmp_path):
    token_file = tmp_path / "token"
    first, second = "eyJ.rotation-token-one.sig-1111", "eyJ.rotation-token-two.sig-2222"
    write_token(token_file, first)
    car = run(irsa_env(moto_sts, token_file), extra_args=FAST_REFRESH)
    car.app.converse(modelId=HAIKU, messages=MESSAGES)
    [call] = moto_sts.web_identity_calls()
    assert call["WebIdentityToken"] == first and call["DurationSeconds"] == "900"
    write_token(token_file, second)
    # Keep calling: once the credentials are inside the advisory window (about 15 s after the fetch), a request starts
    # one background refresh, which reads the rotated token. Until then requests use the cached credentials.
    deadline = time.time() + 90
    while time.time() < deadline and not any(c["WebIdentityToken"] == second for c in moto_sts.web_identity_calls()):
        car.app.converse(modelId=HAIKU, messages=MESSAGES)
        time.sleep(0.25)
    tokens = [c["WebIdentityToken"] for c in moto_sts.web_identity_calls()]
    assert tokens[0] == first and second in tokens, tokens
    assert first not in tokens[tokens.index(second):], "the file is re-read for every STS call"
    deadline = time.time() + 20
    while time.time() < deadline and aws_status(car)[0]["refreshes"] < 2:
        time.sleep(0.1)
    car.app.converse(modelId=HAIKU, messages=MESSAGES)
    keys = [r.access_key for r in fake_bedrock.recorded(verdict=None)]
    assert all(r.verdict == "ok" for r in fake_bedrock.recorded(verdict=None))
    assert keys[-1] != keys[0], "the last call is signed with the refreshed credentials"
    assert aws_status(car)[0]["refreshes"] >= 2
    assert_no_secrets(car, first, second)


def test_config_role_arn_overrides_aws_role_arn(run, moto_sts, fake_bedrock, tmp_path):
    token_file = tmp_path / "token"
    write_token(token_file, "eyJ.override-token.sig-3333")
    override = "arn:aws:iam::123456789012:role/from-config"
    car = run(irsa_env(moto_sts, token_file, role_arn="arn:aws:iam::123456789012:role/from-env"),
              aws=f'{{region: us-east-1, webIdentity: {{roleARN: "{override}"}}}}')
    car.app.converse(modelId=HAIKU, messages=MESSAGES)
    assert [c["RoleArn"] for c in moto_sts.web_identity_calls()] == [override]
    [seen] = fake_bedrock.recorded(verdict=None)
    assert seen.verdict == "ok"
    assert seen.access_key in {r.access_key_id for r in moto_assumed_roles() if r.role_arn == override}
    assert aws_status(car)[0]["roleARN"] == override


@pytest.fixture
def agent(fake_bedrock):
    pod_token = "eyJ.eks-pod-identity-token.sig-4444"
    agent = FakePodIdentityAgent(pod_token).start()
    fake_bedrock.lookups.append(agent.lookup)
    yield agent
    fake_bedrock.lookups.remove(agent.lookup)
    agent.stop()


def pod_identity_env(agent, tmp_path):
    token_file = tmp_path / "eks-pod-identity-token"
    write_token(token_file, agent.token)
    return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": agent.url, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
            "AWS_REGION": "us-east-1"}


def assert_signed_by_the_agent(agent, fake_bedrock):
    [seen] = fake_bedrock.recorded(verdict=None)
    assert seen.verdict == "ok"
    assert seen.access_key in agent.issued
    assert agent.requests and all(r["headers"].get("authorization") == agent.token for r in agent.requests)
    assert agent.requests[0]["path"] == "/v1/credentials"


def test_eks_pod_identity_from_the_environment(run, agent, moto_sts, fake_bedrock, tmp_path):
    car = run(pod_identity_env(agent, tmp_path))
    car.app.converse(modelId=HAIKU, messages=MESSAGES)
    assert_signed_by_the_agent(agent, fake_bedrock)
    assert moto_sts.web_identity_calls() == []
    assert aws_status(car)[0]["source"] == "pod-identity"
    assert_no_secrets(car, agent.token, *[v for pair in agent.issued.values() for v in pair])


def test_pod_identity_in_the_config_wins_over_irsa(run, agent, moto_sts, fake_bedrock, tmp_path):
    token_file = tmp_path / "token"
    write_token(token_file, "eyJ.irsa-token-not-used.sig-5555")
    env = dict(irsa_env(moto_sts, token_file), **pod_identity_env(agent, tmp_path))
    car = run(env, aws="{region: us-east-1, podIdentity: {}}")
    car.app.converse(modelId=HAIKU, messages=MESSAGES)
    assert_signed_by_the_agent(agent, fake_bedrock)
    assert moto_sts.web_identity_calls() == []
    assert aws_status(car)[0]["source"] == "pod-identity"


def test_a_shared_file_profile_signs_with_its_keys_and_region(run, moto_sts, fake_bedrock, tmp_path):
    env = aws_home(tmp_path,
                   f"[default]\naws_access_key_id = AKIDNOTTHISONE\naws_secret_access_key = wrong\n\n"
                   f"[llm]\naws_access_key_id = {SIDECAR_AWS_KEY[0]}\naws_secret_access_key = {SIDECAR_AWS_KEY[1]}\n",
                   "[default]\nregion = eu-west-1\n\n[profile llm]\nregion = us-west-2\ns3 =\n  max_concurrent_requests = 4\n", "llm")
    # No region in the LLMProvider and none in the environment: the profile's applies.
    car = run(env, aws="{}")
    answer = car.app.converse(modelId=HAIKU, messages=MESSAGES)
    assert answer["output"]["message"]["content"][0]["text"] == DEFAULT_TEXT
    [seen] = fake_bedrock.recorded(verdict=None)
    assert (seen.verdict, seen.access_key, seen.region) == ("ok", SIDECAR_AWS_KEY[0], "us-west-2")
    status = aws_status(car)[0]
    assert (status["source"], status["region"]) == ("profile", "us-west-2")
    assert moto_sts.web_identity_calls() == []
    assert_no_secrets(car, SIDECAR_AWS_KEY[1])


def test_a_profile_llmesh_cannot_use_is_a_clear_error(run, moto_sts, fake_bedrock, tmp_path):
    car = run(aws_home(tmp_path, "", "[profile sso-dev]\nsso_session = corp\nsso_account_id = 123456789012\nregion = us-east-1\n", "sso-dev"))
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        car.app.converse(modelId=HAIKU, messages=MESSAGES)
    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert "sso_session" in error["Error"]["Message"] and "sso-dev" in error["Error"]["Message"]
    assert fake_bedrock.recorded(verdict=None) == []


def assert_sidecar_error(status, headers, message):
    code = headers.get("x-llmesh-error")
    assert (status, code) in {(503, "credential_unavailable"), (502, "upstream_unreachable")}, (status, code)
    assert message
    return code


def test_sts_down_is_a_clear_error_in_each_dialect(run, moto_sts, fake_bedrock, tmp_path, refused_port):
    token_file = tmp_path / "token"
    write_token(token_file, "eyJ.sts-down-token.sig-6666")
    env = dict(irsa_env(moto_sts, token_file), AWS_ENDPOINT_URL_STS=f"http://127.0.0.1:{refused_port}")
    car = run(env)
    with pytest.raises(botocore.exceptions.ClientError) as error:
        car.app.converse(modelId=HAIKU, messages=MESSAGES)
    response = error.value.response
    assert_sidecar_error(response["ResponseMetadata"]["HTTPStatusCode"], response["ResponseMetadata"]["HTTPHeaders"], response["Error"]["Message"])
    with pytest.raises(openai.APIStatusError) as failure:
        openai.OpenAI(max_retries=0).chat.completions.create(model=HAIKU, messages=[{"role": "user", "content": "hi"}])
    assert_sidecar_error(failure.value.status_code, failure.value.response.headers, failure.value.message)
    assert fake_bedrock.recorded(verdict=None) == []
    status, _ = aws_status(car)
    assert status["lastError"]
    assert_no_secrets(car, "eyJ.sts-down-token.sig-6666")


def test_sts_refusing_the_token_is_a_clear_error(run, moto_sts, fake_bedrock, tmp_path):
    token_file = tmp_path / "token"
    token = "eyJ.token-sts-rejects.sig-7777"
    write_token(token_file, token)
    moto_sts.rejected_tokens.add(token)
    car = run(irsa_env(moto_sts, token_file))
    with pytest.raises(botocore.exceptions.ClientError) as error:
        car.app.converse(modelId=HAIKU, messages=MESSAGES)
    response = error.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-llmesh-error"] == "credential_unavailable"
    assert "InvalidIdentityToken" in response["Error"]["Message"]
    assert token not in response["Error"]["Message"]
    with pytest.raises(openai.APIStatusError) as failure:
        openai.OpenAI(max_retries=0).chat.completions.create(model=HAIKU, messages=[{"role": "user", "content": "hi"}])
    assert failure.value.status_code == 503
    assert failure.value.response.headers["x-llmesh-error"] == "credential_unavailable"
    assert [c["WebIdentityToken"] for c in moto_sts.web_identity_calls()][0] == token
    assert fake_bedrock.recorded(verdict=None) == []
    status, _ = aws_status(car)
    assert "InvalidIdentityToken" in status["lastError"]
    assert_no_secrets(car, token)
