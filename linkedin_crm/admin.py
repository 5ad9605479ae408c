"""Admin for the team: roles go through the same rule as the team page, the worker's
schedules and task results are for superusers only, and the audit log is read-only."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django_q import models as q_models

from linkedin_crm import roles
from linkedin_crm.models import AuditEvent
from messaging import services as messaging_services


class SuperuserOnly:
    """django-q's admin: a Schedule names any importable Python function, which the worker
    then runs with its own rights. That is code execution, so only superusers see these."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, *args):
        return self.has_module_permission(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request) and super().has_delete_permission(request, obj)


for _model in (q_models.Schedule, q_models.Success, q_models.Failure, q_models.OrmQ):
    if admin.site.is_registered(_model):
        _original = type(admin.site._registry[_model])
        admin.site.unregister(_model)
        admin.site.register(_model, type(_original.__name__, (SuperuserOnly, _original), {}))


class TeamUserForm(UserChangeForm):
    role = forms.ChoiceField(
        choices=[(role, role) for role in roles.ROLES],
        help_text="What this person may do; see the team page.",
    )

    def clean(self):
        cleaned = super().clean()
        leaving = cleaned.get("is_active") is False or cleaned.get("is_staff") is False
        if self.instance.pk and leaving:
            before = type(self.instance).objects.get(pk=self.instance.pk)
            if _leaves_no_admin([before]):
                raise forms.ValidationError(
                    f"{before} is the last Admin; make someone else Admin first."
                )
        return cleaned


def _leaves_no_admin(users) -> bool:
    """Whether losing these users (deactivated, no longer staff, deleted) would leave the team
    with nobody who may assign roles."""
    users = list(users)
    admins = [user for user in users if roles.role_of(user) == roles.ADMIN]
    if not admins:
        return False
    others = roles.active_admins().exclude(pk__in=[user.pk for user in users])
    return not others.exists()


class TeamUserAdmin(UserAdmin):
    """Roles are set through `roles.role_assign` (audited, the last Admin kept), never by
    ticking groups; superuser status and single permissions only by a superuser, who alone
    may change another superuser (their password included: that would be their rights)."""

    form = TeamUserForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Role", {"fields": ["role"]})]

    def get_readonly_fields(self, request, obj=None):
        fixed = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fixed += ["is_superuser", "groups", "user_permissions"]
        return fixed

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form
        # A field of this request's own (the class's field object is shared by every request).
        role = forms.ChoiceField(
            choices=TeamUserForm.base_fields["role"].choices,
            help_text=TeamUserForm.base_fields["role"].help_text,
            initial=roles.role_of(obj) or roles.MEMBER,
            disabled=not request.user.has_perm(roles.MANAGE_TEAM),
        )
        return type(form.__name__, (form,), {"role": role})

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and not (obj.is_active and obj.is_staff):
            # Left the team: nothing more goes out on their authority.
            messaging_services.messages_drop_unauthorised(user=obj, actor=request.user)
        role = form.cleaned_data.get("role")
        if change and role and "role" in form.changed_data:
            try:
                roles.role_assign(user=obj, role=role, actor=request.user, via="admin")
            except ValueError as exc:
                self.message_user(request, str(exc), messages.ERROR)

    def delete_model(self, request, obj):
        if _leaves_no_admin([obj]):
            self.message_user(request, f"{obj} is the last Admin.", messages.ERROR)
            return
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if _leaves_no_admin(queryset):
            self.message_user(
                request, "That would delete the last Admin; nothing was deleted.", messages.ERROR
            )
            return
        super().delete_queryset(request, queryset)


# Groups are the roles: their permissions are set by roles.sync_role_groups, and changing
# them in the admin would let an Admin hand themselves anything, so only superusers may.
if admin.site.is_registered(Group):
    _group_admin = type(admin.site._registry[Group])
    admin.site.unregister(Group)
    admin.site.register(Group, type(_group_admin.__name__, (SuperuserOnly, _group_admin), {}))


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, TeamUserAdmin)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers too: the log is only ever added to, by the acts it
    records (linkedin_crm.audit.record)."""

    list_display = ["at", "actor_name", "action", "via", "object_repr", "counts"]
    list_filter = ["action", "via", "object_type", "at"]
    search_fields = ["actor_name", "object_repr", "object_id"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
