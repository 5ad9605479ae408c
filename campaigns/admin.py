from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone

from campaigns import services
from campaigns.models import Audience, Campaign, Enrollment, Reply, Step, Variant
from contacts.admin import ContactAdmin
from linkedin_crm import roles
from linkedin_crm.text import counted
from messaging.models import LinkedInAccount, Message

# An audience made from an admin selection lists the ids in its filter; keep it bounded.
MAX_ADMIN_SELECTION = 2000


class StepInline(admin.TabularInline):
    """A launched campaign's steps are what its enrollments follow: they stay as they are."""

    model = Step
    extra = 0

    def has_add_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.is_editable) and super().has_delete_permission(request, obj)


def _apply(modeladmin, request, queryset, service, verb):
    done = 0
    for campaign in queryset:
        try:
            service(campaign=campaign, actor=request.user, via="admin")
            done += 1
        except (services.CampaignError, PermissionDenied):
            pass  # not in a state that allows it, or not theirs; counted out below
    modeladmin.message_user(
        request,
        f"{verb} {done:,} of {counted(len(queryset), 'campaign', 'campaigns')}.",
        messages.SUCCESS,
    )


@admin.action(description="Pause the selected campaigns")
def pause_campaigns(modeladmin, request, queryset):
    _apply(modeladmin, request, queryset, services.campaign_pause, "Paused")


@admin.action(description="Resume the selected campaigns")
def resume_campaigns(modeladmin, request, queryset):
    _apply(modeladmin, request, queryset, services.campaign_resume, "Resumed")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "audience", "owner", "starts_at", "launched_at"]
    list_filter = ["status"]
    list_select_related = ["audience", "owner"]
    filter_horizontal = ["senders"]
    inlines = [StepInline]
    actions = [pause_campaigns, resume_campaigns]
    readonly_fields = ["owner", "launched_at", "launched_by", "audience_count_at_launch"]

    def get_queryset(self, request):
        return super().get_queryset(request).editable_by(request.user)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "senders":  # only accounts this person may send from
            kwargs["queryset"] = LinkedInAccount.objects.manageable_by(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        # A launched campaign is cancelled (its queued messages with it), never deleted: its
        # messages would go on without a campaign to stop them.
        return (obj is None or obj.is_editable) and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.campaign_delete(campaign=obj, actor=request.user, via="admin")

    def delete_queryset(self, request, queryset):
        for campaign in queryset:
            try:
                services.campaign_delete(campaign=campaign, actor=request.user, via="admin")
            except (services.CampaignError, PermissionDenied) as exc:
                self.message_user(request, f"{campaign}: {exc}", messages.ERROR)

    def get_readonly_fields(self, request, obj=None):
        # The status moves only through launch, pause, resume and cancel (their side effects
        # on the queue); after launch, audience, senders and start are fixed as on the page.
        fixed = ["status"]
        if obj is not None and not obj.is_editable:
            fixed += ["audience", "senders", "starts_at"]
        return [*self.readonly_fields, *fixed]


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ["step", "label", "weight"]
    list_select_related = ["step__campaign"]

    def get_queryset(self, request):
        campaigns = Campaign.objects.editable_by(request.user)
        return super().get_queryset(request).filter(step__campaign__in=campaigns)

    def has_change_permission(self, request, obj=None):
        editable = obj is None or obj.step.campaign.is_editable
        return editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        editable = obj is None or obj.step.campaign.is_editable
        return editable and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "step":  # new variants only for drafts' steps
            kwargs["queryset"] = Step.objects.filter(
                campaign__status=Campaign.Status.DRAFT,
                campaign__in=Campaign.objects.editable_by(request.user),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "query", "created_at"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["campaign", "contact", "sender", "state", "skip_reason", "last_step"]
    list_filter = ["state"]
    list_select_related = ["campaign", "contact", "sender"]
    raw_id_fields = ["contact"]
    # Made at launch, moved by the campaign's tick and by replies: a record, not a form.
    readonly_fields = ["campaign", "contact", "sender", "variants", "last_step", "last_step_at"]

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        campaigns = Campaign.objects.editable_by(request.user)
        return super().get_queryset(request).filter(campaign__in=campaigns)


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ["contact", "received_at", "source", "opted_out"]
    list_filter = ["source", "opted_out"]
    readonly_fields = ["contact", "message"]

    def get_queryset(self, request):
        # A reply is read by whoever may read the message it answers.
        replies = super().get_queryset(request)
        if request.user.has_perm(roles.MANAGE_ALL_ACCOUNTS):
            return replies
        return replies.filter(message__in=Message.objects.manageable_by(request.user))


@admin.action(description="Add the selected contacts to a new campaign (draft)")
def add_to_campaign(modeladmin, request, queryset):
    if not request.user.has_perm("campaigns.add_campaign"):
        modeladmin.message_user(
            request, "Creating campaigns in the admin needs that permission.", messages.ERROR
        )
        return None
    ids = list(queryset.values_list("pk", flat=True)[: MAX_ADMIN_SELECTION + 1])
    if len(ids) > MAX_ADMIN_SELECTION:
        modeladmin.message_user(
            request,
            f"At most {MAX_ADMIN_SELECTION:,} contacts this way; save a filter of the contact "
            "list as an audience instead.",
            messages.ERROR,
        )
        return None
    stamp = timezone.now().strftime("%d %b %Y %H:%M")
    audience = Audience.objects.create(
        name=Audience.free_name(f"Admin selection {stamp}"),
        owner=request.user,
        query="ids=" + ",".join(map(str, ids)),
    )
    campaign = Campaign.objects.create(
        name=f"Campaign for {counted(len(ids), 'contact', 'contacts')} ({stamp})",
        owner=request.user,
        audience=audience,
    )
    modeladmin.message_user(
        request, "Draft campaign created: add senders, steps and variants.", messages.SUCCESS
    )
    return redirect(campaign)


# The contacts app cannot import campaigns (imports flow contacts ← messaging ← campaigns),
# so the campaign action joins the contact admin from here.
ContactAdmin.actions = [*ContactAdmin.actions, add_to_campaign]
