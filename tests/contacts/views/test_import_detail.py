import datetime

import pytest

from contacts.models import ImportBatch
from tests.contacts.views.import_helpers import imported_then_running, upload

pytestmark = pytest.mark.django_db


def test_the_batch_page_notices_the_same_file(client):
    upload(client)
    client.post(f"/imports/{ImportBatch.objects.get().pk}/confirm/")
    upload(client)
    second = ImportBatch.objects.filter(status="pending").get()
    page = client.get(f"/imports/{second.pk}/").content.decode()
    assert "This very file (same content) was imported before" in page
    assert 'id="count-unchanged">6<' in page


def test_the_batch_page_lists_problems_with_line_numbers(client):
    upload(client, "bad_emails.csv")
    batch = ImportBatch.objects.get()
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    first = batch.errors[0]
    assert f"Line {first['line']}:" in page


def test_the_batch_page_shows_a_stalled_import_and_writes_nothing(client):
    batch = imported_then_running(client, quiet_for=datetime.timedelta(minutes=10))
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "The worker importing this file stopped" in page
    assert f'href="/imports/{batch.pk}/undo/"' in page
    response = client.get(f"/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert b"Stalled:" in response.content and "HX-Refresh" not in response
    batch.refresh_from_db()
    assert batch.status == "running" and batch.failure == "" and batch.finished_at is None


def test_the_batch_page_of_a_live_import_offers_no_undo(client):
    batch = imported_then_running(client, quiet_for=datetime.timedelta(seconds=5))
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "stopped" not in page and f"/imports/{batch.pk}/undo/" not in page
    assert "Importing…" in page
