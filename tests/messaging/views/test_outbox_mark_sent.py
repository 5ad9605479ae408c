import pytest

from messaging.models import Message, MessageEvent
from tests.messaging.factories import MessageFactory
from tests.messaging.views.outbox_page import textarea_text

pytestmark = pytest.mark.django_db


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


def test_i_sent_it_records_the_text_on_screen(staff_client, released, staff_user):
    """Defect 1: edited, not saved, copied, confirmed: the edited text is what is recorded."""
    response = staff_client.post(
        f"/outbox/{released.pk}/sent/", {"body": "Hi Zoë, edited on screen", "next": "41"}
    )
    assert response.status_code == 302 and response["Location"] == "/outbox/#message-41"
    released.refresh_from_db()
    assert (released.status, released.body, released.channel) == (
        "sent",
        "Hi Zoë, edited on screen",
        "manual",
    )


@pytest.mark.parametrize(
    ("action", "body", "error"),
    [
        ("sent", "x" * 8001, "Not recorded as sent: A message has at most 8,000 characters."),
        ("sent", "   ", "Not recorded as sent: A message cannot be empty."),
        ("edit", "y" * 8001, "A message has at most 8,000 characters."),
        ("edit", "", "A message cannot be empty."),
    ],
)
def test_a_refused_text_comes_back_with_the_reason(staff_client, released, action, body, error):
    """Defect 7: the typed text is shown again, in focus, with the reason; nothing changed."""
    other = MessageFactory(account=released.account, status="released", body="Untouched")
    response = staff_client.post(f"/outbox/{released.pk}/{action}/", {"body": body})
    assert response.status_code == 400
    page = response.content.decode()
    assert error in page
    assert textarea_text(page, released.pk) == body
    assert textarea_text(page, other.pk) == "Untouched"
    assert f'class="outbox-item current" id="message-{released.pk}"' in page
    released.refresh_from_db()
    assert (released.status, released.body) == ("released", "Hi Zoë, the prepared text")
    assert not MessageEvent.objects.exists()


def test_another_members_outbox_message_is_not_found(staff_client):
    foreign = MessageFactory(status="released", body="Bob's")
    for action in ("sent", "edit", "skip", "send"):
        response = staff_client.post(f"/outbox/{foreign.pk}/{action}/", {"body": "Mine"})
        assert response.status_code == 404, action
    foreign.refresh_from_db()
    assert (foreign.status, foreign.body) == ("released", "Bob's")
    assert not Message.objects.exclude(pk=foreign.pk).exists()
