import base64
import hashlib

from csp.constants import UNSAFE_HASHES
from csp.decorators import csp_update
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count
from django.shortcuts import render
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV

from contacts import services
from contacts.linkedin_csv import RejectedFile
from contacts.models import (
    Connection,
    Contact,
    ImportBatch,
    MergeLog,
    Network,
    Note,
    Stage,
    Tag,
)
from contacts.resources import CSV_ENCODING, ContactResource, LinkedInConnectionsCSV
from linkedin_crm import audit, search
from linkedin_crm.text import counted
from linkedin_crm.uploads import upload_refusal


class NoteInline(admin.TabularInline):
    model = Note
    extra = 0
    fields = ["body", "author", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["author"]


class ConnectionInline(admin.TabularInline):
    model = Connection
    extra = 0
    fields = ["network", "connected_on"]


class TagActionForm(forms.Form):
    tag = forms.CharField(max_length=60)


class StageActionForm(forms.Form):
    stage = forms.ChoiceField(choices=Stage.choices)


class ReasonActionForm(forms.Form):
    reason = forms.CharField(max_length=500)


def _csp_hashes(*sources: str) -> list[str]:
    """'unsafe-hashes' and the hash of each source: a policy that admits exactly these inline
    attributes (and no other inline code)."""
    digests = (base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in sources)
    return [UNSAFE_HASHES, *(f"'sha256-{digest}'" for digest in digests)]


# django-import-export's export page (admin/import_export/export.html) carries two style="…"
# attributes and an onchange= handler ("Select all"), which the site's policy refuses. Rather
# than copy and maintain the library's template, that one page admits exactly these by hash;
# tests/test_csp.py fails when the library's template changes them.
EXPORT_PAGE_CSP = {
    "script-src-attr": _csp_hashes("onSelectToggleChange(event)"),
    "style-src-attr": _csp_hashes("padding: 0;", "font-weight: bold;"),
}


class CappedSearchAdmin(admin.ModelAdmin):
    """The admin's search box with the same limits (the admin adds a condition per word and
    searched field)."""

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, self.capped_term(request, search_term))

    def capped_term(self, request, search_term: str) -> str:
        terms = search.capped(search_term)
        # An autocomplete answers in JSON: a message would show up on some later page.
        if terms.notice and not request.path.endswith("/autocomplete/"):
            self.message_user(request, terms.notice, messages.WARNING)
        return terms.text


def _ask(modeladmin, request, queryset, form_class, title, action):
    """Show a small form for an admin action; returns the cleaned data once submitted."""
    if "apply" in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            return form.cleaned_data
    else:
        form = form_class()
    ctx = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "queryset": queryset,
        "count": queryset.count(),
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
        "select_across": request.POST.get("select_across", "0"),
    }
    return render(request, "admin/contacts/action_form.html", ctx)


@admin.action(description="Add a tag to the selected contacts", permissions=["change"])
def add_tag(modeladmin, request, queryset):
    result = _ask(modeladmin, request, queryset, TagActionForm, "Add a tag", "add_tag")
    if not isinstance(result, dict):
        return result
    tag = Tag.get_or_create_named(result["tag"])
    count = services.contacts_add_tag(contacts=queryset, tag=tag)
    modeladmin.message_user(
        request, f"Tagged {counted(count, 'contact', 'contacts')} “{tag}”.", messages.SUCCESS
    )
    return None


@admin.action(description="Set the stage of the selected contacts", permissions=["change"])
def set_stage(modeladmin, request, queryset):
    result = _ask(modeladmin, request, queryset, StageActionForm, "Set stage", "set_stage")
    if not isinstance(result, dict):
        return result
    count = services.contacts_set_stage(
        contacts=queryset, stage=result["stage"], actor=request.user, via=audit.Via.ADMIN
    )
    modeladmin.message_user(
        request,
        f"Moved {counted(count, 'contact', 'contacts')} to “{Stage(result['stage']).label}”.",
        messages.SUCCESS,
    )
    return None


@admin.action(description="Mark the selected contacts do-not-contact", permissions=["change"])
def mark_do_not_contact(modeladmin, request, queryset):
    result = _ask(
        modeladmin,
        request,
        queryset,
        ReasonActionForm,
        "Mark do-not-contact",
        "mark_do_not_contact",
    )
    if not isinstance(result, dict):
        return result
    count = services.contacts_mark_do_not_contact(
        contacts=queryset, reason=result["reason"], actor=request.user, via=audit.Via.ADMIN
    )
    modeladmin.message_user(
        request, f"Marked {counted(count, 'contact', 'contacts')} do-not-contact.", messages.SUCCESS
    )
    return None


@admin.register(Contact)
class ContactAdmin(ImportExportMixin, CappedSearchAdmin):
    # Import reads LinkedIn's exports with the same reader and resource as the wizard; every
    # admin import becomes an ImportBatch that can be undone.
    resource_classes = [ContactResource]
    import_formats = [LinkedInConnectionsCSV]
    export_formats = [CSV]
    # The export, like the page's, starts with a byte order mark for Excel.
    to_encoding = CSV_ENCODING
    # Rows are written in bulk after planning, so there are no per-row admin log entries.
    skip_admin_log = True

    list_display = ["__str__", "company", "position", "stage", "do_not_contact", "created_at"]
    list_filter = ["stage", "do_not_contact", "tags", "created_at"]
    search_fields = ["first_name", "last_name", "company", "position", "email", "profile_url"]
    list_select_related = True
    list_per_page = 50
    show_full_result_count = False
    filter_horizontal = ["tags"]
    readonly_fields = ["created_at", "updated_at", "dnc_at"]
    inlines = [ConnectionInline, NoteInline]
    actions = [add_tag, set_stage, mark_do_not_contact]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "profile_url", "email", "member_urn"]}),
        ("Work", {"fields": ["company", "position", "industry"]}),
        ("Pipeline", {"fields": ["stage", "tags"]}),
        ("Do not contact", {"fields": ["do_not_contact", "dnc_reason", "dnc_at"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            # Stage and do-not-contact changed here belong on the contact's timeline too. (The
            # admin saves a change form in one transaction: the events go with the change.)
            services.contact_pipeline_changes_record(
                contact=obj,
                previous={name: form.initial.get(name) for name in ("stage", "do_not_contact")},
                actor=request.user,
            )
            if form.has_changed():
                services.contacts_updated_emit([obj.pk])

    def import_action(self, request, **kwargs):
        if refusal := upload_refusal(request):
            self.message_user(request, refusal, messages.ERROR)
        return super().import_action(request, **kwargs)

    def get_import_form_kwargs(self, request):
        kwargs = super().get_import_form_kwargs(request)
        if upload_refusal(request):
            # The upload stopped at its file (linkedin_crm.uploads), so the fields after it were
            # never read: the form is shown afresh under the reason.
            kwargs.update(data=None, files=None)
        return kwargs

    def add_data_read_fail_error_to_form(self, form, e):
        # The reader's reason ("This looks like a PDF…") says more than the library's generic
        # "RejectedFile encountered while trying to read file".
        if isinstance(e, RejectedFile):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    # django-csp types its decorators for function views, not for methods.
    @csp_update(EXPORT_PAGE_CSP)  # type: ignore[arg-type]
    def export_action(self, request):
        return super().export_action(request)

    def get_import_resource_kwargs(self, request, **kwargs):
        # The import page is also built on GET, which must not create the user's network.
        if request.method != "POST":
            return {"network": Network.objects.own_default(request.user)}
        return {"network": Network.objects.default_for(request.user)}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {}

    def get_data_for_export(self, request, queryset, **kwargs):
        dataset = super().get_data_for_export(request, queryset, **kwargs)
        services.contacts_export_record(user=request.user, via=audit.Via.ADMIN, count=len(dataset))
        return dataset

    # The admin's delete page and "delete selected" go through the service: the same
    # permission, and an entry in the audit log.
    def delete_model(self, request, obj):
        services.contacts_delete(
            contacts=Contact.objects.filter(pk=obj.pk), actor=request.user, via=audit.Via.ADMIN
        )

    def delete_queryset(self, request, queryset):
        services.contacts_delete(contacts=queryset, actor=request.user, via=audit.Via.ADMIN)

    def get_search_results(self, request, queryset, search_term):
        # The admin's icontains folds ASCII only on SQLite; the folded search column does not.
        search_term = self.capped_term(request, search_term)
        if not search_term:
            return queryset, False
        return queryset.search(search_term), False


@admin.register(Tag)
class TagAdmin(CappedSearchAdmin):
    list_display = ["name", "contact_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_contact_count=Count("contacts"))

    @admin.display(description="Contacts", ordering="_contact_count")
    def contact_count(self, tag):
        return tag._contact_count


@admin.register(Network)
class NetworkAdmin(CappedSearchAdmin):
    list_display = ["name", "owner", "is_default", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]


@admin.register(Note)
class NoteAdmin(CappedSearchAdmin):
    list_display = ["contact", "author", "created_at"]
    list_select_related = ["contact", "author"]
    search_fields = ["body"]
    raw_id_fields = ["contact"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["file_name", "status", "network", "uploaded_by", "created_at", "rows"]
    list_filter = ["status"]
    list_select_related = ["network", "uploaded_by"]
    exclude = ["plan"]
    readonly_fields = [
        field.name for field in ImportBatch._meta.fields if field.name not in ("plan",)
    ]

    def has_add_permission(self, request):
        return False


@admin.register(MergeLog)
class MergeLogAdmin(admin.ModelAdmin):
    list_display = ["merged_at", "merged_by", "survivor", "merged_contact_id"]
    list_select_related = ["merged_by", "survivor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
