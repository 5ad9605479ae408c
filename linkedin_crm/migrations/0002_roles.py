from django.db import migrations, models


def create_roles(apps, schema_editor):
    from linkedin_crm.roles import ADMIN, MANAGER, MEMBER, sync_role_groups

    sync_role_groups(apps)
    # Everyone keeps what they could do: superusers are Admins, staff who could manage all
    # accounts are Managers, other staff Members.
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    groups = {name: Group.objects.get(name=name) for name in (ADMIN, MANAGER, MEMBER)}
    for user in User.objects.filter(is_staff=True).prefetch_related("user_permissions"):
        if user.groups.filter(name__in=groups).exists():
            continue
        if user.is_superuser:
            role = ADMIN
        elif any(p.codename == "manage_all_accounts" for p in user.user_permissions.all()):
            role = MANAGER
        else:
            role = MEMBER
        user.groups.add(groups[role])
    # Campaigns launched before launches were recorded were launched on their owner's authority.
    Campaign = apps.get_model("campaigns", "Campaign")
    Campaign.objects.filter(launched_at__isnull=False, launched_by=None).update(
        launched_by=models.F("owner")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("linkedin_crm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contacts", "0003_roles"),
        ("messaging", "0003_dispatcher_and_dashboard_indexes"),
        ("campaigns", "0003_roles"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
