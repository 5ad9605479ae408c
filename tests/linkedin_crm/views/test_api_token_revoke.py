"""/settings/api-tokens/<pk>/revoke/: a staff member revokes one of their own tokens."""

from linkedin_crm.models import AuditEvent
from tests.api.conftest import token_client


def test_revoking_asks_first_and_then_revokes(staff_client, staff_user):
    client = token_client(staff_user, name="Old script")
    confirm = staff_client.get(f"/settings/api-tokens/{client.token.pk}/revoke/")
    assert confirm.status_code == 200 and b"Revoke token" in confirm.content
    client.token.refresh_from_db()
    assert client.token.revoked_at is None  # a GET changes nothing
    response = staff_client.post(f"/settings/api-tokens/{client.token.pk}/revoke/")
    assert response.status_code == 302
    client.token.refresh_from_db()
    assert client.token.revoked_at is not None
    assert client.get("/api/v1/contacts/").status_code == 401
    assert AuditEvent.objects.filter(action="api_token_revoke").count() == 1


def test_nobody_revokes_another_members_token(staff_client, other_staff_user):
    client = token_client(other_staff_user)
    response = staff_client.post(f"/settings/api-tokens/{client.token.pk}/revoke/")
    assert response.status_code == 404
    client.token.refresh_from_db()
    assert client.token.revoked_at is None
