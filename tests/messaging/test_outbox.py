"""outbox_mark_sent, the service behind the Outbox's "I sent it": the text recorded as sent is the
text on screen, and a refused text records nothing. The page and its actions are tested in
tests/messaging/views/test_outbox*.py, and driven by keyboard in tests/e2e/test_outbox_flow.py."""

import pytest

from messaging import services
from messaging.models import MessageEvent
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
