"""The web requests a user triggers around a large import, at 300,000 contacts: none may run
longer than a few seconds (a 120k-row preview took 10–26 s inside the request, issue #16).

Seeds BENCH_REQUESTS_CONTACTS contacts (default 300,000), then, through Django's test client
as a staff member:

- the upload of a BENCH_REQUESTS_ROWS-row Connections.csv (default 120,000; half of the rows
  update known contacts, half are new): the request stores the file and queues its preview;
- the worker's preview (the real task, in this process: reported, not budgeted);
- the confirm request (queues the import; the worker checks the preview is fresh), and the import;
- the undo request (queues the undo), and the worker's undo;
- the export request of every contact (queues the export), and the worker's export;
- the progress partial, polled during each.

Budget: every request ≤ 3 s. The worker's times are printed for comparison with the old
in-request numbers.
"""

import os
import statistics
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # run directly: python tests/perf/bench_requests.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.perf.run import setup_django

CONTACTS = int(os.environ.get("BENCH_REQUESTS_CONTACTS", 300_000))
ROWS = int(os.environ.get("BENCH_REQUESTS_ROWS", 120_000))
BUDGET_S = 3.0
HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"


def make_file() -> bytes:
    """Half the rows are known contacts with a new position, half are new people."""
    from contacts.models import Contact

    known = list(
        Contact.objects.exclude(profile_url="")
        .order_by("pk")
        .values_list("first_name", "last_name", "profile_url")[: ROWS // 2]
    )
    lines = [HEADER]
    for first, last, url in known:
        lines.append(f'"{first}","{last}",{url},,Bench Co,Benchmarker,05 Jan 2026\n')
    for index in range(ROWS - len(known)):
        lines.append(
            f"New{index},Person,https://www.linkedin.com/in/bench-new-{index},,"
            f"Bench Co,Role,05 Jan 2026\n"
        )
    return "".join(lines).encode()


def timed(label: str, results: list, fn):
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    results.append((label, seconds))
    return value


def main() -> bool:
    setup_django("bench-requests")

    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from contacts import tasks
    from contacts.models import Contact, ContactExport, ImportBatch, Network
    from linkedin_crm import roles
    from linkedin_crm.demo.people import seed_contacts
    from tests.contacts.factories import with_role

    user = get_user_model().objects.create_user(
        "bench", "bench@example.com", "unused-password", is_staff=True
    )
    user = with_role(user, roles.MANAGER)  # may export
    network = Network.objects.default_for(user)
    started = time.perf_counter()
    seeded = seed_contacts(CONTACTS, network=network, seed=1)
    print(f"Seeded {seeded:,} contacts in {time.perf_counter() - started:.1f} s")
    data = make_file()
    print(f"File: {ROWS:,} rows, {len(data) / 2**20:.1f} MB")

    client = Client()
    client.force_login(user)
    requests, worker = [], []

    def upload():
        payload = {"file": SimpleUploadedFile("Connections.csv", data), "network": network.pk}
        response = client.post("/imports/", payload)
        assert response.status_code == 302, response.content[:2000]
        return response

    timed("upload (stores the file, queues the preview)", requests, upload)
    batch = ImportBatch.objects.get()
    timed("progress partial while previewing", requests, lambda: client.get(batch_url(batch)))
    timed("preview (parse + plan)", worker, lambda: tasks.plan_import(batch.pk))
    batch.refresh_from_db()
    assert batch.status == "pending", batch.failure
    print(f"Preview: {batch.created:,} new, {batch.updated:,} updated")

    timed(
        "confirm (queues the import; the worker checks freshness)",
        requests,
        lambda: client.post(f"/imports/{batch.pk}/confirm/"),
    )
    batch.refresh_from_db()
    assert batch.status == "queued", (batch.status, batch.failure)
    timed("import", worker, lambda: tasks.run_import(batch.pk))
    batch.refresh_from_db()
    assert batch.status == "done", batch.failure

    timed("undo page (GET, counts what undo reverts)", requests,
          lambda: client.get(f"/imports/{batch.pk}/undo/"))  # fmt: skip
    timed("undo (queues the undo)", requests, lambda: client.post(f"/imports/{batch.pk}/undo/"))
    timed("progress partial while undoing", requests, lambda: client.get(batch_url(batch)))
    timed("undo", worker, lambda: tasks.undo_import(batch.pk, "page"))
    batch.refresh_from_db()
    assert batch.status == "undone", batch.undo_report
    assert Contact.objects.count() == seeded

    timed("export page (GET, counts)", requests, lambda: client.get("/contacts/export/"))
    timed("export (queues it)", requests, lambda: client.post("/contacts/export/"))
    export = ContactExport.objects.get()
    timed("export of every contact", worker, lambda: tasks.export_contacts(export.pk))
    export.refresh_from_db()
    assert export.status == "done", export.failure
    timed(
        "download the export",
        requests,
        lambda: client.post(f"/contacts/exports/{export.pk}/download/"),
    )
    print(f"Export: {export.rows:,} contacts, {len(export.data) / 2**20:.1f} MB")

    print(f"\nRequests at {seeded:,} contacts with a {ROWS:,}-row file; budget {BUDGET_S:.0f} s\n")
    print("| request | seconds | budget |")
    print("|---|---:|---|")
    over = False
    for label, seconds in requests:
        ok = seconds <= BUDGET_S
        over |= not ok
        print(f"| {label} | {seconds:.2f} | {'OK' if ok else 'OVER'} |")
    print("\n| worker task (not a request) | seconds |")
    print("|---|---:|")
    for label, seconds in worker:
        print(f"| {label} | {seconds:.1f} |")
    print(f"\nslowest request: {max(s for _, s in requests):.2f} s, median "
          f"{statistics.median(s for _, s in requests):.2f} s")  # fmt: skip
    return not over


def batch_url(batch) -> str:
    return f"/imports/{batch.pk}/progress/"


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
