import datetime

import pytest
import time_machine

from contacts.models import Contact
from messaging.models import Message, MessageTemplate
from tests.contacts.factories import ConnectionFactory, ContactFactory, NetworkFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


@pytest.fixture
def account(staff_user):
    return LinkedInAccountFactory(
        owner=staff_user, display_name="Alice Archer", min_interval_seconds=0
    )


@pytest.fixture
def contact(account):
    contact = ContactFactory(first_name="Zoë", last_name="Müller", company="Nordlicht GmbH")
    ConnectionFactory(
        contact=contact, network=account.network, connected_on=datetime.date(2024, 3, 1)
    )
    return contact


# --- composing one message ----------


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


# --- bulk ----------


@pytest.fixture
def audience(account):
    people = [
        ContactFactory(first_name="Ann", company="Acme"),
        ContactFactory(first_name="Ben", company=""),
        ContactFactory(first_name="Cat", company="Acme", do_not_contact=True),
        ContactFactory(first_name="Dan", company="Acme", profile_url=None, member_urn=""),
    ]
    for person in people:
        ConnectionFactory(contact=person, network=account.network)
    return people


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


# --- the Outbox ----------


@pytest.fixture
def released(account, contact):
    return MessageFactory(account=account, contact=contact, status="released", body="Hi Zoë")


def test_outbox_lists_released_messages_of_my_accounts(staff_client, released):
    MessageFactory(status="released", body="Someone else's outbox")
    page = staff_client.get("/outbox/").content.decode()
    assert "Hi Zoë" in page and "Someone else" not in page
    assert "Copy and open LinkedIn profile" in page and "I sent it" in page


def test_editing_changes_only_that_message(staff_client, released, account):
    other = MessageFactory(account=account, status="released", body="Other")
    staff_client.post(f"/outbox/{released.pk}/edit/", {"body": "Hi Zoë, edited"})
    released.refresh_from_db()
    other.refresh_from_db()
    assert released.body == "Hi Zoë, edited" and other.body == "Other"
    response = staff_client.post(f"/outbox/{released.pk}/edit/", {"body": "  "})
    assert response.status_code == 400
    assert "A message cannot be empty." in response.content.decode()
    released.refresh_from_db()
    assert released.body == "Hi Zoë, edited"


def test_i_sent_it_and_skip(staff_client, released, account):
    staff_client.post(f"/outbox/{released.pk}/sent/")
    released.refresh_from_db()
    assert (released.status, released.channel) == ("sent", "manual") and released.sent_at
    skipped = MessageFactory(account=account, status="released")
    staff_client.post(f"/outbox/{skipped.pk}/skip/")
    skipped.refresh_from_db()
    assert skipped.status == "cancelled"
    response = staff_client.post(f"/outbox/{released.pk}/sent/", follow=True)
    assert "no longer in the Outbox" in response.content.decode()


def test_send_via_linkedin_from_the_outbox(sandbox_settings, staff_client, staff_user):
    token = sandbox_settings.issue_token("sbx-maya-okafor")
    account = LinkedInAccountFactory(
        owner=staff_user, access_token=token, scopes=["openid", "w_member_social"]
    )
    message = MessageFactory(account=account, status="released", body="Via the API")
    page = staff_client.get("/outbox/").content.decode()
    assert "Send via LinkedIn" in page
    response = staff_client.post(f"/outbox/{message.pk}/send/", follow=True)
    assert f"Sent to {message.contact}." in response.content.decode()
    message.refresh_from_db()
    assert message.status == "sent" and message.channel == "api"
    assert [m["body"] for m in sandbox_settings.sent_messages()] == ["Via the API"]
    # Every status change has its event: the claim from the Outbox too.
    assert [(e.status, e.actor) for e in message.events.all()] == [
        ("sending", staff_user),
        ("sent", staff_user),
    ]
    account.refresh_from_db()
    assert account.last_sent_at == message.sent_at


def test_outbox_send_respects_the_cap(sandbox_settings, staff_client, staff_user):
    token = sandbox_settings.issue_token("sbx-maya-okafor")
    account = LinkedInAccountFactory(
        owner=staff_user, access_token=token, scopes=["w_member_social"], daily_limit=1
    )
    from django.utils import timezone

    MessageFactory(account=account, status="sent", claimed_at=timezone.now())
    message = MessageFactory(account=account, status="released")
    response = staff_client.post(f"/outbox/{message.pk}/send/", follow=True)
    assert "has used today’s 1 messages" in response.content.decode()
    message.refresh_from_db()
    assert message.status == "released"
    assert sandbox_settings.sent_messages() == []


# --- the message list and page ----------


def test_message_list_filters_and_shows_counts(staff_client, account):
    MessageFactory(account=account, status="sent", body="Sent one")
    MessageFactory(account=account, status="queued", body="Queued one")
    MessageFactory(status="queued", body="Not mine")
    page = staff_client.get("/messages/", {"status": "sent"}).content.decode()
    assert "Sent one" in page and "Queued one" not in page and "Not mine" not in page
    assert "Sent: 1" in page and "Queued: 1" in page
    bad = staff_client.get("/messages/", {"status": "wizard", "created_after": "nope"})
    assert bad.status_code == 200 and "not valid" in bad.content.decode()


def test_cancel_and_resolve_uncertain(staff_client, account):
    queued = MessageFactory(account=account)
    staff_client.post(f"/messages/{queued.pk}/cancel/")
    queued.refresh_from_db()
    assert queued.status == "cancelled"
    response = staff_client.post(f"/messages/{queued.pk}/cancel/", follow=True)
    assert "Only a queued or Outbox message can be cancelled." in response.content.decode()

    uncertain = MessageFactory(account=account, status="uncertain", last_error="read timeout")
    page = staff_client.get(f"/messages/{uncertain.pk}/").content.decode()
    assert "Was it sent?" in page
    staff_client.post(f"/messages/{uncertain.pk}/resolve/", {"outcome": "requeue"})
    uncertain.refresh_from_db()
    assert uncertain.status == "queued"
    other = MessageFactory(account=account, status="uncertain")
    staff_client.post(f"/messages/{other.pk}/resolve/", {"outcome": "sent"})
    other.refresh_from_db()
    assert other.status == "sent"
    response = staff_client.post(f"/messages/{other.pk}/resolve/", {"outcome": "boom"}, follow=True)
    assert "Choose whether it was sent" in response.content.decode()


def test_another_members_message_is_not_found(staff_client):
    foreign = MessageFactory()
    assert staff_client.get(f"/messages/{foreign.pk}/").status_code == 404
    assert staff_client.post(f"/messages/{foreign.pk}/cancel/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == "queued"


# --- templates ----------


def test_template_crud_with_linting(staff_client):
    response = staff_client.post(
        "/messages/templates/new/", {"name": "Bad", "body": "Hi {{ frist_name }}"}
    )
    assert "frist_name" in response.content.decode() and not MessageTemplate.objects.exists()
    response = staff_client.post(
        "/messages/templates/new/", {"name": "Big", "body": "{{ company" + '|join:"xx"' * 17 + "}}"}
    )
    assert "“join” is not available" in response.content.decode()
    assert not MessageTemplate.objects.exists()
    staff_client.post("/messages/templates/new/", {"name": "Intro", "body": "Hi {{ first_name }}"})
    template = MessageTemplate.objects.get()
    staff_client.post(
        f"/messages/templates/{template.pk}/", {"name": "Intro", "body": "Hello {{ first_name }}"}
    )
    template.refresh_from_db()
    assert template.body == "Hello {{ first_name }}"
    assert (
        "Delete “Intro”?"
        in staff_client.get(f"/messages/templates/{template.pk}/delete/").content.decode()
    )
    staff_client.post(f"/messages/templates/{template.pk}/delete/")
    assert not MessageTemplate.objects.exists()
    assert Contact.objects.count() == 0


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


def test_the_outbox_never_offers_a_message_to_someone_now_do_not_contact(
    sandbox_settings, staff_client, staff_user
):
    """Marked do-not-contact after the message reached the Outbox: the Outbox takes it out and
    says so, Send refuses it even from a page opened before, and the tick sweeps the rest."""
    token = sandbox_settings.issue_token("sbx-maya-okafor")
    account = LinkedInAccountFactory(
        owner=staff_user, access_token=token, scopes=["openid", "w_member_social"]
    )
    shown = MessageFactory(account=account, status="released", body="Hello Ann")
    stale = MessageFactory(account=account, status="released", body="Hello Ben")
    swept = MessageFactory(account=account, status="released", body="Hello Cat")
    keep = MessageFactory(account=account, status="released", body="Hello Dan")

    stale.contact.mark_do_not_contact("asked on the phone")
    response = staff_client.post(f"/outbox/{stale.pk}/send/", follow=True)
    assert "is marked do-not-contact: the message was cancelled." in response.content.decode()
    assert sandbox_settings.sent_messages() == []

    shown.contact.mark_do_not_contact("replied: please stop")
    page = staff_client.get("/outbox/").content.decode()
    assert "1 message is hidden from the Outbox: its contact has been marked" in page
    assert "Hello Ann" not in page and "Hello Dan" in page
    shown.refresh_from_db()
    assert shown.status == "released"  # the page only read

    swept.contact.mark_do_not_contact("unsubscribed")
    from messaging.dispatch import dispatch_tick

    assert dispatch_tick(client=None).cancelled == 2
    for message in (shown, stale, swept, keep):
        message.refresh_from_db()
    assert [m.status for m in (shown, stale, swept, keep)] == [
        "cancelled",
        "cancelled",
        "cancelled",
        "released",
    ]
    assert list(shown.events.values_list("status", "note")) == [
        ("cancelled", "The contact is marked do-not-contact.")
    ]


def test_message_list_caps_a_long_contact_search_and_says_so(staff_client, account):
    ann = ContactFactory(first_name="Ann", last_name="Lee")
    MessageFactory(account=account, contact=ann, body="To Ann")
    # A made-up name could hold "ann" (Joanne, Hanna): this one cannot.
    bo = ContactFactory(first_name="Bo", last_name="Yu", company="Tech Co", position="Chef")
    MessageFactory(account=account, contact=bo, body="To someone else")
    response = staff_client.get("/messages/", {"contact": "ann " * 10 + "zzz " * 1490})
    assert response.status_code == 200
    page = response.content.decode()
    assert "To Ann" in page and "To someone else" not in page
    assert "Contact: searched for the first 10 words only." in page
