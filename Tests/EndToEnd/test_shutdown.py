"""SIGTERM: stop accepting, finish in-flight streams, exit 0. A listener that cannot bind: exit non-zero, saying why."""
import signal
import socket
import subprocess
import threading
import time

import httpx
import openai

from conftest import BINARY, Sidecar, free_port

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
    # Ten words 700 ms apart: the stream runs for about 6 s after its first chunk, far longer than SIGTERM and the
    # listener's close take even on a loaded machine, so it is certainly still in flight when the refusal is seen.
    car = Sidecar(tmp_path, SLOW_MOCK.replace("chunkDelay: 150ms", "chunkDelay: 700ms")).start()
    sdk_env(car)
    client = openai.OpenAI(max_retries=0)
    result = {}
    first_chunk = threading.Event()
    finished = threading.Event()

    def stream():
        try:
            parts = []
            for chunk in client.chat.completions.create(model="slow", messages=[{"role": "user", "content": "x"}], stream=True):
                first_chunk.set()
                if chunk.choices:
                    parts.append(chunk.choices[0].delta.content or "")
            result["text"] = "".join(parts)
        except Exception as error:  # reported by the assertions below
            result["error"] = error
        finally:
            finished.set()

    reader = threading.Thread(target=stream, daemon=True)
    reader.start()
    assert first_chunk.wait(timeout=15), f"the stream never started: {result}"
    car.process.send_signal(signal.SIGTERM)
    refused = False
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{car.url}/v1/models", timeout=1)
        except httpx.ConnectError:
            refused = True
            break
        except httpx.TransportError:
            # A timeout, or a connection accepted then dropped while the listener closes: not a clean refusal yet.
            pass
        time.sleep(0.05)
    in_flight_at_refusal = not finished.is_set()
    assert refused, "new connections must be refused once shutdown starts"
    assert in_flight_at_refusal, f"the stream must still be in flight when the listener has closed (test precondition): {result}"
    reader.join(timeout=30)
    assert not reader.is_alive(), "the in-flight stream must finish during the drain"
    assert result.get("text") == "one two three four five six seven eight nine ten", result
    assert car.process.wait(timeout=30) == 0
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


def test_a_port_already_taken_fails_start_up_with_a_non_zero_exit(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(SLOW_MOCK)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([BINARY, "sidecar", "--config", str(config), "--listen", f"127.0.0.1:{port}",
                                 "--admin-listen", f"127.0.0.1:{free_port()}"], capture_output=True, text=True, timeout=60)
    # The kubelet restarts a container that exits non-zero; exit 0 would read as a clean stop.
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port} (app listener)" in result.stderr
    assert "Address already in use" in result.stderr
