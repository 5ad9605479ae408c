"""/api/v1/campaigns/: list, detail with per-variant results, dry run, pause, resume and
cancel, for the campaigns the token's owner may edit."""

from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign
from linkedin_crm.models import AuditEvent
from messaging.models import Message
from tests.api.conftest import problem
from tests.campaigns.factories import AudienceFactory, CampaignFactory, add_step
from tests.contacts.factories import ConnectionFactory, ContactFactory, TagFactory
from tests.messaging.factories import LinkedInAccountFactory


def _campaign(owner, people=4):
    tag = TagFactory(name="Target")
    account = LinkedInAccountFactory(owner=owner)
    for n in range(people):
        contact = ContactFactory(first_name=f"P{n}", tags=[tag])
        ConnectionFactory(contact=contact, network=account.network)
    audience = AudienceFactory(owner=owner, query=f"tags={tag.pk}")
    campaign = CampaignFactory(
        owner=owner, audience=audience, senders=[account], starts_at=timezone.now()
    )
    add_step(campaign, 1, {"A": "Hi {{ first_name }} (A)", "B": "Hello {{ first_name }} (B)"})
    return campaign


def test_it_lists_only_campaigns_the_owner_may_edit(api, member, other_member):
    mine = _campaign(member)
    CampaignFactory(owner=other_member)
    rows = api.get("/api/v1/campaigns/").json()["results"]
    assert [row["id"] for row in rows] == [mine.pk]
    assert api.get(f"/api/v1/campaigns/{rows[0]['id'] + 1}/").status_code == 404


def test_the_dry_run_changes_nothing(api, member):
    campaign = _campaign(member)
    response = api.get(f"/api/v1/campaigns/{campaign.pk}/dry-run/")
    assert response.status_code == 200
    body = response.json()
    assert body["recipients"] == body["enrolled"] == 4 and body["errors"] == []
    assert body["senders"][0]["recipients"] == 4 and body["senders"][0]["forecast"]
    assert not Message.objects.exists()
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_detail_has_per_variant_results(api, member):
    campaign = _campaign(member)
    services.campaign_launch(campaign=campaign, actor=member)
    body = api.get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert body["status"] == "running" and body["states"] == {"active": 4}
    variants = body["steps"][0]["variants"]
    assert sorted(v["label"] for v in variants) == ["A", "B"]
    assert sum(v["enrolled"] for v in variants) == 4
    assert len(body["steps"][0]["comparisons"]) == 1


def test_pause_resume_cancel_through_the_services(api, member):
    campaign = _campaign(member)
    services.campaign_launch(campaign=campaign, actor=member)
    paused = api.post(f"/api/v1/campaigns/{campaign.pk}/pause/")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    again = api.post(f"/api/v1/campaigns/{campaign.pk}/pause/")
    assert again.status_code == 409
    problem(again)
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/resume/").json()["status"] == "running"
    cancelled = api.post(f"/api/v1/campaigns/{campaign.pk}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert not Message.objects.filter(status="queued").exists()
    actions = set(AuditEvent.objects.filter(via="api").values_list("action", flat=True))
    assert actions == {"campaign_pause", "campaign_resume", "campaign_cancel"}


def test_another_members_campaign_cannot_be_paused(api, other_member):
    campaign = _campaign(other_member)
    services.campaign_launch(campaign=campaign, actor=other_member)
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/pause/").status_code == 404
    assert Campaign.objects.get().status == "running"
