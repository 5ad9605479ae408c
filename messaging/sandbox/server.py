"""A local LinkedIn look-alike for development and tests (DESIGN §8).

A real HTTP server (standard library only, no Django) that speaks the parts of LinkedIn's
protocol the product uses: OpenID Connect sign-in, token refresh and introspection, userinfo and
the Messages API, with LinkedIn's headers, status codes and error shapes. It keeps what it
accepted for inspection and fails on request the ways LinkedIn does (throttling, outages, slow
answers, dropped connections). Anyone who can reach it can mint tokens: never run it in
production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import os
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from messaging.sandbox.state import SandboxStateLog

logger = logging.getLogger(__name__)

MESSAGES_PATH = "/v2/messages"
ACCESS_TOKEN_LIFETIME = 5_184_000  # LinkedIn's 60 days
REFRESH_TOKEN_LIFETIME = 31_536_000  # 365 days; using the refresh token does not extend them
CODE_LIFETIME = 30 * 60  # LinkedIn's authorization codes live 30 minutes
ID_TOKEN_LIFETIME = 3600
MAX_BODY_CHARS = 8000
MAX_REQUEST_BYTES = 1_000_000
SUPPORTED_SCOPES = ("openid", "profile", "email", "w_member_social")
MESSAGING_SCOPE = "w_member_social"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# After a 500/502/504 LinkedIn may have acted (the message may be delivered); after 429, 503 or
# 401 it did nothing. Faults mirror that: the first kind processes the request before failing.
AMBIGUOUS_FAULT_STATUSES = frozenset({500, 502, 504})

# (status, serviceErrorCode, message). 65600-65604 and 100 are LinkedIn's own codes; the others
# are stand-ins where LinkedIn documents none.
_API_ERRORS: dict[str, tuple[int, int, str]] = {
    "empty_token": (401, 65604, "Empty oauth2_access_token"),
    "invalid_token": (401, 65600, "Invalid access token"),
    "revoked": (401, 65601, "The token used in the request has been revoked by the user"),
    "expired": (401, 65602, "The token used in the request has expired"),
    "forbidden": (403, 100, "Not enough permissions to access: {}"),
    "bad_request": (400, 2, "{}"),
    "unreachable": (422, 3, "{} is not a first-degree connection of the sender"),
    "throttled": (429, 101, "Resource level throttle MEMBER DAY limit for calls to {} reached"),
    "not_found": (404, 4, "No resource at {}"),
    "server": (500, 1, "{}"),
}
_PERSON_URN = re.compile(r"urn:li:person:([A-Za-z0-9_-]+)")
_NO_CACHE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BAD_CODE = (
    "Unable to retrieve access token: appid/redirect uri/code verifier does not match "
    "authorization code. Or authorization code expired."
)


@dataclass(frozen=True)
class SandboxMember:
    sub: str
    given_name: str
    family_name: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.sub}"


# Invented people. One name is non-ASCII on purpose: real members' names are.
DEFAULT_MEMBERS = (
    SandboxMember("sbx-maya-okafor", "Maya", "Okafor", "maya.okafor@example.com"),
    SandboxMember("sbx-lukas-brenner", "Lukas", "Brenner", "lukas.brenner@example.com"),
    SandboxMember("sbx-sofia-marquez", "Sofía", "Márquez", "sofia.marquez@example.com"),
    SandboxMember("sbx-kenji-watanabe", "Kenji", "Watanabe", "kenji.watanabe@example.com"),
)


@dataclass
class _Grant:  # what a member approved; shared by the code and the tokens it becomes
    sub: str
    client_id: str
    scopes: tuple[str, ...]
    authorized_at: float


@dataclass
class _Code:
    grant: _Grant
    redirect_uri: str
    nonce: str | None
    created_at: float
    used: bool = False
    code_challenge: str | None = None  # PKCE (RFC 7636), S256 only


@dataclass
class _Token:
    grant: _Grant
    created_at: float
    expires_at: float
    status: str = "active"  # active | expired | revoked


@dataclass
class _Fault:
    path: str
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    drop: bool = False


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes

    def form(self) -> dict[str, str]:
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return {}
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise _Reject(_api_error("bad_request", "The request body is not valid JSON")) from None


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class _Reject(Exception):
    """Raised by a check deep in a handler to answer with an error response at once."""

    def __init__(self, response: _Response) -> None:
        self.response = response


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> _Response:
    return _Response(status, json.dumps(payload).encode(), "application/json", dict(headers or {}))


def _html(status: int, page: str) -> _Response:
    return _Response(status, page.encode(), "text/html; charset=utf-8")


def _api_error(kind: str, detail: str = "") -> _Response:
    status, code, message = _API_ERRORS[kind]
    payload = {"message": message.format(detail), "serviceErrorCode": code, "status": status}
    return _json(status, payload)


def _oauth_error(status: int, error: str, description: str) -> _Response:
    return _json(status, {"error": error, "error_description": description})


def _missing(name: str) -> _Response:
    return _oauth_error(400, "invalid_request", f'A required parameter "{name}" is missing')


def _redirect(uri: str, **params: str | None) -> _Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return _Response(302, headers={"Location": f"{uri}{'&' if '?' in uri else '?'}{query}"})


def _split_scopes(raw: str) -> tuple[str, ...]:
    # Requests carry scopes space-separated (OAuth); LinkedIn answers them comma-separated.
    return tuple(dict.fromkeys(s for s in re.split(r"[\s,]+", raw) if s))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


class LinkedInSandbox:
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
        self._routes: dict[tuple[str, str], Callable[[_Request], _Response]] = {
            ("GET", "/oauth/.well-known/openid-configuration"): self._discovery,
            ("GET", "/oauth/openid/jwks"): self._jwks,
            ("GET", "/oauth/v2/authorization"): self._authorization,
            ("POST", "/oauth/v2/authorization"): self._authorization,
            ("POST", "/oauth/v2/accessToken"): self._access_token,
            ("POST", "/oauth/v2/introspectToken"): self._introspect,
            ("GET", "/v2/userinfo"): self._userinfo,
            ("POST", MESSAGES_PATH): self._send_message,
            ("GET", "/sandbox/health"): lambda r: _json(200, {"status": "ok"}),
            ("GET", "/sandbox/members"): self._control_members,
            ("GET", "/sandbox/messages"): lambda r: _json(200, self.sent_messages()),
            ("GET", "/sandbox/faults"): lambda r: _json(200, self.pending_faults()),
            ("POST", "/sandbox/faults"): self._control_faults,
            ("DELETE", "/sandbox/faults"): lambda r: _json(200, {"cleared": self.clear_faults()}),
            ("GET", "/sandbox/redirect-uris"): lambda r: _json(200, self.redirect_uris_used()),
            ("GET", "/sandbox/authorizations"): lambda r: _json(200, self.authorizations()),
            ("POST", "/sandbox/reset"): lambda r: (self.reset(), _json(200, {"reset": True}))[1],
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
            self._codes: dict[str, _Code] = {}
            self._tokens: dict[str, _Token] = {}
            self._refresh_tokens: dict[str, _Token] = {}
            self._sent: list[dict[str, Any]] = []
            self._daily_counts: dict[tuple[str, str], int] = {}
            self._faults: list[_Fault] = []
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
            grant = _Grant(
                record["sub"], record["client_id"], tuple(record["scopes"]), record["authorized_at"]
            )
            store = self._tokens if record["store"] == "access" else self._refresh_tokens
            store[record["value"]] = _Token(
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

    def sent_messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m, recipients=list(m["recipients"])) for m in self._sent]

    def add_faults(self, faults: Iterable[dict[str, Any]], path: str = MESSAGES_PATH) -> int:
        """Queue faults; each request to their path consumes the next one. Returns the backlog."""
        parsed = [_parse_fault(raw, path) for raw in faults]
        with self._lock:
            self._faults.extend(parsed)
            return len(self._faults)

    def clear_faults(self) -> int:
        """Drop the faults still waiting for a request; returns how many."""
        with self._lock:
            count, self._faults = len(self._faults), []
            return count

    def pending_faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(vars(f)) for f in self._faults]

    def redirect_uris_used(self) -> list[str]:
        with self._lock:
            return list(self._redirect_uris)

    def authorizations(self) -> list[dict[str, Any]]:
        """Every consent a member gave: who, to which app, which scopes, when, and where the
        answer went."""
        with self._lock:
            return [dict(a) for a in self._authorizations]

    def expire_token(self, sub_or_token: str, *, status: str = "expired") -> int:
        """Expire (or revoke) a member's access tokens, by sub, or one token. Returns a count."""
        with self._lock:
            if sub_or_token in self.members:
                matches = [(k, t) for k, t in self._tokens.items() if t.grant.sub == sub_or_token]
            else:
                matches = [(k, t) for k, t in self._tokens.items() if k == sub_or_token]
            for value, token in matches:
                token.status = status
                self._remember({"kind": "token_status", "value": value, "status": status})
            return len(matches)

    def issue_token(self, sub: str, scopes: Iterable[str] = SUPPORTED_SCOPES) -> str:
        """Mint an access token without the consent dance (tests and demos)."""
        if sub not in self.members:
            raise KeyError(f"no sandbox member {sub!r}")
        with self._lock:
            grant = _Grant(sub, self.client_id, tuple(scopes), self.now())
            return self._mint(self._tokens, grant, ACCESS_TOKEN_LIFETIME)

    def _mint(self, store: dict[str, _Token], grant: _Grant, lifetime: float) -> str:
        # Real tokens run to 500-1000 characters; short test tokens would hide column bugs.
        value = "AQ" + secrets.token_urlsafe(400 if store is self._tokens else 240)
        token = _Token(grant, created_at=self.now(), expires_at=self.now() + lifetime)
        store[value] = token
        self._remember(
            {
                "kind": "token",
                "store": "access" if store is self._tokens else "refresh",
                "value": value,
                "sub": grant.sub,
                "client_id": grant.client_id,
                "scopes": list(grant.scopes),
                "authorized_at": grant.authorized_at,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
                "status": token.status,
            }
        )
        return value

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.path == path:
                    return self._faults.pop(index)
        return None

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, request: _Request) -> tuple[_Response | None, float]:
        """Answer one request: (the response, or None to drop the connection; a delay)."""
        fault = None if request.path.startswith("/sandbox/") else self._take_fault(request.path)
        if fault and fault.status and fault.status not in AMBIGUOUS_FAULT_STATUSES:
            response: _Response | None = self._fault_response(request.path, fault)
        else:
            # No fault, or one after which LinkedIn may have acted: do the work first.
            response = self._route(request)
            if fault and fault.status:
                response = self._fault_response(request.path, fault)
        if fault and fault.drop:
            response = None
        return response, (fault.delay if fault else 0.0)

    def _route(self, request: _Request) -> _Response:
        handler = self._routes.get((request.method, request.path))
        if request.method == "GET" and request.path.startswith("/sandbox/avatars/"):
            handler = self._avatar
        if handler is None:
            return _api_error("not_found", f"{request.method} {request.path}")
        try:
            return handler(request)
        except _Reject as reject:
            return reject.response
        except Exception:
            logger.exception("sandbox: %s %s failed", request.method, request.path)
            return _api_error("server", "Sandbox internal error")

    def _fault_response(self, path: str, fault: _Fault) -> _Response:
        status = fault.status or 500
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = f"HTTP {status}"
        if path.startswith("/oauth/"):
            response = _oauth_error(status, "server_error", reason)
        elif status in (401, 429):
            response = _api_error("invalid_token" if status == 401 else "throttled", path)
        else:
            response = _json(status, {"message": reason, "serviceErrorCode": 1, "status": status})
        if fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        return response

    # -- OpenID Connect ----------------------------------------------------------------------

    def _discovery(self, request: _Request) -> _Response:
        claims = "iss aud iat exp sub name given_name family_name picture email email_verified"
        return _json(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/v2/authorization",
                "token_endpoint": f"{self.issuer}/v2/accessToken",
                "userinfo_endpoint": f"{self.base_url}/v2/userinfo",
                "jwks_uri": f"{self.issuer}/openid/jwks",
                "introspection_endpoint": f"{self.issuer}/v2/introspectToken",
                "response_types_supported": ["code"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": list(SUPPORTED_SCOPES),
                "claims_supported": [*claims.split(), "locale"],
            },
        )

    def _jwks(self, request: _Request) -> _Response:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": self._kid, "use": "sig", "alg": "RS256"})
        return _json(200, {"keys": [jwk]})

    def _authorization(self, request: _Request) -> _Response:
        params = {**request.query, **request.form()}
        uri = params.get("redirect_uri", "")
        # A bad client or redirect_uri gets an error page, never a redirect: redirecting to an
        # unchecked address would make this an open redirector (LinkedIn behaves the same).
        if params.get("client_id") != self.client_id:
            return _html(400, _error_page("The client_id is not that of a known application."))
        try:
            parts = urlsplit(uri)
            allowed = parts.scheme in ("http", "https") and parts.hostname in LOCAL_HOSTS
        except ValueError:  # e.g. a malformed IPv6 literal
            allowed = False
        if not allowed:
            return _html(400, _error_page("The redirect_uri does not match the registered value"))
        with self._lock:
            if uri not in self._redirect_uris:
                self._redirect_uris.append(uri)
                self._remember({"kind": "redirect_uri", "uri": uri})
        state = params.get("state")
        if params.get("response_type") != "code":
            return _redirect(uri, error="unsupported_response_type", state=state)
        challenge = params.get("code_challenge")
        # RFC 7636's "plain" would hand the verifier to whoever reads this URL; the app sends S256.
        if challenge is not None and params.get("code_challenge_method") != "S256":
            description = "Only the S256 code_challenge_method is supported"
            return _redirect(
                uri, error="invalid_request", error_description=description, state=state
            )
        scopes = _split_scopes(params.get("scope", ""))
        unknown = [s for s in scopes if s not in SUPPORTED_SCOPES]
        if unknown or not scopes:
            description = (
                f'Scope "{unknown[0]}" is not authorized for your application'
                if unknown
                else 'A required parameter "scope" is missing'
            )
            return _redirect(
                uri, error="unauthorized_scope_error", error_description=description, state=state
            )
        decision = params.get("decision") or params.get("sandbox_auto")
        member = params.get("sandbox_member", "")
        if decision == "cancel":
            description = "The user cancelled the authorization"
            return _redirect(
                uri, error="user_cancelled_authorize", error_description=description, state=state
            )
        if decision != "approve" or member not in self.members:
            hidden = {k: v for k, v in params.items() if k not in ("decision", "sandbox_auto")}
            problem = "Pick a member to sign in as." if decision == "approve" else None
            page = _consent_page(list(self.members.values()), hidden, scopes, member, problem)
            return _html(400 if problem else 200, page)
        code = secrets.token_urlsafe(48)
        with self._lock:
            grant = _Grant(member, self.client_id, scopes, self.now())
            self._codes[code] = _Code(
                grant, uri, params.get("nonce"), self.now(), code_challenge=challenge
            )
            authorization = {
                "sub": member,
                "client_id": self.client_id,
                "scopes": list(scopes),
                "redirect_uri": uri,
                "authorized_at": _iso(grant.authorized_at),
            }
            self._authorizations.append(authorization)
            self._remember({"kind": "authorization", **authorization})
        return _redirect(uri, code=code, state=state)

    def _access_token(self, request: _Request) -> _Response:
        form = request.form()  # LinkedIn accepts form bodies only, the secret inside (not Basic)
        grant_type = form.get("grant_type", "")
        if not grant_type:
            return _missing("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant {grant_type}")
        if not self._client_authenticated(form):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        if grant_type == "refresh_token":
            return self._refresh_grant(form)
        code, redirect_uri = form.get("code", ""), form.get("redirect_uri", "")
        if not code or not redirect_uri:
            return _missing("code" if not code else "redirect_uri")
        with self._lock:
            record = self._codes.get(code)
            if (
                record is None
                or record.used
                or self.now() - record.created_at > self.code_lifetime
                or record.redirect_uri != redirect_uri
                or not _pkce_verified(record.code_challenge, form.get("code_verifier"))
            ):
                return _oauth_error(400, "invalid_grant", _BAD_CODE)
            record.used = True
            payload = self._token_payload(record.grant)
            if self.partner:
                refresh = self._mint(self._refresh_tokens, record.grant, REFRESH_TOKEN_LIFETIME)
                payload.update(
                    refresh_token=refresh, refresh_token_expires_in=REFRESH_TOKEN_LIFETIME
                )
        if "openid" in record.grant.scopes:
            payload["id_token"] = self._id_token(record.grant, record.nonce)
        return _json(200, payload, _NO_CACHE)

    def _refresh_grant(self, form: dict[str, str]) -> _Response:
        if not self.partner:
            message = "Refresh tokens are available only to applications LinkedIn approved"
            return _oauth_error(400, "unsupported_grant_type", message)
        value = form.get("refresh_token", "")
        if not value:
            return _missing("refresh_token")
        with self._lock:
            record, now = self._refresh_tokens.get(value), self.now()
            if record is None or record.status != "active" or now >= record.expires_at:
                message = "The provided refresh token is invalid, expired or revoked"
                return _oauth_error(400, "invalid_grant", message)
            payload = self._token_payload(record.grant)
        # LinkedIn hands back the same refresh token, its ORIGINAL expiry still counting down.
        payload.update(refresh_token=value, refresh_token_expires_in=int(record.expires_at - now))
        return _json(200, payload, _NO_CACHE)

    def _token_payload(self, grant: _Grant) -> dict[str, Any]:
        return {
            "access_token": self._mint(self._tokens, grant, ACCESS_TOKEN_LIFETIME),
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "scope": ",".join(grant.scopes),
            "token_type": "Bearer",
        }

    def _client_authenticated(self, form: dict[str, str]) -> bool:
        secret = form.get("client_secret", "").encode()
        return form.get("client_id") == self.client_id and hmac.compare_digest(
            secret, self.client_secret.encode()
        )

    def _profile(self, member: SandboxMember, scopes: tuple[str, ...]) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": member.sub}
        if "profile" in scopes:
            claims.update(
                name=member.name,
                given_name=member.given_name,
                family_name=member.family_name,
                picture=f"{self.base_url}/sandbox/avatars/{member.sub}.svg",
                locale={"country": "US", "language": "en"},
            )
        if "email" in scopes:
            claims.update(email=member.email, email_verified=True)
        return claims

    def _id_token(self, grant: _Grant, nonce: str | None) -> str:
        now = int(self.now())
        claims = self._profile(self.members[grant.sub], grant.scopes)
        claims.update(iss=self.issuer, aud=grant.client_id, iat=now, exp=now + ID_TOKEN_LIFETIME)
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid})

    def _introspect(self, request: _Request) -> _Response:
        form = request.form()
        if not self._client_authenticated(form):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        with self._lock:
            token = self._tokens.get(form.get("token", ""))
            status = self._token_status(token) if token else "revoked"
            if token is None or status != "active":
                return _json(200, {"active": False, "status": status})
            return _json(
                200,
                {
                    "active": True,
                    "client_id": token.grant.client_id,
                    "authorized_at": int(token.grant.authorized_at),
                    "created_at": int(token.created_at),
                    "status": "active",
                    "expires_at": int(token.expires_at),
                    "scope": ",".join(token.grant.scopes),
                    "auth_type": "3L",
                },
            )

    def _token_status(self, token: _Token) -> str:
        if token.status == "active" and self.now() >= token.expires_at:
            return "expired"
        return token.status

    def _bearer(self, request: _Request) -> _Token:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _Reject(_api_error("empty_token"))
        with self._lock:
            token = self._tokens.get(value.strip())
            status = self._token_status(token) if token else "invalid_token"
        if token is None or status != "active":
            raise _Reject(_api_error(status))
        return token

    def _userinfo(self, request: _Request) -> _Response:
        token = self._bearer(request)
        if "openid" not in token.grant.scopes:
            return _api_error("forbidden", "GET /userinfo")
        return _json(200, self._profile(self.members[token.grant.sub], token.grant.scopes))

    # -- Messages API ------------------------------------------------------------------------

    def _send_message(self, request: _Request) -> _Response:
        token = self._bearer(request)
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return _api_error("bad_request", "Header X-Restli-Protocol-Version: 2.0.0 is required")
        if MESSAGING_SCOPE not in token.grant.scopes:
            return _api_error("forbidden", "POST /messages")
        payload = request.json()
        problem = _message_problem(payload)
        if problem:
            return _api_error("bad_request", problem)
        for urn in payload["recipients"]:
            person_id = urn.removeprefix("urn:li:person:")
            if person_id.startswith("unknown") or person_id in self.unreachable:
                return _api_error("unreachable", urn)
        sender = token.grant.sub
        with self._lock:  # count and record in one step: concurrent sends must not overshoot
            now = self.now()
            day = (sender, datetime.fromtimestamp(now, UTC).date().isoformat())  # resets 00:00 UTC
            if self._daily_counts.get(day, 0) >= self.daily_limit:
                return _api_error("throttled", "this resource")
            self._daily_counts[day] = self._daily_counts.get(day, 0) + 1
            message_id = f"urn:li:messagingMessage:sbx-{secrets.token_hex(12)}"
            message = {
                "id": message_id,
                "sender_sub": sender,
                "recipients": list(payload["recipients"]),
                "subject": payload.get("subject") or "",
                "body": payload["body"],
                "received_at": _iso(now),
                "idempotency_key": request.headers.get("X-Idempotency-Key"),
            }
            self._sent.append(message)
            self._remember({"kind": "message", "day": day[1], "message": message})
        return _Response(201, headers={"x-restli-id": message_id})

    def _avatar(self, request: _Request) -> _Response:
        member = self.members.get(request.path.rsplit("/", 1)[-1].removesuffix(".svg"))
        if member is None:
            return _api_error("not_found", request.path)
        return _Response(200, _avatar_svg(member).encode(), "image/svg+xml")

    # -- control API -------------------------------------------------------------------------

    def _control_members(self, request: _Request) -> _Response:
        members = [
            {"sub": m.sub, "name": m.name, "email": m.email, "urn": m.urn}
            for m in self.members.values()
        ]
        return _json(200, members)

    def _control_faults(self, request: _Request) -> _Response:
        payload = request.json()
        try:
            faults = payload["faults"]
            if not isinstance(faults, list):
                raise ValueError("faults must be a list")
            pending = self.add_faults(faults, payload.get("path", MESSAGES_PATH))
        except (ValueError, KeyError, TypeError) as exc:
            return _json(400, {"error": f"bad fault request: {exc}"})
        return _json(200, {"queued": len(faults), "pending": pending})

    def _control_expire_token(self, request: _Request) -> _Response:
        payload = request.json()
        target = payload.get("sub") or payload.get("token") if isinstance(payload, dict) else None
        status = payload.get("status", "expired") if isinstance(payload, dict) else None
        if not isinstance(target, str) or status not in ("expired", "revoked"):
            return _json(400, {"error": 'send {"sub": ...} or {"token": ...}'})
        return _json(200, {"changed": self.expire_token(target, status=status)})

    def _control_clock(self, request: _Request) -> _Response:
        payload = request.json()
        try:
            self.advance_clock(float(payload["advance"]))
        except (ValueError, KeyError, TypeError):
            return _json(400, {"error": 'send {"advance": seconds}'})
        return _json(200, {"now": _iso(self.now())})


def _pkce_verified(challenge: str | None, verifier: str | None) -> bool:
    """A code issued for a PKCE challenge is exchanged only with the verifier it was made from
    (RFC 7636 §4.6): a code intercepted on its way back to the app is useless without it."""
    if challenge is None:
        return True  # PKCE is optional for the client
    if verifier is None or not 43 <= len(verifier) <= 128:
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(expected, challenge)


def _parse_fault(raw: Any, default_path: str) -> _Fault:
    if not isinstance(raw, dict):
        raise ValueError("each fault must be an object")
    if unknown := set(raw) - {"status", "retry_after", "delay", "drop", "path"}:
        raise ValueError(f"unknown fault keys {sorted(unknown)}")
    path, status, delay = raw.get("path", default_path), raw.get("status"), raw.get("delay", 0)
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("/sandbox/"):
        raise ValueError("a fault's path must be a LinkedIn path such as /v2/messages")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise ValueError("status must be an HTTP error status, 400-599")
    if not isinstance(delay, int | float) or not 0 <= delay <= 120:
        raise ValueError("delay must be 0-120 seconds")
    if status is None and not delay and not raw.get("drop"):
        raise ValueError("a fault needs a status, a delay or drop")
    retry_after = raw.get("retry_after")
    return _Fault(
        path,
        status,
        None if retry_after is None else str(retry_after),
        delay,
        bool(raw.get("drop")),
    )


def _message_problem(payload: Any) -> str | None:
    """Why a Messages API body is invalid, or None."""
    if not isinstance(payload, dict):
        return "The request body must be a JSON object"
    recipients = payload.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        return "recipients must be a non-empty list of person URNs"
    for urn in recipients:
        if not isinstance(urn, str) or not _PERSON_URN.fullmatch(urn):
            return f"Invalid recipient {urn!r}: expected urn:li:person:<id>"
    body = payload.get("body")
    if not isinstance(body, str) or not body.strip():
        return "body must be a non-empty string"
    if len(body) > MAX_BODY_CHARS:
        return f"body must be at most {MAX_BODY_CHARS} characters"
    if not isinstance(payload.get("subject", ""), str | None):
        return "subject must be a string"
    if payload.get("messageType") != "MEMBER_TO_MEMBER":
        return "messageType must be MEMBER_TO_MEMBER"
    return None


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · LinkedIn sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}}
fieldset{{border:1px solid #ccc;border-radius:.5rem}}.member{{margin:.5rem 0}}
.hint{{color:#555;font-size:.9em}}button{{padding:.5rem 1.2rem;margin-right:.5rem}}
[role=alert]{{color:#a00}}</style></head>
<body><p class="hint">LinkedIn sandbox: a local stand-in for linkedin.com</p>
<main>{content}</main></body></html>"""


def _error_page(message: str) -> str:
    content = f"<h1>Something went wrong</h1><p role='alert'>{html.escape(message)}</p>"
    return _PAGE.format(title="Error", content=content)


def _consent_page(
    members: list[SandboxMember],
    hidden: dict[str, str],
    scopes: tuple[str, ...],
    selected: str,
    problem: str | None,
) -> str:
    e = html.escape
    if selected not in {m.sub for m in members}:
        selected = members[0].sub if members else ""
    # Labelled radios and named buttons, so a browser test can pick "Maya Okafor" by its label.
    rows = "".join(
        f'<div class="member"><input type="radio" name="sandbox_member" id="member-{e(m.sub)}" '
        f'value="{e(m.sub)}" aria-describedby="email-{e(m.sub)}"'
        f"{' checked' if m.sub == selected else ''}> "
        f'<label for="member-{e(m.sub)}">{e(m.name)}</label> '
        f'<span class="hint" id="email-{e(m.sub)}">{e(m.email)}</span></div>'
        for m in members
    )
    fields = "".join(
        f'<input type="hidden" name="{e(k)}" value="{e(v)}">'
        for k, v in hidden.items()
        if k != "sandbox_member"
    )
    content = (
        f"<h1>Sign in with LinkedIn</h1><p>The application <strong>"
        f"{e(hidden.get('client_id', ''))}</strong> asks for: {e(', '.join(scopes))}.</p>"
        + (f"<p role='alert'>{e(problem)}</p>" if problem else "")
        + f'<form method="post" action="/oauth/v2/authorization">{fields}'
        f"<fieldset><legend>Sign in as</legend>{rows}</fieldset>"
        '<p><button type="submit" name="decision" value="approve">Approve</button>'
        '<button type="submit" name="decision" value="cancel">Cancel</button></p></form>'
    )
    return _PAGE.format(title="Sign in", content=content)


def _avatar_svg(member: SandboxMember) -> str:
    initials = html.escape(member.given_name[:1] + member.family_name[:1])
    hue = int(hashlib.sha256(member.sub.encode()).hexdigest()[:2], 16) * 360 // 256
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        f'<circle cx="50" cy="50" r="50" fill="hsl({hue},45%,45%)"/><text x="50" y="62" '
        f'font-size="36" text-anchor="middle" fill="#fff" font-family="sans-serif">{initials}'
        "</text></svg>"
    )


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
            self._write(_api_error("bad_request", "Request too large"))
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        request = _Request(self.command, parts.path, query, self.headers, body)
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

    def _write(self, response: _Response) -> None:
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
