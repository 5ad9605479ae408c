"""A real HTTP receiver for webhook tests: a standard-library server on a free loopback port,
in a thread, that records every request and answers as a test tells it to."""

import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# An answer: a status code, DROP to close the connection without answering, or HANG to answer
# nothing until the receiver stops (a sender killed mid-request).
DROP = "drop"
HANG = "hang"


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


class Receiver:
    def __init__(self):
        self.received: list[Received] = []
        self.answers: list[int | str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/hooks"

    def answer(self, *answers: int | str) -> None:
        """Answer the next requests so, one each; 200 after them."""
        self.answers = list(answers)

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _next_answer(self, received: Received) -> int | str:
        with self._lock:
            self.received.append(received)
            return self.answers.pop(0) if self.answers else 200


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        answer = self.server.receiver._next_answer(received)
        if answer == HANG:
            self.server.receiver._stopping.wait(120)
            answer = DROP
        if answer == DROP:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(answer)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if answer < 300 else b"receiver error")

    def log_message(self, format, *args):
        pass
