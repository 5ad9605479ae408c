import datetime

import pytest
import time_machine

from messaging.models import Message

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def test_bulk_preview_shows_renders_skips_missing_values_and_forecast(
    staff_client, account, audience
):
    with time_machine.travel(datetime.datetime(2026, 11, 23, 8, 0, tzinfo=UTC), tick=False):
        response = staff_client.post(
            "/contacts/message/",
            {
                "selected": [p.pk for p in audience],
                "step": "preview",
                "body": "Hi {{ first_name }} at {{ company }}",
                "account": account.pk,
            },
        )
    page = response.content.decode()
    assert "2 will be queued, 2 skipped" in page
    assert "Hi Ann at Acme" in page and "Hi Ben at" in page
    assert "1 of 2 has no company" in page
    assert "do-not-contact" in page and "no way to message" in page
    assert "the last goes out on Mon 23 Nov 2026" in page
    assert not Message.objects.exists()


def test_bulk_queue_needs_confirmation_of_missing_values(staff_client, account, audience):
    data = {
        "selected": [p.pk for p in audience],
        "step": "queue",
        "body": "Hi {{ first_name }} at {{ company }}",
        "account": account.pk,
    }
    response = staff_client.post("/contacts/message/", data)
    assert "Confirm, or change the message" in response.content.decode()
    assert not Message.objects.exists()
    response = staff_client.post("/contacts/message/", {**data, "confirm_missing": "on"})
    assert response.status_code == 302
    assert sorted(Message.objects.values_list("body", flat=True)) == ["Hi Ann at Acme", "Hi Ben at"]


def test_bulk_for_all_matching_a_filter_and_never_twice(staff_client, account, audience):
    data = {
        "all_matching": "on",
        "query": "company=Acme",
        "step": "queue",
        "body": 'Hello {{ company|default:"there" }}',
        "account": account.pk,
    }
    staff_client.post("/contacts/message/", data)
    assert list(Message.objects.values_list("contact__first_name", flat=True)) == ["Ann"]
    response = staff_client.post("/contacts/message/", {**data, "step": "preview"})
    assert "already has a queued message from this sender" in response.content.decode()
    staff_client.post("/contacts/message/", data)
    assert Message.objects.count() == 1


def test_bulk_needs_a_selection(staff_client):
    response = staff_client.post("/contacts/message/", {"step": "preview"}, follow=True)
    assert "Select at least one contact to message." in response.content.decode()
    response = staff_client.post(
        "/contacts/message/", {"all_matching": "on", "query": "stage=wizard"}, follow=True
    )
    assert "The filter is not valid any more" in response.content.decode()


def test_the_contact_admin_hands_a_selection_to_the_bulk_composer(client, account, audience):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    from tests.contacts.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    ids = [audience[0].pk, audience[1].pk]
    response = client.post(
        "/admin/contacts/contact/", {"action": "message_contacts", ACTION_CHECKBOX_NAME: ids}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/contacts/message/?ids=")
    page = client.get(response["Location"]).content.decode()
    assert "Message 2 contacts" in page


def test_bulk_queues_without_confirmation_when_everyone_has_the_values(
    staff_client, account, audience
):
    data = {
        "selected": [audience[0].pk],
        "step": "queue",
        "body": "Hi {{ first_name }} at {{ company }}",
        "account": account.pk,
    }
    preview = staff_client.post("/contacts/message/", {**data, "step": "preview"}).content.decode()
    assert "Every recipient has every value the message uses." in preview
    assert staff_client.post("/contacts/message/", data).status_code == 302
    assert Message.objects.count() == 1


@time_machine.travel(datetime.datetime(2026, 12, 7, 8, 0, tzinfo=UTC), tick=False)
def test_bulk_forecast_starts_at_send_at(staff_client, account, audience):
    response = staff_client.post(
        "/contacts/message/",
        {
            "selected": [p.pk for p in audience],
            "step": "preview",
            "body": "Hi {{ first_name }}",
            "account": account.pk,
            "scheduled_for": "2027-01-16T10:00",  # a Saturday: Monday's window
        },
    )

    # Two sendable, from Monday 18 Jan 09:00, one a minute apart (no interval on this account).
    assert "the last goes out on Mon 18 Jan 2027 around 09:00." in response.content.decode()
