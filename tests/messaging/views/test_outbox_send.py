import pytest
from django.utils import timezone

from tests.messaging.factories import LinkedInAccountFactory, MessageFactory
from tests.messaging.views.outbox_page import textarea_text

pytestmark = pytest.mark.django_db


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

    MessageFactory(account=account, status="sent", claimed_at=timezone.now())
    message = MessageFactory(account=account, status="released")
    response = staff_client.post(f"/outbox/{message.pk}/send/", follow=True)
    assert "has used today’s 1 message;" in response.content.decode()
    message.refresh_from_db()
    assert message.status == "released"
    assert sandbox_settings.sent_messages() == []


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


def test_send_via_linkedin_sends_the_text_on_screen(sandbox_settings, staff_client, staff_user):
    token = sandbox_settings.issue_token("sbx-maya-okafor")
    account = LinkedInAccountFactory(
        owner=staff_user, access_token=token, scopes=["openid", "w_member_social"]
    )
    message = MessageFactory(account=account, status="released", body="Prepared")
    response = staff_client.post(f"/outbox/{message.pk}/send/", {"body": "Edited, not saved"})
    assert response.status_code == 302
    assert [m["body"] for m in sandbox_settings.sent_messages()] == ["Edited, not saved"]
    message.refresh_from_db()
    assert (message.status, message.body) == ("sent", "Edited, not saved")


def test_send_via_linkedin_refuses_a_bad_text_and_sends_nothing(
    sandbox_settings, staff_client, staff_user
):
    token = sandbox_settings.issue_token("sbx-maya-okafor")
    account = LinkedInAccountFactory(
        owner=staff_user, access_token=token, scopes=["openid", "w_member_social"]
    )
    message = MessageFactory(account=account, status="released", body="Prepared")
    response = staff_client.post(f"/outbox/{message.pk}/send/", {"body": "z" * 8001})
    assert response.status_code == 400
    assert textarea_text(response.content.decode(), message.pk) == "z" * 8001
    assert sandbox_settings.sent_messages() == []
    message.refresh_from_db()
    assert (message.status, message.body) == ("released", "Prepared")
