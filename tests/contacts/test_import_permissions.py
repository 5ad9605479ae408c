"""Who may import into which network, and undo its imports: a member into their own network,
a Manager into anyone's. Pages, the admin, services and commands obey the same rule, and every
import and undo is in the audit log."""

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from contacts import services
from contacts.models import Contact, ImportBatch, Network, Tag
from linkedin_crm.models import AuditEvent
from tests.contacts.factories import UserFactory
from tests.contacts.worker import run_queued_tasks

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"
DATA = (FIXTURES / "current.csv").read_bytes()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def bobs_network(other_staff_user):
    return Network.objects.default_for(other_staff_user)


@pytest.fixture
def bobs_pending_batch(other_staff_user, bobs_network):
    return services.import_preview(
        data=DATA, file_name="bob.csv", user=other_staff_user, network=bobs_network
    )


@pytest.fixture
def bobs_done_batch(other_staff_user, bobs_network):
    return services.import_file(
        data=DATA, file_name="bob.csv", user=other_staff_user, network=bobs_network
    )


def upload(client, network=""):
    payload = {"file": SimpleUploadedFile("Connections.csv", DATA, "text/csv")}
    response = client.post("/imports/", {**payload, "network": network})
    run_queued_tasks()
    return response


# --- the upload page -----------------------------------------------------------------------


def test_it_creates_no_network_when_the_imports_page_is_only_looked_at(staff_client, staff_user):
    response = staff_client.get("/imports/")
    assert response.status_code == 200
    assert not Network.objects.exists()
    assert "My own network (created by this import)" in response.content.decode()


def test_it_creates_the_own_network_with_the_first_upload(staff_client, staff_user):
    response = upload(staff_client)
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/imports/{batch.pk}/"
    assert batch.network == Network.objects.get(owner=staff_user, is_default=True)


def test_it_offers_a_member_only_their_own_network(staff_client, staff_user, bobs_network):
    mine = Network.objects.default_for(staff_user)
    form = staff_client.get("/imports/").context["form"]
    assert list(form.fields["network"].queryset) == [mine]
    assert form.initial["network"] == mine.pk


def test_it_refuses_a_member_an_upload_into_another_members_network(staff_client, bobs_network):
    response = upload(staff_client, network=bobs_network.pk)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_it_lets_a_manager_upload_into_any_network(manager, bobs_network):
    client = signed_in(manager)
    form = client.get("/imports/").context["form"]
    assert bobs_network in form.fields["network"].queryset
    upload(client, network=bobs_network.pk)
    assert ImportBatch.objects.get().network == bobs_network


def test_the_service_refuses_a_member_a_preview_or_import_into_another_network(
    staff_user, bobs_network
):
    for act in (services.import_preview, services.import_file):
        with pytest.raises(PermissionDenied, match="your own network only"):
            act(data=DATA, file_name="c.csv", user=staff_user, network=bobs_network)
    assert not ImportBatch.objects.exists() and not Contact.objects.exists()
    assert not AuditEvent.objects.exists()


# --- confirm, cancel and undo --------------------------------------------------------------


def test_it_refuses_a_member_the_confirmation_of_another_members_import(
    staff_client, bobs_pending_batch
):
    page = staff_client.get(f"/imports/{bobs_pending_batch.pk}/").content.decode()
    assert "Confirm import" not in page and "Only the owner of Bob&#x27;s network" in page
    response = staff_client.post(f"/imports/{bobs_pending_batch.pk}/confirm/")
    assert response.status_code == 403
    assert "your own network only" in response.content.decode()
    bobs_pending_batch.refresh_from_db()
    assert bobs_pending_batch.status == "pending" and not Contact.objects.exists()
    assert staff_client.post(f"/imports/{bobs_pending_batch.pk}/cancel/").status_code == 403
    assert ImportBatch.objects.filter(pk=bobs_pending_batch.pk).exists()
    assert not AuditEvent.objects.exists()


def test_a_manager_confirms_another_members_import_and_it_is_audited(manager, bobs_pending_batch):
    client = signed_in(manager)
    assert "Confirm import" in client.get(f"/imports/{bobs_pending_batch.pk}/").content.decode()
    client.post(f"/imports/{bobs_pending_batch.pk}/confirm/")
    assert Contact.objects.count() == 6
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.via) == ("import", manager, "page")
    assert event.counts == {"created": 6, "updated": 0, "unchanged": 0, "suppressed": 0}
    assert (event.object_type, event.object_id) == ("importbatch", str(bobs_pending_batch.pk))
    assert event.detail == {"network": bobs_pending_batch.network_id}


def test_it_refuses_a_member_the_undo_of_another_members_import(staff_client, bobs_done_batch):
    page = staff_client.get(f"/imports/{bobs_done_batch.pk}/").content.decode()
    assert "Undo import" not in page
    assert staff_client.get(f"/imports/{bobs_done_batch.pk}/undo/").status_code == 403
    assert staff_client.post(f"/imports/{bobs_done_batch.pk}/undo/").status_code == 403
    bobs_done_batch.refresh_from_db()
    assert bobs_done_batch.status == "done" and Contact.objects.count() == 6
    assert not AuditEvent.objects.filter(action="import_undo").exists()


def test_a_manager_undoes_another_members_import_and_it_is_audited(manager, bobs_done_batch):
    signed_in(manager).post(f"/imports/{bobs_done_batch.pk}/undo/")
    assert Contact.objects.count() == 6  # the worker undoes it
    run_queued_tasks()
    assert not Contact.objects.exists()
    event = AuditEvent.objects.get(action="import_undo")
    assert (event.actor, event.via, event.object_id) == (manager, "page", str(bobs_done_batch.pk))
    assert event.counts == {"deleted": 6, "restored": 0, "kept": 0, "conflicts": 0}


def test_a_member_confirms_and_undoes_their_own_import(staff_client, staff_user):
    upload(staff_client)
    batch = ImportBatch.objects.get()
    staff_client.post(f"/imports/{batch.pk}/confirm/")
    staff_client.post(f"/imports/{batch.pk}/undo/")
    run_queued_tasks()
    actions = [(e.action, e.actor) for e in AuditEvent.objects.order_by("id")]
    assert actions == [("import", staff_user), ("import_undo", staff_user)]


# --- commands and the admin ----------------------------------------------------------------


def test_the_import_command_is_audited_under_the_networks_owner(other_staff_user):
    call_command("import_contacts", str(FIXTURES / "current.csv"), "--owner", "bob")
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.via) == ("import", other_staff_user, "command")
    assert event.counts == {"created": 6, "updated": 0, "unchanged": 0, "suppressed": 0}


def test_the_import_command_refuses_a_member_acting_for_another_network(
    staff_user, other_staff_user
):
    args = [str(FIXTURES / "current.csv"), "--owner", "bob", "--as", "alice", "--tag", "X"]
    with pytest.raises(CommandError, match="alice: You may import into your own network only"):
        call_command("import_contacts", *args)
    assert not Network.objects.exists()  # not even bob's network was created
    assert not ImportBatch.objects.exists() and not Tag.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_import_command_lets_a_manager_act_for_another_network(manager, bobs_network):
    call_command("import_contacts", str(FIXTURES / "current.csv"), "--owner", "bob", "--as", "mia")
    batch = ImportBatch.objects.get()
    assert (batch.network, batch.uploaded_by) == (bobs_network, manager)
    assert AuditEvent.objects.get().actor == manager


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Say who is doing this with --as USERNAME"),
        (["--as", "nobody"], "No active staff user 'nobody'"),
        (["--as", "alice"], "alice: You may import into your own network only"),
    ],
)
def test_the_undo_command_needs_a_permitted_acting_user(staff_user, bobs_done_batch, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("undo_import", str(bobs_done_batch.pk), *args)
    bobs_done_batch.refresh_from_db()
    assert bobs_done_batch.status == "done" and Contact.objects.count() == 6
    assert not AuditEvent.objects.filter(action="import_undo").exists()


def test_the_undo_command_is_audited(manager, bobs_done_batch, capsys):
    call_command("undo_import", str(bobs_done_batch.pk), "--as", "mia")
    assert "6 deleted" in capsys.readouterr().out
    event = AuditEvent.objects.get(action="import_undo")
    assert (event.actor, event.via, event.counts["deleted"]) == (manager, "command", 6)


def test_the_admin_import_page_creates_no_network_and_its_import_is_audited(client):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    assert client.get("/admin/contacts/contact/import/").status_code == 200
    assert not Network.objects.exists()
    response = client.post(
        "/admin/contacts/contact/import/",
        {"import_file": SimpleUploadedFile("Connections.csv", DATA), "format": "0"},
    )
    form = response.context["confirm_form"]
    client.post("/admin/contacts/contact/process_import/", {**form.initial, "resource": "0"})
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.via) == ("import", root, "admin")
    assert event.counts == {"created": 6, "updated": 0, "unchanged": 0, "suppressed": 0}
