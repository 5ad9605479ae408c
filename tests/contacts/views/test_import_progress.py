import pytest

from contacts.models import ImportBatch
from tests.contacts.views.import_helpers import upload

pytestmark = pytest.mark.django_db


def test_progress_partial_reports_rows_and_refreshes_when_finished(client):
    upload(client)
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(status="running", rows_done=3)
    response = client.get(f"/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert b"3 of 6 rows" in response.content and b'value="50"' in response.content
    assert "HX-Refresh" not in response
    ImportBatch.objects.filter(pk=batch.pk).update(status="done", rows_done=6)
    response = client.get(f"/imports/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
