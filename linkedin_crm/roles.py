"""The team's roles and the permissions each one grants.

Three roles, each a Django group (created by a migration, kept in step by `sync_role_groups`):

- **Member**: their own LinkedIn accounts, Outbox and messages, campaigns sending from their
  own accounts, imports into their own network. A staff user without a role is a Member.
- **Manager**: besides, every member's accounts, Outbox and campaigns, imports into any network,
  exporting, merging, deleting and erasing contacts.
- **Admin**: everything, including who has which role (the team page), the audit log and
  the webhooks.

A rule is checked in one place: object rules as queryset methods (`LinkedInAccount.objects.
manageable_by(user)`, `Campaign.objects.editable_by(user)`, `Network.objects.importable_by(user)`),
act rules as the permissions below, called the same way by pages, admin, commands and tasks.
"""

from django.contrib.auth.management import create_permissions
from django.core.exceptions import PermissionDenied
from django.db import models, transaction

ADMIN, MANAGER, MEMBER = "Admin", "Manager", "Member"
ROLES = (ADMIN, MANAGER, MEMBER)

# Act rules, by what they allow.
MANAGE_ALL_ACCOUNTS = "messaging.manage_all_accounts"
MANAGE_ALL_CAMPAIGNS = "campaigns.manage_all_campaigns"
IMPORT_ANY_NETWORK = "contacts.import_any_network"
EXPORT_CONTACTS = "contacts.export_contact"
MERGE_CONTACTS = "contacts.merge_contact"
DELETE_CONTACTS = "contacts.delete_contact"
ERASE_CONTACTS = "contacts.erase_contact"
MANAGE_TEAM = "linkedin_crm.manage_team"
VIEW_AUDIT_LOG = "linkedin_crm.view_auditevent"
MANAGE_WEBHOOKS = "linkedin_crm.change_webhooksubscription"

# What a Member may see in the admin: the shared contact base, read-only.
_MEMBER = (
    "contacts.view_contact",
    "contacts.view_tag",
    "contacts.view_note",
    "contacts.view_network",
    "contacts.view_importbatch",
)
_MANAGER = _MEMBER + (
    MANAGE_ALL_ACCOUNTS,
    MANAGE_ALL_CAMPAIGNS,
    IMPORT_ANY_NETWORK,
    EXPORT_CONTACTS,
    MERGE_CONTACTS,
    DELETE_CONTACTS,
    ERASE_CONTACTS,
    "contacts.change_contact",
    "contacts.add_tag",
    "contacts.change_tag",
    "messaging.view_linkedinaccount",
    "messaging.view_message",
    "campaigns.view_campaign",
)
# Admins get every permission of these apps (django-q's are for superusers only: a Schedule
# runs any Python function as the worker).
_ADMIN_APPS = ("contacts", "messaging", "campaigns", "linkedin_crm", "auth")

ROLE_PERMISSIONS = {MEMBER: _MEMBER, MANAGER: _MANAGER}


def sync_role_groups(apps) -> None:
    """Create the three groups and give each exactly its permissions (idempotent). Takes an
    app registry so that a migration can call it with its historical models."""
    for app_config in apps.get_app_configs():
        # Permissions are normally created after all migrations ran; the groups need them now.
        # A migration's historical app configs have no models module, which create_permissions
        # takes for "no models here": lend one for the call, and give back what was there (the
        # live registry's own, when a test or a command passes that).
        had = getattr(app_config, "models_module", None)
        app_config.models_module = had or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = had
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(names):
        wanted = {tuple(name.split(".", 1)) for name in names}
        found = [
            p
            for p in Permission.objects.select_related("content_type")
            if (p.content_type.app_label, p.codename) in wanted
        ]
        missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
        assert not missing, f"unknown permissions {missing}"
        return found

    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions(names))
    admin, _ = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.set(Permission.objects.filter(content_type__app_label__in=_ADMIN_APPS))


def role_of(user) -> str | None:
    """The user's role: superusers are Admins, staff without a role group are Members, people
    who are not staff have none."""
    if not (user.is_active and user.is_staff):
        return None
    if user.is_superuser:
        return ADMIN
    names = {group.name for group in user.groups.all()}
    return next((role for role in ROLES if role in names), MEMBER)


def role_assign(*, user, role: str, actor, via: str = "page") -> bool:
    """Give `user` exactly one role. Returns False when it was theirs already. The last
    Admin cannot give up the role: the team would have nobody left to assign roles. (The
    `user` object passed in keeps its cached permissions; fetch it again to see the new ones.)"""
    from django.contrib.auth.models import Group

    from linkedin_crm import audit
    from messaging import services as messaging_services

    if role not in ROLES:
        raise ValueError(f"“{role}” is not a role; choose {', '.join(ROLES)}.")
    if not actor.has_perm(MANAGE_TEAM):
        raise PermissionDenied("Only an Admin may change roles.")
    if user.is_superuser:
        raise ValueError(f"{user} is a superuser and so always an Admin.")
    with transaction.atomic():
        # Two Admins demoting each other at once: the second waits here for the first, and
        # then finds it is the last one.
        admin_group = Group.objects.select_for_update().get(name=ADMIN)
        user = type(user).objects.get(pk=user.pk)
        previous = role_of(user)
        if previous == role:
            return False
        if previous == ADMIN and not active_admins().exclude(pk=user.pk).exists():
            raise ValueError(f"{user} is the last Admin; make someone else Admin first.")
        user.groups.remove(*Group.objects.filter(name__in=ROLES))
        user.groups.add(admin_group if role == ADMIN else Group.objects.get(name=role))
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        audit.record(
            audit.Action.ROLE_CHANGE,
            actor=actor,
            obj=user,
            via=via,
            detail={"from": previous or "", "to": role},
        )
        # Messages they queued from accounts the new role no longer lets them manage.
        messaging_services.messages_drop_unauthorised(user=user, actor=actor)
    return True


def active_admins():
    """Everyone who may assign roles now: active staff who are superusers or in the Admin
    group."""
    from django.contrib.auth import get_user_model

    admins = get_user_model().objects.filter(is_active=True, is_staff=True)
    return admins.filter(models.Q(is_superuser=True) | models.Q(groups__name=ADMIN)).distinct()
