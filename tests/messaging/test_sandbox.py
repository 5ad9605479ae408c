"""messaging/sandbox/ over real HTTP: OpenID Connect, tokens, Messages API, control API."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from messaging.sandbox import LinkedInSandbox

REDIRECT_URI = "http://127.0.0.1:8000/accounts/oidc/linkedin/login/callback/"
ALL_SCOPES = "openid profile email w_member_social"
MAYA = "sbx-maya-okafor"


def get(url: str, **kwargs) -> requests.Response:
    return requests.get(url, timeout=5, allow_redirects=False, **kwargs)


def post(url: str, **kwargs) -> requests.Response:
    return requests.post(url, timeout=5, allow_redirects=False, **kwargs)


def auth_params(sandbox: LinkedInSandbox, **overrides: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": sandbox.client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "st4te",
        "scope": ALL_SCOPES,
        **overrides,
    }


def redirect_query(response: requests.Response, redirect_uri: str = REDIRECT_URI) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(redirect_uri + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize(sandbox: LinkedInSandbox, member: str = MAYA, **overrides: str) -> str:
    params = auth_params(sandbox, sandbox_member=member, sandbox_auto="approve", **overrides)
    response = get(f"{sandbox.oauth_base_url}/v2/authorization", params=params)
    return redirect_query(response, params["redirect_uri"])["code"]


def exchange(sandbox: LinkedInSandbox, code: str, **overrides: str) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        **overrides,
    }
    return post(f"{sandbox.oauth_base_url}/v2/accessToken", data=data)


def sign_in(sandbox: LinkedInSandbox, member: str = MAYA, **overrides: str) -> dict:
    response = exchange(sandbox, authorize(sandbox, member, **overrides))
    assert response.status_code == 200, response.text
    return response.json()


def send(sandbox: LinkedInSandbox, token: str, payload: dict | None = None, **headers: str):
    headers = {"Authorization": f"Bearer {token}", "X-Restli-Protocol-Version": "2.0.0", **headers}
    payload = payload or {
        "recipients": ["urn:li:person:Zx81"],
        "subject": "Hello",
        "body": "Hi Ada, good to meet you.",
        "messageType": "MEMBER_TO_MEMBER",
    }
    return post(f"{sandbox.api_base_url}/v2/messages", json=payload, headers=headers)


# -- OpenID Connect ----------------------------------------------------------------------------


def test_it_serves_the_discovery_document(linkedin_sandbox):
    base = linkedin_sandbox.base_url
    doc = get(f"{base}/oauth/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"{base}/oauth"
    assert doc["authorization_endpoint"] == f"{base}/oauth/v2/authorization"
    assert doc["token_endpoint"] == f"{base}/oauth/v2/accessToken"
    assert doc["userinfo_endpoint"] == f"{base}/v2/userinfo"
    assert doc["jwks_uri"] == f"{base}/oauth/openid/jwks"
    assert doc["introspection_endpoint"] == f"{base}/oauth/v2/introspectToken"
    assert doc["response_types_supported"] == ["code"]
    assert doc["subject_types_supported"] == ["pairwise"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(doc["scopes_supported"]) == {"openid", "profile", "email", "w_member_social"}
    assert {"sub", "email", "email_verified", "locale"} <= set(doc["claims_supported"])
    # No token_endpoint_auth_methods_supported: allauth then posts the secret in the body.
    assert "token_endpoint_auth_methods_supported" not in doc


def test_it_signs_a_member_in_through_the_consent_page(linkedin_sandbox):
    endpoint = f"{linkedin_sandbox.oauth_base_url}/v2/authorization"
    page = get(endpoint, params=auth_params(linkedin_sandbox, nonce="n0nce"))
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<label for="member-sbx-lukas-brenner">Lukas Brenner</label>' in page.text
    assert '<input type="radio" name="sandbox_member" id="member-sbx-lukas-brenner"' in page.text
    assert '<button type="submit" name="decision" value="approve">Approve</button>' in page.text
    form = auth_params(linkedin_sandbox, nonce="n0nce")
    form.update(sandbox_member="sbx-lukas-brenner", decision="approve")
    query = redirect_query(post(endpoint, data=form))
    assert query["state"] == "st4te" and len(query["code"]) > 20

    response = exchange(linkedin_sandbox, query["code"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    grant = response.json()
    assert len(grant["access_token"]) >= 500
    assert grant["expires_in"] == 5_184_000 and grant["token_type"] == "Bearer"
    assert grant["scope"] == "openid,profile,email,w_member_social"
    assert "refresh_token" not in grant  # only LinkedIn-approved partner apps get one

    jwks = jwt.PyJWKClient(f"{linkedin_sandbox.oauth_base_url}/openid/jwks")
    signing_key = jwks.get_signing_key_from_jwt(grant["id_token"])
    assert jwt.get_unverified_header(grant["id_token"])["kid"] == signing_key.key_id
    claims = jwt.decode(
        grant["id_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience=linkedin_sandbox.client_id,
        issuer=linkedin_sandbox.issuer,
    )
    assert claims["sub"] == "sbx-lukas-brenner" and claims["nonce"] == "n0nce"
    assert claims["email"] == "lukas.brenner@example.com" and claims["email_verified"] is True
    assert claims["given_name"] == "Lukas" and claims["exp"] - claims["iat"] == 3600

    auth = {"Authorization": f"Bearer {grant['access_token']}"}
    info = get(f"{linkedin_sandbox.api_base_url}/v2/userinfo", headers=auth).json()
    assert info == {
        "sub": "sbx-lukas-brenner",
        "name": "Lukas Brenner",
        "given_name": "Lukas",
        "family_name": "Brenner",
        "picture": f"{linkedin_sandbox.base_url}/sandbox/avatars/sbx-lukas-brenner.svg",
        "locale": {"country": "US", "language": "en"},
        "email": "lukas.brenner@example.com",
        "email_verified": True,
    }
    avatar = get(info["picture"])
    assert avatar.status_code == 200 and avatar.headers["Content-Type"] == "image/svg+xml"


def test_it_asks_again_when_approve_comes_without_a_member(linkedin_sandbox):
    form = auth_params(linkedin_sandbox, decision="approve", sandbox_member="nobody")
    response = post(f"{linkedin_sandbox.oauth_base_url}/v2/authorization", data=form)
    assert response.status_code == 400 and "Pick a member" in response.text
    assert "Location" not in response.headers


def test_it_redirects_with_an_error_when_the_member_cancels(linkedin_sandbox):
    endpoint = f"{linkedin_sandbox.oauth_base_url}/v2/authorization"
    by_button = post(endpoint, data=auth_params(linkedin_sandbox, decision="cancel"))
    by_param = get(endpoint, params=auth_params(linkedin_sandbox, sandbox_auto="cancel"))
    for response in (by_button, by_param):
        assert response.headers["Location"].endswith(
            "?error=user_cancelled_authorize"
            "&error_description=The+user+cancelled+the+authorization&state=st4te"
        )
        assert "code" not in redirect_query(response)


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "someone-else"},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": ""},
        {"redirect_uri": "ftp://127.0.0.1/cb"},
        {"redirect_uri": "http://[::1"},
    ],
)
def test_it_shows_an_error_page_never_a_redirect(linkedin_sandbox, overrides):
    params = auth_params(linkedin_sandbox, sandbox_member=MAYA, sandbox_auto="approve")
    response = get(
        f"{linkedin_sandbox.oauth_base_url}/v2/authorization", params={**params, **overrides}
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Location" not in response.headers


def test_it_redirects_unknown_scopes_back_with_an_error(linkedin_sandbox):
    params = auth_params(linkedin_sandbox, scope="openid r_fullprofile")
    query = redirect_query(
        get(f"{linkedin_sandbox.oauth_base_url}/v2/authorization", params=params)
    )
    assert (
        query["error"] == "unauthorized_scope_error"
        and "r_fullprofile" in query["error_description"]
    )


def test_it_records_the_redirect_uris_used(linkedin_sandbox):
    authorize(linkedin_sandbox)
    authorize(linkedin_sandbox, redirect_uri="http://localhost:9000/cb")
    authorize(linkedin_sandbox)
    expected = [REDIRECT_URI, "http://localhost:9000/cb"]
    assert linkedin_sandbox.redirect_uris_used() == expected
    assert get(f"{linkedin_sandbox.base_url}/sandbox/redirect-uris").json() == expected


def test_it_accepts_a_code_only_once(linkedin_sandbox):
    code = authorize(linkedin_sandbox)
    assert exchange(linkedin_sandbox, code).status_code == 200
    again = exchange(linkedin_sandbox, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_it_rejects_an_expired_code(linkedin_sandbox):
    code = authorize(linkedin_sandbox)
    linkedin_sandbox.advance_clock(30 * 60 + 1)
    response = exchange(linkedin_sandbox, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_it_rejects_a_code_for_another_redirect_uri(linkedin_sandbox):
    response = exchange(
        linkedin_sandbox, authorize(linkedin_sandbox), redirect_uri="http://localhost/x"
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_it_exchanges_a_pkce_code_only_with_its_verifier(linkedin_sandbox):
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    code = authorize(linkedin_sandbox, code_challenge=challenge, code_challenge_method="S256")
    for wrong in ({}, {"code_verifier": secrets.token_urlsafe(48)}, {"code_verifier": challenge}):
        response = exchange(linkedin_sandbox, code, **wrong)
        assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    response = exchange(linkedin_sandbox, code, code_verifier=verifier)
    assert response.status_code == 200 and response.json()["access_token"]


@pytest.mark.parametrize("method", [{}, {"code_challenge_method": "plain"}])
def test_it_refuses_a_pkce_challenge_other_than_s256(linkedin_sandbox, method):
    params = auth_params(
        linkedin_sandbox, sandbox_member=MAYA, sandbox_auto="approve", code_challenge="x" * 43
    )
    response = get(f"{linkedin_sandbox.oauth_base_url}/v2/authorization", params=params | method)
    query = redirect_query(response)
    assert query["error"] == "invalid_request" and "S256" in query["error_description"]
    assert "code" not in query


def test_it_rejects_a_wrong_client_secret(linkedin_sandbox):
    code = authorize(linkedin_sandbox)
    response = exchange(linkedin_sandbox, code, client_secret="guess")
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed",
    }  # noqa: E501
    # LinkedIn wants the secret in the body: HTTP Basic alone does not authenticate.
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    basic = (linkedin_sandbox.client_id, linkedin_sandbox.client_secret)
    response = post(f"{linkedin_sandbox.oauth_base_url}/v2/accessToken", data=data, auth=basic)
    assert response.status_code == 401
    assert exchange(linkedin_sandbox, code).status_code == 200  # the code survived both


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "authorization_code", "code": ""}, "invalid_request"),
    ],
)
def test_it_rejects_malformed_token_requests(linkedin_sandbox, body, error):
    data = {
        "client_id": linkedin_sandbox.client_id,
        "client_secret": linkedin_sandbox.client_secret,
    }
    response = post(f"{linkedin_sandbox.oauth_base_url}/v2/accessToken", data={**data, **body})
    assert response.status_code == 400 and response.json()["error"] == error


def test_it_requires_a_form_encoded_token_request(linkedin_sandbox):
    payload = {"grant_type": "authorization_code", "code": authorize(linkedin_sandbox)}
    response = post(f"{linkedin_sandbox.oauth_base_url}/v2/accessToken", json=payload)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_it_refuses_the_refresh_grant_to_ordinary_apps(linkedin_sandbox):
    data = {
        "grant_type": "refresh_token",
        "refresh_token": "AQanything",
        "client_id": linkedin_sandbox.client_id,
        "client_secret": linkedin_sandbox.client_secret,
    }
    response = post(f"{linkedin_sandbox.oauth_base_url}/v2/accessToken", data=data)
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


def test_it_refreshes_without_extending_the_refresh_token(partner_sandbox):
    first = sign_in(partner_sandbox)
    assert first["refresh_token_expires_in"] == 31_536_000
    partner_sandbox.advance_clock(10 * 86400)
    data = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": partner_sandbox.client_id,
        "client_secret": partner_sandbox.client_secret,
    }
    refreshed = post(f"{partner_sandbox.oauth_base_url}/v2/accessToken", data=data).json()
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["expires_in"] == 5_184_000
    assert refreshed["refresh_token"] == first["refresh_token"]
    assert (
        31_536_000 - 10 * 86400 - 2
        <= refreshed["refresh_token_expires_in"]
        <= 31_536_000 - 10 * 86400
    )  # noqa: E501
    partner_sandbox.advance_clock(356 * 86400)  # past the original 365 days
    expired = post(f"{partner_sandbox.oauth_base_url}/v2/accessToken", data=data)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"


def test_it_introspects_active_and_expired_tokens(linkedin_sandbox):
    token = sign_in(linkedin_sandbox)["access_token"]
    url = f"{linkedin_sandbox.oauth_base_url}/v2/introspectToken"
    creds = {
        "client_id": linkedin_sandbox.client_id,
        "client_secret": linkedin_sandbox.client_secret,
    }
    active = post(url, data={**creds, "token": token}).json()
    assert active["active"] is True and active["status"] == "active" and active["auth_type"] == "3L"
    assert active["expires_at"] - active["created_at"] == 5_184_000
    assert active["client_id"] == linkedin_sandbox.client_id
    assert active["scope"] == "openid,profile,email,w_member_social"
    assert post(url, data={**creds, "token": "AQunknown"}).json() == {
        "active": False,
        "status": "revoked",
    }  # noqa: E501
    assert post(url, data={**creds, "client_secret": "x", "token": token}).status_code == 401
    linkedin_sandbox.advance_clock(5_184_000)
    assert post(url, data={**creds, "token": token}).json() == {
        "active": False,
        "status": "expired",
    }


def test_it_answers_userinfo_for_bad_tokens_with_401(linkedin_sandbox):
    url = f"{linkedin_sandbox.api_base_url}/v2/userinfo"
    response = get(url, headers={"Authorization": "Bearer AQnot-a-token"})
    assert response.status_code == 401
    assert response.json() == {
        "serviceErrorCode": 65600,
        "message": "Invalid access token",
        "status": 401,
    }  # noqa: E501
    assert get(url).status_code == 401
    token = linkedin_sandbox.issue_token(MAYA)
    linkedin_sandbox.expire_token(MAYA)
    assert (
        get(url, headers={"Authorization": f"Bearer {token}"}).json()["serviceErrorCode"] == 65602
    )


# -- Messages API ------------------------------------------------------------------------------


def test_it_accepts_and_records_a_message(linkedin_sandbox):
    token = sign_in(linkedin_sandbox)["access_token"]
    response = send(linkedin_sandbox, token, **{"X-Idempotency-Key": "msg-1"})
    assert response.status_code == 201 and response.content == b""
    [message] = linkedin_sandbox.sent_messages()
    assert response.headers["x-restli-id"] == message["id"]
    assert message["id"].startswith("urn:li:messagingMessage:")
    assert message["sender_sub"] == MAYA and message["recipients"] == ["urn:li:person:Zx81"]
    assert (message["subject"], message["idempotency_key"]) == ("Hello", "msg-1")
    assert message["body"] == "Hi Ada, good to meet you." and message["received_at"].endswith(
        "+00:00"
    )


def test_it_requires_the_restli_protocol_header(linkedin_sandbox):
    token = linkedin_sandbox.issue_token(MAYA)
    response = send(linkedin_sandbox, token, **{"X-Restli-Protocol-Version": ""})
    assert response.status_code == 400 and response.json()["status"] == 400
    assert linkedin_sandbox.sent_messages() == []


VALID = {"recipients": ["urn:li:person:a1"], "body": "Hi", "messageType": "MEMBER_TO_MEMBER"}


@pytest.mark.parametrize(
    "payload",
    [
        {**VALID, "recipients": []},
        {**VALID, "recipients": "urn:li:person:a1"},
        {**VALID, "recipients": ["https://www.linkedin.com/in/ada"]},
        {**VALID, "recipients": [42]},
        {**VALID, "body": ""},
        {**VALID, "body": "x" * 8001},
        {**VALID, "body": None},
        {**VALID, "subject": 7},
        {**VALID, "messageType": "INMAIL"},
        {k: v for k, v in VALID.items() if k != "messageType"},
        ["not", "an", "object"],
    ],
)
def test_it_rejects_malformed_messages(linkedin_sandbox, payload):
    response = send(linkedin_sandbox, linkedin_sandbox.issue_token(MAYA), payload)
    assert response.status_code == 400
    assert set(response.json()) == {"message", "serviceErrorCode", "status"}
    assert linkedin_sandbox.sent_messages() == []


def test_it_accepts_a_body_of_exactly_8000_characters(linkedin_sandbox):
    response = send(
        linkedin_sandbox, linkedin_sandbox.issue_token(MAYA), {**VALID, "body": "x" * 8000}
    )
    assert response.status_code == 201


def test_it_rejects_invalid_json(linkedin_sandbox):
    headers = {
        "Authorization": f"Bearer {linkedin_sandbox.issue_token(MAYA)}",
        "X-Restli-Protocol-Version": "2.0.0",
        "Content-Type": "application/json",
    }
    response = post(f"{linkedin_sandbox.api_base_url}/v2/messages", data=b"{nope", headers=headers)
    assert response.status_code == 400


def test_it_refuses_unreachable_recipients(linkedin_sandbox):
    token = linkedin_sandbox.issue_token(MAYA)
    linkedin_sandbox.unreachable.add("farAway9")
    for urn in ("urn:li:person:unknown-17", "urn:li:person:farAway9"):
        response = send(linkedin_sandbox, token, {**VALID, "recipients": [urn]})
        assert response.status_code == 422 and urn in response.json()["message"]
    assert linkedin_sandbox.sent_messages() == []


def test_it_requires_the_messaging_scope(linkedin_sandbox):
    token = sign_in(linkedin_sandbox, scope="openid profile email")["access_token"]
    response = send(linkedin_sandbox, token)
    assert response.status_code == 403 and response.json()["serviceErrorCode"] == 100


@pytest.mark.parametrize("authorization", ["", "Bearer AQforged", "Basic dXNlcjpwdw=="])
def test_it_refuses_bad_tokens(linkedin_sandbox, authorization):
    response = send(linkedin_sandbox, "x", Authorization=authorization)
    assert response.status_code == 401 and response.json()["status"] == 401


def test_it_refuses_expired_and_revoked_tokens(linkedin_sandbox):
    expired, revoked = linkedin_sandbox.issue_token(MAYA), linkedin_sandbox.issue_token(MAYA)
    linkedin_sandbox.expire_token(expired)
    linkedin_sandbox.expire_token(revoked, status="revoked")
    assert send(linkedin_sandbox, expired).json()["serviceErrorCode"] == 65602
    assert send(linkedin_sandbox, revoked).json()["serviceErrorCode"] == 65601


def test_it_throttles_each_member_per_utc_day(sandbox_signing_key):
    with LinkedInSandbox(daily_limit=3, signing_key=sandbox_signing_key) as sandbox:
        # Start at midday UTC so the run cannot straddle the midnight reset.
        sandbox.advance_clock((12 * 3600 - sandbox.now() % 86400) % 86400)
        maya, kenji = sandbox.issue_token(MAYA), sandbox.issue_token("sbx-kenji-watanabe")
        assert [send(sandbox, maya).status_code for _ in range(4)] == [201, 201, 201, 429]
        assert send(sandbox, kenji).status_code == 201  # the limit is per member
        assert send(sandbox, maya).json()["status"] == 429
        sandbox.advance_clock(86400)
        assert send(sandbox, maya).status_code == 201
        assert len(sandbox.sent_messages()) == 5


def test_it_records_concurrent_sends_exactly_once(linkedin_sandbox):
    tokens = [linkedin_sandbox.issue_token(sub) for sub in linkedin_sandbox.members]
    statuses: list[int] = []

    def worker(number: int, token: str) -> None:
        with requests.Session() as session:
            headers = {"Authorization": f"Bearer {token}", "X-Restli-Protocol-Version": "2.0.0"}
            for i in range(50):
                payload = {**VALID, "body": f"worker {number} message {i}"}
                url = f"{linkedin_sandbox.api_base_url}/v2/messages"
                statuses.append(
                    session.post(url, json=payload, headers=headers, timeout=10).status_code
                )

    threads = [threading.Thread(target=worker, args=(n, t)) for n, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 200
    messages = linkedin_sandbox.sent_messages()
    assert sorted(m["body"] for m in messages) == sorted(
        f"worker {n} message {i}" for n in range(4) for i in range(50)
    )
    assert len({m["id"] for m in messages}) == 200


# -- faults and the control API ----------------------------------------------------------------


def test_it_serves_the_control_api(linkedin_sandbox):
    base = linkedin_sandbox.base_url
    token = linkedin_sandbox.issue_token(MAYA)
    assert get(f"{base}/sandbox/health").json() == {"status": "ok"}
    members = get(f"{base}/sandbox/members").json()
    assert {
        "sub": MAYA,
        "name": "Maya Okafor",
        "email": "maya.okafor@example.com",
        "urn": f"urn:li:person:{MAYA}",
    } in members  # noqa: E501
    send(linkedin_sandbox, token)
    assert [m["sender_sub"] for m in get(f"{base}/sandbox/messages").json()] == [MAYA]

    faults = {
        "faults": [{"status": 503}, {"status": 429, "retry_after": 30}],
        "path": "/v2/messages",
    }
    assert post(f"{base}/sandbox/faults", json=faults).json() == {"queued": 2, "pending": 2}
    assert [f["status"] for f in get(f"{base}/sandbox/faults").json()] == [503, 429]
    assert send(linkedin_sandbox, token).status_code == 503
    throttled = send(linkedin_sandbox, token)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "30"
    assert set(throttled.json()) == {"message", "serviceErrorCode", "status"}
    assert send(linkedin_sandbox, token).status_code == 201
    post(f"{base}/sandbox/faults", json={"faults": [{"status": 500}]})
    cleared = requests.delete(f"{base}/sandbox/faults", timeout=5)
    assert cleared.json() == {"cleared": 1} and send(linkedin_sandbox, token).status_code == 201

    assert post(f"{base}/sandbox/expire-token", json={"sub": MAYA}).json() == {"changed": 1}
    assert send(linkedin_sandbox, token).status_code == 401
    assert post(f"{base}/sandbox/expire-token", json={}).status_code == 400
    assert post(f"{base}/sandbox/reset").status_code == 200
    assert get(f"{base}/sandbox/messages").json() == []
    assert send(linkedin_sandbox, token).status_code == 401  # tokens were forgotten too


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"faults": {"status": 500}},
        {"faults": [{"status": 200}]},
        {"faults": [{"status": 500, "colour": "red"}]},
        {"faults": [{}]},
        {"faults": [{"drop": True}], "path": "/sandbox/messages"},
    ],
)
def test_it_rejects_malformed_fault_requests(linkedin_sandbox, body):
    response = post(f"{linkedin_sandbox.base_url}/sandbox/faults", json=body)
    assert response.status_code == 400
    assert linkedin_sandbox.pending_faults() == []


@pytest.mark.parametrize(("status", "recorded"), [(500, 1), (502, 1), (504, 1), (503, 0), (401, 0)])
def test_it_records_messages_only_behind_ambiguous_faults(linkedin_sandbox, status, recorded):
    linkedin_sandbox.add_faults([{"status": status}])
    response = send(linkedin_sandbox, linkedin_sandbox.issue_token(MAYA))
    assert response.status_code == status
    assert len(linkedin_sandbox.sent_messages()) == recorded


def test_it_drops_the_connection_after_reading_the_request(linkedin_sandbox):
    linkedin_sandbox.add_faults([{"drop": True}])
    with pytest.raises(requests.exceptions.ConnectionError):
        send(linkedin_sandbox, linkedin_sandbox.issue_token(MAYA))
    assert len(linkedin_sandbox.sent_messages()) == 1


def test_it_injects_faults_on_other_paths(linkedin_sandbox):
    linkedin_sandbox.add_faults([{"status": 503}], path="/v2/userinfo")
    linkedin_sandbox.add_faults([{"status": 500}], path="/oauth/v2/accessToken")
    token = linkedin_sandbox.issue_token(MAYA)
    url = f"{linkedin_sandbox.api_base_url}/v2/userinfo"
    assert get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 503
    assert send(linkedin_sandbox, token).status_code == 201  # messages were not affected
    failed = exchange(linkedin_sandbox, authorize(linkedin_sandbox))
    assert failed.status_code == 500 and failed.json()["error"] == "server_error"


def test_it_keeps_tokens_out_of_its_logs(linkedin_sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    grant = sign_in(linkedin_sandbox)
    send(linkedin_sandbox, grant["access_token"])
    assert "sandbox: POST /v2/messages -> 201" in caplog.text
    assert grant["access_token"][:40] not in caplog.text
    assert "code=" not in caplog.text


# -- the management command ----------------------------------------------------------------------


def test_it_refuses_to_run_the_sandbox_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="never run in production"):
        call_command("linkedin_sandbox", "--port", "0")


def test_it_prints_where_the_sandbox_listens(settings, monkeypatch, capsys):
    settings.DEBUG = True
    settings.LINKEDIN_CLIENT_ID = ""
    settings.LINKEDIN_CLIENT_SECRET = ""
    served: list[LinkedInSandbox] = []

    def fake_serve_forever(self: LinkedInSandbox) -> None:
        served.append(self)
        self.stop()
        raise KeyboardInterrupt

    monkeypatch.setattr(LinkedInSandbox, "serve_forever", fake_serve_forever)
    call_command("linkedin_sandbox", "--port", "0", "--partner")
    out = capsys.readouterr().out
    [sandbox] = served
    assert sandbox.partner is True
    assert f"LINKEDIN_OAUTH_BASE_URL={sandbox.base_url}/oauth" in out
    assert "LINKEDIN_CLIENT_ID=sandbox-client-id" in out
    assert "LINKEDIN_CLIENT_SECRET=sandbox-client-secret" in out
