"""A large import really runs in the django-q2 worker and reports its progress."""

import pytest

from contacts import services
from contacts.models import Connection, Contact, ImportBatch, Network
from tests.contacts.factories import UserFactory
from tests.integration.conftest import wait_for


def big_export(rows: int) -> bytes:
    lines = ["First Name,Last Name,URL,Email Address,Company,Position,Connected On"]
    for index in range(rows):
        lines.append(
            f"Person{index},Tester,https://www.linkedin.com/in/person-{index},,"
            f"Company {index % 50},Role,05 Jan 2026"
        )
    return "\n".join(lines).encode()


@pytest.mark.django_db(transaction=True)
def test_a_large_import_runs_in_the_worker(qcluster, settings):
    settings.IMPORT_ASYNC_ROWS = 100
    user = UserFactory(username="worker-test", is_staff=True)
    batch = services.import_preview(
        data=big_export(2500),
        file_name="big.csv",
        user=user,
        network=Network.objects.default_for(user),
    )
    batch = services.import_confirm(batch=batch, actor=user)
    assert batch.status == ImportBatch.Status.QUEUED
    assert not Contact.objects.exists()  # nothing happened in this process

    def finished() -> bool:
        return ImportBatch.objects.get(pk=batch.pk).is_finished

    wait_for(finished, timeout=90, what="the worker to finish the import")
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE, batch.failure
    assert (batch.created, batch.rows_done) == (2500, 2500)
    assert Contact.objects.count() == 2500 and Connection.objects.count() == 2500
    assert batch.plan is None
