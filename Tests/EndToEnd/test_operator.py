"""The operator against the simulated API server, driven with the real kubectl: conditions, references, watch
expiry and leader election."""
import time

import pytest

from cluster import ApiServer, Operator, OperatorCertificates, wait_until
from conftest import ROOT

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n"


@pytest.fixture
def api(tmp_path):
    server = ApiServer(tmp_path / "api")
    server.kubectl("apply", "-f", str(ROOT / "crds"))
    server.apply(NAMESPACE)
    yield server
    server.stop()


@pytest.fixture
def certificates(tmp_path):
    return OperatorCertificates(tmp_path / "certs")


def test_example_applied_with_kubectl_becomes_ready_with_useful_columns(api, certificates, tmp_path):
    api.kubectl("apply", "-f", str(ROOT / "manifests" / "examples" / "operator-team.yaml"))
    operator = Operator(api, tmp_path, certificates).start()
    try:
        for kind, name in [("llmprovider", "openai"), ("llmprovider", "local"), ("llmroute", "chat"), ("virtualkey", "team-a"), ("llmpolicy", "batch-jobs")]:
            ready = api.wait_for_condition(kind, name, "team-a", "True")
            assert ready["reason"] == "Ready"
            resource = api.get_json(kind, name, "-n", "team-a")
            assert ready["observedGeneration"] == resource["metadata"]["generation"]
            assert resource["status"]["snapshotVersion"] > 0
        table = api.kubectl("get", "llmr", "-n", "team-a").stdout.split("\n")
        assert table[0].split() == ["NAME", "MODEL", "BACKENDS", "READY", "AGE"]
        assert table[1].split()[:4] == ["chat", "chat", "2", "True"]
        keys = api.kubectl("get", "vkey", "-n", "team-a").stdout.split("\n")
        assert keys[0].split()[:3] == ["NAME", "READY", "SPEND"] and keys[1].split()[:3] == ["team-a", "True", "100"]
        assert "llmpolicy.llmesh.io/batch-jobs" in api.kubectl("get", "llmesh", "-n", "team-a").stdout
        assert operator.metric('llmesh_operator_reconciles_total{result="success"}') >= 1
    finally:
        operator.stop()


def test_broken_reference_names_it_and_fixing_it_turns_ready(api, certificates, tmp_path):
    operator = Operator(api, tmp_path, certificates).start()
    try:
        api.apply("""
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {name: assistant, namespace: team-a}
spec:
  match: {model: assistant}
  backends: [{provider: anthropic}]
""")
        broken = api.wait_for_condition("llmroute", "assistant", "team-a", "False")
        assert broken["reason"] == "BackendNotFound"
        assert 'LLMProvider "anthropic" does not exist in namespace team-a' in broken["message"]
        api.apply("""
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {name: anthropic, namespace: team-a}
spec:
  type: Anthropic
  auth: {apiKey: {secretRef: {name: anthropic, key: api-key}}}
""")
        provider = api.wait_for_condition("llmprovider", "anthropic", "team-a", "False")
        assert provider["reason"] == "SecretNotFound" and 'Secret "anthropic"' in provider["message"]
        assert api.wait_for_condition("llmroute", "assistant", "team-a", "False")["reason"] == "BackendNotReady"
        # The Secret arrives: the operator watches Secrets its resources name, so both turn ready with no other change.
        api.apply("apiVersion: v1\nkind: Secret\nmetadata: {name: anthropic, namespace: team-a}\nstringData: {api-key: sk-ant-1}\n")
        api.wait_for_condition("llmprovider", "anthropic", "team-a", "True")
        assert api.wait_for_condition("llmroute", "assistant", "team-a", "True")["reason"] == "Ready"
        assert api.get_json("llmroute", "assistant", "-n", "team-a")["status"]["backends"] == 1
    finally:
        operator.stop()


def test_invalid_specs_are_refused_by_the_schema_or_reported_in_status(api, certificates, tmp_path):
    bad = api.kubectl("apply", "-f", "-", input="""
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {name: bad, namespace: team-a}
spec:
  match: {model: m}
  backends: [{provider: p, weight: -1}]
  strategy: Fastest
""", check=False)
    assert bad.returncode != 0
    assert "spec.backends[0].weight" in bad.stderr and "spec.strategy" in bad.stderr
    unknown = api.kubectl("apply", "-f", "-", input="apiVersion: llmesh.io/v1alpha1\nkind: LLMPolicy\nmetadata: {name: p, namespace: team-a}\nspec: {limitz: {}}\n", check=False)
    assert unknown.returncode != 0 and 'unknown field "spec.limitz"' in unknown.stderr
    # A rule only the operator checks (a regular expression that does not compile) lands in the status.
    operator = Operator(api, tmp_path, certificates).start()
    try:
        api.apply("apiVersion: llmesh.io/v1alpha1\nkind: LLMPolicy\nmetadata: {name: regex, namespace: team-a}\nspec: {guardrails: {denyPatterns: ['([a-z']}}\n")
        refused = api.wait_for_condition("llmpolicy", "regex", "team-a", "False", condition="Accepted")
        assert refused["reason"] == "InvalidSpec" and "spec.guardrails.denyPatterns[0]" in refused["message"]
    finally:
        operator.stop()


def test_expired_watches_lose_no_change(api, certificates, tmp_path):
    operator = Operator(api, tmp_path, certificates).start()
    try:
        api.apply("apiVersion: llmesh.io/v1alpha1\nkind: LLMProvider\nmetadata: {name: mock, namespace: team-a}\nspec: {type: Mock}\n")
        api.wait_for_condition("llmprovider", "mock", "team-a", "True")
        lists_before = api.hook("counts").get("list", 0)
        for round in range(3):
            # History is compacted and every watch ends with an in-stream 410 while changes keep coming.
            api.hook("compact")
            api.apply(f"apiVersion: llmesh.io/v1alpha1\nkind: LLMRoute\nmetadata: {{name: r{round}, namespace: team-a}}\nspec: {{match: {{model: m{round}}}, backends: [{{provider: mock}}]}}\n")
            api.hook("expire-watches")
            api.kubectl("delete", "llmroute", f"r{round}", "-n", "team-a") if round == 1 else None
        for round in (0, 2):
            api.wait_for_condition("llmroute", f"r{round}", "team-a", "True")
        wait_until(lambda: api.hook("counts")["list"] > lists_before, what="the operator listed again after 410")
        assert api.kubectl("get", "llmroute", "r1", "-n", "team-a", check=False).returncode != 0
    finally:
        operator.stop()


def test_two_replicas_elect_one_leader_and_fail_over(api, certificates, tmp_path):
    # Timings loose enough that a loaded machine running two debug operators never misses a renewal by accident.
    election = ["--leader-elect", "--lease-namespace", "default", "--lease-duration", "20", "--renew-deadline", "15", "--retry-period", "1"]
    first = Operator(api, tmp_path / "one", certificates, election, name="one").start()
    second = Operator(api, tmp_path / "two", certificates, election, name="two").start()
    replicas = {"one": first, "two": second}

    def lease():
        return api.get_json("lease", "llmesh-operator", "-n", "default")["spec"]

    try:
        wait_until(lambda: (first.metric("llmesh_operator_leader") or 0) + (second.metric("llmesh_operator_leader") or 0) == 1, what="one leader")
        held = lease()
        leader = replicas[held["holderIdentity"]]
        follower = second if leader is first else first
        assert leader.metric("llmesh_operator_leader") == 1 and follower.metric("llmesh_operator_leader") == 0, "the lease holder is the replica that says it leads"
        api.apply("apiVersion: llmesh.io/v1alpha1\nkind: LLMProvider\nmetadata: {name: mock, namespace: team-a}\nspec: {type: Mock}\n")
        api.wait_for_condition("llmprovider", "mock", "team-a", "True")
        # "Only the leader writes" holds for a leadership that lasted the whole time: check nothing changed hands.
        now_held = lease()
        assert (now_held["holderIdentity"], now_held.get("leaseTransitions")) == (held["holderIdentity"], held.get("leaseTransitions")), \
            f"the leader kept its lease while the provider was reconciled: {held} then {now_held}"
        assert follower.metric("llmesh_operator_status_writes_total") == 0, "only the leader writes status"

        leader.kill()
        killed_at = time.time()
        wait_until(lambda: follower.metric("llmesh_operator_leader") == 1, timeout=60, what="fail-over")
        takeover = time.time() - killed_at
        print(f"fail-over after {takeover:.2f}s with a 20s lease")
        api.apply("apiVersion: llmesh.io/v1alpha1\nkind: LLMRoute\nmetadata: {name: after, namespace: team-a}\nspec: {match: {model: after}, backends: [{provider: mock}]}\n")
        api.wait_for_condition("llmroute", "after", "team-a", "True")
        assert follower.metric("llmesh_operator_status_writes_total") >= 1
    finally:
        first.stop() if first.process.poll() is None else None
        second.stop() if second.process.poll() is None else None
