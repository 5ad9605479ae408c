import datetime
import logging

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from messaging import services
from messaging.models import LinkedInAccount
from tests.contacts.factories import UserFactory
from tests.messaging.factories import LinkedInAccountFactory

pytestmark = pytest.mark.django_db


def stored(account, column="access_token") -> str:
    """The column as the database holds it, bypassing the field's decryption."""
    assert column in ("access_token", "refresh_token")
    sql = f"SELECT {column} FROM messaging_linkedinaccount WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [account.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def account(staff_user):
    return LinkedInAccountFactory(owner=staff_user, refresh_token="AQX-refresh-" + "r" * 300)


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


# --- pages --------------------------------------------------------------------------------------


def test_pages_require_staff(anon_client, non_staff_client, account):
    for url in ["/linkedin-accounts/", f"/linkedin-accounts/{account.pk}/"]:
        assert anon_client.get(url).status_code == 302
        assert non_staff_client.get(url).status_code == 403


def test_another_members_account_is_not_found_unless_permitted(account, client):
    other = UserFactory(username="other", is_staff=True)
    client.force_login(other)
    assert client.get(f"/linkedin-accounts/{account.pk}/").status_code == 404
    assert client.post(f"/linkedin-accounts/{account.pk}/pause/").status_code == 404
    account.refresh_from_db()
    assert account.status == "active"
    other.user_permissions.add(Permission.objects.get(codename="manage_all_accounts"))
    other = type(other).objects.get(pk=other.pk)  # fresh permission cache
    client.force_login(other)
    assert client.get(f"/linkedin-accounts/{account.pk}/").status_code == 200


def settings_data(**overrides):
    data = {
        "network": None,
        "mode": "assisted",
        "daily_limit": "50",
        "timezone": "Europe/Berlin",
        "window_days": ["0", "1", "2", "3", "4"],
        "window_start": "09:00",
        "window_end": "17:00",
        "min_interval_seconds": "120",
        "jitter_seconds": "60",
    }
    return {**data, **overrides}


def test_settings_are_saved(account, staff_client):
    data = settings_data(network=account.network_id)
    response = staff_client.post(f"/linkedin-accounts/{account.pk}/", data)
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.daily_limit, account.timezone) == (50, "Europe/Berlin")
    assert account.window_label == "Mon, Tue, Wed, Thu, Fri 09:00–17:00 Europe/Berlin"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # Issue #13: -5 said ">= 0" while 0 said ">= 1"; one rule, one message.
        ({"daily_limit": "0"}, "The daily limit is at least 1 message."),
        ({"daily_limit": "-5"}, "The daily limit is at least 1 message."),
        ({"daily_limit": "501"}, "The daily limit is at most 500 messages."),
        ({"daily_limit": "many"}, "Enter a whole number"),
        ({"timezone": "Mars/Olympus"}, "is not a time zone"),
        ({"window_start": "18:00"}, "must end after it starts"),
        ({"window_days": []}, "This field is required"),
        ({"window_days": ["9"]}, "Select a valid choice"),
        ({"mode": "automatic"}, "needs this acknowledgement"),
        ({"mode": "turbo"}, "Select a valid choice"),
        ({"jitter_seconds": "-1"}, "greater than or equal to 0"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(account, staff_client, overrides, message):
    data = settings_data(network=account.network_id, **overrides)
    response = staff_client.post(f"/linkedin-accounts/{account.pk}/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    fresh = LinkedInAccount.objects.get()
    assert (fresh.daily_limit, fresh.timezone, fresh.mode) == (100, "UTC", "assisted")


def test_automatic_mode_needs_the_acknowledgement_once(account, staff_client):
    data = settings_data(network=account.network_id, mode="automatic", acknowledge_terms="on")
    staff_client.post(f"/linkedin-accounts/{account.pk}/", data)
    account.refresh_from_db()
    assert account.mode == "automatic" and account.automatic_acknowledged_at is not None


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


def test_actions_are_post_only(account, staff_client):
    for action in ("validate", "pause", "resume"):
        assert staff_client.get(f"/linkedin-accounts/{account.pk}/{action}/").status_code == 405


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
