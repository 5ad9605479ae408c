"""Audit events can only be added: not through the ORM, not through the admin, not even by a
superuser."""

import pytest
from django.test import Client
from django.utils import timezone

from linkedin_crm import audit
from linkedin_crm.models import AuditEvent, AuditLogIsAppendOnly
from tests.contacts.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(staff_user):
    return audit.record(audit.Action.EXPORT, actor=staff_user, counts={"contacts": 3})


def test_it_cannot_be_changed_or_deleted_through_the_orm(event):
    event.counts = {"contacts": 0}
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(counts={})
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.counts == {"contacts": 3}


def test_it_names_a_contact_by_id_only(staff_user):
    contact = ContactFactory(first_name="Zelda")
    event = audit.record(audit.Action.MERGE, actor=staff_user, obj=contact)
    assert event.object_repr == f"contact #{contact.pk}" and "Zelda" not in event.object_repr


def test_record_each_writes_one_event_per_object_with_its_own_detail(staff_user):
    from contacts.models import Contact
    from linkedin_crm.models import WebhookSubscription

    ann, bo, cy = ContactFactory.create_batch(3)
    at = timezone.now()
    moves = [
        (ann.pk, {"from": "lead", "to": "meeting"}),
        (bo.pk, {"from": "replied", "to": "meeting"}),
    ]
    moves.append((cy.pk, {"from": "lead", "to": "meeting"}))
    assert (
        audit.record_each(
            audit.Action.STAGE_CHANGE, model=Contact, objects=moves, actor=staff_user, at=at
        )
        == 3
    )
    events = {event.object_id: event for event in AuditEvent.objects.all()}
    assert set(events) == {str(ann.pk), str(bo.pk), str(cy.pk)}
    for pk, detail in moves:
        event = events[str(pk)]
        assert (event.detail, event.object_type, event.object_repr) == (
            detail,
            "contact",
            f"contact #{pk}",
        )
        assert (event.actor, event.actor_name, event.via, event.at) == (
            staff_user,
            staff_user.username,
            "page",
            at,
        )
    # Only models named by their id: another would need its name, which record() writes.
    with pytest.raises(ValueError, match="needs record"):
        audit.record_each(audit.Action.STAGE_CHANGE, model=WebhookSubscription, objects=[(1, {})])


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_the_admin_shows_events_read_only_even_to_a_superuser(superuser_client, event):
    changelist = superuser_client.get("/admin/linkedin_crm/auditevent/")
    assert changelist.status_code == 200
    assert "Contacts exported" in changelist.content.decode()
    assert 'value="delete_selected"' not in changelist.content.decode()
    assert superuser_client.get("/admin/linkedin_crm/auditevent/add/").status_code == 403
    page = superuser_client.get(f"/admin/linkedin_crm/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = superuser_client.post(
        f"/admin/linkedin_crm/auditevent/{event.pk}/change/", {"action": "erase"}
    )
    assert response.status_code == 403
    delete = f"/admin/linkedin_crm/auditevent/{event.pk}/delete/"
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert (AuditEvent.objects.count(), event.action) == (1, "export")


def test_the_admin_filters_by_action_and_interface(superuser_client, event, staff_user):
    audit.record(audit.Action.MERGE, actor=staff_user, via=audit.Via.ADMIN)
    response = superuser_client.get("/admin/linkedin_crm/auditevent/", {"via__exact": "admin"})
    assert response.context["cl"].result_count == 1
    response = superuser_client.get("/admin/linkedin_crm/auditevent/", {"action__exact": "export"})
    assert response.context["cl"].result_count == 1


def test_a_member_cannot_see_the_log_in_the_admin(staff_client, event):
    assert staff_client.get("/admin/linkedin_crm/auditevent/").status_code == 403
