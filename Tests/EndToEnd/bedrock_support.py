"""Shared pieces of the Bedrock end-to-end tests: a sidecar config on the fake Bedrock, an IRSA environment, and a HOME
with AWS CLI profile files."""
import time

from conftest import HAIKU, PROFILE_ARN
from fake_bedrock import CACHE_READ_TOKENS, INPUT_TOKENS

ROLE_ARN = "arn:aws:iam::123456789012:role/llm"
WEB_IDENTITY_TOKEN = "eyJhbGciOiJSUzI1NiJ9.e2e-irsa-token.signature-bedrock-module"
TEAM_KEY = "sk-llmesh-bedrock-team-0123456789"
MESSAGES = [{"role": "user", "content": [{"text": "Say hello"}]}]
ANTHROPIC_BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role": "user", "content": "Say hello"}]}
DOLLAR_PRICING = "{inputPerMillion: 1000000, outputPerMillion: 2000000, cachedInputPerMillion: 500000}"
# 11 uncached input at $1, 2 cache reads at $0.5, 4 output at $2.
EXPECTED_COST = INPUT_TOKENS * 1 + CACHE_READ_TOKENS * 0.5 + 4 * 2


def bedrock_config(endpoint, aws="{region: us-east-1}", extra=""):
    return f"""
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: bedrock}}
spec:
  type: Bedrock
  endpoint: {endpoint}
  auth:
    aws: {aws}
  timeouts: {{connect: 2s, request: 30s, streamIdle: 10s}}
  models:
    - {{name: "{HAIKU}", pricing: {DOLLAR_PRICING}}}
    - {{name: "{PROFILE_ARN}", pricing: {DOLLAR_PRICING}}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: haiku}}
spec:
  match: {{model: "{HAIKU}", aliases: [claude-haiku]}}
  backends: [{{provider: bedrock, model: "{HAIKU}"}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: haiku-profile}}
spec:
  match: {{model: "{PROFILE_ARN}", aliases: [haiku-everywhere]}}
  backends: [{{provider: bedrock, model: "{PROFILE_ARN}"}}]
{extra}"""


def irsa_env(moto_sts, token_file, role_arn=ROLE_ARN):
    return {"AWS_ROLE_ARN": role_arn, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file), "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_STS": moto_sts.url}


def new_log_entries(car, before, count=1, timeout=30):
    """The access-log lines written after the first `before` ones (waits for `count` of them)."""
    deadline = time.time() + timeout
    while time.time() < deadline and len(car.access_log()) < before + count:
        time.sleep(0.05)
    return car.access_log()[before:]


def aws_home(tmp_path, credentials, config, profile):
    """The sidecar environment of a HOME with ~/.aws/credentials and ~/.aws/config, as `aws configure` writes them.
    The file variables name the AWS SDKs' default paths (the sidecars' environment otherwise points them nowhere)."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(credentials)
    (home / ".aws" / "config").write_text(config)
    return {"HOME": str(home), "AWS_PROFILE": profile,
            "AWS_SHARED_CREDENTIALS_FILE": "~/.aws/credentials", "AWS_CONFIG_FILE": "~/.aws/config"}
