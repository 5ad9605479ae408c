from urllib.parse import urlencode

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse

from contacts.admin import CappedSearchAdmin, ContactAdmin
from messaging import services
from messaging.models import LinkedInAccount, Message, MessageTemplate

# Ids travel in the URL: keep it under the length browsers and servers accept.
MAX_ADMIN_SELECTION = 2000

# The state of an account's connection to LinkedIn, shown last and never edited here.
_CONNECTION_STATE = [
    "access_token_expires_at",
    "refresh_token_expires_at",
    "scopes",
    "last_sent_at",
    "last_validated_at",
    "last_error",
]


@admin.register(LinkedInAccount)
class LinkedInAccountAdmin(CappedSearchAdmin):
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
    # Whose account it is, and where it is connected, follow from LinkedIn's consent; the
    # status and the mode move only through the page's actions (pause, disconnect, the
    # acknowledgement automatic sending needs).
    readonly_fields = [
        "owner",
        "network",
        "status",
        "mode",
        "member_urn",
        *_CONNECTION_STATE,
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
        *LinkedInAccount.SENDING_SETTINGS,
        *_CONNECTION_STATE,
    ]

    def has_add_permission(self, request):
        return False  # accounts are connected through LinkedIn's consent page

    def get_queryset(self, request):
        return super().get_queryset(request).manageable_by(request.user)

    def save_model(self, request, obj, form, change):
        services.account_save_settings(account=obj, actor=request.user, via="admin")


@admin.action(description="Message the selected contacts…")
def message_contacts(modeladmin, request, queryset):
    """Hand the selection to the bulk composer (preview, linter, forecast, then confirm)."""
    count = queryset.count()
    if count > MAX_ADMIN_SELECTION:
        modeladmin.message_user(
            request,
            f"{count:,} contacts is too many to pass on from the admin; filter the contact list "
            "and use “All matching the filter” there.",
            messages.ERROR,
        )
        return None
    ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
    return redirect(reverse("messaging:bulk_compose") + "?" + urlencode({"ids": ids}))


# The contacts app cannot import messaging (imports flow contacts ← messaging), so the
# messaging action joins the contact admin from here.
ContactAdmin.actions = [*ContactAdmin.actions, message_contacts]


@admin.register(Message)
class MessageAdmin(CappedSearchAdmin):
    list_display = ["contact", "account", "status", "channel", "next_attempt_at", "sent_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["contact", "account"]
    # A message's sender, recipient, author and status are its history: the queue changes
    # them (the state machine), never a form.
    readonly_fields = [
        "contact",
        "account",
        "created_by",
        "status",
        "idempotency_key",
        "claim_token",
        "claimed_at",
        "released_at",
        "attempts",
    ]
    search_fields = ["body", "contact__last_name"]

    def has_add_permission(self, request):
        return False  # messages are queued through the composer, campaigns or the API

    def get_queryset(self, request):
        return super().get_queryset(request).manageable_by(request.user)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(CappedSearchAdmin):
    list_display = ["name", "updated_at"]
    search_fields = ["name", "body"]
