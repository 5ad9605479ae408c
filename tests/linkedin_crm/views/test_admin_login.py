"""The admin's sign-in goes through django-allauth, so that its limits on failed attempts hold
for the admin too: the admin's own form checked passwords without any limit."""

import pytest
from django.core.cache import cache
from django.test import Client

from tests.contacts.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fresh_limits():
    # allauth keeps its counters in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_it_sends_the_admin_to_allauths_sign_in_and_back(client):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    response = client.get("/admin/", follow=True)
    assert [url for url, _ in response.redirect_chain] == [
        "/admin/login/?next=/admin/",
        "/accounts/login/?next=/admin/",
    ]
    assert b"<h1>Sign in</h1>" in response.content
    response = client.post(
        "/accounts/login/", {"login": "root", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_it_cannot_be_used_to_try_passwords(client):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    for _ in range(3):
        response = client.post(
            "/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD}
        )
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/admin/"
        assert not signed_in(client)
    assert client.get("/admin/").status_code == 302


def test_it_stops_admin_sign_in_after_allauths_failed_attempts(client):
    # allauth's default: 5 failed attempts for one login within 5 minutes.
    UserFactory(username="root", is_staff=True, is_superuser=True)
    attempt = {"login": "root", "next": "/admin/"}
    for _ in range(5):
        response = client.post("/accounts/login/", {**attempt, "password": "wrong"})
        assert response.status_code == 200 and b"are not correct" in response.content
        assert not signed_in(client)
    response = client.post("/accounts/login/", {**attempt, "password": PASSWORD})
    assert response.status_code == 200
    assert b"Too many failed login attempts. Try again later." in response.content
    assert not signed_in(client)
    assert client.get("/admin/").status_code == 302


def test_it_sends_a_signed_in_staff_member_on(staff_client):
    response = staff_client.get("/admin/login/?next=/admin/contacts/contact/")
    assert response.status_code == 302 and response["Location"] == "/admin/contacts/contact/"


def test_it_never_sends_anyone_to_another_site(staff_client, client):
    response = staff_client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/admin/"
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_it_refuses_a_signed_in_member_who_is_not_staff(non_staff_client):
    # The sign-in page would send them straight back: a loop instead of an answer.
    response = non_staff_client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert [url for url, _ in response.redirect_chain] == ["/admin/login/?next=/admin/"]
