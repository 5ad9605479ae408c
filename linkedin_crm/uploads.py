"""Bounds on uploads, kept while Django reads a multipart body, before any view runs.

CsrfViewMiddleware reads request.POST to find the CSRF token, so a multipart body is parsed, and
Django's handlers copy its files into memory or a temporary file, before a view can refuse the
request: an anonymous POST with a CSRF cookie of its own choosing had 2 GB written to /tmp
before its 403. BoundedUploadHandler goes first in FILE_UPLOAD_HANDLERS and hands a file's bytes
on to Django's handlers only for a signed-in staff member and within the view's limit.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

# What a body may hold besides its file: the form's other fields and the multipart headers,
# with room to spare. The README's nginx example lets through bodies of the limit plus this, so
# behind it no refusal needs to leave a body unread (which resets the connection).
FIELDS_ALLOWANCE = 1024 * 1024


def upload_limit(max_bytes: Callable[[], int]) -> Callable:
    """Let a view receive `max_bytes()` bytes of files instead of IMPORT_MAX_BYTES (called for
    each request, so that settings changed in tests hold).

    The handler reads the mark from the resolved view, as CsrfViewMiddleware reads
    `csrf_exempt`: the body is read before the view runs.
    """

    def decorator(view: Callable) -> Callable:
        # A mark on the view function, as csrf_exempt sets one; _max_bytes() reads it back.
        view.upload_max_bytes = max_bytes  # type: ignore[attr-defined]
        return view

    return decorator


def upload_refusal(request: HttpRequest) -> str:
    """Why BoundedUploadHandler refused this request's files; "" if it did not.

    A refused upload stopped at its file, so the form fields after the file were never read.
    """
    if request.method != "POST":
        return ""
    request.FILES  # noqa: B018 - reading it parses the body if nothing has yet
    return getattr(request, "upload_refusal", "")


class BoundedUploadHandler(FileUploadHandler):
    """Hand a file's bytes on to the next handlers only within bounds; otherwise stop reading.

    - Only a signed-in staff member's files are read: every page that takes a file is for staff
      (staff_required). Anyone else's body is read up to its first file, so that the CSRF token
      before it still works (a session that expired gets the sign-in page, not a CSRF error),
      and no byte of the file is read or kept.
    - A body whose Content-Length is over the view's limit and FIELDS_ALLOWANCE is refused
      before its file is read; from anyone but staff, not a byte of it is read, so a client that
      declares 10 GB and sends 3 bytes is not waited for.
    - The file bytes are counted as they arrive, and reading stops past the limit. The next
      handlers close (and so delete) a temporary file that was begun, and no file reaches
      request.FILES.

    The reason for a refusal is left on the request for the view: see upload_refusal().
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.max_bytes = _max_bytes(request)
        self.trusted = False
        self.body_length = 0
        self.received = 0

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict,
        content_length: int,
        # Django passes the boundary as bytes; django-stubs says str.
        boundary: bytes,  # type: ignore[override]
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict] | None:
        self.trusted = _is_staff(self.request)
        self.body_length = content_length
        if content_length > self.max_bytes + FIELDS_ALLOWANCE:
            if not self.trusted:
                return QueryDict(encoding=encoding), MultiValueDict()  # nothing is read
            self._refuse()
        return None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if not self.trusted or self.refused:
            # Nothing after this is read; the server closes the connection after the response.
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)  # over all the files of the request
        if self.received > self.max_bytes:
            self._refuse()
            # The Content-Length check leaves at most FIELDS_ALLOWANCE unread: read it, so that
            # the browser gets the page rather than a reset connection.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file

    @property
    def refused(self) -> bool:
        return bool(getattr(self.request, "upload_refusal", ""))

    def _refuse(self) -> None:
        # The body's size stands for the file's: the form's other fields are a few hundred bytes.
        # A mark on the request for the view, which upload_refusal() reads back.
        self.request.upload_refusal = (  # type: ignore[union-attr]
            f"This file is {self.body_length / 2**20:.1f} MB, "
            f"over the {self.max_bytes / 2**20:.3g} MB limit."
        )


def _max_bytes(request: HttpRequest | None) -> int:
    match = getattr(request, "resolver_match", None)
    declared = getattr(match.func, "upload_max_bytes", None) if match else None
    return declared() if declared else settings.IMPORT_MAX_BYTES


def _is_staff(request: HttpRequest | None) -> bool:
    # AuthenticationMiddleware has set request.user before CsrfViewMiddleware reads the body.
    # A body read earlier than that has no user, and so no trust.
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)
