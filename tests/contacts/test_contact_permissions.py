"""Exporting, merging and deleting contacts need the Manager role (or Admin): a Member is
refused by the page, the admin and the service alike, and sees no button for it. Each act a
Manager does is in the audit log."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.test import Client

from contacts import services
from contacts.models import Contact, MergeLog, Note
from linkedin_crm.models import AuditEvent
from tests.contacts.factories import ContactFactory, NoteFactory, UserFactory, with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    same = {"first_name": "Ann", "last_name": "Lee", "company": "Acme", "position": "CTO"}
    keep = ContactFactory(**same, profile_url=None, email="")
    drop = ContactFactory(**same, profile_url=None, email="ann@x.org")
    NoteFactory(contact=drop)
    return keep, drop


def merge_data(keep, drop):
    return {"ids": [keep.pk, drop.pk], "survivor": keep.pk, "value_email": drop.pk}


# --- what a Member sees and is refused -------------------------------------------------------


def test_a_member_sees_no_export_delete_or_merge_buttons(staff_client, pair):
    keep, _ = pair
    listing = staff_client.get("/contacts/").content.decode()
    assert "Export CSV" not in listing
    assert '<option value="delete">' not in listing
    assert '<option value="add_tag">' in listing
    assert "/delete/" not in staff_client.get(f"/contacts/{keep.pk}/").content.decode()
    duplicates = staff_client.get("/contacts/duplicates/").content.decode()
    assert "Merge these two" not in duplicates and "ask a Manager to merge" in duplicates


def test_a_manager_sees_them(manager_client, pair):
    keep, _ = pair
    listing = manager_client.get("/contacts/").content.decode()
    assert "Export CSV" in listing and '<option value="delete">' in listing
    detail = manager_client.get(f"/contacts/{keep.pk}/").content.decode()
    assert f"/contacts/{keep.pk}/delete/" in detail
    assert "Merge these two" in manager_client.get("/contacts/duplicates/").content.decode()


def test_it_refuses_a_member_the_merge_page_and_merging(staff_client, pair):
    keep, drop = pair
    response = staff_client.get(f"/contacts/merge/?ids={keep.pk}&ids={drop.pk}")
    assert response.status_code == 403
    assert "Merging contacts needs the “Can merge contacts” permission" in response.content.decode()
    assert staff_client.post("/contacts/merge/", merge_data(keep, drop)).status_code == 403
    assert Contact.objects.count() == 2 and not MergeLog.objects.exists()
    assert not AuditEvent.objects.exists()


def test_it_refuses_a_member_the_delete_page_and_deleting(staff_client, pair):
    keep, _ = pair
    assert staff_client.get(f"/contacts/{keep.pk}/delete/").status_code == 403
    response = staff_client.post(f"/contacts/{keep.pk}/delete/")
    assert response.status_code == 403
    assert "Can delete contact" in response.content.decode()
    assert Contact.objects.count() == 2 and not AuditEvent.objects.exists()


@pytest.mark.parametrize("confirmed", ["", "on"])
def test_it_refuses_a_member_the_bulk_delete_with_a_message(staff_client, pair, confirmed):
    data = {"action": "delete", "all_matching": "on", "query": "", "confirmed": confirmed}
    response = staff_client.post("/contacts/bulk/", data, follow=True)
    assert "Deleting contacts needs the “Can delete contact” permission" in (
        response.content.decode()
    )
    assert "nothing was deleted" in response.content.decode()
    assert Contact.objects.count() == 2 and not AuditEvent.objects.exists()


def test_the_services_refuse_a_member(staff_user, pair):
    keep, drop = pair
    with pytest.raises(PermissionDenied, match="Can merge contacts"):
        services.contacts_merge(survivor=keep, merged=drop, values={}, user=staff_user)
    with pytest.raises(PermissionDenied, match="Can delete contact"):
        services.contacts_delete(contacts=Contact.objects.all(), actor=staff_user)
    with pytest.raises(PermissionDenied, match="Can export contacts"):
        services.contacts_export(
            contacts=Contact.objects.all(), out=[], user=staff_user, via="page"
        )
    assert Contact.objects.count() == 2 and Note.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_the_services_refuse_an_inactive_manager(manager, pair):
    manager.is_active = False
    manager.save()
    with pytest.raises(PermissionDenied):
        services.contacts_delete(contacts=Contact.objects.all(), actor=manager)
    assert Contact.objects.count() == 2


def test_a_staff_user_given_only_the_permission_may_act(staff_user, pair):
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(Permission.objects.get(codename="delete_contact"))
    actor = type(staff_user).objects.get(pk=staff_user.pk)
    assert services.contacts_delete(contacts=Contact.objects.all(), actor=actor) == 2


# --- what a Manager does, audited ------------------------------------------------------------


def test_a_manager_merges_and_it_is_audited_without_personal_data(manager_client, manager, pair):
    keep, drop = pair
    response = manager_client.post("/contacts/merge/", merge_data(keep, drop))
    assert response["Location"] == f"/contacts/{keep.pk}/"
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.via) == ("merge", manager, "page")
    assert (event.object_type, event.object_id, event.object_repr) == (
        "contact",
        str(keep.pk),
        f"contact #{keep.pk}",
    )
    assert event.counts == {"notes": 1}
    assert event.detail == {"merged_contact": drop.pk, "fields": ["email"]}
    assert "ann@x.org" not in str(event.detail) + str(event.counts)


def test_a_manager_deletes_one_contact_and_it_is_audited_by_id(manager_client, manager, pair):
    keep, _ = pair
    manager_client.post(f"/contacts/{keep.pk}/delete/")
    assert not Contact.objects.filter(pk=keep.pk).exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.via, event.counts) == (
        "contacts_delete",
        manager,
        "page",
        {"contacts": 1},
    )
    assert (event.object_id, event.object_repr) == (str(keep.pk), f"contact #{keep.pk}")


def test_a_manager_bulk_deletes_and_it_is_audited_with_the_count(manager_client, manager, pair):
    ids = sorted(Contact.objects.values_list("pk", flat=True))
    data = {"action": "delete", "all_matching": "on", "query": "", "confirmed": "on"}
    manager_client.post("/contacts/bulk/", data)
    assert not Contact.objects.exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.counts, event.object_id) == ("contacts_delete", {"contacts": 2}, "")
    assert sorted(event.detail["ids"]) == ids


def test_deleting_nothing_is_not_an_act(manager):
    assert services.contacts_delete(contacts=Contact.objects.none(), actor=manager) == 0
    assert not AuditEvent.objects.exists()


# --- the admin -------------------------------------------------------------------------------


@pytest.fixture
def admin_user(db):
    return with_role(UserFactory(username="ada", is_staff=True), "Admin")


def test_the_admin_delete_goes_through_the_service_and_is_audited(admin_user, pair):
    client = Client()
    client.force_login(admin_user)
    keep, drop = pair
    response = client.post(f"/admin/contacts/contact/{keep.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    data = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [drop.pk], "post": "yes"}
    client.post("/admin/contacts/contact/", data)
    assert not Contact.objects.exists()
    events = AuditEvent.objects.order_by("id")
    assert [(e.action, e.via, e.actor, e.counts) for e in events] == [
        ("contacts_delete", "admin", admin_user, {"contacts": 1}),
        ("contacts_delete", "admin", admin_user, {"contacts": 1}),
    ]


def test_the_admin_offers_a_member_no_delete(staff_client, pair):
    keep, _ = pair
    assert staff_client.get(f"/admin/contacts/contact/{keep.pk}/delete/").status_code == 403
    assert Contact.objects.count() == 2
