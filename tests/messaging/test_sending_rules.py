"""A message is queued or sent only from an account the acting person may manage; a link can
never queue anything; account acts and settings changes are audited."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.test import Client

from linkedin_crm.models import AuditEvent
from messaging import services
from messaging.models import LinkedInAccount, Message
from tests.contacts.factories import ConnectionFactory, ContactFactory, give_role
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices(staff_user):
    return LinkedInAccountFactory(owner=staff_user, display_name="Alice Archer")


@pytest.fixture
def bobs(other_staff_user):
    return LinkedInAccountFactory(owner=other_staff_user, display_name="Bob Baker")


@pytest.fixture
def people(alices):
    contacts = [ContactFactory(first_name=f"P{n}", company="Acme") for n in range(3)]
    for contact in contacts:
        ConnectionFactory(contact=contact, network=alices.network)
    return contacts


def test_a_link_never_queues_messages(staff_client, alices, people):
    """The finding: GET /contacts/message/?all_matching=1&…&step=queue queued thousands, and a
    SameSite=Lax session cookie lets a link on another site do it."""
    url = "/contacts/message/"
    params = {
        "all_matching": "1",
        "query": "company=Acme",
        "step": "queue",
        "account": alices.pk,
        "body": "Buy now",
    }
    response = staff_client.get(url, params)
    assert response.status_code == 200  # shown as a preview, to confirm with a POST
    assert not Message.objects.exists() and not AuditEvent.objects.exists()
    response = staff_client.post(url, params)
    assert response.status_code == 302
    assert Message.objects.count() == 3


def test_a_member_cannot_queue_from_another_members_account(staff_client, bobs, people):
    response = staff_client.post(
        "/contacts/message/",
        {"selected": [p.pk for p in people], "step": "queue", "account": bobs.pk, "body": "Hi"},
    )
    refusal = "That LinkedIn account is another member&#x27;s: you cannot send from it."
    assert refusal in response.content.decode()
    response = staff_client.post(
        f"/contacts/{people[0].pk}/message/",
        {"account": bobs.pk, "body": "Hi", "action": "queue"},
    )
    assert response.status_code == 403 and refusal in response.content.decode()
    assert not Message.objects.exists()


def test_the_service_refuses_whoever_calls_it(staff_user, bobs, people):
    """Commands, tasks and the API use the same service, so the rule holds there too."""
    with pytest.raises(PermissionDenied, match="another member's LinkedIn account"):
        services.messages_queue(contacts=people, account=bobs, body="Hi", created_by=staff_user)
    with pytest.raises(PermissionDenied):
        services.messages_queue(contacts=people, account=bobs, body="Hi", created_by=None)
    assert not Message.objects.exists()
    manager = give_role(staff_user, "Manager")
    result = services.messages_queue(contacts=people, account=bobs, body="Hi", created_by=manager)
    assert len(result.queued_ids) == 3
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.counts) == (
        "bulk_queue",
        manager,
        {"queued": 3, "skipped": 0},
    )


def test_a_member_cannot_see_or_act_on_another_members_account_or_outbox(
    staff_client, bobs, people
):
    released = MessageFactory(account=bobs, status="released", body="Bob's draft")
    for url in (f"/linkedin-accounts/{bobs.pk}/", f"/messages/{released.pk}/"):
        assert staff_client.get(url).status_code == 404
    assert "Bob&#x27;s draft" not in staff_client.get("/outbox/").content.decode()
    for url in (
        f"/linkedin-accounts/{bobs.pk}/pause/",
        f"/linkedin-accounts/{bobs.pk}/disconnect/",
        f"/outbox/{released.pk}/sent/",
        f"/outbox/{released.pk}/skip/",
        f"/messages/{released.pk}/cancel/",
    ):
        assert staff_client.post(url).status_code == 404, url
    bobs.refresh_from_db()
    released.refresh_from_db()
    assert bobs.status == "active" and released.status == "released"


def test_account_acts_and_settings_changes_are_audited(staff_client, staff_user, alices):
    staff_client.post(f"/linkedin-accounts/{alices.pk}/pause/")
    staff_client.post(f"/linkedin-accounts/{alices.pk}/resume/")
    form = staff_client.get(f"/linkedin-accounts/{alices.pk}/").context["form"]
    data = {name: form[name].value() for name in form.fields}
    data.update(daily_limit=40, window_days=[0, 1, 2])
    data = {k: v for k, v in data.items() if v is not None and v is not False}
    assert staff_client.post(f"/linkedin-accounts/{alices.pk}/", data).status_code == 302
    staff_client.post(f"/linkedin-accounts/{alices.pk}/disconnect/")
    events = list(AuditEvent.objects.order_by("at", "id"))
    assert [(e.action, e.actor) for e in events] == [
        ("account_pause", staff_user),
        ("account_resume", staff_user),
        ("account_settings", staff_user),
        ("account_disconnect", staff_user),
    ]
    assert events[2].detail == {"daily_limit": [100, 40]}


def test_the_admin_keeps_owner_and_sender_read_only(staff_user, alices, bobs):
    """The finding: anyone with change permission could reassign an account's owner or a
    message's sender in the admin, bypassing manage_all_accounts."""
    staff_user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_linkedinaccount",
                "change_linkedinaccount",
                "view_message",
                "change_message",
            ]
        )
    )
    client = Client()
    client.force_login(staff_user)
    assert client.get(f"/admin/messaging/linkedinaccount/{bobs.pk}/change/").status_code == 302
    page = client.get(f"/admin/messaging/linkedinaccount/{alices.pk}/change/")
    form = page.context["adminform"].form
    assert "owner" not in form.fields and "network" not in form.fields
    assert "mode" not in form.fields and "status" not in form.fields
    message = MessageFactory(account=alices)
    form = client.get(f"/admin/messaging/message/{message.pk}/change/").context["adminform"].form
    assert "account" not in form.fields and "created_by" not in form.fields
    client.post(
        f"/admin/messaging/linkedinaccount/{alices.pk}/change/",
        {"owner": bobs.owner.pk, "display_name": "Mine now", "daily_limit": 100},
    )
    alices.refresh_from_db()
    assert alices.owner == staff_user
    assert LinkedInAccount.objects.filter(owner=staff_user).count() == 1


def test_django_q_admin_is_for_superusers_only(staff_user, admin_client):
    """A Schedule names any Python function for the worker to run: code execution."""
    give_role(staff_user, "Admin")
    staff_user.user_permissions.add(*Permission.objects.filter(content_type__app_label="django_q"))
    client = Client()
    client.force_login(staff_user)
    for url in ("/admin/django_q/schedule/", "/admin/django_q/schedule/add/"):
        assert client.get(url).status_code == 403, url
    assert "django_q" not in client.get("/admin/").content.decode()
    assert admin_client.get("/admin/django_q/schedule/").status_code == 200


def test_the_message_services_refuse_another_members_message(staff_user, bobs):
    """Whatever calls them (a page, the API, a command), the Outbox and message acts check
    the account as the pages do."""
    from messaging import dispatch

    released = MessageFactory(account=bobs, status="released")
    uncertain = MessageFactory(account=bobs, status="uncertain")
    for act in (
        lambda: services.outbox_mark_sent(message=released, actor=staff_user),
        lambda: services.outbox_skip(message=released, actor=staff_user),
        lambda: services.outbox_edit(message=released, body="Mine now", actor=staff_user),
        lambda: services.message_cancel(message=released, actor=staff_user),
        lambda: services.message_resolve_uncertain(message=uncertain, sent=True, actor=staff_user),
        lambda: dispatch.outbox_send(message=released, actor=staff_user),
    ):
        with pytest.raises(PermissionDenied):
            act()
    released.refresh_from_db()
    uncertain.refresh_from_db()
    assert (released.status, released.body, uncertain.status) == (
        "released",
        "Hello from the CRM",
        "uncertain",
    )
