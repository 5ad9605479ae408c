import pytest

from tests.messaging.factories import LinkedInAccountFactory

pytestmark = pytest.mark.django_db


def test_actions_are_post_only(account, staff_client):
    for action in ("validate", "pause", "resume"):
        assert staff_client.get(f"/linkedin-accounts/{account.pk}/{action}/").status_code == 405


def test_validate_now_asks_linkedin(sandbox_settings, staff_client, staff_user):
    token = sandbox_settings.issue_token("sbx-maya-okafor")
    account = LinkedInAccountFactory(owner=staff_user, access_token=token)
    response = staff_client.post(f"/linkedin-accounts/{account.pk}/validate/", follow=True)
    assert "LinkedIn accepts this account’s token." in response.content.decode()
    account.refresh_from_db()
    assert account.last_validated_at is not None and "w_member_social" in account.scopes
    sandbox_settings.expire_token("sbx-maya-okafor")
    response = staff_client.post(f"/linkedin-accounts/{account.pk}/validate/", follow=True)
    assert "LinkedIn says the token is expired." in response.content.decode()
    account.refresh_from_db()
    assert account.status == "needs_reconnect"
