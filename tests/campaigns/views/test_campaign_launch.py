import pytest

from campaigns.models import Campaign
from messaging.models import Message

pytestmark = pytest.mark.django_db


def test_launch_pause_resume_cancel(staff_client, campaign):
    response = staff_client.post(f"/campaigns/{campaign.pk}/launch/", follow=True)
    assert "Launched: 3 enrolled, 0 skipped." in response.content.decode()
    assert Message.objects.filter(stream=f"campaign:{campaign.pk}").count() == 3
    staff_client.post(f"/campaigns/{campaign.pk}/pause/")
    assert Campaign.objects.get().status == "paused"
    staff_client.post(f"/campaigns/{campaign.pk}/resume/")
    assert Campaign.objects.get().status == "running"
    response = staff_client.post(f"/campaigns/{campaign.pk}/launch/", follow=True)
    assert "Only a draft campaign can be launched." in response.content.decode()
    staff_client.post(f"/campaigns/{campaign.pk}/cancel/")
    assert Campaign.objects.get().status == "cancelled"
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}
