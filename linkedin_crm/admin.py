from django.contrib import admin

from linkedin_crm.models import AuditEvent


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
