"""`llmesh check`, live reload of the config file, and API-key rotation."""
import subprocess

import httpx
import openai
import pytest

from conftest import BINARY, Sidecar, standard_config, wait_until, write_atomically

MESSAGES = [{"role": "user", "content": "hi"}]

BROKEN = """apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {name: openai}
spec:
  type: OpenAl
  endpoint: ftp://example.com
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {name: chat}
spec:
  match: {model: gpt-4o}
  backend: []
  backends:
    - provider: opnai
      weight: -1
"""


def test_check_accepts_the_quickstart():
    result = subprocess.run([BINARY, "check", "manifests/examples/quickstart.yaml"], capture_output=True, text=True, cwd=str(__import__("conftest").ROOT))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK ")
    assert "gpt-4o-mini" in result.stdout


def test_check_lists_every_problem(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    result = subprocess.run([BINARY, "check", str(path)], capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    expected = [
        "document 1 (LLMProvider/openai), line 5: spec.type: must be one of OpenAI, Anthropic, OpenAICompatible, Bedrock, Mock",
        "document 1 (LLMProvider/openai), line 6: spec.endpoint: must start with http:// or https://",
        "document 2 (LLMRoute/chat), line 13: spec.backend: unknown field",
        "document 2 (LLMRoute/chat), line 16: spec.backends[0].weight: must be at least 0, got -1",
        'spec.backends[0].provider: provider "opnai" is not defined',
    ]
    for fragment in expected:
        assert any(fragment in line for line in lines), f"{fragment!r} not in {lines}"
    assert lines[-1].endswith("5 problem(s) found")


def test_sidecar_refuses_to_start_on_a_bad_file(tmp_path):
    car = Sidecar(tmp_path, BROKEN)
    with pytest.raises(RuntimeError):
        car.start()
    assert car.process.returncode == 78
    assert "unknown field" in car.stderr()


def test_reload_applies_good_files_and_keeps_the_old_policy_on_bad_ones(fake, tmp_path, sdk_env):
    key_file = tmp_path / "key"
    key_file.write_text("sk-upstream-openai")
    config = standard_config(fake, key_file)
    car = Sidecar(tmp_path / "car", config, env={"E2E_ANTHROPIC_KEY": "sk-upstream-anthropic"}).start()
    try:
        sdk_env(car)
        client = openai.OpenAI(max_retries=0)
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="turbo", messages=MESSAGES)
        # Files are replaced in one step, as the kubelet does: the sidecar polls every 200 ms and must never read
        # half a file, which would count as one more rejected reload.
        write_atomically(car.config, config.replace("aliases: [fast]", "aliases: [fast, turbo]"))
        wait_until(lambda: httpx.post(f"{car.url}/v1/chat/completions", json={"model": "turbo", "messages": MESSAGES}, timeout=30).status_code == 200,
                   interval=0.1, what="the new alias is served")
        assert httpx.get(car.admin("/config_dump")).json()["version"] == 2

        write_atomically(car.config, config.replace("kind: LLMRoute", "kind: LLMRoot", 1))
        wait_until(lambda: "config file rejected" in car.stderr(), interval=0.1, what="the bad file is rejected")
        assert "must be one of LLMProvider, LLMRoute, VirtualKey, LLMPolicy" in car.stderr()
        assert client.chat.completions.create(model="turbo", messages=MESSAGES).choices[0].message.content
        assert httpx.get(car.admin("/config_dump")).json()["version"] == 2
        assert 'llmesh_config_reloads_total{result="failure"} 1' in httpx.get(car.admin("/metrics")).text
    finally:
        assert car.stop() == 0


def test_rotated_key_file_is_used_without_restart(fake, tmp_path, sdk_env):
    key_file = tmp_path / "key"
    key_file.write_text("sk-upstream-openai")
    car = Sidecar(tmp_path / "car", standard_config(fake, key_file), env={"E2E_ANTHROPIC_KEY": "x"}).start()
    try:
        sdk_env(car)
        client = openai.OpenAI(max_retries=0)
        assert client.chat.completions.create(model="fast", messages=MESSAGES)
        fake.openai_key = "sk-rotated"
        write_atomically(key_file, "sk-rotated\n")
        wait_until(lambda: httpx.post(f"{car.url}/v1/chat/completions", json={"model": "fast", "messages": MESSAGES}, timeout=30).status_code == 200,
                   interval=0.1, what="the rotated key is used")
        assert fake.recorded()[-1].header("authorization") == "Bearer sk-rotated"
    finally:
        fake.openai_key = "sk-upstream-openai"
        assert car.stop() == 0
