"""The Bedrock example manifests validate, and their llmesh resources serve real SDK calls once pointed at the fakes.

A missing example fails here (it is named, not globbed)."""
import json
import re
import subprocess

import anthropic
import openai
import pytest
import yaml

from bedrock_support import MESSAGES, aws_home
from conftest import ROOT, BINARY, SIDECAR_AWS_KEY, aws_sidecar, bedrock_client, free_port
from fake_aws import moto_assumed_roles
from fake_bedrock import DEFAULT_TEXT, Reply

EXAMPLES = ["bedrock-irsa.yaml", "translation-openai-to-bedrock.yaml"]
IRSA_ROLE = "arn:aws:iam::111122223333:role/llmesh-bedrock-research"


class _YAML12Loader(yaml.SafeLoader):
    """PyYAML resolves YAML 1.1 booleans (`on`, `yes`…); llmesh (Yams) reads YAML 1.2, where `on:` is a string key."""


_YAML12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_YAML12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_all(path):
    return [d for d in yaml.load_all(path.read_text(), Loader=_YAML12Loader) if d]


@pytest.mark.parametrize("name", EXAMPLES)
def test_bedrock_example_validates_for_a_cluster(name):
    path = ROOT / "manifests" / "examples" / name
    assert path.is_file(), f"{path} is missing"
    result = subprocess.run([BINARY, "check", "--cluster", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK ")
    kinds = [d["kind"] for d in load_all(path)]
    assert "LLMProvider" in kinds and "LLMRoute" in kinds
    providers = [d for d in load_all(path) if d["kind"] == "LLMProvider" and d["spec"]["type"] == "Bedrock"]
    assert providers and all("aws" in p["spec"]["auth"] for p in providers)


def standalone(name, endpoints):
    """The example's llmesh resources without namespaces, each provider's endpoint (and key) replaced by a fake's."""
    documents = []
    for document in load_all(ROOT / "manifests" / "examples" / name):
        if not document["apiVersion"].startswith("llmesh.io/"):
            continue
        document["metadata"].pop("namespace", None)
        if document["kind"] == "LLMProvider":
            document["spec"]["endpoint"] = endpoints[document["metadata"]["name"]]
            if "apiKey" in document["spec"].get("auth", {}):
                document["spec"]["auth"] = {"apiKey": {"env": "E2E_OPENAI_KEY"}}
        documents.append(document)
    return yaml.safe_dump_all(documents, sort_keys=False)


@pytest.fixture
def started(tmp_path):
    cars = []

    def start(config, env, extra_args=()):
        car = aws_sidecar(tmp_path / f"car{len(cars)}", config, env=env, extra_args=extra_args)
        cars.append(car)
        car.start()
        car.ready = True
        return car

    yield start
    for car in cars:
        code = car.stop()
        assert code == 0 or not getattr(car, "ready", False), code


def test_bedrock_irsa_example_in_bearer_mode(started, fake_bedrock, moto_sts, aws_env, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("eyJ.example-irsa-token.sig-8888")
    tls_port = free_port()
    car = started(standalone("bedrock-irsa.yaml", {"bedrock": fake_bedrock.base_url}),
                  {"AWS_ROLE_ARN": IRSA_ROLE, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file), "AWS_REGION": "us-east-1",
                   "AWS_ENDPOINT_URL_STS": moto_sts.url},
                  extra_args=["--tls-listen", f"127.0.0.1:{tls_port}", "--tls-dir", str(tmp_path / "tls")])
    # What the example's app container does, with the environment the injector gives it in bearer mode.
    aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=f"https://127.0.0.1:{tls_port}", AWS_REGION="us-east-1",
            AWS_BEARER_TOKEN_BEDROCK="app-bearer-token", AWS_CA_BUNDLE=str(tmp_path / "tls" / "ca-bundle.crt"))
    client = bedrock_client()
    answer = client.converse(modelId="claude-haiku", messages=MESSAGES)
    assert answer["output"]["message"]["content"][0]["text"] == DEFAULT_TEXT
    client.converse(modelId="claude-sonnet", messages=MESSAGES)
    assert [c["RoleArn"] for c in moto_sts.web_identity_calls()] == [IRSA_ROLE]
    issued = {r.access_key_id for r in moto_assumed_roles() if r.role_arn == IRSA_ROLE}
    seen = fake_bedrock.recorded(verdict=None)
    assert [r.model_id for r in seen] == ["anthropic.claude-3-haiku-20240307-v1:0", "us.anthropic.claude-3-5-sonnet-20241022-v2:0"]
    assert all(r.verdict == "ok" and r.access_key in issued for r in seen)
    # The haiku route retries a throttled call once.
    fake_bedrock.reset()
    fake_bedrock.script(Reply(error="ThrottlingException"))
    assert client.converse(modelId="claude-haiku", messages=MESSAGES)["stopReason"] == "end_turn"
    assert len(fake_bedrock.recorded(verdict=None)) == 2
    assert "eyJ.example-irsa-token.sig-8888" not in car.stdout_path.read_text() + car.stderr()


def test_translation_example_sends_openai_and_anthropic_apps_to_bedrock(started, fake_bedrock, fake, moto_sts, sdk_env, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("eyJ.example-translation-token.sig-9999")
    car = started(standalone("translation-openai-to-bedrock.yaml", {"bedrock": fake_bedrock.base_url, "openai": f"{fake.base_url}/v1"}),
                  {"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/shop", "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
                   "AWS_REGION": "eu-central-1", "AWS_ENDPOINT_URL_STS": moto_sts.url, "E2E_OPENAI_KEY": "sk-upstream-openai"})
    sdk_env(car)
    client = openai.OpenAI(max_retries=0)
    backends = []
    for _ in range(100):
        raw = client.chat.completions.with_raw_response.create(model="assistant", messages=[{"role": "user", "content": "hi"}])
        backends.append(raw.headers["x-llmesh-backend"])
        assert raw.parse().choices[0].message.content in (DEFAULT_TEXT, "fake reply from gpt-4o")
    assert set(backends) == {"bedrock/eu.anthropic.claude-3-5-sonnet-20240620-v1:0", "openai/gpt-4o"}
    assert backends.count("openai/gpt-4o") < 30, "about 10% stays on OpenAI"
    bedrock_calls = fake_bedrock.recorded(verdict=None)
    assert all(r.verdict == "ok" and r.region == "eu-central-1" and r.operation == "converse" for r in bedrock_calls)
    assert {r.model_id for r in bedrock_calls} == {"eu.anthropic.claude-3-5-sonnet-20240620-v1:0"}
    message = anthropic.Anthropic(max_retries=0).messages.create(model="assistant", max_tokens=32, messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].text in (DEFAULT_TEXT, "fake reply from gpt-4o")
    # Bedrock throttling falls back to OpenAI.
    fake_bedrock.default = Reply(error="ThrottlingException")
    for _ in range(10):
        raw = client.chat.completions.with_raw_response.create(model="assistant", messages=[{"role": "user", "content": "hi"}])
        assert raw.headers["x-llmesh-backend"] == "openai/gpt-4o"
        assert raw.parse().choices[0].message.content == "fake reply from gpt-4o"
    assert "sk-upstream-openai" not in json.dumps([r.headers for r in fake_bedrock.recorded(verdict=None)])


def test_the_workstation_profile_example_signs_with_the_profile(started, fake_bedrock, moto_sts, aws_env, tmp_path):
    path = ROOT / "manifests" / "examples" / "bedrock-workstation-profile.yaml"
    result = subprocess.run([BINARY, "check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("OK "), result.stderr
    # What `aws configure --profile bedrock-dev` writes, with the keys the fake Bedrock knows.
    env = aws_home(tmp_path, f"[bedrock-dev]\naws_access_key_id = {SIDECAR_AWS_KEY[0]}\naws_secret_access_key = {SIDECAR_AWS_KEY[1]}\n",
                   "[profile bedrock-dev]\nregion = eu-west-3\n", "bedrock-dev")
    car = started(standalone("bedrock-workstation-profile.yaml", {"bedrock": fake_bedrock.base_url}), env)
    aws_env(AWS_ENDPOINT_URL_BEDROCK_RUNTIME=car.url, AWS_REGION="eu-west-3", AWS_ACCESS_KEY_ID="unused", AWS_SECRET_ACCESS_KEY="unused")
    answer = bedrock_client().converse(modelId="claude-haiku", messages=MESSAGES)
    assert answer["output"]["message"]["content"][0]["text"] == DEFAULT_TEXT
    [seen] = fake_bedrock.recorded(verdict=None)
    assert (seen.verdict, seen.access_key, seen.region) == ("ok", SIDECAR_AWS_KEY[0], "eu-west-3")
    assert seen.model_id == "anthropic.claude-3-haiku-20240307-v1:0"
    assert moto_sts.web_identity_calls() == []
