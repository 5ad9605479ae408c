"""/settings/api-tokens/: a staff member's own tokens, and a new one made (shown once); revoking
one has a file of its own."""

import pytest

from linkedin_crm.models import ApiToken, AuditEvent
from tests.api.conftest import TokenClient, token_client


def test_it_lists_only_ones_own_tokens(staff_client, staff_user, other_staff_user):
    token_client(staff_user, name="Mine")
    token_client(other_staff_user, name="Bob's")
    response = staff_client.get("/settings/api-tokens/")
    assert response.status_code == 200
    assert b"Mine" in response.content and b"Bob&#x27;s" not in response.content


def test_it_makes_a_token_and_shows_it_once(staff_client, staff_user):
    response = staff_client.post("/settings/api-tokens/", {"name": "Zapier", "read_only": "on"})
    assert response.status_code == 201
    raw = response.context["new_token"]
    assert raw.encode() in response.content
    token = ApiToken.objects.get()
    assert token.owner == staff_user and token.read_only and token.name == "Zapier"
    assert AuditEvent.objects.filter(action="api_token_create", via="page").count() == 1
    again = staff_client.get("/settings/api-tokens/")
    assert raw.encode() not in again.content and token.prefix.encode() in again.content
    assert TokenClient(raw).get("/api/v1/contacts/").status_code == 200


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": ""}, b"This field is required."),
        ({"name": "x", "expires_on": "2001-01-01"}, b"Choose a day after today."),
        ({"name": "x", "expires_on": "not a day"}, b"Enter a valid date."),
    ],
)
def test_it_refuses_bad_input_keeping_what_was_typed(staff_client, data, message):
    response = staff_client.post("/settings/api-tokens/", data)
    assert response.status_code == 400
    assert message in response.content
    assert not ApiToken.objects.exists()
    if data["name"]:
        assert b'value="x"' in response.content
