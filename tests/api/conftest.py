"""API clients: Django's test client sending `Authorization: Bearer <token>` for a real token
made through linkedin_crm.api_tokens, as a script would."""

import pytest
from django.test import Client

from linkedin_crm import api_tokens
from tests.contacts.factories import UserFactory, give_role


class TokenClient(Client):
    """A client whose every request carries the token; JSON bodies by default."""

    def __init__(self, raw: str, **defaults):
        super().__init__(HTTP_AUTHORIZATION=f"Bearer {raw}", **defaults)
        self.raw = raw

    def post(self, path, data=None, content_type="application/json", **extra):
        return super().post(path, data, content_type=content_type, **extra)

    def patch(self, path, data=None, content_type="application/json", **extra):
        return super().patch(path, data, content_type=content_type, **extra)


def token_client(user, **options) -> TokenClient:
    token, raw = api_tokens.api_token_create(
        owner=user, name=options.pop("name", "test"), **options
    )
    client = TokenClient(raw)
    client.token = token
    return client


@pytest.fixture
def member(db):
    return give_role(UserFactory(username="mia", is_staff=True), "Member")


@pytest.fixture
def other_member(db):
    return give_role(UserFactory(username="otto", is_staff=True), "Member")


@pytest.fixture
def manager(db):
    return give_role(UserFactory(username="mara", is_staff=True), "Manager")


@pytest.fixture
def admin(db):
    return give_role(UserFactory(username="ada", is_staff=True), "Admin")


@pytest.fixture
def api(member):
    """A Member's read-and-write token."""
    return token_client(member)


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def admin_api(admin):
    return token_client(admin)


@pytest.fixture
def read_only_api(member):
    return token_client(member, read_only=True, name="read-only")


def problem(response) -> dict:
    """The RFC 9457 body of an error, checked to be one."""
    assert response["Content-Type"] == "application/problem+json", response.content[:300]
    body = response.json()
    assert body["status"] == response.status_code
    assert body["title"] and body["detail"]
    return body
