import pytest

from tests.messaging.stored_tokens import stored

pytestmark = pytest.mark.django_db


def test_pause_resume_and_disconnect(account, staff_client):
    staff_client.post(f"/linkedin-accounts/{account.pk}/pause/")
    account.refresh_from_db()
    assert account.status == "paused"
    staff_client.post(f"/linkedin-accounts/{account.pk}/resume/")
    account.refresh_from_db()
    assert account.status == "active"
    page = staff_client.get(f"/linkedin-accounts/{account.pk}/disconnect/").content.decode()
    assert "deletes this account's LinkedIn tokens" in page
    account.refresh_from_db()
    assert account.access_token
    staff_client.post(f"/linkedin-accounts/{account.pk}/disconnect/")
    account.refresh_from_db()
    assert account.status == "disconnected"
    assert account.access_token == "" and account.refresh_token == "" and stored(account) == ""
