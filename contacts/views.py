import json

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import construct_change_message
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_http_methods, require_POST

from contacts import bulk_changes, personal_data, services
from contacts.filters import ContactFilter, active_chips, params_as_dict, params_from_dict
from contacts.forms import (
    BulkActionForm,
    ContactEditForm,
    ContactForm,
    DoNotContactForm,
    InlineEditForm,
    MergeForm,
    NoteForm,
    StageForm,
)
from contacts.models import (
    BulkAction,
    Contact,
    ContactBulkChange,
    ContactExport,
    Note,
    Stage,
    Tag,
    WorkerJob,
    bulk_action_result,
)
from linkedin_crm import roles
from linkedin_crm.auth import staff_required

DEFAULT_PAGE_SIZE = 50


def _page_size(request) -> int:
    try:
        size = int(request.GET.get("per_page", DEFAULT_PAGE_SIZE))
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return size if size in settings.CONTACTS_PAGE_SIZES else DEFAULT_PAGE_SIZE


def _filter_params(query: QueryDict) -> QueryDict:
    """The filter part of a query string, without paging, for links and "all matching"."""
    params = query.copy()
    params.pop("page", None)
    return params


class CountedPaginator(Paginator):
    """Pages through `object_list`, its total counted by `count` (ContactFilter.count): the
    same rows, counted the cheapest way."""

    def __init__(self, object_list, per_page, *, count):
        super().__init__(object_list, per_page)
        self.count_rows = count

    @cached_property
    def count(self) -> int:
        return self.count_rows()


@staff_required
def contact_list(request):
    filterset = ContactFilter(request.GET or None, queryset=Contact.objects.all())
    if filterset.is_bound and not filterset.is_valid():
        contacts = Contact.objects.none()
    else:
        contacts = filterset.qs
    paginator = CountedPaginator(contacts, _page_size(request), count=filterset.count)
    page = paginator.get_page(request.GET.get("page"))
    # The page's rows in one query, the page's ids as a subquery: the per-row extras (first
    # connected date, tags) are computed for these rows only, not for the rows a deep page
    # skips (PostgreSQL evaluates a select-list subquery for every row OFFSET skips).
    page.object_list = (
        Contact.objects.filter(pk__in=page.object_list.values("pk"))
        .order_by(*contacts.query.order_by)
        .with_first_connected_on()
        .prefetch_related("tags")
    )
    params = _filter_params(request.GET)
    ctx = {
        "filter": filterset,
        "page": page,
        "total": paginator.count,
        "query": params.urlencode(),
        "page_sizes": settings.CONTACTS_PAGE_SIZES,
        "page_size": paginator.per_page,
        "bulk_form": BulkActionForm(),
        "stages": Stage.choices,
        "sort": filterset.sort_key,
        "chips": active_chips(filterset, params),
    }
    return render(request, "contacts/list.html", ctx)


@staff_required
@require_POST
def contact_bulk(request):
    form = BulkActionForm(request.POST)
    query = request.POST.get("query", "")
    back = reverse("contacts:list") + (f"?{query}" if query else "")
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(back)

    data = form.cleaned_data
    if data["all_matching"]:
        filterset = ContactFilter(QueryDict(query), queryset=Contact.objects.all())
        if not filterset.is_valid():
            messages.error(request, "The filter is not valid any more; nothing was changed.")
            return redirect(back)
        contacts = filterset.qs
    else:
        contacts = Contact.objects.filter(pk__in=data["selected"])

    action = data["action"]
    if action == "delete" and not request.user.has_perm(roles.DELETE_CONTACTS):
        messages.error(
            request,
            "Deleting contacts needs the “Can delete contact” permission (Managers and Admins "
            "have it); nothing was deleted.",
        )
        return redirect(back)
    if action == "delete" and not data["confirmed"]:
        ctx = {
            "count": contacts.count(),
            "sample": contacts[:10],
            "post": request.POST,
            "selected": data["selected"],
            "query": query,
            "back": back,
        }
        return render(request, "contacts/bulk_delete_confirm.html", ctx)

    if data["all_matching"] and contacts.count() > settings.BULK_IN_REQUEST_MAX:
        # Too many for a request (issue #16): the worker applies it, and its page shows how far
        # it got. A tag it adds is made in the same transaction: a refusal leaves none behind.
        with transaction.atomic():
            change = bulk_changes.contacts_bulk_enqueue(
                user=request.user,
                action=action,
                filter_params=params_as_dict(_filter_params(QueryDict(query))),
                tag=_bulk_tag(data),
                stage=data["stage"],
                reason=data["reason"],
            )
        return redirect(change)

    tag = _bulk_tag(data)
    if action == BulkAction.ADD_TAG:
        count = services.contacts_add_tag(contacts=contacts, tag=tag)
    elif action == BulkAction.REMOVE_TAG:
        count = services.contacts_remove_tag(contacts=contacts, tag=tag)
    elif action == BulkAction.SET_STAGE:
        count = services.contacts_set_stage(
            contacts=contacts, stage=data["stage"], actor=request.user
        )
    elif action == BulkAction.MARK_DNC:
        count = services.contacts_mark_do_not_contact(
            contacts=contacts, reason=data["reason"], actor=request.user
        )
    else:
        count = services.contacts_delete(contacts=contacts, actor=request.user)
    messages.success(request, bulk_action_result(action, count, tag=tag, stage=data["stage"]))
    return redirect(back)


def _bulk_tag(data: dict) -> Tag | None:
    """The tag a bulk action adds (made when new) or removes (the form found it)."""
    if data["action"] == BulkAction.ADD_TAG:
        return Tag.get_or_create_named(data["tag"])
    if data["action"] == BulkAction.REMOVE_TAG:
        return data["tag_obj"]
    return None


def _own_bulk_change(request, pk) -> ContactBulkChange:
    """A bulk change is its requester's to follow, as an export is; another's is not found."""
    return get_object_or_404(
        ContactBulkChange.objects.select_related("tag"), pk=pk, requested_by=request.user
    )


@staff_required
def contact_bulk_change(request, pk):
    change = _own_bulk_change(request, pk)
    params = params_from_dict(change.filter_params)
    filterset = ContactFilter(params or None, queryset=Contact.objects.all())
    ctx = {
        "change": change,
        # The filter in words, as the list's chips say it; a filter no longer valid has none.
        "chips": [text for text, _ in active_chips(filterset, params)],
        "filter_valid": not filterset.is_bound or filterset.is_valid(),
        "back": reverse("contacts:list") + (f"?{params.urlencode()}" if params else ""),
    }
    return render(request, "contacts/bulk_change.html", ctx)


@staff_required
def contact_bulk_change_progress(request, pk):
    return _worker_progress(request, _own_bulk_change(request, pk))


def _worker_progress(request, job: WorkerJob) -> HttpResponse:
    """The progress bar of an export or a bulk change, which htmx asks for every second; once
    the work has finished, htmx reloads the whole page, which shows the result."""
    response = render(request, "contacts/_worker_progress.html", {"job": job})
    if job.is_finished and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@staff_required
def contact_create(request):
    form = ContactForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        contact = form.save()
        messages.success(request, f"Added {contact}.")
        return redirect(contact)
    return render(request, "contacts/form.html", {"form": form, "contact": None})


@staff_required
def contact_detail(request, pk):
    return _contact_page(request, pk)


def _contact_page(request, pk, *, note_form: NoteForm | None = None, status: int = 200):
    """The contact's page; `note_form` a refused note, shown again with what was typed."""
    contact = get_object_or_404(Contact.objects.prefetch_related("tags"), pk=pk)
    ctx = {
        "contact": contact,
        "connections": contact.connections.select_related("network__owner"),
        "notes": contact.notes.select_related("author"),
        "note_form": note_form or NoteForm(),
        "stage_form": StageForm(initial={"stage": contact.stage}),
        "dnc_form": DoNotContactForm(
            initial={"do_not_contact": contact.do_not_contact, "reason": contact.dnc_reason}
        ),
    }
    return render(request, "contacts/detail.html", ctx, status=status)


@staff_required
def contact_edit(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    if request.method != "POST":
        form = ContactEditForm(instance=contact)
        return render(request, "contacts/form.html", {"form": form, "contact": contact})

    form = ContactEditForm(request.POST, instance=contact)
    if not form.is_valid():
        if "version" in form.errors:
            # Show the typed values again on a form carrying the current version, so that the
            # next save goes through once its user has checked them. (Validation copied the
            # typed values onto `contact`: compare with the saved one.)
            contact = get_object_or_404(Contact, pk=pk)
            fresh = form.with_current_version(contact)
            fresh.add_error(None, form.errors["version"])
            changed = ", ".join(str(fresh[name].label).lower() for name in fresh.changed_data)
            if changed:
                fresh.add_error(None, f"Your values differ from the saved contact in: {changed}.")
            ctx = {"form": fresh, "contact": contact}
            return render(request, "contacts/form.html", ctx, status=400)
        return render(request, "contacts/form.html", {"form": form, "contact": contact})

    loaded = form.cleaned_data["version"]
    try:
        services.contact_update(
            contact=form.instance,
            fields=[name for name in form.Meta.fields if name != "tags"],
            tags=form.cleaned_data["tags"],
            version=loaded.updated_at,
            user=request.user,
            change_message=construct_change_message(form, None, False),
        )
    except services.ContactChanged:
        current = Contact.objects.filter(pk=pk).first()
        if current is None:
            messages.error(request, "Someone deleted this contact while you edited it.")
            return redirect("contacts:list")
        fresh = form.with_current_version(current)
        fresh.add_error(None, _conflict_message(loaded.changes_to(current), current, request))
        return render(
            request, "contacts/form.html", {"form": fresh, "contact": current}, status=409
        )
    messages.success(request, "Saved.")
    return redirect(contact)


def _conflict_message(changes: list[str], current: Contact, request) -> str:
    who = _who_changed(current, request, you="you, in another window,")
    changed_at = timezone.localtime(current.updated_at)
    when = f"{changed_at:%H:%M}"
    if changed_at.date() != timezone.localdate():
        when = f"{changed_at:%d %b} {when}"
    what = f": {'; '.join(changes)}" if changes else ""
    return (
        f"Nothing was saved: this contact was changed by {who} at {when} while you were "
        f"editing{what}. The form still holds what you typed; check it against these changes "
        "and save again to keep your values."
    )


def _who_changed(contact: Contact, request, *, you: str) -> str:
    """Who made the contact's newest change, for a conflict message: a name, "someone else"
    when that is not on record, or `you` (as the sentence needs it) for this user."""
    editor = _newest_editor(contact)
    if editor is None:
        return "someone else"
    if editor == request.user:
        return you
    return editor.get_full_name() or editor.get_username()


def _newest_editor(contact: Contact):
    """Who made the contact's newest change, when that is on record: edits on this page and in
    the admin are logged (LogEntry); imports, merges and bulk actions are not. A log entry
    older than updated_at belongs to an earlier change."""
    entry = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Contact),
            object_id=str(contact.pk),
            action_time__gte=contact.updated_at,
        )
        .select_related("user")
        .order_by("-action_time")
        .first()
    )
    return entry.user if entry else None


@staff_required
def contact_delete(request, pk):
    services.require_permission(request.user, roles.DELETE_CONTACTS)
    contact = get_object_or_404(
        Contact.objects.annotate(note_count=Count("notes", distinct=True)), pk=pk
    )
    if request.method == "POST":
        name = str(contact)
        services.contacts_delete(contacts=Contact.objects.filter(pk=contact.pk), actor=request.user)
        messages.success(request, f"Deleted {name}.")
        return redirect("contacts:list")
    return render(request, "contacts/confirm_delete.html", {"contact": contact})


@staff_required
@require_POST
def note_add(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _contact_page(request, pk, note_form=form, status=400)
    services.note_add(contact=contact, author=request.user, body=form.cleaned_data["body"])
    messages.success(request, "Note added.")
    return redirect(contact)


@staff_required
@require_POST
def note_delete(request, pk, note_pk):
    note = get_object_or_404(Note, pk=note_pk, contact_id=pk)
    note.delete()
    messages.success(request, "Note deleted.")
    return redirect("contacts:detail", pk=pk)


@staff_required
@require_POST
def contact_set_stage(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    form = StageForm(request.POST)
    if form.is_valid():
        stage = form.cleaned_data["stage"]
        services.contacts_set_stage(
            contacts=Contact.objects.filter(pk=contact.pk), stage=stage, actor=request.user
        )
        messages.success(request, f"Stage set to “{Stage(stage).label}”.")
    else:
        messages.error(request, "Choose one of the listed stages.")
    return redirect(contact)


@staff_required
@require_http_methods(["GET", "POST"])
def contact_inline_edit(request, pk):
    """A stage or the tags changed in a row of the contact list. htmx gets the row back, drawn
    anew (with the refusal and the typed tags when refused); without htmx, back to the list.

    GET draws a row's tag editor, which the list fetches when it is opened."""
    if request.method == "GET":
        return _inline_tags_form(request, pk)
    contact = get_object_or_404(Contact, pk=pk)
    form = InlineEditForm(request.POST)
    error, status = "", 200
    if not form.is_valid():
        error = " ".join(e for errors in form.errors.values() for e in errors)
        status = 400
    else:
        data = form.cleaned_data
        try:
            services.contact_edit_inline(
                contact=contact,
                version=data["version"],
                stage=data["stage"] if "stage" in request.POST else None,
                tag_names=data["tags"],
                user=request.user,
            )
        except services.ContactChanged:
            error = _inline_conflict_message(pk, request)
            status = 409
    if not request.htmx:
        back = request.POST.get("next", "")
        if not back.startswith("/contacts/"):
            back = reverse("contacts:list")
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Saved {contact}.")
        return redirect(back)

    current = (
        Contact.objects.filter(pk=pk).with_first_connected_on().prefetch_related("tags").first()
    )
    if current is None:
        return HttpResponse(
            '<tr><td colspan="7" class="error">Someone deleted this contact.</td></tr>', status=409
        )
    ctx = {
        "contact": current,
        "contacts_url": reverse("contacts:list"),
        "row_error": error,
        # Typed tags are kept on a refusal so that they are not lost.
        "typed_tags": request.POST.get("tags") if error and "tags" in request.POST else None,
    }
    return render(request, "contacts/_row.html", ctx, status=status)


def _inline_tags_form(request, pk: int):
    contact = get_object_or_404(Contact.objects.prefetch_related("tags"), pk=pk)
    back = request.htmx.current_url_abs_path if request.htmx else None
    ctx = {
        "inline_url": request.path,
        "version": contact.updated_at.isoformat(),
        "next": back if back and back.startswith("/contacts/") else reverse("contacts:list"),
        "pk": contact.pk,
        "name": str(contact),
        "tags": contact.tags.all(),
        "typed_tags": None,
    }
    return render(request, "contacts/_row_tags_form.html", ctx)


def _inline_conflict_message(pk: int, request) -> str:
    current = Contact.objects.filter(pk=pk).first()
    if current is None:
        return "Nothing was saved: someone deleted this contact."
    who = _who_changed(current, request, you="you, in another window")
    at = timezone.localtime(current.updated_at)
    return (
        f"Nothing was saved: {who} changed this contact at {at:%H:%M}. "
        "The row now shows the saved values; make your change again."
    )


@staff_required
@require_POST
def contact_set_dnc(request, pk):
    contact = get_object_or_404(Contact, pk=pk)
    form = DoNotContactForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    elif form.cleaned_data["do_not_contact"]:
        services.contacts_mark_do_not_contact(
            contacts=Contact.objects.filter(pk=contact.pk),
            reason=form.cleaned_data["reason"].strip(),
            actor=request.user,
        )
        messages.success(request, "Marked do-not-contact.")
    else:
        services.contacts_allow_contact(
            contacts=Contact.objects.filter(pk=contact.pk), actor=request.user
        )
        messages.success(request, "This contact may be contacted again.")
    return redirect(contact)


@staff_required
def contact_duplicates(request):
    groups = services.possible_duplicate_groups()
    page = Paginator(groups, 25).get_page(request.GET.get("page"))
    ids = [pk for group in page.object_list for pk in group]
    contacts = Contact.objects.in_bulk(ids)
    ctx = {
        "page": page,
        "total": len(groups),
        "groups": [[contacts[pk] for pk in group if pk in contacts] for group in page],
    }
    return render(request, "contacts/duplicates.html", ctx)


@staff_required
def contact_merge(request):
    services.require_permission(request.user, roles.MERGE_CONTACTS)
    form = MergeForm(request.POST if request.method == "POST" else request.GET)
    if len(form.contacts) != 2:
        messages.error(request, "Choose two different contacts to merge.")
        return redirect("contacts:duplicates")
    if request.method == "POST" and form.is_valid():
        survivor, merged = form.survivor_and_merged()
        log = services.contacts_merge(
            survivor=survivor, merged=merged, values=form.chosen_values(), user=request.user
        )
        moved = log.moved_summary
        messages.success(
            request,
            f"Merged into {survivor}; moved {moved}." if moved else f"Merged into {survivor}.",
        )
        return redirect(survivor)
    return render(request, "contacts/merge.html", {"form": form})


@staff_required
def contact_export(request):
    """GET: how many contacts the filter exports, and a button; POST (the filter as `query`):
    the CSV. Personal data leaving is recorded, so the download is a POST, never a page view."""
    services.require_permission(request.user, roles.EXPORT_CONTACTS)
    query = request.POST.get("query", "") if request.method == "POST" else ""
    params = QueryDict(query) if request.method == "POST" else _filter_params(request.GET)
    filterset = ContactFilter(params or None, queryset=Contact.objects.all())
    if filterset.is_bound and not filterset.is_valid():
        messages.error(request, "The filter is not valid, so nothing was exported.")
        return redirect(reverse("contacts:list") + "?" + params.urlencode())
    if request.method != "POST":
        ctx = {"count": filterset.qs.count(), "query": params.urlencode()}
        return render(request, "contacts/export_confirm.html", ctx)
    # The worker writes the file (100,000 contacts take longer than a request may); its page
    # shows the progress and then the download.
    export = services.contacts_export_enqueue(
        user=request.user, filter_params=params_as_dict(params)
    )
    return redirect(export)


def _own_export(request, pk) -> ContactExport:
    """An export is its requester's alone: it holds the personal data they were allowed to
    take out. Another's is not found."""
    services.require_permission(request.user, roles.EXPORT_CONTACTS)
    return get_object_or_404(ContactExport.objects.defer("data"), pk=pk, requested_by=request.user)


@staff_required
def contact_export_detail(request, pk):
    export = _own_export(request, pk)
    ctx = {"export": export, "keep_hours": settings.IMPORT_UPLOAD_KEEP_HOURS}
    return render(request, "contacts/export_detail.html", ctx)


@staff_required
def contact_export_progress(request, pk):
    return _worker_progress(request, _own_export(request, pk))


@staff_required
def contact_export_download(request, pk):
    export = _own_export(request, pk)  # the permission first, as on every export page
    if request.method != "POST":
        # A download hands personal data out: a button, never a link to follow or prefetch.
        return HttpResponseNotAllowed(["POST"])
    if export.status != ContactExport.Status.DONE:
        messages.error(request, "This export has no file to download.")
        return redirect(export)
    data = ContactExport.objects.filter(pk=export.pk).values_list("data", flat=True).get()
    if data is None:
        messages.error(request, "The file of this export is no longer stored; export again.")
        return redirect(export)
    response = HttpResponse(bytes(data), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
    return response


@staff_required
def contact_export_person(request, pk):
    """Everything stored about one person, as JSON: what they are owed when they ask."""
    services.require_permission(request.user, roles.ERASE_CONTACTS)
    contact = get_object_or_404(Contact, pk=pk)
    if request.method == "POST":
        data = personal_data.person_export(contact=contact, actor=request.user)
        response = HttpResponse(
            json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.json"'
        return response
    ctx = {"contact": contact, "counts": personal_data.person_data_counts(contact)}
    return render(request, "contacts/export_person_confirm.html", ctx)


@staff_required
def contact_erase(request, pk):
    services.require_permission(request.user, roles.ERASE_CONTACTS)
    contact = get_object_or_404(Contact, pk=pk)
    if request.method == "POST":
        try:
            counts = personal_data.person_erase(contact=contact, actor=request.user)
        except personal_data.ErasureBlocked as exc:
            messages.error(request, f"Nothing was erased. {exc}")
            return redirect(contact)
        # The message names the contact by id only: it outlives the person in the session.
        deleted = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
        messages.success(
            request,
            f"Contact #{pk} was erased ({deleted or 'nothing else was stored'}). Imports will "
            "leave them out from now on.",
        )
        return redirect("contacts:list")
    ctx = {"contact": contact, "counts": personal_data.person_data_counts(contact)}
    return render(request, "contacts/erase_confirm.html", ctx)
