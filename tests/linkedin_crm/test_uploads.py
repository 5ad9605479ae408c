"""BoundedUploadHandler through the whole request cycle: middleware (CSRF checked where an
attacker would pass it), the handler chain of the settings, and the import page."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from contacts.models import ImportBatch, Network
from tests.contacts.worker import run_queued_tasks

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
TOKEN = "a" * 32  # a CSRF cookie and token of the client's own choosing: CSRF lets them pass
SEEN: list[tuple[str, object]] = []


class Spy(FileUploadHandler):
    """Put right after BoundedUploadHandler: records what it hands on to Django's handlers."""

    def new_file(self, field_name, file_name, *args, **kwargs):
        SEEN.append(("file", file_name))

    def receive_data_chunk(self, raw_data, start):
        SEEN.append(("bytes", len(raw_data)))
        return raw_data

    def file_complete(self, file_size):
        SEEN.append(("complete", file_size))


class ClientBody(io.BytesIO):
    """What a client has sent of a body. Reading on from its end is where the server would wait
    for the rest, holding a worker: that fails the test."""

    def read(self, size=-1, /):
        if size != 0 and self.tell() >= len(self.getbuffer()):
            raise AssertionError("the server waited for bytes the client never sent")
        return super().read(size)


@pytest.fixture
def seen(settings):
    first, *rest = settings.FILE_UPLOAD_HANDLERS
    assert first == "linkedin_crm.uploads.BoundedUploadHandler"
    settings.FILE_UPLOAD_HANDLERS = [first, f"{__name__}.Spy", *rest]
    SEEN.clear()
    yield SEEN
    SEEN.clear()


@pytest.fixture
def own_token_client():
    """A client that checks CSRF as a browser's request is checked, with a token of its own."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = TOKEN
    return client


def multipart(file_data: bytes, **fields) -> bytes:
    # Fields first, as a browser sends the form: the CSRF token, then the file.
    upload = SimpleUploadedFile("Connections.csv", file_data, "text/csv")
    return encode_multipart(BOUNDARY, {**fields, "file": upload})


def post(client, body: bytes, content_length: int | None = None, path="/imports/"):
    """POST the body as sent so far, declaring content_length (the body's length by default);
    return the response and the number of bytes the server read."""
    sent = ClientBody(body)
    response = client.generic(
        "POST",
        path,
        body,
        content_type=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(content_length if content_length is not None else len(body)),
        **{"wsgi.input": sent},
    )
    return response, sent.tell()


def test_it_reads_no_byte_of_an_anonymous_upload(seen, own_token_client):
    body = multipart(b"x" * (5 * MB), csrfmiddlewaretoken=TOKEN)

    response, read = post(own_token_client, body)

    # The CSRF token before the file was read (so an expired session still reaches sign-in)...
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    # ...and the file was not: nothing reached memory or a temporary file.
    assert seen == []
    assert read <= 64 * 1024


def test_it_reads_no_byte_of_a_non_staff_members_upload(seen, own_token_client, non_staff_user):
    own_token_client.force_login(non_staff_user)

    response, read = post(own_token_client, multipart(b"x" * (5 * MB), csrfmiddlewaretoken=TOKEN))

    assert response.status_code == 403
    assert seen == [] and read <= 64 * 1024


def test_it_reads_nothing_of_an_anonymous_body_declared_over_the_limit(seen, own_token_client):
    # Declares 10 GB, sends a few bytes: nothing is read, so no worker waits for the rest.
    body = multipart(b"abc", csrfmiddlewaretoken=TOKEN)

    response, read = post(own_token_client, body, content_length=10 * 1024 * MB)

    assert response.status_code == 403  # not even the CSRF token was read
    assert (read, seen) == (0, [])


def test_it_refuses_a_staff_upload_declared_over_the_limit_before_reading_the_file(
    seen, staff_client, staff_user
):
    network = Network.objects.default_for(staff_user)
    body = multipart(b"First Name,Last Name\nAnn,Bisset\n", network=str(network.pk))

    response, read = post(staff_client, body, content_length=10 * 1024 * MB)

    page = response.content.decode()
    assert response.status_code == 200
    assert "This file is 10240.0 MB, over the 20 MB limit. A LinkedIn export of 30,000" in page
    assert seen == [] and read <= len(body)
    assert not ImportBatch.objects.exists()


def test_it_stops_reading_a_staff_upload_past_the_limit_and_keeps_nothing(
    seen, settings, staff_client, tmp_path
):
    settings.IMPORT_MAX_BYTES = 1 * MB
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # to a temporary file from the first byte
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    # Within the limit and its allowance for the other fields, so only counting finds it.
    body = multipart(b"x" * (MB + MB // 2))

    response, read = post(staff_client, body)

    assert "This file is 1.5 MB, over the 1 MB limit." in response.content.decode()
    assert not [event for event in seen if event[0] == "complete"]
    assert sum(size for event, size in seen if event == "bytes") <= MB + 64 * 1024
    assert list(tmp_path.iterdir()) == []  # the temporary file begun was deleted
    assert read == len(body)  # the few bytes left were read, for a clean response
    assert not ImportBatch.objects.exists()


def test_it_lets_a_staff_members_file_at_the_limit_through(
    seen, settings, own_token_client, staff_user
):
    # With CSRF checked, the body is read in CsrfViewMiddleware, where the session's user is
    # known already (AuthenticationMiddleware sets it before any middleware sees the view).
    own_token_client.force_login(staff_user)
    settings.IMPORT_MAX_BYTES = 1 * MB
    network = Network.objects.default_for(staff_user)
    data = b"First Name,Last Name\nAnn,Bisset\n"
    data += b"\n" * (MB - len(data))
    body = multipart(data, csrfmiddlewaretoken=TOKEN, network=str(network.pk))

    response, _ = post(own_token_client, body)

    assert ("complete", MB) in seen
    assert response.status_code == 302
    assert len(ImportBatch.objects.get().upload.data) == MB  # stored whole for the worker
    run_queued_tasks()
    assert ImportBatch.objects.get().rows == 1
