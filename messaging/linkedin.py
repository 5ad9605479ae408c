"""The only module that speaks HTTP to LinkedIn (docs/linkedin.md, docs/queue.md).

Every call goes through one requests.Session with a (connect, read) timeout, and every failure
becomes one of four exceptions that tell the send queue what is safe to do next:

- RetryableError: nothing reached LinkedIn, or LinkedIn said it did nothing (connection refused,
  DNS failure, connect timeout, 429, 503). Safe to send again later.
- AmbiguousError: the request may have been acted on (read timeout, 500/502/504, the connection
  dropped after the request was written). Never retried automatically: a person decides.
- AuthError: 401, the token is invalid, expired or revoked.
- PermanentError: LinkedIn refused the request as such (400, 403, 404, 422, other 4xx).

Tokens and the client secret never appear in an exception, a repr or a log record.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

logger = logging.getLogger(__name__)

USER_AGENT = "linkedin-crm/0.1 (+python-requests)"
RESTLI_HEADERS = {"X-Restli-Protocol-Version": "2.0.0"}
MAX_BODY_CHARS = 8000
_PERSON_URN = re.compile(r"urn:li:person:[A-Za-z0-9_-]+")


class LinkedInError(Exception):
    """A failed LinkedIn call. Carries LinkedIn's status and code, never a token."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        service_error_code: int | None = None,
        error: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.service_error_code = service_error_code
        self.error = error  # the OAuth error code ("invalid_grant"...) from the token endpoints

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments defeat Exception's default pickling (task queues pickle).
        return (_restore_error, (type(self), self.message, dict(self.__dict__)))


def _restore_error(cls: type[LinkedInError], message: str, state: dict[str, Any]) -> LinkedInError:
    error = cls(message)
    error.__dict__.update(state)
    return error


class RetryableError(LinkedInError):
    """Nothing reached LinkedIn, or LinkedIn did nothing: safe to send again later."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after  # seconds, from LinkedIn's Retry-After header


class AmbiguousError(LinkedInError):
    """The request may have been acted on: do not retry automatically."""


class AuthError(LinkedInError):
    """The access (or refresh) token is invalid, expired or revoked."""


class PermanentError(LinkedInError):
    """LinkedIn refused this request as such; sending it again will not help."""


@dataclass(frozen=True)
class UserInfo:
    sub: str
    name: str
    given_name: str
    family_name: str
    email: str | None
    email_verified: bool
    picture: str | None
    locale: str | None  # "en_US"; LinkedIn's userinfo gives {"country": "US", "language": "en"}


@dataclass(frozen=True)
class TokenInfo:
    active: bool
    status: str
    expires_at: datetime | None
    scope: list[str]


@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    expires_in: int
    refresh_token: str | None = field(repr=False)
    refresh_token_expires_in: int | None
    scope: list[str]
    id_token: str | None = field(repr=False)


@dataclass(frozen=True)
class SentMessage:
    external_id: str  # LinkedIn's id for the created message (x-restli-id), "" if it sent none


class LinkedInClient:
    def __init__(
        self,
        *,
        oauth_base_url: str,
        api_base_url: str,
        client_id: str,
        client_secret: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        session: requests.Session | None = None,
    ) -> None:
        self.oauth_base_url = oauth_base_url.rstrip("/")
        self.api_base_url = api_base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.timeout = (connect_timeout, read_timeout)
        if session is None:
            session = requests.Session()
            # No transport-level retries: a silent resend after a dropped connection could
            # deliver a message twice. Retrying is the queue's decision, made on our errors.
            adapter = HTTPAdapter(max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session

    def __repr__(self) -> str:
        return f"LinkedInClient(api_base_url={self.api_base_url!r}, client_id={self.client_id!r})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> LinkedInClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- API ---------------------------------------------------------------------------------

    def userinfo(self, access_token: str) -> UserInfo:
        response = self._request(
            "GET",
            f"{self.api_base_url}/v2/userinfo",
            headers={**RESTLI_HEADERS, **_bearer(access_token)},
            secrets=(access_token,),
        )
        data = _json_object(response)
        if not data.get("sub"):
            raise AmbiguousError(
                "LinkedIn's userinfo answer has no sub", status=response.status_code
            )
        given, family = str(data.get("given_name") or ""), str(data.get("family_name") or "")
        return UserInfo(
            sub=str(data["sub"]),
            name=str(data.get("name") or f"{given} {family}".strip()),
            given_name=given,
            family_name=family,
            email=data.get("email") or None,
            # LinkedIn has been seen sending booleans and the string "true" for this claim.
            email_verified=str(data.get("email_verified", "")).lower() == "true",
            picture=data.get("picture") or None,
            locale=_locale(data.get("locale")),
        )

    def introspect(self, access_token: str) -> TokenInfo:
        response = self._request(
            "POST",
            f"{self.oauth_base_url}/v2/introspectToken",
            data={
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "token": access_token,
            },
            secrets=(access_token,),
        )
        data = _json_object(response)
        active = data.get("active") is True
        return TokenInfo(
            active=active,
            status=str(data.get("status") or ("active" if active else "revoked")),
            expires_at=_epoch_to_datetime(data.get("expires_at")),
            scope=_split_scopes(data.get("scope")),
        )

    def refresh_token(self, refresh_token: str) -> TokenGrant:
        """Trade a refresh token (partner apps only) for a new access token.

        LinkedIn answers a dead refresh token with 400 invalid_grant; that is raised as
        AuthError, because the cure is the same as for a 401: the member reconnects.
        """
        try:
            response = self._request(
                "POST",
                f"{self.oauth_base_url}/v2/accessToken",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh_token,
                    "client_id": self.client_id,
                    "client_secret": self._client_secret,
                },
                secrets=(refresh_token,),
            )
        except PermanentError as exc:
            if exc.error != "invalid_grant":
                raise
            raise AuthError(exc.message, status=exc.status, error=exc.error) from None
        data = _json_object(response)
        access_token = data.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise AmbiguousError("LinkedIn's token answer has no access_token", status=200)
        return TokenGrant(
            access_token=access_token,
            expires_in=int(data.get("expires_in") or 0),
            refresh_token=data.get("refresh_token") or None,
            refresh_token_expires_in=_int_or_none(data.get("refresh_token_expires_in")),
            scope=_split_scopes(data.get("scope")),
            id_token=data.get("id_token") or None,
        )

    def send_message(
        self,
        access_token: str,
        *,
        recipient_urn: str,
        body: str,
        subject: str = "",
        idempotency_key: str | None = None,
    ) -> SentMessage:
        """Send one member-to-member message. Raises before any request for invalid input."""
        if not access_token:
            raise AuthError("No access token for this account")
        if not _PERSON_URN.fullmatch(recipient_urn or ""):
            raise PermanentError("The recipient is not a member URN (urn:li:person:...)")
        if not body.strip() or len(body) > MAX_BODY_CHARS:
            raise PermanentError(f"The message body must be 1-{MAX_BODY_CHARS} characters")
        payload: dict[str, Any] = {
            "recipients": [recipient_urn],
            "body": body,
            "messageType": "MEMBER_TO_MEMBER",
        }
        if subject:
            payload["subject"] = subject
        headers = {**RESTLI_HEADERS, **_bearer(access_token)}
        if idempotency_key:
            headers["X-Idempotency-Key"] = idempotency_key
        response = self._request(
            "POST",
            f"{self.api_base_url}/v2/messages",
            headers=headers,
            json=payload,
            secrets=(access_token,),
        )
        # Rest.li puts the new entity's id in a header, not the (empty) body.
        return SentMessage(external_id=response.headers.get("x-restli-id", ""))

    # -- transport ---------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        secrets: tuple[str, ...],
        headers: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        json: Any = None,
    ) -> requests.Response:
        secrets = (*secrets, self._client_secret)
        path = urlsplit(url).path
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
                data=data,
                json=json,
                timeout=self.timeout,
                allow_redirects=False,  # a redirected POST would be resent as a GET, or twice
            )
        except requests.exceptions.RequestException as exc:
            error = _classify_exception(exc, f"{method} {path}")
            logger.warning("LinkedIn %s %s failed: %s", method, path, error.message)
            raise error from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.debug(
            "LinkedIn %s %s -> %s (%.0f ms)", method, path, response.status_code, elapsed_ms
        )
        if 200 <= response.status_code < 300:
            return response
        error = _error_from_response(response, secrets)
        logger.warning(
            "LinkedIn %s %s -> %s %s", method, path, response.status_code, type(error).__name__
        )
        raise error


def client_from_settings() -> LinkedInClient:
    """A client configured from Django settings (the sandbox's URLs when LINKEDIN_SANDBOX=1)."""
    from django.conf import settings

    return LinkedInClient(
        oauth_base_url=getattr(
            settings, "LINKEDIN_OAUTH_BASE_URL", "https://www.linkedin.com/oauth"
        ),
        api_base_url=getattr(settings, "LINKEDIN_API_BASE_URL", "https://api.linkedin.com"),
        client_id=getattr(settings, "LINKEDIN_CLIENT_ID", ""),
        client_secret=getattr(settings, "LINKEDIN_CLIENT_SECRET", ""),
        connect_timeout=float(getattr(settings, "LINKEDIN_CONNECT_TIMEOUT", 5)),
        read_timeout=float(getattr(settings, "LINKEDIN_READ_TIMEOUT", 20)),
    )


# -- classification ----------------------------------------------------------------------------


def _classify_exception(exc: requests.exceptions.RequestException, what: str) -> LinkedInError:
    # Order matters: ConnectTimeout is both a ConnectionError and a Timeout.
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return RetryableError(f"Timed out connecting to LinkedIn ({what})")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return AmbiguousError(f"LinkedIn did not answer in time ({what}); it may have acted")
    if isinstance(exc, requests.exceptions.ConnectionError) and _is_connect_failure(exc):
        return RetryableError(f"Could not connect to LinkedIn ({what})")
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema
        | requests.exceptions.InvalidHeader,
    ):
        # Raised before anything is sent: a configuration problem, safe to retry once fixed.
        return RetryableError(f"Invalid LinkedIn request ({what}): {type(exc).__name__}")
    # A connection reset or closed after the request went out, a broken chunked body, a TLS
    # failure we cannot place: LinkedIn may have acted on it.
    return AmbiguousError(
        f"The connection to LinkedIn failed mid-request ({what}); it may have acted"
    )


def _is_connect_failure(exc: BaseException) -> bool:
    """True when the chain shows the TCP connection never opened (refused, DNS, timeout)."""
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        # NameResolutionError is a NewConnectionError subclass in urllib3 2.
        if isinstance(item, NewConnectionError | ConnectTimeoutError):
            return True
        pending.extend(item.args)
        pending.extend([getattr(item, "reason", None), item.__cause__])
    return False


def _error_from_response(response: requests.Response, secrets: tuple[str, ...]) -> LinkedInError:
    status = response.status_code
    try:
        data = response.json()
    except ValueError:
        data = None
    data = data if isinstance(data, dict) else {}
    detail = data.get("message") or data.get("error_description") or data.get("error") or ""
    detail = _redact(str(detail), secrets)[:300] or (response.reason or "")
    code = _int_or_none(data.get("serviceErrorCode"))
    oauth_error = data.get("error") if isinstance(data.get("error"), str) else None
    message = f"LinkedIn answered HTTP {status}" + (f": {detail}" if detail else "")
    kwargs: dict[str, Any] = {"status": status, "service_error_code": code, "error": oauth_error}
    if status == 401:
        return AuthError(message, **kwargs)
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RetryableError(message, retry_after=retry_after, **kwargs)
    if 400 <= status < 500:
        return PermanentError(message, **kwargs)
    # 500, 502, 504, any other 5xx, or a status LinkedIn never sends: it may have acted.
    return AmbiguousError(message, **kwargs)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# -- small helpers -----------------------------------------------------------------------------


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise AmbiguousError(
            "LinkedIn answered with something other than a JSON object", status=response.status_code
        )
    return data


def _split_scopes(raw: Any) -> list[str]:
    # LinkedIn answers scopes comma-separated ("openid,profile,email"); OAuth uses spaces.
    return [s for s in re.split(r"[\s,]+", raw) if s] if isinstance(raw, str) else []


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _epoch_to_datetime(value: Any) -> datetime | None:
    seconds = _int_or_none(value)
    if seconds is None:
        return None
    if seconds > 100_000_000_000:  # some LinkedIn endpoints answer epoch milliseconds
        seconds //= 1000
    return datetime.fromtimestamp(seconds, UTC)


def _locale(value: Any) -> str | None:
    if isinstance(value, dict):
        language, country = value.get("language"), value.get("country")
        return f"{language}_{country}" if language and country else (language or country or None)
    return str(value) if value else None
