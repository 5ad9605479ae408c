"""The Outbox: the text recorded as sent is the text on screen, refused text is never lost, and
the page offers what the keyboard flow needs (tests/e2e/test_outbox_flow.py drives it)."""

import re

import pytest
from django.utils import timezone

from messaging import services
from messaging.models import Message, MessageEvent
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(staff_user):
    return LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer", daily_limit=27)


@pytest.fixture
def released(account):
    return MessageFactory(
        account=account,
        status="released",
        body="Hi Zoë, the prepared text",
        contact__first_name="Zoë",
        contact__member_urn="",
        contact__profile_url="https://www.linkedin.com/in/zoe-muller",
    )


def _textarea(page: str, pk: int) -> str:
    found = re.search(rf'<textarea name="body" id="body-{pk}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, f"no text box for message {pk}"
    return found.group(1)


# --- the service ----------


def test_it_saves_the_text_sent_with_the_confirmation(released, staff_user):
    assert services.outbox_mark_sent(
        message=released, actor=staff_user, body="Hi Zoë, as I really sent it\r\nBye"
    )
    released.refresh_from_db()
    assert released.status == "sent" and released.body == "Hi Zoë, as I really sent it\nBye"
    assert list(released.events.values_list("status", "note")) == [
        ("sent", "sent by hand on LinkedIn, with the text edited in the Outbox")
    ]


def test_it_keeps_the_saved_text_when_no_text_is_given(released, staff_user):
    assert services.outbox_mark_sent(message=released, actor=staff_user)
    released.refresh_from_db()
    assert (released.status, released.body) == ("sent", "Hi Zoë, the prepared text")
    assert released.events.get().note == "sent by hand on LinkedIn"


@pytest.mark.parametrize(
    ("body", "error"),
    [(" \r\n ", "A message cannot be empty."), ("x" * 8001, "at most 8,000 characters")],
)
def test_it_refuses_a_bad_text_and_records_nothing(released, staff_user, body, error):
    with pytest.raises(ValueError, match=error):
        services.outbox_mark_sent(message=released, actor=staff_user, body=body)
    released.refresh_from_db()
    assert (released.status, released.body, released.sent_at) == (
        "released",
        "Hi Zoë, the prepared text",
        None,
    )
    assert not MessageEvent.objects.exists()


def test_crlf_line_breaks_count_once_against_the_limit(released, staff_user):
    """A browser sends a text box's line breaks as two characters: 8,000 on screen fit."""
    body = ("x" * 99 + "\r\n") * 80  # 8,000 characters on screen, 8,080 as sent
    assert services.outbox_mark_sent(message=released, actor=staff_user, body=body)
    released.refresh_from_db()
    assert len(released.body) == 8000 - 1  # the last line break is stripped


# --- the page ----------


def test_it_shows_progress_against_the_cap_and_the_keys(staff_client, account, released):
    MessageFactory(account=account, status="sent", claimed_at=timezone.now())
    MessageFactory(account=account, status="released")
    page = staff_client.get("/outbox/").content.decode()
    assert "2 waiting · 1 of 27 sent today" in page
    assert '<progress class="cap-progress" value="1" max="27"' in page
    for key in ("j", "k", "c", "s", "x", "e"):
        assert f"<kbd>{key}</kbd>" in page
    assert 'aria-keyshortcuts="c"' in page and 'aria-keyshortcuts="s"' in page


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


def test_next_is_only_ever_a_message_id(staff_client, released):
    response = staff_client.post(
        f"/outbox/{released.pk}/skip/", {"next": "1//evil.example"}, follow=False
    )
    assert response["Location"] == "/outbox/"
    other = MessageFactory(account=released.account, status="released")
    response = staff_client.post(f"/outbox/{other.pk}/skip/", {"next": "²"})
    assert response["Location"] == "/outbox/"


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
    assert _textarea(page, released.pk) == body
    assert _textarea(page, other.pk) == "Untouched"
    assert f'class="outbox-item current" id="message-{released.pk}"' in page
    released.refresh_from_db()
    assert (released.status, released.body) == ("released", "Hi Zoë, the prepared text")
    assert not MessageEvent.objects.exists()


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
    assert _textarea(response.content.decode(), message.pk) == "z" * 8001
    assert sandbox_settings.sent_messages() == []
    message.refresh_from_db()
    assert (message.status, message.body) == ("released", "Prepared")


def test_another_members_outbox_message_is_not_found(staff_client):
    foreign = MessageFactory(status="released", body="Bob's")
    for action in ("sent", "edit", "skip", "send"):
        response = staff_client.post(f"/outbox/{foreign.pk}/{action}/", {"body": "Mine"})
        assert response.status_code == 404, action
    foreign.refresh_from_db()
    assert (foreign.status, foreign.body) == ("released", "Bob's")
    assert not Message.objects.exclude(pk=foreign.pk).exists()
