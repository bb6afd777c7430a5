"""A simulated cluster for end-to-end tests: the in-process API server (as a process), the real `kubectl`, the
real `llmesh operator`, and sidecars in cluster mode. Nothing here stands in for llmesh itself; only the Kubernetes
API server is simulated (see docs/testing.md)."""
import json
import os
import pathlib
import shutil
import signal
import subprocess

import httpx
import trustme

from conftest import BINARY, Sidecar, free_port, wait_until

APISERVER = os.environ.get("LLMESH_TEST_APISERVER", str(pathlib.Path(BINARY).parent / "llmesh-test-apiserver"))
KUBECTL = shutil.which("kubectl")
OPERATOR_AUDIENCE = "llmesh.io/operator"


class ApiServer:
    """`llmesh-test-apiserver` on a free port, with a kubeconfig for kubectl and the operator."""

    def __init__(self, directory):
        assert KUBECTL, "kubectl is required for the cluster tests (scripts/test installs it)"
        self.directory = pathlib.Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = self.directory / "kubeconfig"
        self.process = subprocess.Popen([APISERVER, "--kubeconfig", str(self.kubeconfig)], stdout=subprocess.PIPE, stderr=open(self.directory / "apiserver.log", "wb"))
        self.port = int(self.process.stdout.readline().decode().strip())
        self.url = f"http://127.0.0.1:{self.port}"

    def kubectl(self, *args, input=None, check=True):
        result = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True, env=dict(os.environ, KUBECONFIG=str(self.kubeconfig)))
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def apply(self, text):
        return self.kubectl("apply", "-f", "-", input=text)

    def get_json(self, *args):
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def condition(self, kind, name, namespace, condition="Ready"):
        result = self.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
        if result.returncode != 0:
            return None
        for entry in json.loads(result.stdout).get("status", {}).get("conditions", []):
            if entry["type"] == condition:
                return entry
        return None

    def wait_for_condition(self, kind, name, namespace, status, timeout=30, condition="Ready"):
        return wait_until(lambda: (c := self.condition(kind, name, namespace, condition)) and c["status"] == status and c, timeout=timeout,
                          what=f"{kind}/{name} {condition}={status}")

    def hook(self, name, body=None):
        response = httpx.post(f"{self.url}/_llmesh-test/{name}", json=body or {})
        response.raise_for_status()
        return response.json()

    def register_token(self, token, namespace, service_account="app", audiences=(OPERATOR_AUDIENCE,)):
        self.hook("tokens", {"token": token, "username": f"system:serviceaccount:{namespace}:{service_account}", "audiences": list(audiences)})

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class OperatorCertificates:
    """A CA and a serving certificate for 127.0.0.1, made with trustme (the operator's own certificate management is
    tested separately)."""

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        server = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = self.directory / "ca.pem"
        self.cert_file = self.directory / "tls.crt"
        self.key_file = self.directory / "tls.key"
        ca.cert_pem.write_to_path(str(self.ca_file))
        server.private_key_pem.write_to_path(str(self.key_file))
        with open(self.cert_file, "wb") as chain:
            for blob in server.cert_chain_pems:
                chain.write(blob.bytes())


class Operator:
    """One `llmesh operator` process against the API server."""

    @staticmethod
    def binary():
        return BINARY

    def __init__(self, api, directory, certificates, extra_args=(), https_port=None, name="operator"):
        self.directory = pathlib.Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.https_port = https_port or free_port()
        self.admin_port = free_port()
        self.log_path = self.directory / f"{name}.log"
        self.args = [BINARY, "operator", "--kubeconfig", str(api.kubeconfig), "--https-listen", f"127.0.0.1:{self.https_port}",
                     "--admin-listen", f"127.0.0.1:{self.admin_port}", "--tls-cert-file", str(certificates.cert_file),
                     "--tls-key-file", str(certificates.key_file), "--identity", name, "--usage-flush-interval", "0.2", *extra_args]
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.args, stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT)
        wait_until(lambda: self._ready(), timeout=20, what="operator ready")
        return self

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"operator exited: {self.log_path.read_text(errors='replace')}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.admin_port}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def metrics(self):
        return httpx.get(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=10).text

    def metric(self, name):
        for line in self.metrics().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None

    @property
    def url(self):
        return f"https://127.0.0.1:{self.https_port}"

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)
        return self.process.returncode

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class ClusterSidecar(Sidecar):
    """A sidecar in cluster mode: policy from the operator, authenticated with a projected-token file."""

    def __init__(self, directory, operator_url, certificates, token, namespace="team-a", service_account="app", extra_args=()):
        super().__init__(directory, "", extra_args=extra_args)
        self.token_file = self.directory / "token"
        self.token_file.write_text(token)
        self.cache = self.directory / "snapshot"
        self.cache.mkdir(exist_ok=True)
        self.operator_url, self.certificates = operator_url, certificates
        self.namespace, self.service_account = namespace, service_account

    @property
    def args(self):
        return [BINARY, "sidecar", "--operator-url", self.operator_url, "--operator-token-file", str(self.token_file),
                "--operator-ca-file", str(self.certificates.ca_file), "--snapshot-cache", str(self.cache),
                "--workload-namespace", self.namespace, "--workload-service-account", self.service_account,
                "--operator-backoff-max", "2s", "--listen", f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{self.admin_port}",
                *self.extra_args]

    def models(self):
        return sorted(m["id"] for m in httpx.get(f"{self.url}/v1/models", timeout=10).json()["data"])
