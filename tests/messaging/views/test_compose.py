import datetime

import pytest
import time_machine

from messaging.models import Message, MessageTemplate
from tests.contacts.factories import NetworkFactory
from tests.messaging.factories import LinkedInAccountFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


def test_compose_previews_then_queues_the_rendered_text(staff_client, account, contact):
    url = f"/contacts/{contact.pk}/message/"
    body = "Hi {{ first_name }}, greetings to {{ company }} from {{ sender_first_name }}!"
    response = staff_client.post(url, {"body": body, "account": account.pk, "action": "preview"})
    page = response.content.decode()
    assert "Hi Zoë, greetings to Nordlicht GmbH from Alice!" in page
    assert "Forecast:" in page and not Message.objects.exists()
    response = staff_client.post(url, {"body": body, "account": account.pk, "action": "queue"})
    message = Message.objects.get()
    assert response["Location"] == f"/messages/{message.pk}/"
    assert message.body == "Hi Zoë, greetings to Nordlicht GmbH from Alice!"
    assert (message.status, message.account, message.contact) == ("queued", account, contact)


def test_a_queued_message_shows_when_the_sender_and_contact_connected(
    staff_client, account, contact
):
    body = "Hi {{ first_name }}, we connected on {{ connected_on }}."
    url = f"/contacts/{contact.pk}/message/"
    staff_client.post(url, {"body": body, "account": account.pk, "action": "queue"})
    assert Message.objects.get().body == "Hi Zoë, we connected on 01 Mar 2024."


def test_compose_from_a_template_and_scheduled(staff_client, account, contact):
    template = MessageTemplate.objects.create(name="Intro", body="Hello {{ first_name }}")
    when = "2030-01-02T10:30"
    staff_client.post(
        f"/contacts/{contact.pk}/message/",
        {
            "template": template.pk,
            "body": "",
            "account": account.pk,
            "scheduled_for": when,
            "action": "queue",
        },
    )
    message = Message.objects.get()
    assert message.body == "Hello Zoë"
    assert message.next_attempt_at == datetime.datetime(2030, 1, 2, 10, 30, tzinfo=UTC)


@time_machine.travel(datetime.datetime(2026, 12, 7, 8, 0, tzinfo=UTC), tick=False)
def test_compose_forecasts_a_scheduled_message_for_its_send_at(staff_client, account, contact):
    """Issue #13: with "Send at" 15 Jan 2027 the page said it goes out Mon 07 Dec."""
    data = {"body": "Hi", "account": account.pk, "scheduled_for": "2027-01-15T10:00"}
    url = f"/contacts/{contact.pk}/message/"

    preview = staff_client.post(url, {**data, "action": "preview"}).content.decode()
    queued = staff_client.post(url, {**data, "action": "queue"}, follow=True).content.decode()

    assert "it goes out on Fri 15 Jan 2027 around 10:00." in preview
    assert "Queued: 1 message;" in queued and "on Fri 15 Jan 2027 around 10:00." in queued


def test_compose_warns_when_the_sender_is_not_connected(staff_client, staff_user, contact):
    stranger = LinkedInAccountFactory(
        owner=staff_user, display_name="Other account", network=NetworkFactory(owner=staff_user)
    )
    response = staff_client.post(
        f"/contacts/{contact.pk}/message/",
        {"body": "Hi", "account": stranger.pk, "action": "preview"},
    )
    assert "only between first-degree connections" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": "Hi {{ frist_name }}"}, "frist_name"),
        ({"body": "{% load static %}Hi"}, "load"),
        ({"body": "{% for x in y %}{% endfor %}"}, "not allowed"),
        # A security finding: a 168-character body that took a worker to 595 MB.
        ({"body": "Hi {{ first_name" + '|join:"xx"' * 15 + "}}"}, "“join” is not available"),
        ({"body": ""}, "Write a message or pick a template."),
        ({"body": "x" * 8001}, "8000"),
        ({"body": "Hi", "scheduled_for": "2001-01-01T10:00"}, "That time has passed."),
        ({"body": "Hi", "scheduled_for": "tomorrow"}, "Enter a valid date/time."),
    ],
)
def test_compose_refuses_bad_input_and_queues_nothing(
    staff_client, account, contact, data, message
):
    response = staff_client.post(
        f"/contacts/{contact.pk}/message/", {"account": account.pk, "action": "queue", **data}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Message.objects.exists()


def test_compose_refuses_another_members_account(staff_client, contact):
    foreign = LinkedInAccountFactory()
    response = staff_client.post(
        f"/contacts/{contact.pk}/message/", {"body": "Hi", "account": foreign.pk, "action": "queue"}
    )
    assert response.status_code == 403
    assert "That LinkedIn account is another member&#x27;s" in response.content.decode()
    assert not Message.objects.exists()


def test_compose_skips_a_do_not_contact_person(staff_client, account, contact):
    contact.mark_do_not_contact("asked")
    response = staff_client.post(
        f"/contacts/{contact.pk}/message/",
        {"body": "Hi there", "account": account.pk, "action": "queue"},
    )
    page = response.content.decode()
    assert "Cannot be queued: do-not-contact." in page
    assert "Hi there</textarea>" in page and "Queue message" not in page
    assert not Message.objects.exists()
