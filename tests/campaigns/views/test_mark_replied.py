import pytest
from django.utils import timezone

from campaigns.models import Reply
from tests.contacts.factories import ContactFactory
from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_mark_replied_stops_follow_ups_and_reads_opt_outs(staff_client, account):
    contact = ContactFactory(first_name="Opt")
    message = MessageFactory(
        account=account, contact=contact, status="sent", sent_at=timezone.now()
    )
    response = staff_client.post(
        f"/messages/{message.pk}/reply/", {"text": "Please remove me"}, follow=True
    )
    assert "marked do-not-contact" in response.content.decode()
    contact.refresh_from_db()
    assert contact.stage == "replied" and contact.do_not_contact
    assert Reply.objects.get().message == message


def test_mark_replied_on_another_members_message_is_not_found(staff_client):
    foreign = MessageFactory(status="sent")
    assert staff_client.post(f"/messages/{foreign.pk}/reply/", {"text": "x"}).status_code == 404
    assert not Reply.objects.exists()
