"""The contacts API (docs/api.md): the list with the page's filters, one contact (PATCH with
ETag/If-Match), its tags and notes. Validation is ContactForm's and writes are
contacts.services', as on the pages."""

from django.conf import settings
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.response import Response

from contacts import services
from contacts.filters import SORT_CHOICES, ContactFilter, sort_order
from contacts.forms import ContactForm, ImportUploadForm, NoteForm
from contacts.linkedin_csv import RejectedFile
from contacts.models import Contact, ImportBatch, Note, Tag
from contacts.serializers import (
    ContactSerializer,
    ContactWriteSerializer,
    ImportBatchSerializer,
    NoteSerializer,
    NoteWriteSerializer,
    TagAddSerializer,
    TagSerializer,
    contacts_json,
)
from linkedin_crm import audit, roles
from linkedin_crm.api import (
    IDEMPOTENCY_KEY,
    PROBLEM,
    ApiCursorPagination,
    Conflict,
    PayloadTooLarge,
    PreconditionFailed,
    idempotent,
    raise_validation,
)


class ContactPagination(ApiCursorPagination):
    """Pages in the order the list's `sort` asks for, as the contacts page does."""

    def get_ordering(self, request, queryset, view):
        return tuple(sort_order(request.query_params.get("sort") or "-created"))


def etag(contact: Contact) -> str:
    """The version of the contact a client read: its updated_at, to the microsecond, which
    every change moves (contacts.services.contact_update)."""
    return f'"{contact.pk}-{contact.updated_at.timestamp():.6f}"'


def _form_for(contact: Contact | None, data: dict) -> ContactForm:
    """ContactForm over the contact's current values with `data` on top: a PATCH changes only
    what it names, and the form's rules (one profile URL per person, a name or a way to reach
    them) hold for the result."""
    # A new contact starts from the model's defaults (the stage "lead"), as the page's form.
    values = model_to_dict(contact or Contact(), fields=ContactForm.Meta.fields)
    values["tags"] = [tag.pk for tag in values.get("tags", [])]
    values.update(data)
    if values.get("profile_url") is None:
        values["profile_url"] = ""
    return ContactForm(data=values, instance=contact)


class ContactFilterBackend(DjangoFilterBackend):
    """ContactFilter as the list page uses it, except that an unknown sort, which the page
    replaces by the default order with a notice, is refused: a script should hear of it."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset.unknown_sort:
            choices = ", ".join(value for value, _ in SORT_CHOICES)
            raise_validation(
                {"sort": [f"“{filterset.unknown_sort}” is not a sort; use {choices}."]}
            )
        if not filterset.is_valid():
            raise_validation(filterset.errors)
        return filterset.qs


class ContactListCreate(generics.ListAPIView):
    """Contacts, filtered with every filter of the contacts page (contacts.filters)."""

    # The search columns are the filters' business, not the answer's.
    queryset = Contact.objects.defer("search_text", "name_key")
    serializer_class = ContactSerializer
    filter_backends = [ContactFilterBackend]
    filterset_class = ContactFilter
    pagination_class = ContactPagination

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(contacts_json(page))

    @extend_schema(
        responses={200: ContactSerializer(many=True), 422: PROBLEM},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ContactWriteSerializer,
        responses={201: ContactSerializer, 422: PROBLEM},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        body = ContactWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        form = _form_for(None, body.validated_data)
        if not form.is_valid():
            raise_validation(form.errors)
        contact = form.save()
        data = ContactSerializer(contact).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"ETag": etag(contact)})


@extend_schema(
    methods=["GET"],
    responses={200: ContactSerializer, 404: PROBLEM},
)
@extend_schema(
    methods=["PATCH"],
    request=ContactWriteSerializer,
    responses={200: ContactSerializer, 412: PROBLEM, 422: PROBLEM},
    parameters=[
        OpenApiParameter(
            "If-Match",
            str,
            OpenApiParameter.HEADER,
            description="The ETag you read; a contact changed since is refused with 412.",
        )
    ],
)
@extend_schema(methods=["DELETE"], responses={204: None, 403: PROBLEM})
@api_view(["GET", "PATCH", "DELETE"])
def contact_detail(request, pk: int):
    contact = get_object_or_404(Contact.objects.prefetch_related("tags"), pk=pk)
    if request.method == "GET":
        return Response(ContactSerializer(contact).data, headers={"ETag": etag(contact)})
    if request.method == "DELETE":
        services.contacts_delete(
            contacts=Contact.objects.filter(pk=contact.pk), actor=request.user, via=audit.Via.API
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    _check_if_match(request, contact)
    body = ContactWriteSerializer(data=request.data, partial=True)
    body.is_valid(raise_exception=True)
    version = contact.updated_at
    form = _form_for(contact, body.validated_data)
    if not form.is_valid():
        raise_validation(form.errors)
    try:
        services.contact_update(
            contact=form.instance,
            fields=[name for name in body.validated_data if name != "tags"],
            tags=form.cleaned_data["tags"],
            version=version,
            user=request.user,
            change_message=[{"changed": {"fields": sorted(body.validated_data)}}],
        )
    except services.ContactChanged:
        raise PreconditionFailed(
            "Nothing was saved: the contact changed while this request was being handled. "
            "Read it again and repeat your change."
        ) from None
    contact = Contact.objects.prefetch_related("tags").get(pk=pk)
    return Response(ContactSerializer(contact).data, headers={"ETag": etag(contact)})


def _check_if_match(request, contact: Contact) -> None:
    wanted = request.headers.get("If-Match")
    if wanted is None:
        return
    tags = {tag.strip() for tag in wanted.split(",")}
    if "*" not in tags and etag(contact) not in tags:
        raise PreconditionFailed(
            "Nothing was saved: the contact changed since you read it (its ETag is now "
            f"{etag(contact)}). Read it again and repeat your change."
        )


@extend_schema(methods=["GET"], responses={200: TagSerializer(many=True)})
@extend_schema(
    methods=["POST"],
    request=TagAddSerializer,
    responses={201: TagSerializer(many=True), 422: PROBLEM},
    parameters=[IDEMPOTENCY_KEY],
)
@api_view(["GET", "POST"])
@idempotent
def contact_tags(request, pk: int):
    """The contact's tags; POST adds one by name (made if new) and answers the whole set."""
    contact = get_object_or_404(Contact, pk=pk)
    if request.method == "POST":
        body = TagAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            tag = Tag.get_or_create_named(body.validated_data["name"])
            services.contacts_add_tag(contacts=Contact.objects.filter(pk=contact.pk), tag=tag)
    tags = TagSerializer(contact.tags.order_by("name"), many=True).data
    code = status.HTTP_201_CREATED if request.method == "POST" else status.HTTP_200_OK
    return Response(tags, status=code)


@extend_schema(responses={204: None, 404: PROBLEM})
@api_view(["DELETE"])
def contact_tag_remove(request, pk: int, tag_pk: int):
    contact = get_object_or_404(Contact, pk=pk)
    tag = get_object_or_404(contact.tags, pk=tag_pk)
    services.contacts_remove_tag(contacts=Contact.objects.filter(pk=contact.pk), tag=tag)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(methods=["GET"], responses={200: NoteSerializer(many=True)})
@extend_schema(
    methods=["POST"],
    request=NoteWriteSerializer,
    responses={201: NoteSerializer, 422: PROBLEM},
    parameters=[IDEMPOTENCY_KEY],
)
@api_view(["GET", "POST"])
@idempotent
def contact_notes(request, pk: int):
    contact = get_object_or_404(Contact, pk=pk)
    if request.method == "GET":
        notes = contact.notes.select_related("author").order_by("-created_at", "-id")
        return Response(NoteSerializer(notes, many=True).data)
    form = NoteForm(data=request.data if hasattr(request.data, "get") else {})
    if not form.is_valid():
        raise_validation(form.errors)
    note = services.note_add(contact=contact, author=request.user, body=form.cleaned_data["body"])
    return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)


@extend_schema(responses={204: None, 404: PROBLEM})
@api_view(["DELETE"])
def contact_note_delete(request, pk: int, note_pk: int):
    note = get_object_or_404(Note, pk=note_pk, contact_id=pk)
    note.delete()  # as the contact page does: any team member may remove a note
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    request=None,
    responses={(200, "text/csv"): OpenApiTypes.STR, 403: PROBLEM, 422: PROBLEM},
)
@api_view(["POST"])
def contact_export(request):
    """The contacts the query string's filters match, as CSV, streamed (the export page's
    columns). A POST, like the page's download: personal data leaving is recorded."""
    services.require_permission(request.user, roles.EXPORT_CONTACTS)
    filterset = ContactFilter(request.query_params or None, queryset=Contact.objects.all())
    if filterset.is_bound and not filterset.is_valid():
        raise_validation(filterset.errors)
    lines = services.contacts_export_stream(
        contacts=filterset.qs,
        user=request.user,
        via=audit.Via.API,
        filter_params=request.query_params.dict(),
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return response


# --- imports -------------------------------------------------------------------------------------


class ImportUploadSerializer(serializers.Serializer):
    """The import page's form, for the schema: ImportUploadForm validates."""

    file = serializers.FileField(help_text="LinkedIn's Connections.csv.")
    network = serializers.IntegerField(
        required=False, help_text="Whose network the export is; default: your own."
    )
    tags = serializers.CharField(
        required=False, allow_blank=True, help_text="Comma-separated tags for every contact."
    )
    keep_existing = serializers.BooleanField(
        required=False, help_text="Only fill empty fields of contacts known already."
    )


class ImportBatchList(generics.ListAPIView):
    """Every import, newest first (the imports page's list)."""

    serializer_class = ImportBatchSerializer
    pagination_class = ApiCursorPagination
    queryset = ImportBatch.objects.select_related("uploaded_by", "network").defer("plan")

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportBatchSerializer, 403: PROBLEM, 413: PROBLEM, 422: PROBLEM},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        """Upload a Connections.csv: parsed and planned, nothing changed yet. The answer is the
        pending batch with the plan's counts and each line's problems; confirm it to import."""
        data = request.data  # parsed here, by BoundedUploadHandler within IMPORT_MAX_MB
        refusal = getattr(request._request, "upload_refusal", "")
        if refusal:
            raise PayloadTooLarge(f"{refusal} {ImportUploadForm.SIZE_HINT}")
        if not hasattr(data, "getlist"):
            raise UnsupportedMediaType(
                request.content_type,
                "Send the file as multipart/form-data, with the field name “file”.",
            )
        form = ImportUploadForm(
            data, request.FILES, max_bytes=settings.IMPORT_MAX_BYTES, user=request.user
        )
        if not form.is_valid():
            raise_validation(form.errors)
        try:
            batch = services.import_preview_upload(form, user=request.user, in_worker=False)
        except RejectedFile as error:
            raise_validation({"file": [str(error)]})
        return Response(_batch_data(batch.pk), status=status.HTTP_201_CREATED)


def _batch_data(pk: int) -> dict:
    batch = ImportBatch.objects.select_related("uploaded_by", "network").defer("plan").get(pk=pk)
    return ImportBatchSerializer(batch).data


def _batch(pk: int) -> ImportBatch:
    return get_object_or_404(ImportBatch.objects.select_related("network").defer("plan"), pk=pk)


@extend_schema(responses={200: ImportBatchSerializer, 404: PROBLEM})
@api_view(["GET"])
def import_detail(request, pk: int):
    return Response(_batch_data(_batch(pk).pk))


@extend_schema(
    request=None,
    responses={200: ImportBatchSerializer, 202: ImportBatchSerializer, 403: PROBLEM, 409: PROBLEM},
)
@api_view(["POST"])
def import_confirm(request, pk: int):
    """Apply a previewed batch: at once when small (200), in the worker when larger than
    IMPORT_ASYNC_ROWS (202; read the batch for its progress)."""
    batch = get_object_or_404(ImportBatch, pk=pk)
    try:
        batch = services.import_confirm(batch=batch, actor=request.user, via=audit.Via.API)
    except services.StalePreview:
        raise Conflict(
            "Contacts changed after this preview, so nothing was imported. Upload the file "
            "again for a fresh preview."
        ) from None
    except ValueError as error:
        raise Conflict(str(error)) from None
    code = status.HTTP_200_OK if batch.is_finished else status.HTTP_202_ACCEPTED
    return Response(_batch_data(batch.pk), status=code)


@extend_schema(request=None, responses={200: ImportBatchSerializer, 403: PROBLEM, 409: PROBLEM})
@api_view(["POST"])
def import_undo(request, pk: int):
    """Undo an import exactly: the contacts it created are deleted (but those with notes or
    messages since, which are kept and listed in undo_report), those it updated restored."""
    batch = _batch(pk)
    try:
        services.import_batch_undo(batch=batch, actor=request.user, via=audit.Via.API)
    except ValueError as error:
        raise Conflict(str(error)) from None
    return Response(_batch_data(pk))


# Included under /api/v1/ by linkedin_crm.api_urls (namespace "api").
urlpatterns = [
    path("contacts/", ContactListCreate.as_view(), name="contact_list"),
    path("contacts/export/", contact_export, name="contact_export"),
    path("contacts/<int:pk>/", contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/tags/", contact_tags, name="contact_tags"),
    path("contacts/<int:pk>/tags/<int:tag_pk>/", contact_tag_remove, name="contact_tag_remove"),
    path("contacts/<int:pk>/notes/", contact_notes, name="contact_notes"),
    path("contacts/<int:pk>/notes/<int:note_pk>/", contact_note_delete, name="contact_note_delete"),
    path("imports/", ImportBatchList.as_view(), name="import_list"),
    path("imports/<int:pk>/", import_detail, name="import_detail"),
    path("imports/<int:pk>/confirm/", import_confirm, name="import_confirm"),
    path("imports/<int:pk>/undo/", import_undo, name="import_undo"),
]
