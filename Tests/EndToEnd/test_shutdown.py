"""SIGTERM: stop accepting, finish in-flight streams, exit 0."""
import signal
import threading
import time

import httpx
import openai

from conftest import Sidecar

SLOW_MOCK = """
apiVersion: llmesh.io/v1alpha1
kind: LLMProvider
metadata: {name: mock}
spec:
  type: Mock
  mock: {response: "one two three four five six seven eight nine ten", chunkDelay: 150ms}
---
apiVersion: llmesh.io/v1alpha1
kind: LLMRoute
metadata: {name: slow}
spec:
  match: {model: slow}
  backends: [{provider: mock}]
"""


def test_sigterm_drains_in_flight_streams_and_exits_zero(tmp_path, sdk_env):
    car = Sidecar(tmp_path, SLOW_MOCK).start()
    sdk_env(car)
    client = openai.OpenAI(max_retries=0)
    result = {}

    def stream():
        chunks = client.chat.completions.create(model="slow", messages=[{"role": "user", "content": "x"}], stream=True)
        result["text"] = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    reader = threading.Thread(target=stream)
    reader.start()
    time.sleep(0.4)
    car.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    refused = False
    try:
        httpx.get(f"{car.url}/v1/models", timeout=1)
    except httpx.ConnectError:
        refused = True
    assert refused, "new connections must be refused once shutdown starts"
    reader.join(timeout=10)
    assert result.get("text") == "one two three four five six seven eight nine ten"
    assert car.process.wait(timeout=10) == 0
    assert "sidecar stopped" in car.stderr()


def test_connections_arriving_during_shutdown_do_not_crash(tmp_path):
    """Apps keep calling while a pod terminates: connections racing the listener's close are served or refused,
    never crash the process. Three rounds, since it is a race."""
    import socket
    for round_ in range(3):
        car = Sidecar(tmp_path / f"round{round_}", SLOW_MOCK).start()
        car.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline and car.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", car.port), timeout=0.2).close()
            except OSError:
                pass
            time.sleep(0.05)
        assert car.process.wait(timeout=15) == 0, car.stderr()[:1500]
        assert "Fatal error" not in car.stderr()
