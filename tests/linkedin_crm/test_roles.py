"""The three roles, the team page where Admins assign them, and the user admin."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from linkedin_crm import roles
from linkedin_crm.auth import TeamAuthenticationBackend
from linkedin_crm.models import AuditEvent
from tests.contacts.factories import UserFactory, give_role

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_migration_creates_the_three_roles_with_their_permissions():
    def perms(name):
        group = Group.objects.get(name=name)
        return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}

    member, manager, admin = perms("Member"), perms("Manager"), perms("Admin")
    assert roles.MANAGE_ALL_ACCOUNTS not in member and roles.EXPORT_CONTACTS not in member
    assert {roles.MANAGE_ALL_ACCOUNTS, roles.MANAGE_ALL_CAMPAIGNS, roles.IMPORT_ANY_NETWORK} <= (
        manager
    )
    assert roles.MANAGE_TEAM not in manager and roles.VIEW_AUDIT_LOG not in manager
    assert manager <= admin and {roles.MANAGE_TEAM, roles.VIEW_AUDIT_LOG} <= admin
    # django-q's schedules run any function: no role grants them.
    assert not any(name.startswith("django_q.") for name in admin)


def test_sync_is_idempotent():
    from django.apps import apps

    roles.sync_role_groups(apps)
    roles.sync_role_groups(apps)
    assert Group.objects.filter(name__in=roles.ROLES).count() == 3


def test_sync_leaves_the_live_app_registry_as_it_was():
    """It once left every app without its models module, after which dumpdata (the personal
    data test) saw no models at all."""
    from django.apps import apps

    import contacts.models

    roles.sync_role_groups(apps)
    assert apps.get_app_config("contacts").models_module is contacts.models


def test_role_of(staff_user, non_staff_user):
    assert roles.role_of(staff_user) == "Member"  # staff without a role
    assert roles.role_of(non_staff_user) is None
    assert roles.role_of(give_role(UserFactory(is_staff=True), "Manager")) == "Manager"
    assert roles.role_of(UserFactory(is_staff=True, is_superuser=True)) == "Admin"


def test_the_backend_loads_permissions_with_the_user_in_one_query(staff_user):
    give_role(staff_user, "Manager")
    staff_user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    with CaptureQueriesContext(connection) as queries:
        user = TeamAuthenticationBackend().get_user(staff_user.pk)
        assert user.has_perm(roles.MANAGE_ALL_CAMPAIGNS)  # from the group
        assert user.has_perm(roles.VIEW_AUDIT_LOG)  # their own
        assert not user.has_perm(roles.MANAGE_TEAM)
    assert len(queries) == 1
    fresh = type(staff_user).objects.get(pk=staff_user.pk)
    assert user.get_all_permissions() == ModelBackend().get_all_permissions(fresh)
    assert TeamAuthenticationBackend().get_user(10**9) is None


def test_the_team_page_is_for_admins(staff_client, staff_user):
    assert staff_client.get("/team/").status_code == 403
    manager = give_role(UserFactory(is_staff=True), "Manager")
    assert _client(manager).get("/team/").status_code == 403
    admin = give_role(UserFactory(is_staff=True, username="ada"), "Admin")
    page = _client(admin).get("/team/").content.decode()
    assert "alice" in page and "Member" in page and "What each role may do" in page


def test_an_admin_changes_a_role_and_it_is_audited(staff_user):
    admin = give_role(UserFactory(is_staff=True, username="ada"), "Admin")
    client = _client(admin)
    response = client.post(f"/team/{staff_user.pk}/role/", {"role": "Manager"}, follow=True)
    assert "alice is now Manager" in response.content.decode()
    staff_user = type(staff_user).objects.get(pk=staff_user.pk)
    assert roles.role_of(staff_user) == "Manager"
    assert staff_user.has_perm(roles.EXPORT_CONTACTS)
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.detail) == (
        "role_change",
        admin,
        {"from": "Member", "to": "Manager"},
    )
    # Bad input: a made-up role changes nothing.
    response = client.post(f"/team/{staff_user.pk}/role/", {"role": "Owner"}, follow=True)
    assert "“Owner” is not a role" in response.content.decode()
    assert roles.role_of(type(staff_user).objects.get(pk=staff_user.pk)) == "Manager"
    assert client.get(f"/team/{staff_user.pk}/role/").status_code == 405


def test_the_last_admin_cannot_step_down():
    ada = give_role(UserFactory(is_staff=True, username="ada"), "Admin")
    response = _client(ada).post(f"/team/{ada.pk}/role/", {"role": "Member"}, follow=True)
    assert "ada is the last Admin" in response.content.decode()
    assert roles.role_of(type(ada).objects.get(pk=ada.pk)) == "Admin"
    assert not AuditEvent.objects.exists()


def test_a_member_cannot_change_roles_even_by_posting(staff_client, staff_user, other_staff_user):
    response = staff_client.post(f"/team/{staff_user.pk}/role/", {"role": "Admin"})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied, match="Only an Admin"):
        roles.role_assign(user=staff_user, role="Admin", actor=other_staff_user)
    assert roles.role_of(staff_user) == "Member"


def test_the_user_admin_assigns_roles_through_the_same_rule(staff_user):
    ada = give_role(UserFactory(is_staff=True, username="ada"), "Admin")
    client = _client(ada)
    page = client.get(f"/admin/auth/user/{staff_user.pk}/change/")
    form = page.context["adminform"].form
    # Not a superuser: cannot make anyone (herself included) one, nor hand out permissions.
    assert "is_superuser" not in form.fields and "user_permissions" not in form.fields
    assert "groups" not in form.fields and "role" in form.fields
    data = {
        "username": "alice",
        "first_name": "Alice",
        "last_name": "Archer",
        "email": "alice@example.com",
        "is_active": "on",
        "is_staff": "on",
        "role": "Manager",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(f"/admin/auth/user/{staff_user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert roles.role_of(type(staff_user).objects.get(pk=staff_user.pk)) == "Manager"
    assert AuditEvent.objects.get().via == "admin"
    client.post(f"/admin/auth/user/{ada.pk}/change/", {**data, "username": "ada", "role": "Member"})
    assert roles.role_of(type(ada).objects.get(pk=ada.pk)) == "Admin"  # the last Admin stays


def test_an_admin_cannot_take_over_a_superuser_or_hand_out_permissions(admin_user):
    """The Admin role may change users, but not a superuser (whose password would give the
    superuser's rights, django-q's schedules included), and not the groups' permissions."""
    ada = give_role(UserFactory(is_staff=True, username="ada"), "Admin")
    client = _client(ada)
    # Shown read-only at most; the password and delete pages refuse.
    page = client.get(f"/admin/auth/user/{admin_user.pk}/change/")
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    for url in (
        f"/admin/auth/user/{admin_user.pk}/password/",
        f"/admin/auth/user/{admin_user.pk}/delete/",
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(
        f"/admin/auth/user/{admin_user.pk}/password/",
        {"password1": "taken over 123!", "password2": "taken over 123!"},
    )
    assert response.status_code in (302, 403)
    admin_user.refresh_from_db()
    assert not admin_user.check_password("taken over 123!")
    admin_group = Group.objects.get(name="Admin")
    assert client.get(f"/admin/auth/group/{admin_group.pk}/change/").status_code == 403
    assert client.get("/admin/auth/group/").status_code == 403


def test_the_last_admin_cannot_be_deactivated_or_deleted_in_the_admin(admin_user):
    ada = give_role(UserFactory(is_staff=True, username="ada"), "Admin")
    admin_user.is_active = False  # only Ada remains
    admin_user.save()
    client = _client(ada)
    page = client.get(f"/admin/auth/user/{ada.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(is_active="", is_staff="on", date_joined_0="2026-01-01", date_joined_1="00:00:00")
    data = {k: v for k, v in data.items() if v is not False and k != "password"}
    response = client.post(f"/admin/auth/user/{ada.pk}/change/", data)
    assert response.status_code == 200  # the form again, with the reason
    assert "ada is the last Admin" in response.content.decode()
    assert type(ada).objects.get(pk=ada.pk).is_active
    client.post(f"/admin/auth/user/{ada.pk}/delete/", {"post": "yes"})
    assert type(ada).objects.filter(pk=ada.pk).exists()


def test_losing_a_role_cancels_what_was_queued_from_others_accounts(staff_user):
    """A Manager queued from a Member's account; once no longer a Manager, nothing more goes
    out on their authority there (their own account's messages stay)."""
    from messaging import services
    from messaging.models import Message
    from tests.contacts.factories import ContactFactory
    from tests.messaging.factories import LinkedInAccountFactory

    manager = give_role(UserFactory(is_staff=True, username="mia"), "Manager")
    others = LinkedInAccountFactory(owner=staff_user)
    own = LinkedInAccountFactory(owner=manager)
    people = [ContactFactory() for _ in range(2)]
    services.messages_queue(contacts=people, account=others, body="Hi", created_by=manager)
    services.messages_queue(contacts=people, account=own, body="Hi", created_by=manager)
    ada = give_role(UserFactory(is_staff=True, username="ada"), "Admin")
    roles.role_assign(user=manager, role="Member", actor=ada)
    statuses = dict(
        Message.objects.values_list("account_id", "status").distinct().order_by("account_id")
    )
    assert statuses == {others.pk: "cancelled", own.pk: "queued"}
    event = Message.objects.filter(account=others).first().events.get()
    assert event.actor == ada and "mia may no longer send from this account" in event.note
