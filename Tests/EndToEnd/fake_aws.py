"""AWS credential sources for end-to-end tests: moto's STS in server mode (recorded), and a fake EKS Pod Identity agent.

STS. `RecordingSTS` is moto's `ThreadedMotoServer` on 127.0.0.1 with a WSGI wrapper in front of moto's app that
records every request's form/query parameters (moto keeps no record of the `WebIdentityToken` it was given: its
`STSResponse.assume_role_with_web_identity` reads only RoleArn, RoleSessionName, Policy, DurationSeconds and ExternalId)
and refuses the tokens in `rejected_tokens` with STS's own `<ErrorResponse>` `InvalidIdentityToken` (moto does not
validate web-identity tokens at all). The wrapper is installed by overriding `ThreadedMotoServer._server_entry`, which
in moto 5.x builds `DomainDispatcherApplication(create_backend_app)` and serves it with werkzeug's `make_server`
(moto/moto_server/threaded_moto_server.py).

The credentials STS issued are read from moto's in-process backend state: `moto.sts.models.sts_backends` is a
`BackendDict` keyed by account id, then partition ("aws"); each `STSBackend.assumed_roles` is a list of
`AssumedRole` with `access_key_id`, `secret_access_key`, `session_token`, `role_arn`, `session_name` and `expiration`
(moto/sts/models.py: `STSBackend.assume_role` appends to `sts_backends[<account of the role ARN>][partition]`).
The threaded server runs in this process, so that state is the server's.
"""
import io
import json
import threading
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.sts.models import sts_backends
from werkzeug.serving import make_server

from loopback_server import LoopbackServer

INVALID_IDENTITY_TOKEN = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>"""


class RecordingSTS(ThreadedMotoServer):
    """moto in server mode, recording each STS call's parameters in `calls` (a list of dicts, one value per name)."""

    def __init__(self, port):
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
        self.calls = []
        self.rejected_tokens = set()
        self.lock = threading.Lock()

    @property
    def url(self):
        return f"http://127.0.0.1:{self._port}"

    def _server_entry(self):
        moto_app = DomainDispatcherApplication(create_backend_app)
        sts = self

        def recording_app(environ, start_response):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            params = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
            params.update(urllib.parse.parse_qsl(body.decode(errors="replace")))
            params["_method"] = environ.get("REQUEST_METHOD")
            with sts.lock:
                sts.calls.append(params)
            if params.get("WebIdentityToken") in sts.rejected_tokens:
                start_response("400 Bad Request", [("Content-Type", "text/xml"), ("x-amzn-RequestId", "c6104cbe")])
                return [INVALID_IDENTITY_TOKEN.encode()]
            return moto_app(environ, start_response)

        self._server = make_server(self._ip_address, self._port, recording_app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()

    def web_identity_calls(self):
        with self.lock:
            return [c for c in self.calls if c.get("Action") == "AssumeRoleWithWebIdentity"]

    def reset(self):
        with self.lock:
            self.calls.clear()
            self.rejected_tokens.clear()


def moto_assumed_roles():
    """Every AssumedRole moto's STS has issued, across accounts and partitions."""
    roles = []
    for account_id in list(sts_backends.keys()):
        for partition in list(sts_backends[account_id].keys()):
            roles.extend(sts_backends[account_id][partition].assumed_roles)
    return roles


def moto_issued(access_key):
    """(secret, session token) of credentials moto's STS issued, or None: a `FakeBedrock` lookup."""
    for role in moto_assumed_roles():
        if role.access_key_id == access_key:
            return role.secret_access_key, role.session_token
    return None


class FakePodIdentityAgent(LoopbackServer):
    """The EKS Pod Identity agent's `GET /v1/credentials` on 127.0.0.1: answers when `Authorization` is the token.

    Records each request's headers in `requests`; `issued` maps each handed-out access key to (secret, token)."""

    def __init__(self, token):
        self.token = token
        self.requests = []
        self.issued = {}
        self.counter = 0
        self.lock = threading.Lock()
        agent = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                headers = {k.lower(): v for k, v in self.headers.items()}
                with agent.lock:
                    agent.requests.append({"path": self.path, "headers": headers})
                    agent.counter += 1
                    number = agent.counter
                if self.path != "/v1/credentials":
                    return self._send(404, {"message": "not found"})
                if headers.get("authorization") != agent.token:
                    return self._send(401, {"message": "Service account token cannot be empty or is invalid"})
                key = f"ASIAPODIDENTITY{number:05d}"
                secret, session = f"pod-identity-secret-{number}-wJalrXUtnFEMI", f"pod-identity-session-token-{number}-IQoJb3JpZ2lu"
                with agent.lock:
                    agent.issued[key] = (secret, session)
                expiration = (datetime.now(timezone.utc) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                self._send(200, {"AccessKeyId": key, "SecretAccessKey": secret, "Token": session,
                                 "AccountId": "123456789012", "Expiration": expiration})

            def _send(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.serve(Handler, 0)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/v1/credentials"

    def lookup(self, access_key):
        with self.lock:
            return self.issued.get(access_key)
