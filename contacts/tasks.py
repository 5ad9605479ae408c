"""django-q2 entry points: take ids, re-fetch, call a service."""

import logging

from contacts import bulk_changes, services
from linkedin_crm.text import counted

logger = logging.getLogger(__name__)


def run_import(batch_id: int, via: str | None = None) -> None:
    # `via` is None for tasks queued before the worker checked previews: checked already.
    services.import_run(batch_id=batch_id, via=via)


def plan_import(batch_id: int) -> None:
    services.import_plan_run(batch_id=batch_id)


def undo_import(batch_id: int, via: str) -> None:
    services.import_undo_run(batch_id=batch_id, via=via)


def export_contacts(export_id: int) -> None:
    services.contacts_export_run(export_id=export_id)


def bulk_change(change_id: int) -> None:
    bulk_changes.contacts_bulk_run(change_id=change_id)


def clean_uploads() -> int:
    """Housekeeping: drop uploads, previews, exports and bulk changes left behind for a day."""
    return services.import_uploads_clean()


def recover_imports() -> int:
    """Housekeeping: mark failed the imports and exports whose worker died, so that imports can
    be undone, and queue again the bulk changes whose worker died, to resume."""
    return (
        services.import_batches_recover()
        + services.contact_exports_recover()
        + bulk_changes.contact_bulk_changes_recover()
    )


def recover_imports_at_worker_start(sender, **kwargs) -> None:
    """django-q2's post_spawn: a worker process that starts looks for imports and bulk changes
    whose worker died, so that a restart after a crash (or after django-q2 killed a task at its
    time limit) settles them at once instead of after the timeout."""
    recoveries = [
        (services.import_batches_recover, "Marked %s failed: their worker had stopped", "import"),
        (
            bulk_changes.contact_bulk_changes_recover,
            "Queued %s again: their worker had stopped",
            "bulk change",
        ),
    ]
    for recover, message, noun in recoveries:
        # Each on its own: one failing must not keep the other from running, nor stop the
        # worker from starting (django-q2 would spawn it again and again); the housekeeping
        # schedule tries again.
        try:
            found = recover()
        except Exception:
            logger.exception("Recovering stopped %ss at worker start failed", noun)
            continue
        if found:
            logger.warning(message, counted(found, noun, f"{noun}s"))
