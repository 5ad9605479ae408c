import pytest
from django.contrib.auth.models import Permission

from messaging.models import LinkedInAccount
from tests.contacts.factories import UserFactory

pytestmark = pytest.mark.django_db


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
