"""Sidecars in cluster mode: policy pushed by the operator, static stability without it, namespace isolation of the
snapshot service, and fleet-wide spend in status. The API server is simulated; sidecars, operator and SDK are real."""
import signal
import ssl
import time

import httpx
import openai
import pytest

from cluster import ApiServer, ClusterSidecar, Operator, OperatorCertificates, wait_until
from conftest import ROOT

SETUP = """
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {name: mock, namespace: team-a}
spec:
  type: Mock
  mock: {response: "one two three four"}
  models:
    - {name: small, pricing: {inputPerMillion: 1000, outputPerMillion: 2000}}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {name: chat, namespace: team-a}
spec:
  match: {model: chat}
  backends: [{provider: mock, model: small}]
---
apiVersion: v1
kind: Secret
metadata: {name: team-key, namespace: team-a}
stringData: {key: sk-llmesh-team-a}
---
apiVersion: llmesh.io/v1alpha1
kind: VirtualKey
metadata: {name: team, namespace: team-a}
spec:
  secretRef: {name: team-key, key: key}
  budget: {usd: 1000, period: Monthly}
"""


@pytest.fixture
def cluster(tmp_path):
    api = ApiServer(tmp_path / "api")
    api.kubectl("apply", "-f", str(ROOT / "crds"))
    api.apply(SETUP)
    certificates = OperatorCertificates(tmp_path / "certs")
    operator = Operator(api, tmp_path / "operator", certificates).start()
    api.wait_for_condition("llmroute", "chat", "team-a", "True")
    api.register_token("token-team-a-1", "team-a")
    api.register_token("token-team-a-2", "team-a", service_account="worker")
    sidecars = [ClusterSidecar(tmp_path / f"sidecar{i}", operator.url, certificates, f"token-team-a-{i}") for i in (1, 2)]
    for sidecar in sidecars:
        sidecar.start()
    yield api, operator, sidecars, certificates
    for sidecar in sidecars:
        if sidecar.process.poll() is None:
            sidecar.process.send_signal(signal.SIGTERM)
    for sidecar in sidecars:
        assert sidecar.stop() == 0
    operator.stop()
    api.stop()


def chat(sidecar, model="chat", key="sk-llmesh-team-a", max_tokens=8):
    client = openai.OpenAI(base_url=f"{sidecar.url}/v1", api_key=key, max_retries=0)
    return client.chat.completions.with_raw_response.create(model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=max_tokens)


def test_a_route_change_reaches_both_sidecars_quickly(cluster):
    api, operator, sidecars, _ = cluster
    for sidecar in sidecars:
        assert chat(sidecar).parse().choices[0].message.content == "one two three four"
    timings = []
    for round in range(5):
        alias = f"alias-{round}"
        started = time.time()
        api.kubectl("patch", "llmroute", "chat", "-n", "team-a", "--type", "merge", "-p", f'{{"spec":{{"match":{{"model":"chat","aliases":["{alias}"]}}}}}}')
        wait_until(lambda: all(alias in sidecar.models() for sidecar in sidecars), timeout=30, interval=0.01, what="both sidecars see the change")
        timings.append(time.time() - started)
        assert chat(sidecars[0], model=alias).status_code == 200
    print(f"kubectl patch to enforced in both sidecars: {', '.join(f'{t * 1000:.0f} ms' for t in timings)} (includes the kubectl process)")
    assert operator.metric("llmesh_operator_connected_sidecars") == 2


def test_sidecars_keep_serving_without_the_operator_and_restart_from_their_last_snapshot(cluster, tmp_path):
    api, operator, sidecars, certificates = cluster
    operator.kill()
    for sidecar in sidecars:
        assert chat(sidecar).status_code == 200
    # A sidecar restarted while the operator is down serves its last good snapshot from disk.
    sidecars[0].stop()
    sidecars[0].start()
    assert chat(sidecars[0]).status_code == 200
    assert httpx.get(sidecars[0].admin("/readyz")).status_code == 200
    # The operator comes back on the same address; both sidecars catch up with a change made meanwhile.
    api.kubectl("patch", "llmroute", "chat", "-n", "team-a", "--type", "merge", "-p", '{"spec":{"match":{"model":"chat","aliases":["later"]}}}')
    restarted = Operator(api, tmp_path / "operator2", certificates, https_port=operator.https_port).start()
    try:
        wait_until(lambda: all("later" in sidecar.models() for sidecar in sidecars), timeout=40, what="sidecars catch up")
    finally:
        restarted.stop()


def test_snapshot_service_serves_only_the_tokens_namespace(cluster):
    api, operator, _, certificates = cluster
    api.register_token("token-team-b", "team-b")
    api.register_token("token-other-audience", "team-a", audiences=("https://kubernetes.default.svc",))
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(certificates.ca_file)))
    url = f"{operator.url}/v1/snapshots/team-a"
    assert client.get(url, headers={"Authorization": "Bearer token-team-a-1"}).status_code == 200
    other_namespace = client.get(url, headers={"Authorization": "Bearer token-team-b"})
    assert other_namespace.status_code == 403 and "team-b" in other_namespace.json()["error"]
    assert client.get(url, headers={"Authorization": "Bearer token-other-audience"}).status_code == 403
    assert client.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get(url).status_code == 401
    snapshot = client.get(url, headers={"Authorization": "Bearer token-team-a-1"}).json()
    assert snapshot["namespace"] == "team-a" and snapshot["version"] > 0
    key = snapshot["bundle"]["virtualKeys"][0]["spec"]
    assert key["keyHash"].startswith("sha256:") and "secretRef" not in key, "virtual keys travel as hashes only"
    held = client.get(f"{url}?after={snapshot['version']}&hash={snapshot['contentHash']}&timeoutSeconds=1", headers={"Authorization": "Bearer token-team-a-1"})
    assert held.status_code == 204


def test_spend_from_two_sidecars_adds_up_exactly_in_status(cluster):
    api, operator, sidecars, _ = cluster
    expected = 0.0
    for i in range(12):
        response = chat(sidecars[i % 2])
        expected += float(response.headers["x-llmesh-cost-usd"])
    assert expected > 0

    def spend():
        return api.get_json("virtualkey", "team", "-n", "team-a").get("status", {}).get("spend", 0)

    wait_until(lambda: abs(spend() - expected) < 1e-6, timeout=15, what=f"status.spend == {expected}")
    status = api.get_json("virtualkey", "team", "-n", "team-a")["status"]
    assert len(status["usageSequences"]) == 2, "one ledger entry per sidecar"
    time.sleep(1)
    assert abs(spend() - expected) < 1e-6, "no batch is counted twice"
    assert operator.metric("llmesh_operator_usage_batches_total") >= 2


def test_exhausted_budget_is_pushed_and_enforced_fleet_wide(cluster):
    api, operator, sidecars, _ = cluster
    cost = float(chat(sidecars[0]).headers["x-llmesh-cost-usd"])
    wait_until(lambda: api.get_json("virtualkey", "team", "-n", "team-a").get("status", {}).get("spend", 0) > 0, what="first spend")
    # A budget of 4.5 requests: each sidecar alone stays under it (its own count), together they pass it.
    budget = round(cost * 4.5, 6)
    api.kubectl("patch", "virtualkey", "team", "-n", "team-a", "--type", "merge", "-p", f'{{"spec":{{"budget":{{"usd":{budget},"period":"Monthly"}}}}}}')
    api.wait_for_condition("virtualkey", "team", "team-a", "True")
    for i in range(4):
        assert chat(sidecars[(i + 1) % 2]).status_code == 200
    status = wait_until(lambda: (s := api.get_json("virtualkey", "team", "-n", "team-a").get("status", {})).get("budgetExhausted") is True and s, timeout=15, what="budget exhausted")
    assert status["spend"] >= budget

    def refused(sidecar):
        try:
            chat(sidecar)
            return False
        except openai.RateLimitError as error:
            return "across all pods" in str(error)

    wait_until(lambda: all(refused(sidecar) for sidecar in sidecars), timeout=30, what="both sidecars refuse the spent key")
