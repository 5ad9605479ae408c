"""LinkedIn accounts below the pages (tests/messaging/views/test_account_*.py test those): tokens
are encrypted at rest and shown nowhere, keys rotate, health, validation and refresh against the
sandbox, and the linkedin_accounts command."""

import datetime
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone

from messaging import services
from messaging.models import LinkedInAccount
from tests.contacts.factories import UserFactory
from tests.messaging.factories import LinkedInAccountFactory
from tests.messaging.stored_tokens import stored

pytestmark = pytest.mark.django_db


# --- tokens at rest -----------------------------------------------------------------------------


def test_the_database_holds_no_plaintext_token(account):
    for column, plaintext in (
        ("access_token", account.access_token),
        ("refresh_token", account.refresh_token),
    ):
        raw = stored(account, column)
        assert raw.startswith("gAAAAA") and plaintext not in raw
    assert LinkedInAccount.objects.get().access_token == account.access_token


def test_no_page_admin_form_log_or_error_shows_a_token(account, staff_client, client, caplog):
    caplog.set_level(logging.DEBUG)
    pages = [
        staff_client.get("/linkedin-accounts/"),
        staff_client.get(f"/linkedin-accounts/{account.pk}/"),
    ]
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    pages += [
        client.get("/admin/messaging/linkedinaccount/"),
        client.get(f"/admin/messaging/linkedinaccount/{account.pk}/change/"),
    ]
    for response in pages:
        assert response.status_code == 200
        body = response.content.decode()
        assert account.access_token not in body and account.refresh_token not in body
        assert stored(account) not in body
    assert account.access_token not in repr(account) and account.access_token not in str(account)
    assert account.access_token not in caplog.text


def test_a_wrong_key_fails_with_a_message_that_holds_no_token(account, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured) as failure:
        LinkedInAccount.objects.get()
    assert "FIELD_ENCRYPTION_KEYS" in str(failure.value)
    assert stored(account) not in str(failure.value) and account.access_token not in str(
        failure.value
    )


def test_keys_rotate_without_losing_tokens(account, settings, capsys):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    old_cipher = stored(account)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert LinkedInAccount.objects.get().access_token == account.access_token  # old key reads
    call_command("rotate_encryption_keys")
    assert "1 account under" in capsys.readouterr().out
    assert stored(account) != old_cipher
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key can go now
    rotated = LinkedInAccount.objects.get()
    assert rotated.access_token == account.access_token
    assert rotated.refresh_token == account.refresh_token


# --- health -------------------------------------------------------------------------------------


def test_health_says_what_a_person_needs_to_know(account):
    now = timezone.now()
    assert account.health(now) == ("active", "Active")
    account.access_token_expires_at = now + datetime.timedelta(days=3, hours=1)
    assert account.health(now) == ("expiring", "Expiring in 3 days")
    account.access_token_expires_at = now - datetime.timedelta(minutes=1)
    assert account.health(now)[0] == "needs_reconnect"
    account.status = "paused"
    assert account.health(now) == ("paused", "Paused")


# --- talking to LinkedIn (the sandbox, over HTTP) -----------------------------------------------


def test_validate_when_linkedin_is_unreachable_keeps_the_account(staff_user, settings):
    settings.LINKEDIN_OAUTH_BASE_URL = "http://127.0.0.1:9/oauth"
    settings.LINKEDIN_API_BASE_URL = "http://127.0.0.1:9"
    account = LinkedInAccountFactory(owner=staff_user)
    ok, text = services.account_validate(account=account)
    assert not ok and "could not be asked right now" in text
    account.refresh_from_db()
    assert account.status == "active"


def test_refresh_with_a_partner_apps_refresh_token(partner_sandbox_settings, staff_user):
    sandbox = partner_sandbox_settings
    grant = sandbox_grant(sandbox)
    now = timezone.now()
    account = LinkedInAccountFactory(
        owner=staff_user,
        access_token=grant["access_token"],
        refresh_token=grant["refresh_token"],
        access_token_expires_at=now + datetime.timedelta(days=2),
        refresh_token_expires_at=now + datetime.timedelta(days=300),
    )
    result = services.accounts_check_expiry(now=now)
    assert result == {"refreshed": 1, "needs_reconnect": 0}
    account.refresh_from_db()
    assert account.access_token != grant["access_token"]
    assert account.days_until_expiry(now) >= 59
    assert account.refresh_token_expires_at.date() == (now + datetime.timedelta(days=300)).date()


def test_without_a_refresh_token_an_expiring_account_needs_reconnect(staff_user):
    now = timezone.now()
    soon = LinkedInAccountFactory(
        owner=staff_user, access_token_expires_at=now + datetime.timedelta(days=6)
    )
    later = LinkedInAccountFactory(
        owner=staff_user, access_token_expires_at=now + datetime.timedelta(days=30)
    )
    assert services.accounts_check_expiry(now=now) == {"refreshed": 0, "needs_reconnect": 1}
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.status == "needs_reconnect" and later.status == "active"


def test_a_refused_refresh_token_means_reconnect(partner_sandbox_settings, staff_user):
    account = LinkedInAccountFactory(owner=staff_user, refresh_token="not-a-real-refresh-token")
    assert services.account_refresh(account=account) is False
    account.refresh_from_db()
    assert account.status == "needs_reconnect"


def test_the_linkedin_accounts_command(sandbox_settings, staff_user, capsys):
    call_command("linkedin_accounts")
    assert "No LinkedIn accounts" in capsys.readouterr().out
    token = sandbox_settings.issue_token("sbx-maya-okafor")
    LinkedInAccountFactory(owner=staff_user, display_name="Maya", access_token=token)
    call_command("linkedin_accounts", "--validate")
    out = capsys.readouterr().out
    assert "Maya" in out and "valid: LinkedIn accepts" in out and token not in out


def sandbox_grant(sandbox) -> dict:
    """An authorization-code grant from the sandbox, the way LinkedIn gives one."""
    import requests

    location = requests.get(
        f"{sandbox.oauth_base_url}/v2/authorization",
        params={
            "response_type": "code",
            "client_id": sandbox.client_id,
            "redirect_uri": "http://localhost/cb",
            "state": "s",
            "scope": "openid profile email w_member_social",
            "sandbox_member": "sbx-maya-okafor",
            "sandbox_auto": "approve",
        },
        allow_redirects=False,
        timeout=5,
    ).headers["Location"]
    code = location.split("code=")[1].split("&")[0]
    return requests.post(
        f"{sandbox.oauth_base_url}/v2/accessToken",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://localhost/cb",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
        timeout=5,
    ).json()
