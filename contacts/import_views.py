"""The staff import wizard: upload → preview → confirm → the batch page (and undo)."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from contacts import services
from contacts.forms import ImportUploadForm
from contacts.importing import ImportPlan
from contacts.linkedin_csv import RejectedFile
from contacts.models import Contact, ImportBatch, ImportUpload, Network
from linkedin_crm.auth import staff_required
from linkedin_crm.uploads import upload_refusal

PREVIEW_ROWS = 100


@staff_required
def import_list(request):
    refusal = upload_refusal(request)
    if refusal:
        # The upload stopped at the file, so the fields after it were never read: the page is
        # shown as after a GET, with the reason.
        messages.error(request, f"{refusal} {ImportUploadForm.SIZE_HINT}")
    posted = request.method == "POST" and not refusal
    form = ImportUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        max_bytes=settings.IMPORT_MAX_BYTES,
        user=request.user,
    )
    if posted and form.is_valid():
        try:
            # The worker reads and plans the file; this request only stores it.
            batch = services.import_preview_upload(form, user=request.user, in_worker=True)
        except RejectedFile as exc:
            form.add_error("file", str(exc))
        else:
            return redirect(batch)
    batches = ImportBatch.objects.select_related("uploaded_by", "network").defer("plan")
    page = Paginator(batches, 25).get_page(request.GET.get("page"))
    return render(request, "contacts/imports/list.html", {"form": form, "page": page})


@staff_required
def import_detail(request, pk):
    batch = get_object_or_404(
        ImportBatch.objects.select_related("uploaded_by", "network").prefetch_related("tags"),
        pk=pk,
    )
    ctx = {
        "batch": batch,
        # Shown, not acted on: a GET writes nothing. The worker's housekeeping, or an undo,
        # marks the batch failed.
        "stalled": batch.is_stalled(timezone.now()),
        "same_file": batch.same_file_batches().defer("plan")[:5],
        "errors": batch.errors[:500],
        # Confirm, cancel and undo are offered only to those who may act on this network.
        "can_import": _may_import(request.user, batch),
    }
    if batch.status == ImportBatch.Status.PENDING and batch.plan:
        plan = ImportPlan.from_json(batch.plan)
        ctx["updates"] = _with_contacts(plan.updates[:PREVIEW_ROWS])
        ctx["more_updates"] = max(0, len(plan.updates) - PREVIEW_ROWS)
        ctx["creates"] = plan.creates[:20]
        ctx["possible_duplicates"] = plan.possible_duplicates[:PREVIEW_ROWS]
    elif batch.possible_duplicates:
        ctx["possible_duplicates"] = batch.possible_duplicates[:PREVIEW_ROWS]
    if batch.status == ImportBatch.Status.PLAN_FAILED:
        ctx["upload_kept"] = ImportUpload.objects.filter(batch=batch).exists()
    if batch.status == ImportBatch.Status.UNDONE and batch.undo_report.get("kept"):
        ctx["kept"] = Contact.objects.filter(pk__in=batch.undo_report["kept"][:200])
    return render(request, "contacts/imports/detail.html", ctx)


def _may_import(user, batch: ImportBatch) -> bool:
    return Network.objects.importable_by(user).filter(pk=batch.network_id).exists()


def _with_contacts(entries: list[dict]) -> list[dict]:
    contacts = Contact.objects.in_bulk([entry["contact"] for entry in entries])
    return [{**entry, "contact_obj": contacts.get(entry["contact"])} for entry in entries]


@staff_required
def import_progress(request, pk):
    batch = get_object_or_404(ImportBatch.objects.defer("plan"), pk=pk)
    ctx = {"batch": batch, "stalled": batch.is_stalled(timezone.now())}
    response = render(request, "contacts/imports/_progress.html", ctx)
    if not batch.is_working and request.htmx:
        # The preview, import or undo is over: reload the whole page to show the result.
        response["HX-Refresh"] = "true"
    return response


@staff_required
@require_POST
def import_confirm(request, pk):
    batch = get_object_or_404(ImportBatch.objects.defer("plan"), pk=pk)
    try:
        batch = services.import_confirm(batch=batch, actor=request.user)
    except services.StalePreview:
        messages.error(
            request,
            "Contacts changed after this preview, so nothing was imported. "
            "Upload the file again for a fresh preview.",
        )
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        if batch.status == ImportBatch.Status.DONE:
            suppressed = f", {batch.suppressed} suppressed" if batch.suppressed else ""
            messages.success(
                request,
                f"Imported: {batch.created} new, {batch.updated} updated, "
                f"{batch.unchanged} unchanged{suppressed}.",
            )
    return redirect("imports:detail", pk=pk)


@staff_required
@require_POST
def import_cancel(request, pk):
    cancellable = (
        ImportBatch.Status.PLANNING,
        ImportBatch.Status.PLAN_FAILED,
        ImportBatch.Status.PENDING,
    )
    batch = get_object_or_404(ImportBatch.objects.defer("plan"), pk=pk, status__in=cancellable)
    services.require_importable(request.user, batch.network)
    # A worker still planning it finds the batch gone and writes nothing.
    batch.delete()
    messages.success(request, "Import cancelled; nothing was changed.")
    return redirect("imports:list")


@staff_required
@require_POST
def import_retry(request, pk):
    batch = get_object_or_404(ImportBatch.objects.defer("plan"), pk=pk)
    try:
        services.import_preview_retry(batch=batch, actor=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("imports:detail", pk=pk)


@staff_required
def import_undo(request, pk):
    batch = get_object_or_404(ImportBatch.objects.defer("plan"), pk=pk)
    services.require_importable(request.user, batch.network)
    if request.method == "POST":
        # The worker undoes it: a large batch takes longer than a request may.
        try:
            services.import_undo_enqueue(batch=batch, actor=request.user)
        except ValueError as exc:
            messages.error(request, str(exc))
        return redirect("imports:detail", pk=pk)
    stalled = batch.status == ImportBatch.Status.RUNNING and batch.is_stalled(timezone.now())
    ctx = {
        "batch": batch,
        "stalled": stalled,
        "undoable": stalled or batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED),
        # What its committed chunks did, which is what undo reverts: for a batch that stopped
        # half-way, less than its preview's counts.
        "created": Contact.objects.filter(created_by_batch=batch).count(),
        "changed": batch.changes.count(),
    }
    return render(request, "contacts/imports/undo_confirm.html", ctx)
