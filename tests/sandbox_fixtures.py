"""Fixtures that run the LinkedIn sandbox (messaging/sandbox/) on a free local port.

def test_something(linkedin_sandbox, sandbox_client):
    token = linkedin_sandbox.issue_token("sbx-maya-okafor")
    sandbox_client.send_message(token, recipient_urn="urn:li:person:abc", body="Hi")
    assert linkedin_sandbox.sent_messages()[0]["body"] == "Hi"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from messaging.linkedin import LinkedInClient
from messaging.sandbox import LinkedInSandbox


@pytest.fixture(scope="session")
def sandbox_signing_key() -> rsa.RSAPrivateKey:
    # One RSA key for the session: generating one per sandbox would cost ~0.1 s a test.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def linkedin_sandbox(sandbox_signing_key: rsa.RSAPrivateKey) -> Iterator[LinkedInSandbox]:
    """A running sandbox (ordinary app: no refresh tokens), stopped after the test."""
    with LinkedInSandbox(port=0, signing_key=sandbox_signing_key) as sandbox:
        yield sandbox


@pytest.fixture
def partner_sandbox(sandbox_signing_key: rsa.RSAPrivateKey) -> Iterator[LinkedInSandbox]:
    """A running sandbox that acts as a LinkedIn-approved partner app (refresh tokens)."""
    with LinkedInSandbox(port=0, partner=True, signing_key=sandbox_signing_key) as sandbox:
        yield sandbox


@pytest.fixture
def make_sandbox_client() -> Iterator[Callable[..., LinkedInClient]]:
    """make_sandbox_client(sandbox, read_timeout=0.5) -> a LinkedInClient pointed at it."""
    clients: list[LinkedInClient] = []

    def make(sandbox: LinkedInSandbox, **timeouts: float) -> LinkedInClient:
        client = LinkedInClient(
            oauth_base_url=sandbox.oauth_base_url,
            api_base_url=sandbox.api_base_url,
            client_id=sandbox.client_id,
            client_secret=sandbox.client_secret,
            **{"connect_timeout": 2.0, "read_timeout": 5.0, **timeouts},
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def sandbox_client(
    linkedin_sandbox: LinkedInSandbox, make_sandbox_client: Callable[..., LinkedInClient]
) -> LinkedInClient:
    """A LinkedInClient pointed at `linkedin_sandbox`, with short timeouts."""
    return make_sandbox_client(linkedin_sandbox)


@pytest.fixture
def sandbox_settings(linkedin_sandbox: LinkedInSandbox, settings) -> LinkedInSandbox:
    """Point the app (allauth's provider and the API client) at `linkedin_sandbox`."""
    point_settings_at(settings, linkedin_sandbox)
    return linkedin_sandbox


@pytest.fixture
def partner_sandbox_settings(partner_sandbox: LinkedInSandbox, settings) -> LinkedInSandbox:
    point_settings_at(settings, partner_sandbox)
    return partner_sandbox


def point_settings_at(settings, sandbox: LinkedInSandbox) -> None:
    from linkedin_crm.settings import content_security_policy, linkedin_provider_settings

    settings.LINKEDIN_SANDBOX = True
    settings.LINKEDIN_OAUTH_BASE_URL = sandbox.oauth_base_url
    settings.LINKEDIN_API_BASE_URL = sandbox.api_base_url
    settings.LINKEDIN_CLIENT_ID = sandbox.client_id
    settings.LINKEDIN_CLIENT_SECRET = sandbox.client_secret
    settings.LINKEDIN_MESSAGING_SCOPE = "w_member_social"
    settings.SOCIALACCOUNT_PROVIDERS = linkedin_provider_settings(
        client_id=sandbox.client_id,
        secret=sandbox.client_secret,
        server_url=sandbox.oauth_base_url,
        scopes=["openid", "profile", "email", "w_member_social"],
    )
    settings.CONTENT_SECURITY_POLICY = content_security_policy(
        linkedin_oauth_base_url=sandbox.oauth_base_url
    )
