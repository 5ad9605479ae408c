"""What the import view tests share: the sample LinkedIn exports, an upload through the page, and
an import left running as a worker that died leaves it."""

import datetime
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from contacts import liveness
from contacts.models import ImportBatch, Network
from tests.contacts.worker import run_queued_tasks

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "linkedin"


def upload(client, name="current.csv", data=None, **fields):
    data = data if data is not None else (FIXTURES / name).read_bytes()
    network = fields.pop("network", None)
    if network is None:
        network = Network.objects.default_for(client.user).pk
    payload = {"file": SimpleUploadedFile(name, data, "text/csv"), "network": network, **fields}
    response = client.post("/imports/", payload)
    run_queued_tasks()
    return response


def imported_then_running(client, *, quiet_for: datetime.timedelta) -> ImportBatch:
    """An import whose six new contacts are committed while it still shows as running, with its
    last progress `quiet_for` ago: as a worker leaves it when it dies before marking it done."""
    upload(client)
    batch = ImportBatch.objects.get()
    client.post(f"/imports/{batch.pk}/confirm/")
    ImportBatch.objects.filter(pk=batch.pk).update(
        status="running",
        progress_at=timezone.now() - quiet_for,
        worker=liveness.current_process(),
        finished_at=None,
    )
    return ImportBatch.objects.get()
