"""Each webhook event comes from the one place its change happens, for exactly what changed."""

import datetime

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from contacts import services as contact_services
from contacts.models import Contact, Network
from linkedin_crm import webhooks
from linkedin_crm.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from messaging import bulk, transitions
from messaging import services as messaging_services
from messaging.models import Message
from messaging.transitions import Action
from tests.campaigns.factories import AudienceFactory, CampaignFactory, add_step
from tests.contacts.factories import ConnectionFactory, ContactFactory, TagFactory, UserFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory
from tests.status_guard import bypass

pytestmark = pytest.mark.django_db

ALL = [event for event in webhooks.EventType.values]


@pytest.fixture
def subscription():
    """Subscribed to everything, written directly: these tests deliver nothing."""
    return WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/hooks", events=ALL, secret=webhooks.new_secret()
    )


def events(event_type: str) -> list[dict]:
    return [
        event.payload
        for event in WebhookEvent.objects.filter(type=event_type).order_by("created_at", "id")
    ]


def test_messages_queued_sent_failed_and_uncertain(subscription):
    account = LinkedInAccountFactory()
    contacts = ContactFactory.create_batch(3)
    ids = bulk.messages_insert(
        [{"contact_id": c.pk, "body": "Hi"} for c in contacts], account_id=account.pk
    )
    queued = events("message.queued")
    assert sorted(event["data"]["id"] for event in queued) == sorted(ids)
    first = next(event for event in queued if event["data"]["id"] == ids[0])
    assert first["data"]["contact_id"] == contacts[0].pk
    assert first["data"]["account_id"] == account.pk and first["type"] == "message.queued"

    transitions.change(Action.CLAIM, ids)
    transitions.change(Action.RECORD_SENT, ids[:1], values={"sent_at": timezone.now()})
    transitions.change(Action.RECORD_FAILED, ids[1:2], note="refused")
    transitions.change(Action.RECORD_UNCERTAIN, ids[2:])
    # A second "sent" for the same message changes nothing, and announces nothing.
    transitions.change(Action.RECORD_SENT, ids[:1])

    assert [e["data"]["id"] for e in events("message.sent")] == ids[:1]
    assert events("message.sent")[0]["data"]["status"] == "sent"
    assert [e["data"]["id"] for e in events("message.failed")] == ids[1:2]
    assert [e["data"]["id"] for e in events("message.uncertain")] == ids[2:]
    assert WebhookDelivery.objects.filter(event__type__startswith="message.").count() == 6
    # One delivery per event for the one subscriber; none for claiming.
    assert WebhookEvent.objects.filter(type__startswith="message.").count() == 6


def test_no_event_without_a_subscriber_to_that_type(subscription):
    subscription.events = ["reply.received"]
    subscription.save()
    MessageFactory(status=Message.Status.SENDING)
    transitions.change(Action.RECORD_SENT, list(Message.objects.values_list("pk", flat=True)))
    assert not WebhookEvent.objects.exists()


def test_contact_created_updated_and_opted_out(subscription, staff_user):
    contact = Contact.objects.create(first_name="Ann", last_name="Lee")
    assert [e["data"]["first_name"] for e in events("contact.created")] == ["Ann"]

    contact.refresh_from_db()
    contact.company = "Acme"
    contact_services.contact_update(
        contact=contact, fields=["company"], tags=[], version=contact.updated_at, user=staff_user
    )
    assert [e["data"]["company"] for e in events("contact.updated")] == ["Acme"]

    contact_services.contacts_mark_do_not_contact(
        contacts=Contact.objects.filter(pk=contact.pk), reason="asked"
    )
    contact_services.contacts_mark_do_not_contact(  # already: nothing new
        contacts=Contact.objects.filter(pk=contact.pk), reason="asked"
    )
    assert [e["data"] for e in events("contact.opted_out")] == [{"id": contact.pk}]


def test_contact_updated_for_each_contact_a_bulk_change_changed(subscription, staff_user):
    ann, bo, cy = (ContactFactory(first_name=name, stage="lead") for name in ("Ann", "Bo", "Cy"))
    vip = TagFactory(name="VIP")
    bo.tags.add(vip)
    everyone = Contact.objects.filter(pk__in=[ann.pk, bo.pk, cy.pk])

    def updated() -> list[tuple[int, str]]:
        found = [(e["data"]["id"], e["data"]["stage"]) for e in events("contact.updated")]
        WebhookEvent.objects.all().delete()
        return sorted(found)

    assert contact_services.contacts_add_tag(contacts=everyone, tag=vip) == 2
    assert updated() == [(ann.pk, "lead"), (cy.pk, "lead")]  # Bo had the tag already
    contact_services.contacts_remove_tag(contacts=everyone.filter(pk=bo.pk), tag=vip)
    assert updated() == [(bo.pk, "lead")]
    cy.stage = "meeting"
    cy.save()
    WebhookEvent.objects.all().delete()
    contact_services.contacts_set_stage(contacts=everyone, stage="meeting", actor=staff_user)
    assert updated() == [(ann.pk, "meeting"), (bo.pk, "meeting")]  # as they are now
    contact_services.contacts_mark_do_not_contact(contacts=everyone.filter(pk=ann.pk), reason="")
    WebhookEvent.objects.all().delete()
    contact_services.contacts_allow_contact(contacts=everyone)
    assert updated() == [(ann.pk, "meeting")]
    # Nothing changed, nothing announced.
    contact_services.contacts_set_stage(contacts=everyone, stage="meeting", actor=staff_user)
    contact_services.contacts_allow_contact(contacts=everyone)
    assert updated() == []


def test_contact_updated_when_the_admin_saves_a_change(subscription, admin_client):
    contact = ContactFactory(first_name="Ann", last_name="Lee", email="", company="Old")
    WebhookEvent.objects.all().delete()
    data = {
        **{name: getattr(contact, name) for name in ("first_name", "last_name", "profile_url")},
        **{name: "" for name in ("email", "member_urn", "position", "industry", "dnc_reason")},
        "company": "Acme",
        "stage": "lead",
        **{
            f"{prefix}-{name}": 0
            for prefix in ("connections", "notes")
            for name in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }
    url = f"/admin/contacts/contact/{contact.pk}/change/"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert [e["data"]["company"] for e in events("contact.updated")] == ["Acme"]
    admin_client.post(url, data)  # saved again unchanged: nothing to announce
    assert len(events("contact.updated")) == 1


def test_import_finished_once_with_its_counts(subscription):
    user = UserFactory(username="ann", is_staff=True)
    network = Network.objects.default_for(user)
    data = (
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Ann,Lee,https://www.linkedin.com/in/annlee,,Acme,CEO,01 Jan 2024\n"
        "Bo,Kim,https://www.linkedin.com/in/bokim,,Acme,CTO,02 Jan 2024\n"
    )
    batch = contact_services.import_file(
        data=data.encode(), file_name="Connections.csv", user=user, network=network
    )
    [finished] = events("import.finished")
    assert finished["data"]["id"] == batch.pk
    assert finished["data"]["created"] == 2 and finished["data"]["file_name"] == "Connections.csv"
    # The imported contacts are announced by the import, not one by one.
    assert events("contact.created") == []


def test_reply_received_and_the_opt_out_it_makes(subscription):
    contact = ContactFactory()
    reply = campaign_services.reply_record(contact=contact, text="Please stop messaging me")
    [received] = events("reply.received")
    assert received["data"]["id"] == reply.pk and received["data"]["opted_out"] is True
    assert "text" not in received["data"]
    assert [e["data"]["id"] for e in events("contact.opted_out")] == [contact.pk]


def test_account_needs_reconnect_once(subscription):
    account = LinkedInAccountFactory(display_name="Alice")
    messaging_services.account_mark_needs_reconnect(account=account, reason="Token revoked")
    messaging_services.account_mark_needs_reconnect(account=account, reason="Still revoked")
    [event] = events("account.needs_reconnect")
    assert event["data"] == {"id": account.pk, "display_name": "Alice", "reason": "Token revoked"}


def test_campaign_completed(subscription, staff_user):
    now = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)
    account = LinkedInAccountFactory(owner=staff_user)
    tag = TagFactory(name="Target")
    contact = ContactFactory(tags=[tag])
    ConnectionFactory(contact=contact, network=account.network)
    campaign = CampaignFactory(
        owner=staff_user,
        audience=AudienceFactory(owner=staff_user, query=f"tags={tag.pk}"),
        senders=[account],
        starts_at=now,
    )
    add_step(campaign, 1, {"A": "Hi {{ first_name }}"})
    campaign_services.campaign_launch(campaign=campaign, actor=staff_user, now=now)
    campaign_services.campaigns_advance(now=now)
    assert events("campaign.completed") == []
    with bypass():  # the state this test starts from
        Message.objects.filter(stream=campaign.stream).update(status="sent", sent_at=now)
    campaign_services.campaigns_advance(now=now + datetime.timedelta(days=1))
    campaign_services.campaigns_advance(now=now + datetime.timedelta(days=2))
    assert [e["data"]["id"] for e in events("campaign.completed")] == [campaign.pk]
