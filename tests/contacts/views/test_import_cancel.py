import pytest

from contacts.models import Contact, ImportBatch
from tests.contacts.views.import_helpers import upload

pytestmark = pytest.mark.django_db


def test_cancel_deletes_the_pending_batch(client):
    upload(client)
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/cancel/")
    assert not ImportBatch.objects.exists() and not Contact.objects.exists()
