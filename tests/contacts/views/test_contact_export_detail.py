"""An export's page (/contacts/exports/<pk>/), where its requester waits for the worker and
downloads the file."""

import pytest
from django.contrib.auth.models import Permission

from contacts.models import ContactExport
from linkedin_crm.models import AuditEvent
from tests.contacts.export_csv import rows
from tests.contacts.factories import ContactFactory, UserFactory
from tests.contacts.worker import run_queued_tasks

pytestmark = pytest.mark.django_db


def test_an_export_is_its_requesters_alone_and_the_download_is_a_post(exporter, staff_user):
    ContactFactory(company="Acme")
    exporter.post("/contacts/export/", {"query": "company=Acme"})
    export = ContactExport.objects.get()
    page = exporter.get(f"/contacts/exports/{export.pk}/").content.decode()
    assert "Waiting for the worker" in page and "Download CSV" not in page
    response = exporter.get(f"/contacts/exports/{export.pk}/progress/", HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in response
    other = UserFactory(username="other-exporter", is_staff=True)
    other.user_permissions.add(Permission.objects.get(codename="export_contact"))
    exporter.force_login(other)
    assert exporter.get(f"/contacts/exports/{export.pk}/").status_code == 404
    assert exporter.post(f"/contacts/exports/{export.pk}/download/").status_code == 404
    exporter.force_login(staff_user)  # no export permission
    assert exporter.get(f"/contacts/exports/{export.pk}/").status_code == 403
    exporter.force_login(export.requested_by)
    response = exporter.post(f"/contacts/exports/{export.pk}/download/", follow=True)
    assert "This export has no file to download." in response.content.decode()
    run_queued_tasks()
    response = exporter.get(f"/contacts/exports/{export.pk}/progress/", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
    assert exporter.get(f"/contacts/exports/{export.pk}/download/").status_code == 405
    response = exporter.post(f"/contacts/exports/{export.pk}/download/")
    assert len(rows(response.content)) == 2
    assert AuditEvent.objects.get().counts == {"contacts": 1}


def test_an_export_over_the_size_limit_fails_with_the_reason_and_is_not_recorded(
    exporter, settings
):
    settings.EXPORT_MAX_BYTES = 1000
    ContactFactory.create_batch(20, company="Acme")
    exporter.post("/contacts/export/")
    run_queued_tasks()
    export = ContactExport.objects.get()
    assert export.status == "failed" and export.data is None
    page = exporter.get(f"/contacts/exports/{export.pk}/").content.decode()
    assert "would be larger than" in page and "Narrow the filter" in page
    assert not AuditEvent.objects.exists()
