"""Who may act on a campaign: its owner, someone who may manage all its senders, or a Manager.
The finding this answers: staff member A opened B's draft, changed its audience and text,
launched it, and the worker sent through B's LinkedIn account with A's words."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from campaigns.models import Campaign
from linkedin_crm.models import AuditEvent
from messaging.models import Message
from tests.campaigns.factories import AudienceFactory, CampaignFactory, add_step
from tests.contacts.factories import ConnectionFactory, ContactFactory, TagFactory, give_role
from tests.messaging.factories import LinkedInAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs_campaign(other_staff_user):
    """Bob's draft, sending from Bob's own account to three of his connections."""
    account = LinkedInAccountFactory(owner=other_staff_user, display_name="Bob Baker")
    tag = TagFactory(name="Bob's leads")
    for name in ("Ann", "Ben", "Cat"):
        ConnectionFactory(
            contact=ContactFactory(first_name=name, tags=[tag]), network=account.network
        )
    audience = AudienceFactory(owner=other_staff_user, query=f"tags={tag.pk}")
    campaign = CampaignFactory(
        owner=other_staff_user, audience=audience, senders=[account], name="Bob's outreach"
    )
    add_step(campaign, 1, {"A": "Hi {{ first_name }}, Bob here"})
    return campaign


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_member_cannot_see_or_touch_another_members_campaign(staff_client, bobs_campaign):
    campaign = bobs_campaign
    assert "Bob&#x27;s outreach" not in staff_client.get("/campaigns/").content.decode()
    step = campaign.steps.get()
    variant = step.variants.get()
    for url in (
        f"/campaigns/{campaign.pk}/",
        f"/campaigns/{campaign.pk}/edit/",
        f"/campaigns/{campaign.pk}/dry-run/",
        f"/campaigns/steps/{step.pk}/edit/",
        f"/campaigns/variants/{variant.pk}/edit/",
    ):
        assert staff_client.get(url).status_code == 404, url
    for url in (
        f"/campaigns/{campaign.pk}/edit/",
        f"/campaigns/{campaign.pk}/launch/",
        f"/campaigns/{campaign.pk}/delete/",
        f"/campaigns/{campaign.pk}/steps/",
        f"/campaigns/{campaign.pk}/variants/",
        f"/campaigns/steps/{step.pk}/delete/",
        f"/campaigns/variants/{variant.pk}/edit/",
        f"/campaigns/variants/{variant.pk}/delete/",
    ):
        assert staff_client.post(url, {"body": "Alice's words", "name": "x"}).status_code == 404
    campaign.refresh_from_db()
    variant.refresh_from_db()
    assert campaign.status == "draft" and campaign.name == "Bob's outreach"
    assert variant.body == "Hi {{ first_name }}, Bob here"
    assert not Message.objects.exists()


def test_a_member_cannot_pause_or_cancel_another_members_running_campaign(
    staff_client, bobs_campaign, other_staff_user
):
    from campaigns import services

    services.campaign_launch(campaign=bobs_campaign, actor=other_staff_user)
    for action in ("pause", "cancel"):
        response = staff_client.post(f"/campaigns/{bobs_campaign.pk}/{action}/")
        assert response.status_code == 404
    bobs_campaign.refresh_from_db()
    assert bobs_campaign.status == "running"
    assert Message.objects.filter(status="queued").count() == 3


def test_a_manager_may_launch_with_a_members_sender_and_is_recorded(
    staff_user, bobs_campaign, other_staff_user
):
    manager = give_role(staff_user, "Manager")
    client = _client(manager)
    assert (
        client.post(f"/campaigns/{bobs_campaign.pk}/launch/", {"confirm": "yes"}).status_code == 302
    )
    bobs_campaign.refresh_from_db()
    assert bobs_campaign.status == "running" and bobs_campaign.launched_by == manager
    # Sent on the authority of whoever launched it, not of the campaign's owner.
    assert set(Message.objects.values_list("created_by", flat=True)) == {manager.pk}
    client.post(f"/campaigns/{bobs_campaign.pk}/pause/")
    client.post(f"/campaigns/{bobs_campaign.pk}/resume/")
    client.post(f"/campaigns/{bobs_campaign.pk}/cancel/")
    events = AuditEvent.objects.filter(object_type="campaign").order_by("at", "id")
    assert [(e.action, e.actor, e.counts) for e in events] == [
        ("campaign_launch", manager, {"enrolled": 3, "skipped": 0}),
        ("campaign_pause", manager, {"held": 3}),
        ("campaign_resume", manager, {"released": 3}),
        ("campaign_cancel", manager, {"cancelled": 3}),
    ]
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}
    assert set(Message.objects.values_list("events__actor", flat=True)) == {manager.pk}


def test_a_member_may_act_on_a_campaign_whose_every_sender_is_theirs(
    staff_user, staff_client, bobs_campaign
):
    """Ownership of the senders is enough: Alice may run a campaign Bob drafted for her."""
    alices = LinkedInAccountFactory(owner=staff_user)
    bobs_campaign.senders.set([alices])
    assert staff_client.get(f"/campaigns/{bobs_campaign.pk}/").status_code == 200
    assert Campaign.objects.editable_by(staff_user).filter(pk=bobs_campaign.pk).exists()


def test_launch_refuses_a_sender_the_launcher_may_not_manage(
    staff_user, staff_client, bobs_campaign
):
    """Even the owner cannot launch with someone else's account among the senders (possible
    when a Manager added it, or it changed hands): the message says what to do."""
    bobs_account = bobs_campaign.senders.get()
    mine = CampaignFactory(owner=staff_user, audience=bobs_campaign.audience)
    mine.senders.set([bobs_account])
    add_step(mine, 1, {"A": "Hi"})
    response = staff_client.post(f"/campaigns/{mine.pk}/launch/", {"confirm": "yes"}, follow=True)
    assert "You may not send from Bob Baker" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == "draft" and not Message.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_campaign_form_offers_only_the_members_own_senders(
    staff_user, staff_client, bobs_campaign
):
    LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")
    page = staff_client.get("/campaigns/").content.decode()
    assert "Alice Archer" in page and "Bob Baker" not in page
    bobs_account = bobs_campaign.senders.get()
    response = staff_client.post(
        "/campaigns/",
        {"name": "Sneaky", "audience": bobs_campaign.audience.pk, "senders": [bobs_account.pk]},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Campaign.objects.filter(name="Sneaky").exists()


def test_the_admin_actions_apply_the_same_rule(staff_user, bobs_campaign, other_staff_user):
    from campaigns import services

    services.campaign_launch(campaign=bobs_campaign, actor=other_staff_user)
    # Alice may use the admin and change campaigns, but Bob's is not hers.
    staff_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_campaign", "change_campaign"])
    )
    client = _client(staff_user)
    assert "Bob&#x27;s outreach" not in client.get("/admin/campaigns/campaign/").content.decode()
    assert client.get(f"/admin/campaigns/campaign/{bobs_campaign.pk}/change/").status_code == 302
    client.post(
        "/admin/campaigns/campaign/",
        {"action": "pause_campaigns", "_selected_action": [bobs_campaign.pk]},
    )
    bobs_campaign.refresh_from_db()
    assert bobs_campaign.status == "running"
    # Bob may, and the act is his in the audit log.
    bob = _client(other_staff_user)
    other_staff_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_campaign", "change_campaign"])
    )
    bob.post(
        "/admin/campaigns/campaign/",
        {"action": "pause_campaigns", "_selected_action": [bobs_campaign.pk]},
    )
    bobs_campaign.refresh_from_db()
    assert bobs_campaign.status == "paused"
    event = AuditEvent.objects.get(action="campaign_pause")
    assert (event.actor, event.via) == (other_staff_user, "admin")


def test_the_admin_deletes_only_drafts_through_the_service(admin_client, bobs_campaign):
    """A launched campaign's queued messages would outlive it: it is cancelled, never
    deleted; deleting a draft is audited like on the page."""
    from campaigns import services

    draft = CampaignFactory(owner=bobs_campaign.owner, audience=bobs_campaign.audience)
    services.campaign_launch(campaign=bobs_campaign, actor=bobs_campaign.owner)
    response = admin_client.get(f"/admin/campaigns/campaign/{bobs_campaign.pk}/delete/")
    assert response.status_code == 403
    admin_client.post(
        "/admin/campaigns/campaign/",
        {"action": "delete_selected", "_selected_action": [bobs_campaign.pk], "post": "yes"},
    )
    assert Campaign.objects.filter(pk=bobs_campaign.pk).exists()
    admin_client.post(f"/admin/campaigns/campaign/{draft.pk}/delete/", {"post": "yes"})
    assert not Campaign.objects.filter(pk=draft.pk).exists()
    event = AuditEvent.objects.get(action="campaign_delete")
    assert event.via == "admin" and event.object_id == str(draft.pk)
