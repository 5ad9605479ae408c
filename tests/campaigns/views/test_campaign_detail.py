import pytest
from django.utils import timezone

from messaging.models import Message
from tests.status_guard import bypass

pytestmark = pytest.mark.django_db


def test_results_show_rates_and_a_verdict(staff_client, campaign):
    staff_client.post(f"/campaigns/{campaign.pk}/launch/", {"confirm": "yes"})
    with bypass():  # the state this test starts from
        Message.objects.update(status="sent", sent_at=timezone.now())
    first = Message.objects.first()
    staff_client.post(f"/messages/{first.pk}/reply/", {"text": "Interested!"})
    page = staff_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Results" in page and "Reply rate" in page
    assert "A vs B:" in page
    assert 'id="count-replied">1<' in page
