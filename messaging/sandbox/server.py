"""The sandbox itself: `LinkedInSandbox` (what it holds, its clock, its state file, routing
and lifecycle), and the standard-library HTTP server that hands it requests.

Each part of LinkedIn's protocol is a class of its own that `LinkedInSandbox` is built from:
`oauth.py` (OpenID Connect and tokens), `messages.py` (the Messages API), `faults.py` (failing
on request) and `control.py` (the `/sandbox/` endpoints). They share the state this class sets
up and guards with its lock.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from messaging.sandbox.control import ControlAPI
from messaging.sandbox.faults import AMBIGUOUS_FAULT_STATUSES, Fault, FaultInjection
from messaging.sandbox.members import DEFAULT_MEMBERS, SandboxMember
from messaging.sandbox.messages import MESSAGES_PATH, MessagesAPI
from messaging.sandbox.oauth import CODE_LIFETIME, Code, Grant, OpenIDConnect, Token
from messaging.sandbox.protocol import Reject, Request, Response, api_error
from messaging.sandbox.state import SandboxStateLog

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1_000_000


class LinkedInSandbox(OpenIDConnect, MessagesAPI, FaultInjection, ControlAPI):
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        partner: bool = False,
        client_id: str = "sandbox-client-id",
        client_secret: str = "sandbox-client-secret",  # noqa: S107 - a sandbox's own secret
        members: Iterable[SandboxMember] | None = None,
        daily_limit: int = 150,
        code_lifetime: float = CODE_LIFETIME,
        unreachable: Iterable[str] = (),
        signing_key: rsa.RSAPrivateKey | None = None,
        state_path: str | os.PathLike | None = None,
    ) -> None:
        """With `state_path`, what the sandbox issues and accepts is kept in that file and
        restored from it on the next start (messaging/sandbox/state.py); without, it lives in
        memory only."""
        self.partner = partner
        self.client_id = client_id
        self.client_secret = client_secret
        self.daily_limit = daily_limit
        self.code_lifetime = code_lifetime
        self.members = {m.sub: m for m in (DEFAULT_MEMBERS if members is None else members)}
        self._initial_unreachable = frozenset(unreachable)
        self._lock = threading.RLock()
        self._reset_state()
        self._server = _Server((host, port), self)
        self._state: SandboxStateLog | None = None
        try:
            records = self._open_state(state_path) if state_path else []
        except BaseException:
            self._server.server_close()
            raise
        key = next((r["pem"] for r in records if r["kind"] == "key"), None)
        # Tests may share one key between sandboxes: generating a 2048-bit key takes a while.
        # A restarted sandbox keeps its key, so ID tokens it signed before still verify.
        self._key = (
            serialization.load_pem_private_key(key.encode(), password=None)
            if key
            else signing_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        modulus = str(self._key.public_key().public_numbers().n).encode()
        self._kid = hashlib.sha256(modulus).hexdigest()[:16]
        if self._state is not None and key is None:
            self._remember(self._key_record())
        for record in records:
            self._replay(record)
        url_host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
        url_host = f"[{url_host}]" if ":" in url_host else url_host
        self.base_url = f"http://{url_host}:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None
        self._serving = False
        self._closed = False
        self._routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/oauth/.well-known/openid-configuration"): self._discovery,
            ("GET", "/oauth/openid/jwks"): self._jwks,
            ("GET", "/oauth/v2/authorization"): self._authorization,
            ("POST", "/oauth/v2/authorization"): self._authorization,
            ("POST", "/oauth/v2/accessToken"): self._access_token,
            ("POST", "/oauth/v2/introspectToken"): self._introspect,
            ("GET", "/v2/userinfo"): self._userinfo,
            ("POST", MESSAGES_PATH): self._send_message,
            ("GET", "/sandbox/health"): self._control_health,
            ("GET", "/sandbox/members"): self._control_members,
            ("GET", "/sandbox/messages"): self._control_messages,
            ("GET", "/sandbox/faults"): self._control_pending_faults,
            ("POST", "/sandbox/faults"): self._control_faults,
            ("DELETE", "/sandbox/faults"): self._control_clear_faults,
            ("GET", "/sandbox/redirect-uris"): self._control_redirect_uris,
            ("GET", "/sandbox/authorizations"): self._control_authorizations,
            ("POST", "/sandbox/reset"): self._control_reset,
            ("POST", "/sandbox/expire-token"): self._control_expire_token,
            ("POST", "/sandbox/clock"): self._control_clock,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/oauth"

    oauth_base_url = issuer  # what LINKEDIN_OAUTH_BASE_URL should be set to

    @property
    def api_base_url(self) -> str:
        # Real LinkedIn serves the API from api.linkedin.com; the sandbox serves both on one host.
        return self.base_url

    def start(self) -> LinkedInSandbox:
        """Serve in a daemon thread and return at once."""
        self._serving = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # a short poll keeps stop() fast in tests
            name="linkedin-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until KeyboardInterrupt (or stop() from elsewhere)."""
        self._serving = True
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._serving = False
            self.stop()

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._serving:  # shutdown() waits for serve_forever, so only call it while serving
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.server_close()
        if self._state is not None:
            self._state.close()

    def __enter__(self) -> LinkedInSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- inspection and control, in process (the control API calls these too) -----------------

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock: codes, tokens and the daily limit all follow it."""
        with self._lock:
            self._clock_offset += seconds

    def _reset_state(self) -> None:
        with self._lock:
            self._codes: dict[str, Code] = {}
            self._tokens: dict[str, Token] = {}
            self._refresh_tokens: dict[str, Token] = {}
            self._sent: list[dict[str, Any]] = []
            self._daily_counts: dict[tuple[str, str], int] = {}
            self._faults: list[Fault] = []
            self._redirect_uris: list[str] = []
            self._authorizations: list[dict[str, Any]] = []
            self.unreachable = set(self._initial_unreachable)
            self._clock_offset = 0.0

    def reset(self) -> None:
        """Forget messages, faults, codes, tokens and clock moves (members and key stay), in the
        state file too."""
        with self._lock:
            self._reset_state()
            if self._state is not None:
                self._state.rewrite([self._key_record()])

    # -- the state file ----------------------------------------------------------------------

    @property
    def state_path(self) -> str | None:
        return str(self._state.path) if self._state is not None else None

    def _open_state(self, path: str | os.PathLike) -> list[dict[str, Any]]:
        self._state = SandboxStateLog(path)
        return self._state.read()

    def _remember(self, record: dict[str, Any]) -> None:
        if self._state is not None:
            self._state.append(record)

    def _key_record(self) -> dict[str, Any]:
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {"kind": "key", "pem": pem.decode()}

    def _replay(self, record: dict[str, Any]) -> None:
        """Apply one record of the state file (the inverse of what _remember wrote)."""
        kind = record["kind"]
        if kind == "token":
            grant = Grant(
                record["sub"], record["client_id"], tuple(record["scopes"]), record["authorized_at"]
            )
            store = self._tokens if record["store"] == "access" else self._refresh_tokens
            store[record["value"]] = Token(
                grant, record["created_at"], record["expires_at"], record["status"]
            )
        elif kind == "token_status":
            token = self._tokens.get(record["value"]) or self._refresh_tokens.get(record["value"])
            if token is not None:
                token.status = record["status"]
        elif kind == "message":
            message = record["message"]
            self._sent.append(message)
            day = (message["sender_sub"], record["day"])
            self._daily_counts[day] = self._daily_counts.get(day, 0) + 1
        elif kind == "authorization":
            self._authorizations.append({k: v for k, v in record.items() if k != "kind"})
        elif kind == "redirect_uri" and record["uri"] not in self._redirect_uris:
            self._redirect_uris.append(record["uri"])

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[Response | None, float]:
        """Answer one request: (the response, or None to drop the connection; a delay)."""
        fault = None if request.path.startswith("/sandbox/") else self._take_fault(request.path)
        if fault and fault.status and fault.status not in AMBIGUOUS_FAULT_STATUSES:
            response: Response | None = self._fault_response(request.path, fault)
        else:
            # No fault, or one after which LinkedIn may have acted: do the work first.
            response = self._route(request)
            if fault and fault.status:
                response = self._fault_response(request.path, fault)
        if fault and fault.drop:
            response = None
        return response, (fault.delay if fault else 0.0)

    def _route(self, request: Request) -> Response:
        handler = self._routes.get((request.method, request.path))
        if request.method == "GET" and request.path.startswith("/sandbox/avatars/"):
            handler = self._avatar
        if handler is None:
            return api_error("not_found", f"{request.method} {request.path}")
        try:
            return handler(request)
        except Reject as reject:
            return reject.response
        except Exception:
            logger.exception("sandbox: %s %s failed", request.method, request.path)
            return api_error("server", "Sandbox internal error")


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client must not hold up stop(), a test run or Ctrl-C
    request_queue_size = 128  # a burst from several workers at once must not be refused

    def __init__(self, address: tuple[str, int], sandbox: LinkedInSandbox) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.sandbox = sandbox
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client left first (a read timeout against a delay fault): expected
        logger.exception("sandbox: error while serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like LinkedIn, so pooled clients get exercised
    server_version = "LinkedInSandbox/1.0"
    timeout = 30  # idle keep-alive connections give their thread back
    # The status line and headers go out in one write and the body in another; with Nagle's
    # algorithm on, the body then waits for the client's delayed ACK: ~40 ms a request.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            self._write(api_error("bad_request", "Request too large"))
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        request = Request(self.command, parts.path, query, self.headers, body)
        response, delay = self.server.sandbox.handle(request)
        if delay:
            time.sleep(delay)
        if response is None:  # a "drop" fault: the request arrived, the client never hears back
            self.close_connection = True
            logger.info("sandbox: %s %s -> connection dropped", self.command, parts.path)
            return
        # Log before writing: once the client has its answer, the log line must already exist.
        logger.info("sandbox: %s %s -> %s", self.command, parts.path, response.status)
        self._write(response)

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes the request line, query string included, to stderr; _serve logs
        # the path alone so no code or token-like value reaches a log.
        return
