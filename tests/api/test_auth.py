"""Who may use the API, and how it says no: Bearer tokens, read-only tokens, sessions with
CSRF, throttling, errors as problem+json."""

import datetime

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from linkedin_crm import api_tokens
from linkedin_crm.models import ApiToken, AuditEvent
from tests.api.conftest import TokenClient, problem, token_client
from tests.contacts.factories import ContactFactory, UserFactory


def test_it_answers_a_valid_token_as_its_owner(api, member):
    ContactFactory(first_name="Ann")
    response = api.get("/api/v1/contacts/")
    assert response.status_code == 200
    assert [c["first_name"] for c in response.json()["results"]] == ["Ann"]
    api.token.refresh_from_db()
    assert api.token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer two words"],
)
def test_it_refuses_missing_and_unknown_tokens_with_401(db, header):
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    response = client.get("/api/v1/contacts/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    problem(response)


def test_it_refuses_a_revoked_token(api, member):
    api_tokens.api_token_revoke(token=api.token, actor=member)
    response = api.get("/api/v1/contacts/")
    assert response.status_code == 401
    assert "revoked" in problem(response)["detail"]


def test_it_refuses_an_expired_token(member):
    client = token_client(member, expires_at=timezone.now() + datetime.timedelta(hours=1))
    ApiToken.objects.filter(pk=client.token.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get("/api/v1/contacts/")
    assert response.status_code == 401
    assert "expired" in problem(response)["detail"]


def test_it_refuses_the_token_of_someone_no_longer_staff(api, member):
    member.is_staff = False
    member.save()
    response = api.get("/api/v1/contacts/")
    assert response.status_code == 401
    assert "no longer an active staff member" in problem(response)["detail"]


def test_a_read_only_token_reads_but_never_writes(read_only_api):
    contact = ContactFactory(first_name="Ann")
    assert read_only_api.get(f"/api/v1/contacts/{contact.pk}/").status_code == 200
    for response in (
        read_only_api.post("/api/v1/contacts/", {"first_name": "New"}),
        read_only_api.patch(f"/api/v1/contacts/{contact.pk}/", {"first_name": "Changed"}),
        read_only_api.delete(f"/api/v1/contacts/{contact.pk}/"),
        read_only_api.post(f"/api/v1/contacts/{contact.pk}/notes/", {"body": "hi"}),
    ):
        assert response.status_code == 403
        assert "read-only" in problem(response)["detail"]
    contact.refresh_from_db()
    assert contact.first_name == "Ann" and contact.notes.count() == 0


def test_a_session_needs_the_csrf_token_to_write(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert client.get("/api/v1/contacts/").status_code == 200
    response = client.post(
        "/api/v1/contacts/", {"first_name": "New"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in problem(response)["detail"]


def test_a_signed_in_user_who_is_not_staff_is_refused(non_staff_client):
    response = non_staff_client.get("/api/v1/contacts/")
    assert response.status_code == 403
    problem(response)


def test_it_answers_unknown_paths_and_methods_as_problems(api):
    assert problem(api.get("/api/v1/nothing-here/"))["status"] == 404
    # A path with a line break in it (schemathesis found one) is a problem too, not a page.
    assert problem(api.delete("/api/v1/contacts/1/tags/%0A/"))["status"] == 404
    assert api.get("/api/v1/contacts/999999/").status_code == 404
    response = api.put("/api/v1/contacts/", {}, content_type="application/json")
    assert response.status_code == 405
    assert "PUT" in problem(response)["detail"]


def test_it_refuses_a_body_it_cannot_read(api):
    response = api.post("/api/v1/contacts/", "first_name=Ann", content_type="text/plain")
    assert response.status_code == 415
    problem(response)
    response = api.post("/api/v1/contacts/", "{not json", content_type="application/json")
    assert response.status_code == 400
    problem(response)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_it_refuses_a_body_too_large_with_413(api):
    response = api.post("/api/v1/contacts/", {"first_name": "A" * 2000})
    assert response.status_code == 413
    problem(response)


@override_settings(API_THROTTLE_READ="3/minute", API_THROTTLE_WRITE="1/minute")
def test_it_throttles_reads_and_writes_apart_per_token(api, member):
    for _ in range(3):
        assert api.get("/api/v1/contacts/").status_code == 200
    response = api.get("/api/v1/contacts/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    problem(response)
    # Writes have their own count, and another token of the same person its own.
    assert api.post("/api/v1/contacts/", {"first_name": "One"}).status_code == 201
    assert api.post("/api/v1/contacts/", {"first_name": "Two"}).status_code == 429
    assert token_client(member).get("/api/v1/contacts/").status_code == 200


def test_the_schema_and_the_docs_are_served(staff_client, api):
    schema = api.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/v1/contacts/" in schema.json()["paths"]
    docs = staff_client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"<style>" not in docs.content and b"<script>" not in docs.content
    assert b"drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs.content
    script = staff_client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and b"/api/v1/schema/" in script.content
    assert Client().get("/api/v1/docs/").status_code == 302  # to sign-in


def test_the_schema_validates(db):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_creating_and_revoking_are_audited(member):
    token, raw = api_tokens.api_token_create(owner=member, name="Zapier", read_only=True)
    assert raw.startswith("lcrm_") and token.prefix == raw[: ApiToken.PREFIX_LENGTH]
    assert token.token_hash != raw and raw not in str(ApiToken.objects.values())
    assert api_tokens.api_token_revoke(token=token, actor=member) is True
    assert api_tokens.api_token_revoke(token=token, actor=member) is False
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["api_token_create", "api_token_revoke"]


def test_a_token_is_unusable_after_revoking_even_by_the_raw_value(member):
    client = token_client(member)
    api_tokens.api_token_revoke(token=client.token, actor=member)
    assert TokenClient(client.raw).get("/api/v1/contacts/").status_code == 401


def test_it_refuses_tokens_without_a_name(member):
    with pytest.raises(ValueError, match="name"):
        api_tokens.api_token_create(owner=member, name="  ")
    assert not ApiToken.objects.exists()


def test_a_deactivated_owner_cannot_use_the_token(db):
    user = UserFactory(username="gone", is_staff=True)
    client = token_client(user)
    user.is_active = False
    user.save()
    assert client.get("/api/v1/contacts/").status_code == 401
