"""OpenID Connect as LinkedIn speaks it: discovery, keys, the consent page, codes and tokens
(PKCE, refresh for partner apps), introspection and userinfo."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt

from messaging.sandbox.members import SandboxMember
from messaging.sandbox.pages import consent_page, error_page
from messaging.sandbox.protocol import (
    Reject,
    Request,
    Response,
    api_error,
    html_response,
    iso_time,
    json_response,
    oauth_error,
)

ACCESS_TOKEN_LIFETIME = 5_184_000  # LinkedIn's 60 days
REFRESH_TOKEN_LIFETIME = 31_536_000  # 365 days; using the refresh token does not extend them
CODE_LIFETIME = 30 * 60  # LinkedIn's authorization codes live 30 minutes
ID_TOKEN_LIFETIME = 3600
SUPPORTED_SCOPES = ("openid", "profile", "email", "w_member_social")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_NO_CACHE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BAD_CODE = (
    "Unable to retrieve access token: appid/redirect uri/code verifier does not match "
    "authorization code. Or authorization code expired."
)


@dataclass
class Grant:  # what a member approved; shared by the code and the tokens it becomes
    sub: str
    client_id: str
    scopes: tuple[str, ...]
    authorized_at: float


@dataclass
class Code:
    grant: Grant
    redirect_uri: str
    nonce: str | None
    created_at: float
    used: bool = False
    code_challenge: str | None = None  # PKCE (RFC 7636), S256 only


@dataclass
class Token:
    grant: Grant
    created_at: float
    expires_at: float
    status: str = "active"  # active | expired | revoked


class OpenIDConnect:
    """LinkedInSandbox's sign-in and token endpoints, and its tokens in process.

    A part of LinkedInSandbox (server.py), whose lock, clock, members and state file it uses.
    """

    # -- in process (the control API calls these too) ----------------------------------------

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
            grant = Grant(sub, self.client_id, tuple(scopes), self.now())
            return self._mint(self._tokens, grant, ACCESS_TOKEN_LIFETIME)

    def _mint(self, store: dict[str, Token], grant: Grant, lifetime: float) -> str:
        # Real tokens run to 500-1000 characters; short test tokens would hide column bugs.
        value = "AQ" + secrets.token_urlsafe(400 if store is self._tokens else 240)
        token = Token(grant, created_at=self.now(), expires_at=self.now() + lifetime)
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

    # -- the endpoints -----------------------------------------------------------------------

    def _discovery(self, request: Request) -> Response:
        claims = "iss aud iat exp sub name given_name family_name picture email email_verified"
        return json_response(
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

    def _jwks(self, request: Request) -> Response:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": self._kid, "use": "sig", "alg": "RS256"})
        return json_response(200, {"keys": [jwk]})

    def _authorization(self, request: Request) -> Response:
        params = {**request.query, **request.form()}
        uri = params.get("redirect_uri", "")
        # A bad client or redirect_uri gets an error page, never a redirect: redirecting to an
        # unchecked address would make this an open redirector (LinkedIn behaves the same).
        if params.get("client_id") != self.client_id:
            return html_response(
                400, error_page("The client_id is not that of a known application.")
            )
        try:
            parts = urlsplit(uri)
            allowed = parts.scheme in ("http", "https") and parts.hostname in LOCAL_HOSTS
        except ValueError:  # e.g. a malformed IPv6 literal
            allowed = False
        if not allowed:
            return html_response(
                400, error_page("The redirect_uri does not match the registered value")
            )
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
            page = consent_page(list(self.members.values()), hidden, scopes, member, problem)
            return html_response(400 if problem else 200, page)
        code = secrets.token_urlsafe(48)
        with self._lock:
            grant = Grant(member, self.client_id, scopes, self.now())
            self._codes[code] = Code(
                grant, uri, params.get("nonce"), self.now(), code_challenge=challenge
            )
            authorization = {
                "sub": member,
                "client_id": self.client_id,
                "scopes": list(scopes),
                "redirect_uri": uri,
                "authorized_at": iso_time(grant.authorized_at),
            }
            self._authorizations.append(authorization)
            self._remember({"kind": "authorization", **authorization})
        return _redirect(uri, code=code, state=state)

    def _access_token(self, request: Request) -> Response:
        form = request.form()  # LinkedIn accepts form bodies only, the secret inside (not Basic)
        grant_type = form.get("grant_type", "")
        if not grant_type:
            return _missing("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            return oauth_error(400, "unsupported_grant_type", f"Unsupported grant {grant_type}")
        if not self._client_authenticated(form):
            return oauth_error(401, "invalid_client", "Client authentication failed")
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
                return oauth_error(400, "invalid_grant", _BAD_CODE)
            record.used = True
            payload = self._token_payload(record.grant)
            if self.partner:
                refresh = self._mint(self._refresh_tokens, record.grant, REFRESH_TOKEN_LIFETIME)
                payload.update(
                    refresh_token=refresh, refresh_token_expires_in=REFRESH_TOKEN_LIFETIME
                )
        if "openid" in record.grant.scopes:
            payload["id_token"] = self._id_token(record.grant, record.nonce)
        return json_response(200, payload, _NO_CACHE)

    def _refresh_grant(self, form: dict[str, str]) -> Response:
        if not self.partner:
            message = "Refresh tokens are available only to applications LinkedIn approved"
            return oauth_error(400, "unsupported_grant_type", message)
        value = form.get("refresh_token", "")
        if not value:
            return _missing("refresh_token")
        with self._lock:
            record, now = self._refresh_tokens.get(value), self.now()
            if record is None or record.status != "active" or now >= record.expires_at:
                message = "The provided refresh token is invalid, expired or revoked"
                return oauth_error(400, "invalid_grant", message)
            payload = self._token_payload(record.grant)
        # LinkedIn hands back the same refresh token, its ORIGINAL expiry still counting down.
        payload.update(refresh_token=value, refresh_token_expires_in=int(record.expires_at - now))
        return json_response(200, payload, _NO_CACHE)

    def _token_payload(self, grant: Grant) -> dict[str, Any]:
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

    def _id_token(self, grant: Grant, nonce: str | None) -> str:
        now = int(self.now())
        claims = self._profile(self.members[grant.sub], grant.scopes)
        claims.update(iss=self.issuer, aud=grant.client_id, iat=now, exp=now + ID_TOKEN_LIFETIME)
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid})

    def _introspect(self, request: Request) -> Response:
        form = request.form()
        if not self._client_authenticated(form):
            return oauth_error(401, "invalid_client", "Client authentication failed")
        with self._lock:
            token = self._tokens.get(form.get("token", ""))
            status = self._token_status(token) if token else "revoked"
            if token is None or status != "active":
                return json_response(200, {"active": False, "status": status})
            return json_response(
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

    def _token_status(self, token: Token) -> str:
        if token.status == "active" and self.now() >= token.expires_at:
            return "expired"
        return token.status

    def _bearer(self, request: Request) -> Token:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Reject(api_error("empty_token"))
        with self._lock:
            token = self._tokens.get(value.strip())
            status = self._token_status(token) if token else "invalid_token"
        if token is None or status != "active":
            raise Reject(api_error(status))
        return token

    def _userinfo(self, request: Request) -> Response:
        token = self._bearer(request)
        if "openid" not in token.grant.scopes:
            return api_error("forbidden", "GET /userinfo")
        return json_response(200, self._profile(self.members[token.grant.sub], token.grant.scopes))


def _missing(name: str) -> Response:
    return oauth_error(400, "invalid_request", f'A required parameter "{name}" is missing')


def _redirect(uri: str, **params: str | None) -> Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return Response(302, headers={"Location": f"{uri}{'&' if '?' in uri else '?'}{query}"})


def _split_scopes(raw: str) -> tuple[str, ...]:
    # Requests carry scopes space-separated (OAuth); LinkedIn answers them comma-separated.
    return tuple(dict.fromkeys(s for s in re.split(r"[\s,]+", raw) if s))


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
