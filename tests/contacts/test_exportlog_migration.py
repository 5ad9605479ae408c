"""The exports logged in contacts.ExportLog before the audit log existed are moved into it by a
migration, once, and can be moved back."""

import datetime

import pytest

from tests.contacts.factories import UserFactory
from tests.migration_steps import migrate, migrate_to_latest

BEFORE = [("contacts", "0004_import_heartbeat")]
AFTER = [("contacts", "0006_delete_exportlog")]


@pytest.mark.django_db(transaction=True)
def test_it_moves_export_logs_into_the_audit_log_and_back():
    exporter = UserFactory(username="exporter", is_staff=True)
    at = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)
    try:
        apps = migrate(BEFORE)
        ExportLog = apps.get_model("contacts", "ExportLog")
        ExportLog.objects.create(
            exported_by_id=exporter.pk,
            via="page",
            filter={"company": "Acme"},
            row_count=12,
            exported_at=at,
        )
        ExportLog.objects.create(exported_by=None, via="command", row_count=3, exported_at=at)

        apps = migrate(AFTER)
        AuditEvent = apps.get_model("linkedin_crm", "AuditEvent")
        events = list(AuditEvent.objects.order_by("pk"))
        assert [(e.action, e.at, e.via, e.counts) for e in events] == [
            ("export", at, "page", {"contacts": 12}),
            ("export", at, "command", {"contacts": 3}),
        ]
        assert (events[0].actor_id, events[0].actor_name) == (exporter.pk, "exporter")
        assert events[0].detail["filter"] == {"company": "Acme"}
        assert (events[1].actor_id, events[1].actor_name) == (None, "")

        # Back and forward again: the rows return to ExportLog, and are not copied twice.
        apps = migrate(BEFORE)
        restored = apps.get_model("contacts", "ExportLog").objects.order_by("pk")
        assert [(log.via, log.row_count, log.filter) for log in restored] == [
            ("page", 12, {"company": "Acme"}),
            ("command", 3, {}),
        ]
        apps = migrate(AFTER)
        assert apps.get_model("linkedin_crm", "AuditEvent").objects.count() == 2
    finally:
        migrate_to_latest()
