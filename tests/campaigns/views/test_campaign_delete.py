import pytest

from campaigns.models import Campaign
from tests.campaigns.factories import CampaignFactory, add_step

pytestmark = pytest.mark.django_db


def test_delete_a_draft_but_not_a_launched_campaign(staff_client, campaign, staff_user, account):
    launched = CampaignFactory(owner=staff_user, audience=campaign.audience, senders=[account])
    add_step(launched, 1, {"A": "Hi"})
    staff_client.post(f"/campaigns/{launched.pk}/launch/", {"confirm": "yes"})
    response = staff_client.post(f"/campaigns/{launched.pk}/delete/", follow=True)
    assert "Only a draft can be deleted" in response.content.decode()
    step = launched.steps.get()
    staff_client.post(f"/campaigns/steps/{step.pk}/delete/")
    assert Campaign.objects.filter(pk=launched.pk).exists() and launched.steps.exists()

    response = staff_client.post(f"/campaigns/{campaign.pk}/delete/", follow=True)
    assert "Deleted the draft" in response.content.decode()
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
