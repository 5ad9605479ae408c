"""/api/v1/imports/: upload a Connections.csv for a preview, confirm, list, detail, undo, with
the import page's rules, through real multipart HTTP."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.test.client import MULTIPART_CONTENT

from contacts.models import Contact, ImportBatch, Network
from linkedin_crm.models import AuditEvent
from tests.api.conftest import problem
from tests.contacts.factories import NetworkFactory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"


@pytest.fixture
def multipart(api):
    """The token client, posting multipart as Django's test client encodes it."""

    def post(path, data, **extra):
        return super(type(api), api).post(path, data, content_type=MULTIPART_CONTENT, **extra)

    def upload(name="current.csv", **fields):
        file = SimpleUploadedFile(name, (FIXTURES / name).read_bytes(), "text/csv")
        return post("/api/v1/imports/", {"file": file, **fields})

    api.upload = upload
    api.post_multipart = post
    return api


def test_upload_previews_then_confirm_imports_and_undo_reverts(multipart, member):
    response = multipart.upload(tags="Berlin 2026")
    assert response.status_code == 201, response.content
    batch = response.json()
    assert batch["status"] == "pending" and batch["created"] > 0
    assert not Contact.objects.exists()  # a preview changes nothing
    assert [b["id"] for b in multipart.get("/api/v1/imports/").json()["results"]] == [batch["id"]]

    confirmed = multipart.post(f"/api/v1/imports/{batch['id']}/confirm/")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "done"
    assert Contact.objects.count() == batch["created"]
    assert Contact.objects.filter(tags__name="Berlin 2026").count() == batch["created"]
    assert AuditEvent.objects.get(action="import").via == "api"
    again = multipart.post(f"/api/v1/imports/{batch['id']}/confirm/")
    assert again.status_code == 409 and "confirmed already" in problem(again)["detail"]

    undone = multipart.post(f"/api/v1/imports/{batch['id']}/undo/")
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    assert not Contact.objects.exists()
    assert multipart.post(f"/api/v1/imports/{batch['id']}/undo/").status_code == 409


def test_a_preview_lists_each_lines_problems(multipart):
    batch = multipart.upload("bad_urls_dates.csv").json()
    assert batch["errors"] and all({"line", "message"} <= set(e) for e in batch["errors"])
    assert multipart.get(f"/api/v1/imports/{batch['id']}/").json()["errors"] == batch["errors"]


@pytest.mark.parametrize("name", ["doc.pdf.csv", "empty.csv", "image.png.csv"])
def test_a_file_that_is_not_an_export_is_refused_leaving_nothing(multipart, member, name):
    response = multipart.upload(name, tags="New tag")
    assert response.status_code == 422
    assert "file" in problem(response)["errors"]
    assert not ImportBatch.objects.exists() and not Network.objects.exists()


def test_no_file_and_json_bodies_are_refused(multipart):
    response = multipart.post_multipart("/api/v1/imports/", {"tags": "x"})
    assert response.status_code == 422 and "file" in problem(response)["errors"]
    response = multipart.post("/api/v1/imports/", {"file": "First Name\nAnn"})
    assert response.status_code == 415


@override_settings(IMPORT_MAX_BYTES=100)
def test_a_file_over_the_limit_is_413(multipart):
    response = multipart.upload()
    assert response.status_code == 413
    assert "over the" in problem(response)["detail"]
    assert not ImportBatch.objects.exists()


def test_a_member_cannot_import_into_another_members_network(multipart, other_member):
    network = NetworkFactory(owner=other_member)
    response = multipart.upload(network=network.pk)
    assert response.status_code == 422  # not one of the networks offered to them
    assert "network" in problem(response)["errors"]
    assert not ImportBatch.objects.exists()


def test_a_member_cannot_confirm_or_undo_another_members_batch(multipart, other_member):
    from linkedin_crm import api_tokens
    from tests.api.conftest import TokenClient

    _, raw = api_tokens.api_token_create(owner=other_member, name="other")
    other = TokenClient(raw)
    batch = multipart.upload().json()
    assert other.post(f"/api/v1/imports/{batch['id']}/confirm/").status_code == 403
    assert ImportBatch.objects.get().status == "pending"


def test_a_retried_upload_with_its_key_previews_once(multipart):
    data = (FIXTURES / "current.csv").read_bytes()

    def send():
        return multipart.post_multipart(
            "/api/v1/imports/",
            {"file": SimpleUploadedFile("current.csv", data, "text/csv")},
            HTTP_IDEMPOTENCY_KEY="up-1",
        )

    one, two = send(), send()
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] == two.json()["id"] and ImportBatch.objects.count() == 1
