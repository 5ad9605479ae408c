from django.contrib import admin

from messaging.models import LinkedInAccount


@admin.register(LinkedInAccount)
class LinkedInAccountAdmin(admin.ModelAdmin):
    # Token fields are not editable and never shown: only their expiry is.
    list_display = [
        "display_name",
        "owner",
        "status",
        "mode",
        "daily_limit",
        "access_token_expires_at",
    ]
    list_filter = ["status", "mode"]
    list_select_related = ["owner"]
    search_fields = ["display_name", "email", "member_urn"]
    readonly_fields = [
        "member_urn",
        "access_token_expires_at",
        "refresh_token_expires_at",
        "scopes",
        "last_sent_at",
        "last_validated_at",
        "last_error",
        "automatic_acknowledged_at",
    ]
    fields = [
        "owner",
        "network",
        "display_name",
        "email",
        "member_urn",
        "status",
        "mode",
        "automatic_acknowledged_at",
        "daily_limit",
        "timezone",
        "window_days",
        "window_start",
        "window_end",
        "min_interval_seconds",
        "jitter_seconds",
        *[
            "access_token_expires_at",
            "refresh_token_expires_at",
            "scopes",
            "last_sent_at",
            "last_validated_at",
            "last_error",
        ],
    ]
    raw_id_fields = ["owner", "network"]

    def has_add_permission(self, request):
        return False  # accounts are connected through LinkedIn's consent page
