"""The contact list's bulk bar on "all matching" over BULK_IN_REQUEST_MAX contacts: the request
writes nothing to the contacts and queues a ContactBulkChange; the worker then does what the
request would have done (test_contact_bulk.py has the in-request path, test_bulk_changes.py the
worker's resume, recovery and refusals)."""

import json

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from django_q.models import OrmQ

from contacts.models import Contact, ContactBulkChange, Tag
from linkedin_crm import webhooks
from linkedin_crm.models import AuditEvent, WebhookDelivery, WebhookEvent, WebhookSubscription
from tests.contacts.factories import ContactFactory, TagFactory, with_role
from tests.contacts.worker import run_queued_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_user(staff_user):
    """Deleting needs the Manager role (test_contact_permissions.py has the Member's refusals)."""
    return with_role(staff_user, "Manager")


@pytest.fixture
def people(settings):
    """Three at Acme (over the threshold of 2) and one elsewhere, two already "VIP"."""
    settings.BULK_IN_REQUEST_MAX = 2
    vip = TagFactory(name="VIP")
    return [
        ContactFactory(first_name="Ann", company="Acme", tags=[vip]),
        ContactFactory(first_name="Ben", company="Acme"),
        ContactFactory(first_name="Cat", company="Acme", stage="contacted", tags=[vip]),
        ContactFactory(first_name="Dan", company="Globex"),
    ]


@pytest.fixture
def subscriber(db):
    """A webhook subscriber to the contact events bulk actions emit: each changed contact then
    gets an event and a delivery row."""
    return WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/hooks",
        events=["contact.updated", "contact.opted_out"],
        secret=webhooks.new_secret(),
    )


ACTIONS = {
    "add_tag": {"tag": "vip"},
    "remove_tag": {"tag": "VIP"},
    "set_stage": {"stage": "contacted"},
    "mark_dnc": {"reason": "Competitor"},
    "delete": {"confirmed": "on"},
}


def bulk(client, action: str, query: str = "company=Acme"):
    data = {"action": action, "all_matching": "on", "query": query, **ACTIONS[action]}
    return client.post("/contacts/bulk/", data)


def footprint() -> dict:
    """What a bulk action leaves, without the times and ids that differ from run to run."""
    return {
        "contacts": list(
            Contact.objects.order_by("pk").values_list(
                "first_name", "stage", "do_not_contact", "dnc_reason"
            )
        ),
        "tags": sorted(
            Contact.tags.through.objects.values_list("contact__first_name", "tag__name")
        ),
        "audit": sorted(
            (e.action, e.object_id, e.actor_id, e.via, json.dumps(e.detail), json.dumps(e.counts))
            for e in AuditEvent.objects.all()
        ),
        "webhooks": sorted(
            (e.type, e.payload["data"]["id"], e.payload["data"].get("stage", ""))
            for e in WebhookEvent.objects.all()
        ),
        "deliveries": WebhookDelivery.objects.count(),
    }


def in_request(client, action: str, settings) -> tuple[dict, str]:
    """The footprint and message of `action` done in the request, then rolled back."""
    settings.BULK_IN_REQUEST_MAX = 1000
    rollback = transaction.savepoint()
    response = bulk(client, action)
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    done = footprint()
    transaction.savepoint_rollback(rollback)
    settings.BULK_IN_REQUEST_MAX = 2
    return done, message


@pytest.mark.parametrize("action", ACTIONS)
def test_the_worker_does_exactly_what_the_request_would_have(
    staff_client, people, subscriber, settings, action
):
    expected, message = in_request(staff_client, action, settings)
    assert expected != footprint()  # the action changes something

    response = bulk(staff_client, action)
    change = ContactBulkChange.objects.get()
    assert response["Location"] == f"/contacts/bulk/{change.pk}/"
    run_queued_tasks()

    assert footprint() == expected
    change.refresh_from_db()
    assert change.status == "done"
    assert change.result == message
    assert change.rows == change.rows_done == 3


def test_over_the_threshold_the_request_writes_nothing_to_contacts_and_queues_one_change(
    staff_client, staff_user, people, subscriber, django_capture_on_commit_callbacks
):
    before = footprint()
    with django_capture_on_commit_callbacks(execute=True):
        response = bulk(staff_client, "set_stage")
    assert footprint() == before
    change = ContactBulkChange.objects.get()
    assert (change.status, change.action, change.stage) == ("queued", "set_stage", "contacted")
    assert (change.requested_by, change.filter_params) == (staff_user, {"company": "Acme"})
    assert response["Location"] == change.get_absolute_url()
    assert [task.name() for task in OrmQ.objects.all()] == [change.task_name]


def test_at_the_threshold_it_still_changes_in_the_request(staff_client, people, settings):
    settings.BULK_IN_REQUEST_MAX = 3
    response = bulk(staff_client, "set_stage")
    assert response["Location"] == "/contacts/?company=Acme"
    assert not ContactBulkChange.objects.exists()
    assert Contact.objects.filter(stage="contacted").count() == 3


def test_selected_rows_always_change_in_the_request(staff_client, people):
    data = {"action": "set_stage", "stage": "meeting", "selected": [p.pk for p in people]}
    staff_client.post("/contacts/bulk/", data)
    assert not ContactBulkChange.objects.exists()
    assert Contact.objects.filter(stage="meeting").count() == 4


def test_a_delete_asks_first_with_the_count_and_queues_only_once_confirmed(staff_client, people):
    response = staff_client.post(
        "/contacts/bulk/", {"action": "delete", "all_matching": "on", "query": "company=Acme"}
    )
    assert "Delete 3 contacts?" in response.content.decode()
    assert not ContactBulkChange.objects.exists()
    bulk(staff_client, "delete")
    assert ContactBulkChange.objects.get().action == "delete"
    assert Contact.objects.count() == 4


def test_a_member_cannot_queue_a_delete(other_staff_user, people):
    client = Client()
    client.force_login(other_staff_user)  # a Member: no "Can delete contact"
    response = client.post(
        "/contacts/bulk/",
        {"action": "delete", "all_matching": "on", "query": "", "confirmed": "on"},
        follow=True,
    )
    assert "nothing was deleted" in response.content.decode()
    assert not ContactBulkChange.objects.exists() and Contact.objects.count() == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "explode", "query": "company=Acme"}, "Select a valid choice"),
        ({"action": "set_stage", "stage": "wizard", "query": ""}, "Select a valid choice"),
        ({"action": "mark_dnc", "query": ""}, "Say why"),
        (
            {"action": "set_stage", "stage": "lead", "query": "stage=wizard"},
            "The filter is not valid any more; nothing was changed.",
        ),
        (
            {"action": "add_tag", "tag": "New", "query": "tags=999999"},
            "The filter is not valid any more; nothing was changed.",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_and_queues_nothing(
    staff_client, people, data, message
):
    before = footprint()
    response = staff_client.post("/contacts/bulk/", {**data, "all_matching": "on"}, follow=True)
    assert message in response.content.decode()
    assert not ContactBulkChange.objects.exists()
    assert footprint() == before
    assert list(Tag.objects.values_list("name", flat=True)) == ["VIP"]
