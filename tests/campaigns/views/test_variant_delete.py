import pytest

from campaigns.models import Variant

pytestmark = pytest.mark.django_db


def test_a_launched_campaign_cannot_be_edited(staff_client, campaign):
    staff_client.post(f"/campaigns/{campaign.pk}/launch/", {"confirm": "yes"})
    variant = Variant.objects.first()
    response = staff_client.post(f"/campaigns/variants/{variant.pk}/delete/", follow=True)
    assert "cannot change" in response.content.decode()
    assert Variant.objects.filter(pk=variant.pk).exists()
