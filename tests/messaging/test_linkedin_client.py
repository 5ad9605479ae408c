"""messaging/linkedin.py: parsing, failure classification, timeouts, headers, no token leaks.

Unit tests mock HTTP with `responses`; integration tests drive the real sandbox over HTTP and
inject every fault it offers through its control API.
"""

from __future__ import annotations

import json
import logging
import pickle
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.client import RemoteDisconnected

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from messaging.linkedin import (
    AmbiguousError,
    AuthError,
    LinkedInClient,
    LinkedInError,
    PermanentError,
    RetryableError,
    SentMessage,
    TokenGrant,
    client_from_settings,
    parse_retry_after,
)

OAUTH = "https://www.linkedin.com/oauth"
API = "https://api.linkedin.com"
MESSAGES_URL = f"{API}/v2/messages"
USERINFO_URL = f"{API}/v2/userinfo"
TOKEN_URL = f"{OAUTH}/v2/accessToken"
INTROSPECT_URL = f"{OAUTH}/v2/introspectToken"
# Long and distinctive, like LinkedIn's: any leak into a message or log is easy to spot.
TOKEN = "AQ" + "x7Tk" * 130
REFRESH = "AQ" + "r9Zq" * 80
SECRET = "client-secret-Wq83"
RECIPIENT = "urn:li:person:Ab3dE_f-9"


@pytest.fixture
def client() -> LinkedInClient:
    return LinkedInClient(
        oauth_base_url=OAUTH,
        api_base_url=API,
        client_id="client-id-1",
        client_secret=SECRET,
        connect_timeout=3.0,
        read_timeout=7.0,
    )


@pytest.fixture
def mocked() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def send(client: LinkedInClient, **kwargs: object) -> SentMessage:
    return client.send_message(TOKEN, recipient_urn=RECIPIENT, body="Hello Ada", **kwargs)


def api_error(status: int, message: str = "nope", code: int = 1) -> dict[str, object]:
    return {"message": message, "serviceErrorCode": code, "status": status}


# -- success parsing -------------------------------------------------------------------------


def test_it_parses_userinfo(client, mocked):
    mocked.get(
        USERINFO_URL,
        json={
            "sub": "782bbtaQ",
            "name": "Ada Obi",
            "given_name": "Ada",
            "family_name": "Obi",
            "picture": "https://media.example/ada",
            "locale": {"country": "US", "language": "en"},
            "email": "ada@example.com",
            "email_verified": True,
        },
    )
    info = client.userinfo(TOKEN)
    assert (info.sub, info.name, info.given_name, info.family_name) == (
        "782bbtaQ",
        "Ada Obi",
        "Ada",
        "Obi",
    )
    assert info.email == "ada@example.com" and info.email_verified is True
    assert info.locale == "en_US" and info.picture == "https://media.example/ada"
    request = mocked.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"


def test_it_parses_userinfo_without_email_scope(client, mocked):
    mocked.get(USERINFO_URL, json={"sub": "s1", "given_name": "Ada", "family_name": "Obi"})
    info = client.userinfo(TOKEN)
    assert info.email is None and info.email_verified is False and info.name == "Ada Obi"


def test_it_parses_an_active_introspection(client, mocked):
    mocked.post(
        INTROSPECT_URL,
        json={
            "active": True,
            "client_id": "client-id-1",
            "authorized_at": 1_700_000_000,
            "created_at": 1_700_000_000,
            "status": "active",
            "expires_at": 1_705_184_000,
            "scope": "openid,profile,email,w_member_social",
            "auth_type": "3L",
        },
    )
    info = client.introspect(TOKEN)
    assert info.active is True and info.status == "active"
    assert info.expires_at == datetime.fromtimestamp(1_705_184_000, UTC)
    assert info.scope == ["openid", "profile", "email", "w_member_social"]
    body = dict(pair.split("=", 1) for pair in mocked.calls[0].request.body.split("&"))
    # LinkedIn wants the client credentials in the form body, not HTTP Basic.
    assert body["client_id"] == "client-id-1" and body["client_secret"] == SECRET
    assert "Authorization" not in mocked.calls[0].request.headers


def test_it_parses_an_expired_introspection(client, mocked):
    mocked.post(INTROSPECT_URL, json={"active": False, "status": "expired"})
    info = client.introspect(TOKEN)
    assert (info.active, info.status, info.expires_at, info.scope) == (False, "expired", None, [])


def test_it_parses_a_refresh_grant(client, mocked):
    mocked.post(
        TOKEN_URL,
        json={
            "access_token": TOKEN,
            "expires_in": 5_184_000,
            "refresh_token": REFRESH,
            "refresh_token_expires_in": 31_000_000,
            "scope": "openid,profile",
            "token_type": "Bearer",
        },
    )
    grant = client.refresh_token(REFRESH)
    assert grant == TokenGrant(
        access_token=TOKEN,
        expires_in=5_184_000,
        refresh_token=REFRESH,
        refresh_token_expires_in=31_000_000,
        scope=["openid", "profile"],
        id_token=None,
    )
    assert "grant_type=refresh_token" in mocked.calls[0].request.body


def test_it_sends_a_message_and_returns_the_restli_id(client, mocked):
    mocked.post(MESSAGES_URL, status=201, headers={"x-restli-id": "urn:li:messagingMessage:42"})
    sent = send(client, subject="Hi", idempotency_key="msg-17")
    assert sent == SentMessage(external_id="urn:li:messagingMessage:42")
    request = mocked.calls[0].request
    assert json.loads(request.body) == {
        "recipients": [RECIPIENT],
        "subject": "Hi",
        "body": "Hello Ada",
        "messageType": "MEMBER_TO_MEMBER",
    }
    assert request.headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert request.headers["X-Idempotency-Key"] == "msg-17"
    assert request.headers["User-Agent"].startswith("linkedin-crm/")


def test_it_omits_an_empty_subject(client, mocked):
    mocked.post(MESSAGES_URL, status=201, headers={"x-restli-id": "m1"})
    send(client)
    assert "subject" not in json.loads(mocked.calls[0].request.body)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"recipient_urn": "https://www.linkedin.com/in/ada", "body": "Hi"},
        {"recipient_urn": RECIPIENT, "body": "   "},
        {"recipient_urn": RECIPIENT, "body": "x" * 8001},
    ],
)
def test_it_rejects_invalid_input_before_any_request(client, mocked, kwargs):
    with pytest.raises(PermanentError):
        client.send_message(TOKEN, **kwargs)
    assert len(mocked.calls) == 0


def test_it_passes_timeouts_and_user_agent_on_every_call(client, mocked):
    mocked.get(USERINFO_URL, json={"sub": "s1"})
    mocked.post(INTROSPECT_URL, json={"active": False, "status": "revoked"})
    mocked.post(TOKEN_URL, json={"access_token": TOKEN, "expires_in": 1})
    mocked.post(MESSAGES_URL, status=201, headers={"x-restli-id": "m1"})
    client.userinfo(TOKEN)
    client.introspect(TOKEN)
    client.refresh_token(REFRESH)
    send(client)
    assert len(mocked.calls) == 4
    for call in mocked.calls:
        assert call.request.req_kwargs["timeout"] == (3.0, 7.0)
        assert call.request.headers["User-Agent"].startswith("linkedin-crm/")


def test_it_passes_timeouts_to_a_given_session():
    seen: list[dict[str, object]] = []

    class SpySession(requests.Session):
        def request(self, method, url, **kwargs):  # type: ignore[override]
            seen.append(kwargs)
            raise requests.exceptions.ConnectTimeout("spy")

    client = LinkedInClient(
        oauth_base_url=OAUTH,
        api_base_url=API,
        client_id="c",
        client_secret=SECRET,
        connect_timeout=1.5,
        read_timeout=4.0,
        session=SpySession(),
    )
    for call in (
        lambda: client.userinfo(TOKEN),
        lambda: client.introspect(TOKEN),
        lambda: client.refresh_token(REFRESH),
        lambda: send(client),
    ):
        with pytest.raises(RetryableError):
            call()
    assert [kwargs["timeout"] for kwargs in seen] == [(1.5, 4.0)] * 4
    assert all(kwargs["allow_redirects"] is False for kwargs in seen)


# -- classification of HTTP answers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, PermanentError),
        (401, AuthError),
        (403, PermanentError),
        (404, PermanentError),
        (409, PermanentError),
        (422, PermanentError),
        (429, RetryableError),
        (500, AmbiguousError),
        (502, AmbiguousError),
        (503, RetryableError),
        (504, AmbiguousError),
    ],
)
def test_it_classifies_http_statuses(client, mocked, status, expected):
    mocked.post(MESSAGES_URL, status=status, json=api_error(status, "Computer says no", 65600))
    with pytest.raises(expected) as caught:
        send(client)
    assert type(caught.value) is expected
    assert caught.value.status == status
    assert caught.value.service_error_code == 65600
    assert "Computer says no" in str(caught.value)


def test_it_reads_retry_after_seconds_on_429(client, mocked):
    mocked.post(MESSAGES_URL, status=429, json=api_error(429), headers={"Retry-After": "30"})
    with pytest.raises(RetryableError) as caught:
        send(client)
    assert caught.value.retry_after == 30.0


def test_it_reads_a_retry_after_http_date_on_429(client, mocked):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    mocked.post(MESSAGES_URL, status=429, json=api_error(429), headers={"Retry-After": when})
    with pytest.raises(RetryableError) as caught:
        send(client)
    assert 100 <= caught.value.retry_after <= 120


def test_it_leaves_retry_after_empty_when_linkedin_gives_none(client, mocked):
    mocked.post(MESSAGES_URL, status=429, json=api_error(429))
    with pytest.raises(RetryableError) as caught:
        send(client)
    assert caught.value.retry_after is None


def test_it_reads_retry_after_on_503(client, mocked):
    mocked.post(MESSAGES_URL, status=503, body="<html>down</html>", headers={"Retry-After": "5"})
    with pytest.raises(RetryableError) as caught:
        send(client)
    assert caught.value.retry_after == 5.0 and caught.value.status == 503


def test_it_parses_retry_after_values():
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after(" 17 ") == 17.0
    assert parse_retry_after("Mon, 05 Jan 2026 12:01:00 GMT", now=now) == 60.0
    assert parse_retry_after("Mon, 05 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_it_raises_auth_error_for_a_dead_refresh_token(client, mocked):
    mocked.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "refresh token expired"},
    )
    with pytest.raises(AuthError) as caught:
        client.refresh_token(REFRESH)
    assert caught.value.error == "invalid_grant" and caught.value.status == 400


def test_it_keeps_other_refresh_refusals_permanent(client, mocked):
    mocked.post(TOKEN_URL, status=400, json={"error": "unsupported_grant_type"})
    with pytest.raises(PermanentError) as caught:
        client.refresh_token(REFRESH)
    assert caught.value.error == "unsupported_grant_type"


# -- classification of transport failures -------------------------------------------------------


def refused() -> Exception:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, MESSAGES_URL, reason))


def dns_failure() -> Exception:
    reason = NameResolutionError("api.linkedin.com", None, socket.gaierror(-2, "unknown"))
    return requests.exceptions.ConnectionError(MaxRetryError(None, MESSAGES_URL, reason))


def dropped() -> Exception:
    reason = ProtocolError("Connection aborted.", RemoteDisconnected("closed without response"))
    return requests.exceptions.ConnectionError(reason)


def reset() -> Exception:
    reason = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
    return requests.exceptions.ConnectionError(MaxRetryError(None, MESSAGES_URL, reason))


@pytest.mark.parametrize(
    ("make_exception", "expected"),
    [
        (refused, RetryableError),
        (dns_failure, RetryableError),
        (lambda: requests.exceptions.ConnectTimeout("connect timed out"), RetryableError),
        (lambda: requests.exceptions.ReadTimeout("read timed out"), AmbiguousError),
        (dropped, AmbiguousError),
        (reset, AmbiguousError),
        (lambda: requests.exceptions.ChunkedEncodingError("broken"), AmbiguousError),
        (lambda: requests.exceptions.SSLError("bad record mac"), AmbiguousError),
    ],
    ids=["refused", "dns", "connect-timeout", "read-timeout", "dropped", "reset", "chunked", "tls"],
)
def test_it_classifies_transport_failures(client, mocked, make_exception, expected):
    mocked.post(MESSAGES_URL, body=make_exception())
    with pytest.raises(expected) as caught:
        send(client)
    assert type(caught.value) is expected
    assert caught.value.status is None


# -- secrets stay secret ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [(400, PermanentError), (401, AuthError), (429, RetryableError), (500, AmbiguousError)],
)
def test_it_never_leaks_the_token_from_http_errors(client, mocked, caplog, status, expected):
    caplog.set_level(logging.DEBUG)
    # A hostile or buggy answer that echoes the token back must not carry it into our errors.
    mocked.post(MESSAGES_URL, status=status, json=api_error(status, f"bad token {TOKEN}"))
    with pytest.raises(expected) as caught:
        send(client)
    for text in (str(caught.value), repr(caught.value), caplog.text):
        assert TOKEN not in text
        assert TOKEN[:40] not in text
        assert SECRET not in text
    assert "[redacted]" in str(caught.value)


@pytest.mark.parametrize(
    "make_exception",
    [refused, dropped, lambda: requests.exceptions.ReadTimeout("read timed out")],
    ids=["refused", "dropped", "read-timeout"],
)
def test_it_never_leaks_the_token_from_transport_errors(client, mocked, caplog, make_exception):
    caplog.set_level(logging.DEBUG)
    mocked.post(MESSAGES_URL, body=make_exception())
    mocked.post(TOKEN_URL, body=make_exception())
    with pytest.raises(LinkedInError) as caught:
        send(client)
    with pytest.raises(LinkedInError) as caught_refresh:
        client.refresh_token(REFRESH)
    for error in (caught.value, caught_refresh.value):
        for text in (str(error), repr(error)):
            assert TOKEN[:40] not in text and REFRESH[:40] not in text and SECRET not in text
    assert TOKEN[:40] not in caplog.text and REFRESH[:40] not in caplog.text
    assert SECRET not in caplog.text


def test_it_keeps_tokens_out_of_reprs(client):
    grant = TokenGrant(TOKEN, 1, REFRESH, 2, ["openid"], "id.token.value")
    assert TOKEN not in repr(grant) and REFRESH not in repr(grant) and "id.token" not in repr(grant)
    assert SECRET not in repr(client)


def test_it_pickles_errors_with_their_details():
    error = RetryableError("throttled", retry_after=30.0, status=429, service_error_code=101)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round-tripped
    assert type(copy) is RetryableError
    assert (copy.message, copy.retry_after, copy.status, copy.service_error_code) == (
        "throttled",
        30.0,
        429,
        101,
    )


def test_it_builds_a_client_from_settings(settings):
    settings.LINKEDIN_OAUTH_BASE_URL = "http://127.0.0.1:8765/oauth/"
    settings.LINKEDIN_API_BASE_URL = "http://127.0.0.1:8765"
    settings.LINKEDIN_CLIENT_ID = "sandbox-client-id"
    settings.LINKEDIN_CLIENT_SECRET = "sandbox-client-secret"
    settings.LINKEDIN_CONNECT_TIMEOUT = 2
    settings.LINKEDIN_READ_TIMEOUT = 9
    client = client_from_settings()
    assert client.oauth_base_url == "http://127.0.0.1:8765/oauth"
    assert client.api_base_url == "http://127.0.0.1:8765"
    assert client.client_id == "sandbox-client-id"
    assert client.timeout == (2.0, 9.0)


# -- against the sandbox, over real HTTP --------------------------------------------------------


def inject(sandbox, *faults: dict[str, object]) -> None:
    url = f"{sandbox.base_url}/sandbox/faults"
    response = requests.post(url, json={"faults": list(faults)}, timeout=5)
    assert response.status_code == 200, response.text


@pytest.fixture
def token(linkedin_sandbox) -> str:
    return linkedin_sandbox.issue_token("sbx-maya-okafor")


def sandbox_send(client: LinkedInClient, token: str) -> SentMessage:
    return client.send_message(token, recipient_urn=RECIPIENT, body="Hello", idempotency_key="k1")


def test_it_sends_through_the_sandbox(linkedin_sandbox, sandbox_client, token):
    sent = sandbox_send(sandbox_client, token)
    [recorded] = linkedin_sandbox.sent_messages()
    assert sent.external_id == recorded["id"]
    assert sent.external_id.startswith("urn:li:messagingMessage:")
    assert recorded["recipients"] == [RECIPIENT] and recorded["idempotency_key"] == "k1"


@pytest.mark.parametrize(
    ("fault", "expected", "retry_after", "recorded"),
    [
        ({"status": 429, "retry_after": 30}, RetryableError, 30.0, False),
        ({"status": 429}, RetryableError, None, False),
        ({"status": 503}, RetryableError, None, False),
        ({"status": 401}, AuthError, None, False),
        ({"status": 500}, AmbiguousError, None, True),
        ({"status": 502}, AmbiguousError, None, True),
        ({"status": 504}, AmbiguousError, None, True),
        ({"drop": True}, AmbiguousError, None, True),
    ],
    ids=["429-retry-after", "429", "503", "401", "500", "502", "504", "drop"],
)
def test_it_classifies_every_sandbox_fault(
    linkedin_sandbox, sandbox_client, token, fault, expected, retry_after, recorded
):
    inject(linkedin_sandbox, fault)
    with pytest.raises(expected) as caught:
        sandbox_send(sandbox_client, token)
    assert type(caught.value) is expected
    if isinstance(caught.value, RetryableError):
        assert caught.value.retry_after == retry_after
    # Retryable and auth faults mean LinkedIn did nothing; ambiguous ones may have delivered.
    assert len(linkedin_sandbox.sent_messages()) == (1 if recorded else 0)
    # The fault was used up: the next send goes through.
    sandbox_send(sandbox_client, token)
    assert len(linkedin_sandbox.sent_messages()) == (2 if recorded else 1)


def test_it_treats_a_slow_answer_as_ambiguous(linkedin_sandbox, make_sandbox_client, token):
    client = make_sandbox_client(linkedin_sandbox, read_timeout=0.5)
    inject(linkedin_sandbox, {"delay": 1.5})
    with pytest.raises(AmbiguousError):
        sandbox_send(client, token)
    # The sandbox accepted it and only answered late: exactly why a read timeout is ambiguous.
    assert len(linkedin_sandbox.sent_messages()) == 1


def test_it_treats_a_refused_connection_as_retryable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    client = LinkedInClient(
        oauth_base_url=f"http://127.0.0.1:{free_port}/oauth",
        api_base_url=f"http://127.0.0.1:{free_port}",
        client_id="c",
        client_secret=SECRET,
        connect_timeout=1.0,
    )
    with pytest.raises(RetryableError):
        client.send_message(TOKEN, recipient_urn=RECIPIENT, body="Hello")


def test_it_reports_sandbox_refusals(linkedin_sandbox, sandbox_client, token, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PermanentError) as caught:
        sandbox_client.send_message(token, recipient_urn="urn:li:person:unknown-1", body="Hi")
    assert caught.value.status == 422
    linkedin_sandbox.expire_token(token)
    with pytest.raises(AuthError) as caught:
        sandbox_send(sandbox_client, token)
    assert caught.value.service_error_code == 65602
    assert token[:40] not in caplog.text and token[:40] not in repr(caught.value)


def test_it_reads_userinfo_and_introspection_from_the_sandbox(linkedin_sandbox, sandbox_client):
    token = linkedin_sandbox.issue_token("sbx-sofia-marquez", ["openid", "profile", "email"])
    info = sandbox_client.userinfo(token)
    assert (info.sub, info.name, info.email) == (
        "sbx-sofia-marquez",
        "Sofía Márquez",
        "sofia.marquez@example.com",
    )
    assert info.email_verified is True and info.locale == "en_US"
    status = sandbox_client.introspect(token)
    assert status.active and status.scope == ["openid", "profile", "email"]
    assert status.expires_at > datetime.now(UTC) + timedelta(days=59)
    linkedin_sandbox.expire_token("sbx-sofia-marquez")
    assert sandbox_client.introspect(token).status == "expired"
    with pytest.raises(AuthError):
        sandbox_client.userinfo(token)


def test_it_refreshes_against_a_partner_sandbox(partner_sandbox, make_sandbox_client):
    client = make_sandbox_client(partner_sandbox)
    location = requests.get(
        f"{partner_sandbox.oauth_base_url}/v2/authorization",
        params={
            "response_type": "code",
            "client_id": partner_sandbox.client_id,
            "redirect_uri": "http://127.0.0.1:8000/cb",
            "scope": "openid profile",
            "sandbox_member": "sbx-kenji-watanabe",
            "sandbox_auto": "approve",
        },
        allow_redirects=False,
        timeout=5,
    ).headers["Location"]
    code = requests.utils.urlparse(location).query.split("code=")[1].split("&")[0]
    first = requests.post(
        f"{partner_sandbox.oauth_base_url}/v2/accessToken",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:8000/cb",
            "client_id": partner_sandbox.client_id,
            "client_secret": partner_sandbox.client_secret,
        },
        timeout=5,
    ).json()
    grant = client.refresh_token(first["refresh_token"])
    assert grant.access_token != first["access_token"] and grant.scope == ["openid", "profile"]
    assert grant.refresh_token == first["refresh_token"]
    assert client.userinfo(grant.access_token).sub == "sbx-kenji-watanabe"
    with pytest.raises(AuthError):
        client.refresh_token("AQ-not-a-refresh-token")
