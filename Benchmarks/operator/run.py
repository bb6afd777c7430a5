"""Operator scale benchmark (not a test): 10,000 llmesh resources on the simulated API server and 1,000 simulated
sidecars long-polling the operator's snapshot service.

    Benchmarks/operator/run.sh            # builds, then runs this with the end-to-end venv

Reports: time for the operator to reconcile everything from a cold start (full resync) and its throughput, operator
memory (VmRSS) idle and under the sidecars, and the time from a policy change (the API write) until each waiting
sidecar received the new snapshot, as p50/p99 over every sidecar of the changed namespaces.
"""
import asyncio
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "EndToEnd"))
from cluster import ApiServer, Operator, OperatorCertificates, wait_until  # noqa: E402

NAMESPACES = int(os.environ.get("NAMESPACES", 100))
PER_KIND = int(os.environ.get("PER_KIND", 25))  # per namespace and kind: 100 × 4 × 25 = 10,000
SIDECARS = int(os.environ.get("SIDECARS", 1000))
# Sidecars are spread over this many namespaces; every change round touches all of them at once, so each round
# pushes a new snapshot to every sidecar.
SIDECAR_NAMESPACES = int(os.environ.get("SIDECAR_NAMESPACES", 10))
CHANGES = int(os.environ.get("CHANGES", 5))


def histogram_quantiles(text, name):
    """Upper bounds (ms) of the buckets holding the median and the 99th percentile of a Prometheus histogram."""
    buckets = []
    for line in text.splitlines():
        if line.startswith(name + "_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound) * 1000, float(line.rsplit(" ", 1)[1])))
    total = buckets[-1][1] if buckets else 0
    def quantile(q):
        for bound, count in buckets:
            if count >= q * total:
                return bound
        return None
    return quantile(0.5), quantile(0.99)


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def resources(namespace):
    yield "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    yield f"/api/v1/namespaces/{namespace}/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "keys", "namespace": namespace},
                                                      "data": {"api": "c2stdGVzdA==", "vk": "c2stdmstdGVzdA=="}}
    base = f"/apis/llmesh.io/v1alpha1/namespaces/{namespace}"
    for i in range(PER_KIND):
        meta = {"name": f"r{i}", "namespace": namespace}
        yield f"{base}/llmproviders", {"apiVersion": "llmesh.io/v1alpha1", "kind": "LLMProvider", "metadata": meta,
                                       "spec": {"type": "OpenAI", "auth": {"apiKey": {"secretRef": {"name": "keys", "key": "api"}}},
                                                "models": [{"name": "gpt-4o-mini", "pricing": {"inputPerMillion": 0.15, "outputPerMillion": 0.6}}]}}
        yield f"{base}/llmroutes", {"apiVersion": "llmesh.io/v1alpha1", "kind": "LLMRoute", "metadata": meta,
                                    "spec": {"match": {"model": f"model-{i}"}, "backends": [{"provider": f"r{i}", "model": "gpt-4o-mini"}]}}
        yield f"{base}/virtualkeys", {"apiVersion": "llmesh.io/v1alpha1", "kind": "VirtualKey", "metadata": meta,
                                      "spec": {"keyHash": "sha256:" + f"{i:064x}", "budget": {"usd": 100, "period": "Monthly"}}}
        yield f"{base}/llmpolicies", {"apiVersion": "llmesh.io/v1alpha1", "kind": "LLMPolicy", "metadata": meta,
                                      "spec": {"workloadSelector": {"serviceAccounts": [f"sa-{i}"]}, "limits": {"requestsPerMinute": 100 + i}}}


async def populate(api):
    async with httpx.AsyncClient(base_url=api.url, timeout=60, limits=httpx.Limits(max_connections=32)) as client:
        for n in range(NAMESPACES):
            documents = list(resources(f"ns-{n}"))
            await client.post(documents[0][0], json=documents[0][1])
            results = await asyncio.gather(*(client.post(path, json=body) for path, body in documents[1:]))
            bad = [r for r in results if r.status_code >= 300]
            assert not bad, bad[0].text


def ready_count(api):
    total = 0
    for kind in ("llmproviders", "llmroutes", "virtualkeys", "llmpolicies"):
        items = httpx.get(f"{api.url}/apis/llmesh.io/v1alpha1/{kind}", timeout=60).json()["items"]
        for item in items:
            for condition in item.get("status", {}).get("conditions", []):
                if condition["type"] == "Ready" and condition["status"] == "True":
                    total += 1
    return total


WORKERS = int(os.environ.get("WORKERS", 4))


async def sidecar(client, url, namespace, token, stop, arrivals, errors):
    """One simulated sidecar: fetch, then long-poll; record when each new version's answer arrives (its head: the
    body is read but not parsed, so the client's own JSON cost does not count)."""
    headers = {"Authorization": f"Bearer {token}"}
    version = digest = None
    while not stop.is_set():
        try:
            if version is None:
                first = await client.get(f"{url}/v1/snapshots/{namespace}", headers=headers)
                version, digest = first.headers["x-llmesh-snapshot-version"], first.headers["x-llmesh-snapshot-hash"]
            async with client.stream("GET", f"{url}/v1/snapshots/{namespace}", params={"after": version, "hash": digest, "timeoutSeconds": 30}, headers=headers) as response:
                arrived = time.time()
                await response.aread()
                if response.status_code == 200:
                    version, digest = response.headers["x-llmesh-snapshot-version"], response.headers["x-llmesh-snapshot-hash"]
                    arrivals.put((namespace, arrived, version))
        except (httpx.HTTPError, KeyError) as error:
            # A real sidecar reconnects with backoff; so does this one, and the benchmark counts it.
            errors.put(repr(error))
            await asyncio.sleep(0.2)


def worker(tokens, url, ca_file, stop, arrivals, errors):
    """A process holding its share of the simulated sidecars, so the rig is not one Python process's CPU."""
    import ssl

    async def run():
        context = ssl.create_default_context(cafile=ca_file)
        limits = httpx.Limits(max_connections=len(tokens) + 10, max_keepalive_connections=len(tokens) + 10)
        async with httpx.AsyncClient(verify=context, timeout=60, limits=limits) as client:
            tasks = [asyncio.create_task(sidecar(client, url, ns, token, stop, arrivals, errors)) for ns, token in tokens]
            while not stop.is_set():
                await asyncio.sleep(0.2)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(run())


def propagation(api, operator, certificates):
    import multiprocessing
    import queue as queues
    tokens = []
    for i in range(SIDECARS):
        namespace = f"ns-{i % SIDECAR_NAMESPACES}"
        token = f"bench-{i}"
        api.register_token(token, namespace)
        tokens.append((namespace, token))
    context = multiprocessing.get_context("fork")
    stop, arrivals, errors = context.Event(), context.Queue(), context.Queue()
    workers = [context.Process(target=worker, args=(tokens[w::WORKERS], operator.url, str(certificates.ca_file), stop, arrivals, errors)) for w in range(WORKERS)]
    for process in workers:
        process.start()
    deadline = time.time() + 300
    while (operator.metric("llmesh_operator_connected_sidecars") or 0) < SIDECARS and time.time() < deadline:
        time.sleep(0.5)
    connected = operator.metric("llmesh_operator_connected_sidecars")
    rss_connected = rss_mib(operator.process.pid)
    latencies = []
    missed = 0
    writer = httpx.Client(base_url=api.url, timeout=30)
    for change in range(CHANGES):
        while True:
            try:
                arrivals.get_nowait()
            except queues.Empty:
                break
        written = {}
        started = time.time()
        for n in range(SIDECAR_NAMESPACES):
            namespace = f"ns-{n}"
            writer.patch(f"/apis/llmesh.io/v1alpha1/namespaces/{namespace}/llmpolicies/r0",
                         json={"spec": {"limits": {"requestsPerMinute": 1000 + change}}}, headers={"Content-Type": "application/merge-patch+json"})
            written[namespace] = time.time()
        got = []
        deadline = time.time() + 45
        while len(got) < SIDECARS and time.time() < deadline:
            try:
                got.append(arrivals.get(timeout=max(0.01, deadline - time.time())))
            except queues.Empty:
                break
        missed += SIDECARS - len(got)
        # From the API write that changed the sidecar's namespace to the sidecar holding the answer.
        latencies += [(at - written.get(ns, started)) * 1000 for ns, at, _ in got]
        time.sleep(1)
    stop.set()
    for process in workers:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
    error_count = 0
    last_error = None
    while True:
        try:
            last_error = errors.get_nowait()
            error_count += 1
        except queues.Empty:
            break
    latencies.sort()
    push = histogram_quantiles(operator.metrics(), "llmesh_operator_push_latency_seconds")
    return {
        "operator_push_latency_ms_p50_bucket": push[0], "operator_push_latency_ms_p99_bucket": push[1],
        "sidecars": SIDECARS, "sidecar_namespaces": SIDECAR_NAMESPACES, "rig_processes": WORKERS, "connected": connected,
        "client_errors": error_count, "last_client_error": last_error,
        "operator_rss_mib_with_sidecars": round(rss_connected, 1),
        "changes": CHANGES, "deliveries": len(latencies), "missed_within_45s": missed,
        "propagation_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
        "propagation_ms_p99": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1) if latencies else None,
        "propagation_ms_max": round(latencies[-1], 1) if latencies else None,
    }


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="llmesh-operator-bench-"))
    api = ApiServer(work / "api")
    api.kubectl("apply", "-f", str(ROOT / "crds"))
    started = time.time()
    asyncio.run(populate(api))
    total = NAMESPACES * PER_KIND * 4
    populate_seconds = time.time() - started
    certificates = OperatorCertificates(work / "certs")
    operator = Operator(api, work / "operator", certificates, ("--log-level", "warning"))
    try:
        run(api, operator, certificates, populate_seconds, total)
    finally:
        operator.kill()
        api.stop()


def run(api, operator, certificates, populate_seconds, total):
    started = time.time()
    operator.start()
    synced = time.time() - started
    wait_until(lambda: ready_count(api) == total, timeout=600, interval=1, what="all resources ready")
    resync = time.time() - started
    rss_idle = rss_mib(operator.process.pid)
    reconciles = operator.metric('llmesh_operator_reconciles_total{result="success"}')
    result = {
        "resources": total, "namespaces": NAMESPACES, "populate_seconds": round(populate_seconds, 1),
        "operator_informers_synced_seconds": round(synced, 2), "full_resync_seconds": round(resync, 1),
        "resources_per_second": round(total / resync), "namespace_reconciles": reconciles,
        "operator_rss_mib_after_resync": round(rss_idle, 1),
    }
    result.update(propagation(api, operator, certificates))
    result["operator_rss_mib_end"] = round(rss_mib(operator.process.pid), 1)
    print(json.dumps(result, indent=2))
    out = ROOT / "Benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "operator-latest.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
