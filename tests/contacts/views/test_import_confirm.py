import pytest

from contacts.models import Contact, ImportBatch
from tests.contacts.views.import_helpers import upload

pytestmark = pytest.mark.django_db


def test_confirm_imports_and_shows_the_result(client):
    upload(client)
    batch = ImportBatch.objects.get()
    response = client.post(f"/imports/{batch.pk}/confirm/", follow=True)
    assert "Imported: 6 new, 0 updated, 0 unchanged." in response.content.decode()
    assert Contact.objects.count() == 6
    assert "Undo import" in response.content.decode()


def test_confirm_is_post_only_and_only_once(client):
    upload(client)
    batch = ImportBatch.objects.get()
    assert client.get(f"/imports/{batch.pk}/confirm/").status_code == 405
    client.post(f"/imports/{batch.pk}/confirm/")
    response = client.post(f"/imports/{batch.pk}/confirm/", follow=True)
    assert "confirmed already" in response.content.decode()
    assert Contact.objects.count() == 6


def test_large_files_are_queued_with_a_progress_bar(client, settings):
    settings.IMPORT_ASYNC_ROWS = 2
    upload(client)
    batch = ImportBatch.objects.get()
    response = client.post(f"/imports/{batch.pk}/confirm/", follow=True)
    assert b'<progress id="import-progress"' in response.content
    assert ImportBatch.objects.get().status == "queued"
