"""Fixtures that run the real llmesh binary and a fake provider, and SDK clients configured only by environment."""
import contextlib
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import tempfile
import time

import httpx
import pytest

from fake_provider import FakeProvider

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("LLMESH_BIN", str(ROOT / ".build" / "debug" / "llmesh"))
OPENAI_APP_KEY = "sk-app-not-forwarded"
ANTHROPIC_APP_KEY = "sk-ant-app-not-forwarded"


# Every port this session handed out (free or dead), so that no two servers of one run are ever given the same one.
_ports_handed_out = set()


def free_port():
    """A loopback port that is free now and was not handed out before in this test session."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port


@contextlib.contextmanager
def dead_port():
    """A loopback port where connections are refused for certain while the context lasts: a socket holds it bound
    but never listens, so no other process can start listening there by chance. For unreachable upstreams."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        _ports_handed_out.add(port)
        yield port


@pytest.fixture
def refused_port():
    """A port nobody listens on, for the whole test (see `dead_port`)."""
    with dead_port() as port:
        yield port


def wait_until(predicate, timeout=30, interval=0.05, what="condition"):
    """Polls `predicate` until it returns something truthy, and returns that; fails after `timeout` seconds. An HTTP
    error (refused connection, timeout) while polling means "not yet", as a server may still be starting or busy."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
        except httpx.HTTPError as error:
            last = error
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout}s (last: {last!r})")


def write_atomically(path, text):
    """Replaces a file's content in one step (a temporary file in the same directory, then a rename), as the kubelet
    updates mounted files: a process polling the file sees the old content or the new, never a half-written one."""
    path = pathlib.Path(path)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False) as temporary:
        temporary.write(text)
    os.replace(temporary.name, path)


class Sidecar:
    """One `llmesh sidecar` process on free loopback ports, with its stdout and stderr captured to files."""

    def __init__(self, directory, config_text, extra_args=(), env=None):
        self.directory = pathlib.Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config = self.directory / "config.yaml"
        self.config.write_text(config_text)
        self.extra_args = list(extra_args)
        self._choose_ports()
        self.stdout_path = self.directory / "stdout.log"
        self.stderr_path = self.directory / "stderr.log"
        self.env = dict(os.environ, **(env or {}))
        self.process = None

    def _choose_ports(self):
        self.port = free_port()
        self.admin_port = free_port()

    @property
    def args(self):
        """The command line, on the ports chosen now."""
        return [BINARY, "sidecar", "--config", str(self.config), "--listen", f"127.0.0.1:{self.port}",
                "--admin-listen", f"127.0.0.1:{self.admin_port}", "--reload-interval", "200ms", *self.extra_args]

    def start(self):
        # A port that was free when chosen can be taken by another socket's ephemeral port before the sidecar binds
        # it; then the sidecar exits at once saying so, and is started again on new ports.
        for _attempt in range(3):
            if self._start_once():
                return self
            self._choose_ports()
        raise RuntimeError(f"sidecar could not bind its ports: {self.stderr()}")

    def _start_once(self):
        self.process = subprocess.Popen(self.args, stdout=open(self.stdout_path, "wb"), stderr=open(self.stderr_path, "wb"), env=self.env)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                if "Address already in use" in self.stderr():
                    return False
                raise RuntimeError(f"sidecar exited with {self.process.returncode}: {self.stderr()}")
            try:
                if httpx.get(self.admin("/readyz"), timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"sidecar not ready: {self.stderr()}")

    def stop(self, timeout=30):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def admin(self, path):
        return f"http://127.0.0.1:{self.admin_port}{path}"

    def stderr(self):
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def access_log(self):
        text = self.stdout_path.read_text() if self.stdout_path.exists() else ""
        # A last line without its newline is still being written: it is not an entry yet.
        complete = text[:text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def in_flight(self):
        """`llmesh_requests_in_flight` from `/metrics`: requests not yet settled and logged."""
        text = httpx.get(self.admin("/metrics"), timeout=10).text
        match = re.search(r"^llmesh_requests_in_flight(?:\{[^}]*\})?\s+(\S+)", text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    def wait_idle(self, timeout=30):
        """Waits until no request is in flight: every earlier request is settled (spend, limits) and logged. A client
        has its whole answer a little before the sidecar has settled it."""
        wait_until(lambda: self.in_flight() == 0, timeout=timeout, what="no request in flight")

    def idle_log_length(self, timeout=30):
        """The number of access-log lines once no request is in flight, so every earlier request's line is in."""
        self.wait_idle(timeout)
        return len(self.access_log())

    def wait_for_log(self, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            entries = [e for e in self.access_log() if predicate(e)]
            if entries:
                return entries
            time.sleep(0.05)
        return []


def dollar_a_token_provider(name, fake, models):
    """An OpenAI-type LLMProvider on the fake, key from $E2E_OPENAI_KEY, every model at $1 per token (easy sums)."""
    priced = "\n".join(f"    - {{name: {model}, pricing: {{inputPerMillion: 1000000, outputPerMillion: 1000000}}}}" for model in models)
    return f"""
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: {name}}}
spec:
  type: OpenAI
  endpoint: {fake.base_url}/v1
  auth: {{apiKey: {{env: E2E_OPENAI_KEY}}}}
  models:
{priced}
"""


def virtual_key(name, secret, spec_lines=""):
    """A VirtualKey document (preceded by `---`) holding only the SHA-256 of `secret`, as a standalone file does."""
    import hashlib
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return f"""
---
apiVersion: llmesh.io/v1alpha1
kind: VirtualKey
metadata: {{name: {name}}}
spec:
  keyHash: sha256:{digest}
{spec_lines}"""


def standard_config(fake, key_file, extra=""):
    """Providers: the fake as OpenAI (key from a file) and as Anthropic (key from env), and a Mock."""
    return f"""
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: fake-openai}}
spec:
  type: OpenAI
  endpoint: {fake.base_url}/v1
  auth: {{apiKey: {{file: {key_file}}}}}
  timeouts: {{connect: 2s, request: 30s, streamIdle: 10s}}
  models:
    - name: fake-gpt-1
      pricing: {{inputPerMillion: 1000000, outputPerMillion: 2000000, cachedInputPerMillion: 500000}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: fake-anthropic}}
spec:
  type: Anthropic
  endpoint: {fake.base_url}
  auth: {{apiKey: {{env: E2E_ANTHROPIC_KEY}}}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {{name: mock}}
spec:
  type: Mock
  mock: {{response: "Hello from the llmesh mock provider", chunkDelay: 0ms, embeddingDimensions: 8}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: gpt}}
spec:
  match: {{model: gpt-fast, aliases: [fast]}}
  backends: [{{provider: fake-openai, model: fake-gpt-1}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: claude}}
spec:
  match: {{model: claude-fast}}
  backends: [{{provider: fake-anthropic, model: fake-claude-1}}]
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {{name: mock}}
spec:
  match: {{model: mock-model, aliases: [mock-alias]}}
  backends: [{{provider: mock}}]
{extra}
"""


@pytest.fixture(scope="module")
def fake():
    provider = FakeProvider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def sidecar(fake, tmp_path_factory):
    directory = tmp_path_factory.mktemp("sidecar")
    key_file = directory / "openai-key"
    key_file.write_text("sk-upstream-openai\n")
    car = Sidecar(directory, standard_config(fake, key_file), env={"E2E_ANTHROPIC_KEY": "sk-upstream-anthropic"})
    car.key_file = key_file
    car.start()
    yield car
    assert car.stop() == 0


@pytest.fixture(autouse=True)
def _reset_fake(request):
    if "fake" in request.fixturenames:
        request.getfixturevalue("fake").reset()


@pytest.fixture
def sdk_env(monkeypatch):
    """Points the SDKs at a sidecar through the environment only, as an injected pod would."""
    def point_at(car):
        monkeypatch.setenv("OPENAI_BASE_URL", f"{car.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", OPENAI_APP_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", car.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_APP_KEY)
        for name in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "ANTHROPIC_AUTH_TOKEN"):
            monkeypatch.delenv(name, raising=False)
    return point_at


@pytest.fixture
def openai_client(sidecar, sdk_env):
    import openai
    sdk_env(sidecar)
    return openai.OpenAI(max_retries=0)


@pytest.fixture
def anthropic_client(sidecar, sdk_env):
    import anthropic
    sdk_env(sidecar)
    return anthropic.Anthropic(max_retries=0)


def raw_sse(url, body, headers=None):
    """Posts `body` and returns the raw streamed text, for assertions SDK objects would hide."""
    with httpx.stream("POST", url, json=body, headers=headers or {}, timeout=30) as response:
        return response.status_code, response.headers, "".join(response.iter_text())


# -- AWS: Bedrock, STS (moto), Pod Identity; used by test_fake_bedrock.py, test_bedrock*.py, test_translation.py -----

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"
# Long-term keys the sidecar holds in its environment (a static source), and the app's own dummy keys.
SIDECAR_AWS_KEY = ("AKIDSIDECAREXAMPLE01", "sidecar-secret-wJalrXUtnFEMI/K7MDENGbPxRfiCY")
APP_AWS_KEY = ("AKIDAPPEXAMPLE000001", "app-secret-never-forwarded-K7MDENG")


def scrubbed_environment(values=None):
    """os.environ without any AWS_* variable (the container sets AWS_CA_BUNDLE), with no shared config, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_CONFIG_FILE": "/nonexistent/aws-config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
                "AWS_EC2_METADATA_DISABLED": "true"})
    env.update(values or {})
    return env


def aws_sidecar(directory, config_text, env=None, extra_args=()):
    """A Sidecar whose environment holds exactly the AWS variables in `env` (nothing inherited)."""
    car = Sidecar(directory, config_text, extra_args=extra_args)
    car.env = scrubbed_environment(env)
    return car


@pytest.fixture(scope="session")
def moto_sts():
    from fake_aws import RecordingSTS
    sts = RecordingSTS(free_port())
    sts.start()
    # moto builds its IAM backend on the first STS call, which takes seconds: pay for it here, not inside a test.
    import boto3
    boto3.client("sts", endpoint_url=sts.url, region_name="us-east-1", aws_access_key_id="AKIDWARMUP",
                 aws_secret_access_key="warm-up").assume_role_with_web_identity(
        RoleArn="arn:aws:iam::123456789012:role/warm-up", RoleSessionName="warm-up", WebIdentityToken="warm-up-token")
    sts.reset()
    yield sts
    sts.stop()


@pytest.fixture(scope="module")
def fake_bedrock(moto_sts):
    """The fake Bedrock Runtime; it knows the sidecar's static key and every credential moto's STS issued."""
    from fake_aws import moto_issued
    from fake_bedrock import FakeBedrock
    bedrock = FakeBedrock(credentials={SIDECAR_AWS_KEY[0]: (SIDECAR_AWS_KEY[1], None)}, lookups=[moto_issued]).start()
    yield bedrock
    bedrock.stop()


@pytest.fixture(autouse=True)
def _reset_aws_fakes(request):
    if "fake_bedrock" in request.fixturenames:
        request.getfixturevalue("fake_bedrock").reset()
    if "moto_sts" in request.fixturenames:
        request.getfixturevalue("moto_sts").reset()


@pytest.fixture
def aws_env(monkeypatch):
    """Sets this process's AWS environment, as an injected pod's would be, to exactly `values` (boto3 reads it at
    session creation): every other AWS_* variable is removed, shared config files are hidden, one attempt only."""
    def apply(**values):
        if "AWS_REGION" in values:
            values.setdefault("AWS_DEFAULT_REGION", values["AWS_REGION"])  # botocore reads only AWS_DEFAULT_REGION
        for name in list(os.environ):
            if name.startswith("AWS_"):
                monkeypatch.delenv(name)
        for name, value in scrubbed_environment({"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard", **values}).items():
            if name.startswith("AWS_"):
                monkeypatch.setenv(name, value)
    return apply


def bedrock_client():
    """A boto3 bedrock-runtime client built from the environment alone."""
    import boto3
    return boto3.session.Session().client("bedrock-runtime")
