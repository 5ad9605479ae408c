import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import Contact, ImportBatch, Network, Tag
from tests.contacts.factories import ContactFactory
from tests.contacts.views.import_helpers import FIXTURES, upload

pytestmark = pytest.mark.django_db


def test_it_requires_staff(anon_client, non_staff_client):
    assert anon_client.get("/imports/").status_code == 302
    assert non_staff_client.get("/imports/").status_code == 403
    data = {"file": SimpleUploadedFile("c.csv", b"First Name\nA", "text/csv")}
    assert non_staff_client.post("/imports/", data).status_code == 403
    assert not Contact.objects.exists()


def test_upload_shows_a_preview_and_changes_nothing(client):
    ContactFactory(
        first_name="Fitzgerald",
        last_name="Orme",
        company="Tallowby & Sons",
        profile_url="https://www.linkedin.com/in/fitz-orme",
        position="Intern",
    )
    response = upload(client, tags="Conference 2025, Berlin")
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/imports/{batch.pk}/"
    assert Contact.objects.count() == 1
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "Preview: what importing will do" in page
    assert 'id="count-created">5<' in page and 'id="count-updated">1<' in page
    assert "<del>Intern</del> → <ins>Apprentice</ins>" in page
    assert "Confirm import" in page
    assert set(batch.tags.values_list("name", flat=True)) == {"Conference 2025", "Berlin"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The submitted file is empty."),
        ("headerless.csv", "First Name"),
        ("not_a_csv.xlsx.csv", "Excel"),
        ("image.png.csv", "PNG"),
        ("doc.pdf.csv", "PDF"),
        ("no_name_no_url.csv", "no name or profile URL column"),
    ],
)
def test_a_rejected_file_is_a_form_error_and_changes_nothing(client, name, message):
    ContactFactory()
    response = upload(client, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()
    assert Contact.objects.count() == 1


def test_an_oversized_file_is_refused_before_parsing(client, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    big = (FIXTURES / "current.csv").read_bytes() + b"\n" + b"x," * 800_000
    response = upload(client, data=big)
    assert "This file is 1.5 MB, over the 1 MB limit." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_file_just_over_the_limit_is_refused_as_it_arrives(client, settings):
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    data = (FIXTURES / "current.csv").read_bytes()
    data += b"\n" * (1024 * 1024 + 1 - len(data))
    response = upload(client, data=data, tags="Berlin")
    page = response.content.decode()
    assert "This file is 1.0 MB, over the 1 MB limit. A LinkedIn export of 30,000" in page
    # The fields after the file were never read: the form is shown afresh, not as invalid.
    assert "This field is required" not in page
    assert not ImportBatch.objects.exists() and not Tag.objects.exists()


def test_bad_form_input_is_reported(client):
    response = upload(client, network="999999", tags="x" * 61)
    content = response.content.decode()
    assert "Select a valid choice" in content and "at most 60 characters" in content
    assert not ImportBatch.objects.exists() and not Tag.objects.exists()
    response = client.post("/imports/", {})
    assert "This field is required" in response.content.decode()


def test_a_refused_file_creates_no_network_and_the_same_form_then_imports(staff_client):
    """A newcomer's first upload is refused: nothing is created (not their network, not the
    tags), and sending the form again as it was shown, network left on "mine", works."""
    bad = SimpleUploadedFile("doc.pdf.csv", (FIXTURES / "doc.pdf.csv").read_bytes())
    response = staff_client.post("/imports/", {"file": bad, "network": "", "tags": "Fresh"})
    assert "This looks like a PDF document" in response.content.decode()
    assert not Network.objects.exists() and not Tag.objects.exists()
    good = SimpleUploadedFile("current.csv", (FIXTURES / "current.csv").read_bytes())
    response = staff_client.post("/imports/", {"file": good, "network": "", "tags": "Fresh"})
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.network.owner.username == "alice" and batch.network.is_default
    # With the network there now, leaving the choice on "mine" still means it.
    good = SimpleUploadedFile("current.csv", (FIXTURES / "current.csv").read_bytes())
    assert staff_client.post("/imports/", {"file": good, "network": ""}).status_code == 302
    assert Network.objects.count() == 1
