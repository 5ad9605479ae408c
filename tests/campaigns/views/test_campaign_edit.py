import pytest

from campaigns.models import Campaign
from tests.campaigns.factories import AudienceFactory
from tests.messaging.factories import LinkedInAccountFactory

pytestmark = pytest.mark.django_db


def test_edit_a_draft_campaign(staff_client, staff_user, campaign):
    other = LinkedInAccountFactory(owner=staff_user, display_name="Second Sender")
    audience = AudienceFactory(owner=staff_user, name="Other audience")
    url = f"/campaigns/{campaign.pk}/edit/"
    assert "Second Sender" in staff_client.get(url).content.decode()
    response = staff_client.post(
        url,
        {
            "name": "Renamed",
            "audience": audience.pk,
            "senders": [other.pk],
            "starts_at": "2026-12-02T10:30",
        },
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Renamed" and campaign.audience == audience
    assert list(campaign.senders.all()) == [other]
    assert campaign.starts_at.strftime("%Y-%m-%d %H:%M") == "2026-12-02 10:30"


def test_bad_campaign_edit_is_refused_and_changes_nothing(staff_client, campaign, account):
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/edit/",
        {"name": "", "audience": campaign.audience_id, "senders": [], "starts_at": "soon"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This field is required." in page and "Enter a valid date/time." in page
    campaign.refresh_from_db()
    assert campaign.name != "" and list(campaign.senders.all()) == [account]


def test_a_launched_campaign_keeps_its_audience_senders_and_start(
    staff_client, staff_user, campaign, account
):
    staff_client.post(f"/campaigns/{campaign.pk}/launch/", {"confirm": "yes"})
    campaign.refresh_from_db()
    starts_at, audience = campaign.starts_at, campaign.audience
    other = LinkedInAccountFactory(owner=staff_user)
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/edit/",
        {
            "name": "Only the name changes",
            "audience": AudienceFactory(owner=staff_user).pk,
            "senders": [other.pk],
            "starts_at": "2030-01-01T09:00",
        },
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Only the name changes"
    assert campaign.audience == audience and campaign.starts_at == starts_at
    assert list(campaign.senders.all()) == [account]
    page = staff_client.get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    assert "Fixed at launch." in page


def test_edit_pages_require_staff(anon_client, non_staff_client, campaign):
    step = campaign.steps.get()
    variant = step.variants.first()
    for url in [
        f"/campaigns/{campaign.pk}/edit/",
        f"/campaigns/steps/{step.pk}/edit/",
        f"/campaigns/variants/{variant.pk}/edit/",
    ]:
        assert anon_client.get(url).status_code == 302
        assert non_staff_client.get(url).status_code == 403
    assert non_staff_client.post(f"/campaigns/{campaign.pk}/delete/").status_code == 403
    assert non_staff_client.post(f"/campaigns/steps/{step.pk}/delete/").status_code == 403
    assert Campaign.objects.filter(pk=campaign.pk).exists() and campaign.steps.exists()
