"""The composer's live preview: what the contact will get, the linter's findings and every reason
the queue would refuse the message, before anything is queued; it writes nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging import skip_reasons
from messaging.models import Message, MessageTemplate
from tests.contacts.factories import NetworkFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

pytestmark = pytest.mark.django_db


def preview(client, contact, **data):
    return client.post(f"/contacts/{contact.pk}/message/preview/", data)


def test_it_renders_the_text_the_findings_and_offers_to_queue(staff_client, account, contact):
    response = preview(
        staff_client,
        contact,
        body="Hi {{ first_name }}, from {{ sender_first_name }}",
        account=account.pk,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert '<div class="message-preview" id="preview">Hi Zoë, from Alice</div>' in page
    assert "Every recipient has every value the message uses." in page
    assert "Forecast:" in page and 'value="queue">Queue message</button>' in page


def test_it_reports_a_missing_value_as_the_linter_does(staff_client, account, contact):
    contact.company = ""
    contact.save()
    page = preview(
        staff_client, contact, body="Hi, how is {{ company }}?", account=account.pk
    ).content.decode()
    assert "1 of 1 has no company: they would get the text without it." in page


def test_it_writes_nothing(staff_client, account, contact):
    with CaptureQueriesContext(connection) as queries:
        response = preview(staff_client, contact, body="Hi {{ first_name }}", account=account.pk)
    assert response.status_code == 200
    writes = [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]
    assert writes == []
    assert not Message.objects.exists()


def test_a_get_is_not_a_preview(staff_client, contact):
    assert staff_client.get(f"/contacts/{contact.pk}/message/preview/").status_code == 405


def _do_not_contact(contact, account):
    contact.mark_do_not_contact("asked")


def _no_way_to_message(contact, account):
    contact.profile_url = None
    contact.member_urn = ""
    contact.save()


def _already_queued(contact, account):
    MessageFactory(contact=contact, account=account, status="queued")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_do_not_contact, skip_reasons.DO_NOT_CONTACT),
        (_no_way_to_message, skip_reasons.NO_WAY_TO_MESSAGE_DETAILED),
        (_already_queued, skip_reasons.OPEN_FROM_SENDER),
    ],
)
def test_it_says_why_the_queue_would_refuse_and_offers_no_queue_button(
    staff_client, account, contact, make, reason
):
    """Defect 6: the reason is shown before queueing, in the queue's own words, and the page
    never offers to queue what the queue refuses; pressing Queue anyway keeps the text."""
    make(contact, account)
    before = Message.objects.count()
    page = preview(staff_client, contact, body="Hi there", account=account.pk).content.decode()
    assert f"Cannot be queued: {reason}." in page
    assert "Queue message" not in page and "Forecast:" not in page
    response = staff_client.post(
        f"/contacts/{contact.pk}/message/",
        {"body": "Hi there", "account": account.pk, "action": "queue"},
    )
    assert response.status_code == 200
    assert f"Cannot be queued: {reason}." in response.content.decode()
    assert "Hi there</textarea>" in response.content.decode()
    assert Message.objects.count() == before


def test_it_warns_when_the_sender_is_not_connected(staff_client, staff_user, contact):
    stranger = LinkedInAccountFactory(owner=staff_user, network=NetworkFactory(owner=staff_user))
    page = preview(staff_client, contact, body="Hi", account=stranger.pk).content.decode()
    assert "only between first-degree connections" in page
    # LinkedIn may know a connection the last import did not: a warning, not a refusal.
    assert "Queue message" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": ""}, "Write a message or pick a template."),
        ({"body": "   "}, "Write a message or pick a template."),
        ({"body": "x" * 8001}, "Ensure this value has at most 8000 characters (it has 8001)."),
        ({"body": "Hi {{ frist_name }}"}, "frist_name"),
        ({"body": "Hi", "template": "999999"}, "That template does not exist (any more)"),
        ({"body": "Hi", "template": "abc"}, "That template does not exist (any more)"),
        ({"body": "Hi", "account": ""}, "This field is required."),
        ({"body": "Hi", "account": "abc"}, "Choose one of the senders listed."),
        ({"body": "Hi", "account": "²"}, "Choose one of the senders listed."),
        ({"body": "Hi", "account": "99999999999999999999"}, "Choose one of the senders listed."),
        ({"body": "Hi", "template": "99999999999999999999"}, "That template does not exist"),
        ({"body": "Hi", "scheduled_for": "2001-01-01T10:00"}, "That time has passed."),
    ],
)
def test_it_names_what_is_wrong_with_bad_input(staff_client, account, contact, data, message):
    response = preview(staff_client, contact, **{"account": account.pk, **data})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not ready to queue" in page and message in page
    assert "Queue message" not in page


def test_another_members_account_is_refused_with_403(staff_client, contact):
    foreign = LinkedInAccountFactory()
    response = preview(staff_client, contact, body="Hi", account=foreign.pk)
    assert response.status_code == 403
    assert "That LinkedIn account is another member&#x27;s" in response.content.decode()
    assert "Queue message" not in response.content.decode()


def test_an_unknown_contact_is_not_found(staff_client, account):
    for path in ("/contacts/999999/message/preview/", "/contacts/abc/message/preview/"):
        response = staff_client.post(path, {"body": "Hi", "account": account.pk})
        assert response.status_code == 404, path


def test_the_composer_hands_its_templates_to_the_editor(staff_client, contact):
    template = MessageTemplate.objects.create(name="Intro", body="Hello {{ first_name }} </script>")
    page = staff_client.get(f"/contacts/{contact.pk}/message/").content.decode()
    assert '<script id="template-bodies" type="application/json">' in page
    assert f'"{template.pk}": "Hello {{{{ first_name }}}} \\u003C/script\\u003E"' in page


def test_queueing_after_another_tab_queued_keeps_the_text(staff_client, account, contact):
    url = f"/contacts/{contact.pk}/message/"
    staff_client.post(url, {"body": "First", "account": account.pk, "action": "queue"})
    response = staff_client.post(
        url, {"body": "Second try", "account": account.pk, "action": "queue"}
    )
    page = response.content.decode()
    assert f"Cannot be queued: {skip_reasons.OPEN_FROM_SENDER}." in page
    assert "Second try</textarea>" in page
    assert list(Message.objects.values_list("body", flat=True)) == ["First"]
