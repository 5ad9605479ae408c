"""Exports were logged in contacts.ExportLog; the audit log (linkedin_crm.AuditEvent) records
them now, beside every other act. The existing rows are copied there before ExportLog goes."""

from django.db import migrations

VIAS = {"page", "admin", "command", "task", "api"}


def copy_to_audit_log(apps, schema_editor):
    ExportLog = apps.get_model("contacts", "ExportLog")
    AuditEvent = apps.get_model("linkedin_crm", "AuditEvent")
    # Running forward after a rollback must not copy a row twice.
    known = set(AuditEvent.objects.filter(action="export").values_list("at", "actor_id"))
    events = [
        AuditEvent(
            at=log.exported_at,
            actor_id=log.exported_by_id,
            actor_name=log.exported_by.username if log.exported_by_id else "",
            action="export",
            via=log.via if log.via in VIAS else "page",
            counts={"contacts": log.row_count},
            detail={"filter": log.filter, "export_log": log.pk},
        )
        for log in ExportLog.objects.select_related("exported_by").order_by("pk")
        if (log.exported_at, log.exported_by_id) not in known
    ]
    AuditEvent.objects.bulk_create(events, batch_size=500)


def copy_back(apps, schema_editor):
    ExportLog = apps.get_model("contacts", "ExportLog")
    AuditEvent = apps.get_model("linkedin_crm", "AuditEvent")
    ExportLog.objects.bulk_create(
        [
            ExportLog(
                exported_by_id=event.actor_id,
                via=event.via,
                filter=event.detail.get("filter", {}),
                row_count=event.counts.get("contacts", 0),
                exported_at=event.at,
            )
            for event in AuditEvent.objects.filter(action="export").order_by("pk")
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0004_import_heartbeat"),
        ("linkedin_crm", "0001_initial"),
    ]

    operations = [migrations.RunPython(copy_to_audit_log, copy_back)]
