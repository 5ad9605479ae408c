"""django-q2 entry points: take ids, re-fetch, call a service."""

from contacts import services


def run_import(batch_id: int) -> None:
    services.import_run(batch_id=batch_id)
