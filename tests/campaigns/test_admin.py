import pytest

from campaigns import services
from campaigns.models import Campaign, Variant
from contacts.models import Contact

pytestmark = pytest.mark.django_db


def test_admin_adds_a_selection_to_a_draft_campaign_and_pauses(client, campaign):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    from tests.contacts.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    ids = list(Contact.objects.values_list("pk", flat=True)[:2])
    response = client.post(
        "/admin/contacts/contact/", {"action": "add_to_campaign", ACTION_CHECKBOX_NAME: ids}
    )
    draft = Campaign.objects.exclude(pk=campaign.pk).get()
    assert response["Location"] == f"/campaigns/{draft.pk}/"
    assert draft.status == "draft"
    assert sorted(
        services.audience_contacts(draft.audience).values_list("pk", flat=True)
    ) == sorted(ids)

    services.campaign_launch(campaign=campaign, actor=campaign.owner)
    client.post(
        "/admin/campaigns/campaign/",
        {"action": "pause_campaigns", ACTION_CHECKBOX_NAME: [campaign.pk]},
    )
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    client.post(
        "/admin/campaigns/campaign/",
        {"action": "resume_campaigns", ACTION_CHECKBOX_NAME: [campaign.pk]},
    )
    campaign.refresh_from_db()
    assert campaign.status == "running"


def test_the_admin_keeps_a_launched_campaign_as_launched(client, campaign):
    from tests.contacts.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    variant = Variant.objects.filter(step__campaign=campaign).first()
    assert client.get(f"/admin/campaigns/variant/{variant.pk}/change/").status_code == 200
    services.campaign_launch(campaign=campaign, actor=campaign.owner)
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    form = page.context["adminform"].form
    assert {"status", "audience", "senders", "starts_at"}.isdisjoint(form.fields)
    assert not page.context["inline_admin_formsets"][0].has_change_permission
    response = client.post(f"/admin/campaigns/variant/{variant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Variant.objects.filter(pk=variant.pk).exists()
    add = client.get("/admin/campaigns/variant/add/").context["adminform"].form
    assert not add.fields["step"].queryset.filter(campaign=campaign).exists()
