"""The admission webhooks served by the real operator over its own self-managed TLS: real pod specs through /inject,
the JSON patch applied and the result validated against the Kubernetes Pod schema (kubernetes-validate, offline);
re-injection, opt-outs and bad input; /validate; and a CA rotation the webhook answers through."""
import base64
import copy
import json
import ssl
import statistics
import time

import httpx
import jsonpatch
import kubernetes_validate
import pytest
import yaml

from chart_render import render
from cluster import ApiServer, Operator, wait_until
from conftest import ROOT, free_port

KUBERNETES = "1.32"


class WebhookOperator(Operator):
    """The operator with self-managed certificates for 127.0.0.1, as the chart runs it (minus the Service)."""

    def __init__(self, api, directory, extra_args=()):
        self.directory = directory
        self.https_port = free_port()
        self.admin_port = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        self.log_path = directory / "operator.log"
        self.args = [Operator.binary(), "operator", "--kubeconfig", str(api.kubeconfig), "--https-listen", f"127.0.0.1:{self.https_port}",
                     "--admin-listen", f"127.0.0.1:{self.admin_port}", "--manage-certificates", "--certificate-ip", "127.0.0.1",
                     "--sidecar-image", "ghcr.io/llmesh/llmesh:test", *extra_args]
        self.process = None


@pytest.fixture
def api(tmp_path):
    server = ApiServer(tmp_path / "api")
    server.kubectl("apply", "-f", str(ROOT / "crds"))
    server.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: llmesh-system}\n")
    # The chart's webhook configurations, so the operator has something to patch its CA bundle into.
    webhooks = [doc for source, doc in render() if doc["kind"] in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")]
    server.apply(yaml.safe_dump_all(webhooks))
    yield server
    server.stop()


def ca_bundle(api):
    configuration = api.get_json("mutatingwebhookconfiguration", "llmesh-sidecar-injector")
    encoded = configuration["webhooks"][0]["clientConfig"].get("caBundle")
    return base64.b64decode(encoded).decode() if encoded else None


def client_for(bundle):
    return httpx.Client(verify=ssl.create_default_context(cadata=bundle), timeout=15)


def ca_bundle_direct(api):
    """`ca_bundle`, read straight from the API server with the kubeconfig's token: no kubectl process per call."""
    user = yaml.safe_load(api.kubeconfig.read_text())["users"][0]["user"]
    response = httpx.get(f"{api.url}/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/llmesh-sidecar-injector",
                         headers={"authorization": f"Bearer {user['token']}"}, timeout=15)
    response.raise_for_status()
    encoded = response.json()["webhooks"][0]["clientConfig"].get("caBundle")
    return base64.b64decode(encoded).decode() if encoded else None


def newest_ca(bundle):
    """The first certificate of a bundle: the operator publishes the newest CA first."""
    return bundle.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"


def review(pod, namespace="shop", operation="CREATE", uid="u-1"):
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": uid, "kind": {"group": "", "version": "v1", "kind": "Pod"}, "namespace": namespace, "operation": operation, "object": pod}}


def example_pods():
    """Pod templates of the example Deployments, plus pods with several containers, env and init containers."""
    pods = {}
    for path in sorted((ROOT / "manifests" / "examples").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "Deployment":
                template = document["spec"]["template"]
                pods[f"{path.stem}/{document['metadata']['name']}"] = {"apiVersion": "v1", "kind": "Pod", "metadata": template["metadata"], "spec": template["spec"]}
    pods["multi-container-with-env-and-init"] = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "worker", "labels": {"app": "worker"}},
        "spec": {
            "initContainers": [{"name": "migrate", "image": "busybox", "command": ["true"]}],
            "containers": [
                {"name": "app", "image": "python:3.12", "env": [{"name": "OPENAI_BASE_URL", "value": "https://example.internal/v1"}, {"name": "LOG", "value": "1"}]},
                {"name": "metrics", "image": "prom/statsd-exporter"},
            ],
            "volumes": [{"name": "scratch", "emptyDir": {}}],
        },
    }
    pods["irsa"] = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bedrock-app", "annotations": {"llmesh.io/skip-env": "ANTHROPIC_BASE_URL", "llmesh.io/sidecar-memory-limit": "256Mi"}},
        "spec": {
            "serviceAccountName": "bedrock-app",
            "containers": [{"name": "app", "image": "python:3.12",
                            "env": [{"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::111122223333:role/llm"}, {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"}],
                            "volumeMounts": [{"name": "aws-iam-token", "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount", "readOnly": True}]}],
            "volumes": [{"name": "aws-iam-token", "projected": {"sources": [{"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}]}}],
        },
    }
    # Bedrock bearer mode: with the pod's workload identity (IRSA as the EKS webhook sets it, a worker with its own CA
    # bundle), and with a virtual key from a Secret.
    pods["bedrock-bearer-irsa"] = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bedrock-bearer", "annotations": {"llmesh.io/bedrock-auth": "bearer"}},
        "spec": {
            "serviceAccountName": "bedrock-app",
            "containers": [
                {"name": "app", "image": "python:3.12",
                 "env": [{"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::111122223333:role/llm"}, {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
                         {"name": "AWS_REGION", "value": "eu-west-1"}],
                 "volumeMounts": [{"name": "aws-iam-token", "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount", "readOnly": True}]},
                {"name": "worker", "image": "python:3.12", "env": [{"name": "AWS_CA_BUNDLE", "value": "/etc/worker/bundle.pem"}]},
            ],
            "volumes": [{"name": "aws-iam-token", "projected": {"sources": [{"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}]}}],
        },
    }
    pods["bedrock-bearer-secret"] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "bedrock-key", "annotations": {"llmesh.io/bedrock-auth": "bearer", "llmesh.io/bedrock-bearer-secret": "team-a-bedrock/virtual-key"}},
        "spec": {"containers": [{"name": "app", "image": "python:3.12"}]},
    }
    return pods


def inject(client, operator, pod):
    response = client.post(f"{operator.url}/inject", json=review(pod))
    assert response.status_code == 200, response.text
    answer = response.json()["response"]
    assert answer["allowed"] is True and answer["uid"] == "u-1"
    if "patch" not in answer:
        return pod, answer
    assert answer["patchType"] == "JSONPatch"
    patch = jsonpatch.JsonPatch(json.loads(base64.b64decode(answer["patch"])))
    return patch.apply(copy.deepcopy(pod)), answer


def sidecar_of(pod):
    return next(c for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"] if c["name"] == "llmesh-sidecar")


def test_injected_pods_are_valid_and_point_sdks_at_the_sidecar(api, tmp_path):
    operator = WebhookOperator(api, tmp_path / "op").start()
    try:
        bundle = wait_until(lambda: ca_bundle(api), what="caBundle patched into the webhook configuration")
        client = client_for(bundle)
        for name, pod in example_pods().items():
            injected, answer = inject(client, operator, pod)
            kubernetes_validate.validate(injected, KUBERNETES, strict=True)
            sidecar = sidecar_of(injected)
            assert sidecar["restartPolicy"] == "Always" and injected["spec"]["initContainers"][0]["name"] == "llmesh-sidecar", name
            assert sidecar["securityContext"]["runAsNonRoot"] and sidecar["securityContext"]["readOnlyRootFilesystem"]
            assert sidecar["securityContext"]["capabilities"]["drop"] == ["ALL"]
            assert any(e["name"] == "LLMESH_OPERATOR_CA" for e in sidecar["env"]), "the sidecar trusts the operator's CA"
            args = sidecar["args"]
            assert args[args.index("--tls-listen") + 1] == "127.0.0.1:15443" and args[args.index("--tls-dir") + 1] == "/var/run/llmesh/tls", name
            assert {"name": "llmesh-tls", "mountPath": "/var/run/llmesh/tls"} in sidecar["volumeMounts"], "the sidecar writes its CA files"
            tls_volume = next(v for v in injected["spec"]["volumes"] if v["name"] == "llmesh-tls")
            assert tls_volume["emptyDir"]["medium"] == "Memory"
            bearer = injected["metadata"].get("annotations", {}).get("llmesh.io/bedrock-auth") == "bearer"
            for container in injected["spec"]["containers"]:
                if container["name"] != "llmesh-sidecar":
                    tls_mounts = [m for m in container.get("volumeMounts", []) if m["name"] == "llmesh-tls"]
                    assert tls_mounts == ([{"name": "llmesh-tls", "mountPath": "/var/run/llmesh/tls", "readOnly": True}] if bearer else []), f"{name}/{container['name']}"
            token_mounts = [c for c in injected["spec"]["containers"] for m in c.get("volumeMounts", []) if m["name"] == "llmesh-operator-token"]
            assert token_mounts == [], "the operator token is mounted in the sidecar only"
            for container in injected["spec"]["containers"]:
                env = {e["name"]: e.get("value") for e in container.get("env", [])}
                original = {e["name"]: e.get("value") for c in pod["spec"]["containers"] if c["name"] == container["name"] for e in c.get("env", [])}
                for variable, value in {"OPENAI_BASE_URL": "http://127.0.0.1:15080/v1", "ANTHROPIC_BASE_URL": "http://127.0.0.1:15080"}.items():
                    skipped = variable in injected["metadata"].get("annotations", {}).get("llmesh.io/skip-env", "")
                    if variable in original:
                        assert env[variable] == original[variable], f"{name}: an app's own {variable} is kept"
                    elif skipped:
                        assert variable not in env
                    else:
                        assert env[variable] == value, f"{name}/{container['name']}"
            # Re-invocation (reinvocationPolicy IfNeeded) changes nothing.
            again, second = inject(client, operator, injected)
            assert "patch" not in second and again == injected, name
        irsa = sidecar_of(inject(client, operator, example_pods()["irsa"])[0])
        assert {e["name"] for e in irsa["env"]} >= {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"}
        assert any(m["name"] == "aws-iam-token" for m in irsa["volumeMounts"])
        assert irsa["resources"]["limits"]["memory"] == "256Mi"
        assert not any(e["name"] in ("AWS_CA_BUNDLE", "AWS_BEARER_TOKEN_BEDROCK") for c in inject(client, operator, example_pods()["irsa"])[0]["spec"]["containers"] for e in c.get("env", []))

        # Bearer mode: the AWS SDK goes to the TLS listener with the CA bundle and a bearer token; the sidecar keeps
        # the IRSA settings it needs to sign, the app keeps its own (the injector only adds).
        pod, answer = inject(client, operator, example_pods()["bedrock-bearer-irsa"])
        assert "warnings" not in answer
        app, worker = pod["spec"]["containers"]
        env = {e["name"]: e for e in app["env"]}
        assert env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]["value"] == "https://127.0.0.1:15443"
        assert env["AWS_CA_BUNDLE"]["value"] == "/var/run/llmesh/tls/ca-bundle.crt"
        assert env["AWS_BEARER_TOKEN_BEDROCK"]["value"] == "llmesh-workload-identity"
        assert "AWS_ROLE_ARN" in env and any(m["name"] == "aws-iam-token" for m in app["volumeMounts"])
        worker_env = {e["name"]: e for e in worker["env"]}
        assert worker_env["AWS_CA_BUNDLE"]["value"] == "/etc/worker/bundle.pem", "an app's own CA bundle wins"
        sidecar = sidecar_of(pod)
        assert {e["name"] for e in sidecar["env"]} >= {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_REGION"}
        assert not {e["name"] for e in sidecar["env"]} & {"AWS_BEARER_TOKEN_BEDROCK", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"}
        keyed = inject(client, operator, example_pods()["bedrock-bearer-secret"])[0]
        token = next(e for e in keyed["spec"]["containers"][0]["env"] if e["name"] == "AWS_BEARER_TOKEN_BEDROCK")
        assert token == {"name": "AWS_BEARER_TOKEN_BEDROCK", "valueFrom": {"secretKeyRef": {"name": "team-a-bedrock", "key": "virtual-key"}}}
        odd = copy.deepcopy(example_pods()["bedrock-bearer-secret"])
        odd["metadata"]["annotations"]["llmesh.io/bedrock-auth"] = "sigv4"
        injected, answer = inject(client, operator, odd)
        assert any("llmesh.io/bedrock-auth=sigv4" in w for w in answer["warnings"])
        assert {e["name"]: e.get("value") for e in injected["spec"]["containers"][0]["env"]}["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == "http://127.0.0.1:15080"
    finally:
        operator.stop()


def test_opted_out_and_host_network_pods_are_untouched_and_bad_reviews_get_clean_errors(api, tmp_path):
    operator = WebhookOperator(api, tmp_path / "op").start()
    try:
        client = client_for(wait_until(lambda: ca_bundle(api), what="caBundle"))
        opted_out = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "labels": {"llmesh.io/inject": "false"}}, "spec": {"containers": [{"name": "a", "image": "b"}]}}
        assert "patch" not in inject(client, operator, opted_out)[1]
        host = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "h"}, "spec": {"hostNetwork": True, "containers": [{"name": "a", "image": "b"}]}}
        _, answer = inject(client, operator, host)
        assert "patch" not in answer and "hostNetwork" in answer["warnings"][0]
        for body in (b"not json", b"{}", json.dumps({"kind": "AdmissionReview"}).encode(), b"[" * 1000):
            response = client.post(f"{operator.url}/inject", content=body)
            assert response.status_code == 400 and "AdmissionReview" in response.json()["error"]
        huge = client.post(f"{operator.url}/inject", content=b"x" * (5 * 1024 * 1024))
        assert huge.status_code == 413
        # A review whose object is not a usable pod is allowed, untouched, with a warning: never blocked by the webhook.
        odd = client.post(f"{operator.url}/inject", json=review({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}})).json()["response"]
        assert odd["allowed"] is True and "patch" not in odd
    finally:
        operator.stop()


def test_validate_names_the_field(api, tmp_path):
    operator = WebhookOperator(api, tmp_path / "op").start()
    try:
        client = client_for(wait_until(lambda: ca_bundle(api), what="caBundle"))
        bad = {"apiVersion": "llmesh.io/v1alpha1", "kind": "LLMPolicy", "metadata": {"name": "p", "namespace": "shop"},
               "spec": {"guardrails": {"denyPatterns": ["([a-z"]}}}
        answer = client.post(f"{operator.url}/validate", json=review(bad)).json()["response"]
        assert answer["allowed"] is False and "spec.guardrails.denyPatterns[0]" in answer["status"]["message"]
        good = {"apiVersion": "llmesh.io/v1alpha1", "kind": "LLMRoute", "metadata": {"name": "r", "namespace": "shop"},
                "spec": {"match": {"model": "m"}, "backends": [{"provider": "not-yet-applied"}]}}
        assert client.post(f"{operator.url}/validate", json=review(good)).json()["response"]["allowed"] is True, "references are the operator's, not the webhook's"
    finally:
        operator.stop()


def test_webhook_answers_quickly(api, tmp_path):
    operator = WebhookOperator(api, tmp_path / "op").start()
    try:
        client = client_for(wait_until(lambda: ca_bundle(api), what="caBundle"))
        pod = example_pods()["multi-container-with-env-and-init"]
        times = []
        for _ in range(1000):
            started = time.perf_counter()
            assert client.post(f"{operator.url}/inject", json=review(pod)).status_code == 200
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        print(f"/inject over 1000 requests (keep-alive, TLS): p50 {statistics.median(times):.2f} ms, p99 {times[989]:.2f} ms, max {times[-1]:.2f} ms")
    finally:
        operator.stop()


def test_webhook_keeps_answering_across_a_ca_rotation(api, tmp_path):
    # Short lives: the CA (36 s) rotates with a third left, 24 s in, and the serving certificate (18 s) renews every 12 s;
    # callers always use the bundle the operator last published in the webhook configuration, as the API server does.
    operator = WebhookOperator(api, tmp_path / "op", ["--ca-validity", "36", "--serving-certificate-validity", "18", "--certificate-check-interval", "0.25", "--bundle-propagation-delay", "4"]).start()
    try:
        first = wait_until(lambda: ca_bundle(api), what="caBundle")
        pod = example_pods()["multi-container-with-env-and-init"]
        # Answers per published bundle, in the order the bundles were seen. Keep calling, each time with the bundle
        # published at that moment, until the CA has rotated (a second bundle) and the served certificate verifies
        # against the new CA alone; every single answer along the way must be a 200. Bounded by a hard cap, not by
        # how many calls a (possibly loaded) machine manages.
        answers = {first: 0}
        switched = False
        deadline = time.monotonic() + 120
        while not switched:
            assert time.monotonic() < deadline, f"no rotation to a served new-CA certificate within 120s: {len(answers)} bundle(s), answers {list(answers.values())}"
            bundle = ca_bundle_direct(api)
            assert bundle and "BEGIN CERTIFICATE" in bundle, repr(bundle)[:300]
            with client_for(bundle) as client:
                response = client.post(f"{operator.url}/inject", json=review(pod))
            assert response.status_code == 200, response.text
            answers[bundle] = answers.get(bundle, 0) + 1
            if len(answers) >= 2:
                try:
                    with client_for(newest_ca(bundle)) as newest_only:
                        switched = newest_only.post(f"{operator.url}/inject", json=review(pod)).status_code == 200
                except httpx.ConnectError:  # still served by the previous CA's certificate: verification fails
                    pass
            time.sleep(0.1)
        counts = list(answers.values())
        print(f"answers per published bundle across the rotation: {counts}")
        assert counts[0] >= 3, f"the webhook answered repeatedly under the first CA's bundle: {counts}"
        assert counts[-1] >= 1, counts
        with client_for(newest_ca(ca_bundle(api))) as newest_only:
            assert newest_only.post(f"{operator.url}/inject", json=review(pod)).status_code == 200, "the certificate served now is signed by the new CA"
        stored = api.get_json("secret", "llmesh-operator-tls", "-n", "default")["data"]
        assert base64.b64decode(stored["ca-previous.crt"]).startswith(b"-----BEGIN CERTIFICATE-----"), "the previous CA stays in the bundle"
    finally:
        operator.stop()
