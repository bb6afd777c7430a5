"""A threaded HTTP server on a loopback port, the common part of the fake upstreams."""
import threading
from http.server import ThreadingHTTPServer


class LoopbackServer:
    """Serves `handler` on 127.0.0.1 (`port` 0: a free one) in a daemon thread between `start()` and `stop()`."""

    def serve(self, handler, port=0):
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class ScriptedReplies:
    """Replies handed out in order by `script`, then `default_reply()`; `reset` also forgets recorded requests.

    Needs `self.lock`, `self.requests` and `self.queue`, and a `default_reply()` that makes the fake's usual answer.
    """

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.queue.clear()
        self.default = self.default_reply()

    def script(self, *replies):
        """The next requests get these replies, in order; later ones get `default`."""
        with self.lock:
            self.queue.extend(replies)

    def next_reply(self):
        with self.lock:
            return self.queue.pop(0) if self.queue else self.default
