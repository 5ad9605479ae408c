"""The import pipeline as every interface uses it: plan (preview), apply, undo, identity."""

import datetime
from pathlib import Path

import pytest

from contacts import services
from contacts.linkedin_csv import RejectedFile
from contacts.models import (
    Connection,
    Contact,
    ImportBatch,
    ImportChange,
    Network,
    Note,
    Suppression,
    Tag,
)
from tests.contacts.factories import ContactFactory, NoteFactory, UserFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "linkedin"
HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"


@pytest.fixture
def user():
    return UserFactory(username="ann", is_staff=True, first_name="Ann", last_name="Lee")


@pytest.fixture
def network(user):
    return Network.objects.default_for(user)


def run(data: bytes | str, user, network, **kwargs) -> ImportBatch:
    if isinstance(data, str):
        data = data.encode()
    return services.import_file(
        data=data, file_name=kwargs.pop("file_name", "c.csv"), user=user, network=network, **kwargs
    )


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def snapshot():
    return sorted(
        Contact.objects.values_list(
            "first_name", "last_name", "profile_url", "email", "company", "position"
        )
    )


def test_it_imports_the_current_export(user, network):
    batch = run(fixture("current.csv"), user, network)
    assert (batch.status, batch.rows, batch.created, batch.updated) == ("done", 6, 6, 0)
    bastian = Contact.objects.get(last_name="Ollerenshaw")
    assert bastian.profile_url == "https://www.linkedin.com/in/bastian-ollerenshaw"
    assert bastian.email == "bastian.o@example.com"
    assert bastian.position == "Sales Director, DACH"
    assert bastian.created_by_batch == batch
    connection = bastian.connections.get()
    assert connection.network == network and connection.connected_on == datetime.date(2025, 12, 28)
    assert connection.batch == batch
    assert Contact.objects.get(last_name="Marchetti").email == "elowen.marchetti@example.org"


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("2022_no_url.csv", 5),
        ("2019_no_preamble.csv", None),
        ("2018_us_dates.csv", None),
        ("2018_extra_columns.csv", None),
        ("outlook_2012.csv", None),
        ("excel_bom_crlf.csv", None),
        ("excel_blank_notes.csv", None),
        ("excel_padded_notes.csv", None),
        ("excel_semicolon_eu_dates.csv", None),
        ("excel_utf16_tab.csv", None),
        ("mixed_encoding.csv", None),
        ("deleted_columns.csv", None),
        ("unicode_names.csv", None),
        ("ghost_rows.csv", None),
        ("bad_emails.csv", None),
        ("bad_urls_dates.csv", None),
        ("duplicates.csv", None),
        ("formula_escaped.csv", None),
        ("unclosed_quote.csv", None),
    ],
)
def test_it_imports_every_format_and_a_reimport_changes_nothing(user, network, name, rows):
    batch = run(fixture(name), user, network)
    assert batch.status == "done"
    assert batch.created == Contact.objects.count() > 0
    assert Connection.objects.count() == batch.created
    if rows is not None:
        assert batch.rows == rows
    again = run(fixture(name), user, network)
    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged == batch.created
    assert Contact.objects.count() == batch.created


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.csv", "empty"),
        ("headerless.csv", "First Name"),
        ("no_name_no_url.csv", "no name or profile URL column"),
        ("not_a_csv.xlsx.csv", "Excel"),
        ("linkedin_export.zip.csv", "ZIP"),
        ("image.png.csv", "PNG"),
        ("doc.pdf.csv", "PDF"),
        ("header_only.csv", "no connections"),
        ("preamble_only.csv", "."),
    ],
)
def test_it_rejects_unusable_files_and_changes_nothing(user, network, name, reason):
    ContactFactory(first_name="Existing")
    before = snapshot()
    with pytest.raises(RejectedFile, match=reason):
        run(fixture(name), user, network)
    assert snapshot() == before
    assert not ImportBatch.objects.exists()


def test_it_rejects_a_file_over_the_size_limit(user, network, settings):
    settings.IMPORT_MAX_BYTES = 1024
    with pytest.raises(RejectedFile, match="over the .* MB limit"):
        run(HEADER + "A,B,,,,,\n" * 200, user, network)
    assert not Contact.objects.exists()


def test_it_updates_changed_fields_and_records_the_previous_values(user, network):
    first = run(fixture("current.csv"), user, network)
    changed = fixture("current.csv").replace(b"Head of Data", b"Chief Data Officer")
    batch = run(changed, user, network)
    assert (batch.created, batch.updated, batch.unchanged) == (0, 1, 5)
    aurelia = Contact.objects.get(first_name="Aurelia")
    assert aurelia.position == "Chief Data Officer"
    assert aurelia.created_by_batch == first  # it still belongs to the batch that created it
    change = ImportChange.objects.get(batch=batch)
    assert change.contact == aurelia
    assert change.fields == {"position": ["Head of Data", "Chief Data Officer"]}
    assert list(Contact.objects.search("chief data")) == [aurelia]
    assert ImportChange.objects.count() == 1  # lean: nothing recorded for unchanged contacts


def test_keep_existing_only_fills_blanks(user, network):
    run(HEADER + "Ann,Lee,https://www.linkedin.com/in/ann-lee,,,CTO,05 Jan 2026", user, network)
    batch = run(
        HEADER + "Ann,Lee,https://www.linkedin.com/in/ann-lee,a@x.org,Acme,CEO,05 Jan 2026",
        user,
        network,
        keep_existing=True,
    )
    ann = Contact.objects.get()
    assert (ann.position, ann.company, ann.email) == ("CTO", "Acme", "a@x.org")
    assert batch.updated == 1


def test_a_blank_cell_never_erases_what_is_known(user, network):
    run(HEADER + "Ann,Lee,https://www.linkedin.com/in/ann-lee,a@x.org,Acme,CTO,", user, network)
    batch = run(HEADER + "Ann,Lee,https://www.linkedin.com/in/ann-lee,,,,", user, network)
    assert batch.unchanged == 1
    assert Contact.objects.get().email == "a@x.org"


def test_a_person_in_two_members_exports_is_one_contact_with_two_connections(user, network):
    bob = UserFactory(username="bob", is_staff=True)
    run(fixture("current.csv"), user, network)
    batch = run(fixture("current.csv"), bob, Network.objects.default_for(bob))
    assert (batch.created, batch.unchanged) == (0, 6)
    assert Contact.objects.count() == 6
    assert Connection.objects.count() == 12


def test_identity_cascades_from_an_old_export_without_urls_to_a_new_one(user, network):
    run(
        HEADER.replace("URL,", "")
        + "Gwen,Harcastle,,Northgate,Partner,02 Jun 2022\n"
        + "Hamish,Ingleby,hamish@ingleby.example,Ingleby Ltd,Owner,30 May 2022",
        user,
        network,
    )
    batch = run(
        HEADER
        + "GWEN,harcastle,https://www.linkedin.com/in/gwen-h,,Northgate,Senior Partner,\n"
        + "Hamish,Ingleby,https://www.linkedin.com/in/hamish,HAMISH@ingleby.example,Other,Owner,",
        user,
        network,
    )
    assert (batch.created, batch.updated) == (0, 2)
    gwen = Contact.objects.get(last_name__iexact="harcastle")
    assert gwen.profile_url == "https://www.linkedin.com/in/gwen-h"
    assert gwen.position == "Senior Partner"
    hamish = Contact.objects.get(last_name="Ingleby")
    assert hamish.profile_url == "https://www.linkedin.com/in/hamish"


def test_a_url_row_does_not_join_a_contact_that_has_another_url(user, network):
    run(HEADER + "Ann,Lee,https://www.linkedin.com/in/ann-lee-1,,Acme,,", user, network)
    batch = run(HEADER + "Ann,Lee,https://www.linkedin.com/in/ann-lee-2,,Acme,,", user, network)
    assert batch.created == 1
    assert Contact.objects.count() == 2


def test_ambiguous_matches_are_not_guessed_but_flagged(user, network):
    twins = [ContactFactory(first_name="Sam", last_name="Poe", company="Acme", profile_url=None)]
    twins.append(
        ContactFactory(first_name="Sam", last_name="Poe", company="Acme", profile_url=None)
    )
    batch = run(HEADER + "Sam,Poe,https://www.linkedin.com/in/sam-poe,,Acme,,", user, network)
    assert batch.created == 1
    new = Contact.objects.get(profile_url="https://www.linkedin.com/in/sam-poe")
    assert batch.possible_duplicates == [
        {"line": 2, "candidates": sorted(t.pk for t in twins), "contact": new.pk}
    ]
    groups = services.possible_duplicate_groups()
    assert sorted(t.pk for t in twins) + [new.pk] in [sorted(g) for g in groups]


def test_tags_are_applied_and_undo_removes_only_the_links_it_added(user, network):
    vip = Tag.objects.create(name="VIP")
    known = ContactFactory(profile_url="https://www.linkedin.com/in/fitz-orme", tags=[vip])
    conf = Tag.objects.create(name="Conference")
    batch = run(fixture("current.csv"), user, network, tags=[vip, conf])
    assert conf.contacts.count() == 6 and vip.contacts.count() == 6
    services.import_batch_undo(batch=batch, actor=batch.uploaded_by)
    assert list(Contact.objects.all()) == [known]
    assert list(known.tags.all()) == [vip]


def test_it_bumps_updated_at_of_a_contact_that_only_gained_or_lost_a_tag(user, network):
    """updated_at is the version an open edit form was loaded at: an edit form opened before
    the import must see the new tag as a change rather than save it away."""
    known = ContactFactory(profile_url="https://www.linkedin.com/in/fitz-orme")
    run(fixture("current.csv"), user, network)  # the file holds Fitz's values: no field changes
    known.refresh_from_db()
    loaded_at = known.updated_at
    batch = run(fixture("current.csv"), user, network, tags=[Tag.objects.create(name="Conf")])
    known.refresh_from_db()
    assert known.updated_at > loaded_at
    tagged_at = known.updated_at
    services.import_batch_undo(batch=batch, actor=batch.uploaded_by)
    known.refresh_from_db()
    assert not known.tags.exists()
    assert known.updated_at > tagged_at


def test_undo_is_exact(user, network):
    first = run(fixture("current.csv"), user, network)
    before = snapshot()
    before_connections = Connection.objects.count()
    changed = fixture("current.csv").replace(b"Pellucid Labs", b"Pellucid AG")
    extra = changed + b"\nNew,Person,https://www.linkedin.com/in/new-person,,,,05 Jan 2026"
    bob = UserFactory(username="bob", is_staff=True)
    batch = run(extra, bob, Network.objects.default_for(bob))
    assert (batch.created, batch.updated, batch.unchanged) == (1, 1, 5)
    report = services.import_batch_undo(batch=batch, actor=batch.uploaded_by)
    assert report == {"deleted": 1, "kept": [], "restored": 1, "conflicts": []}
    assert snapshot() == before
    assert Connection.objects.count() == before_connections
    batch.refresh_from_db()
    assert batch.status == "undone"
    assert first.status == "done"


def test_undo_keeps_created_contacts_that_have_notes_since(user, network):
    batch = run(fixture("current.csv"), user, network)
    noted = Contact.objects.get(first_name="Desmond")
    NoteFactory(contact=noted, body="Call back in May")
    report = services.import_batch_undo(batch=batch, actor=batch.uploaded_by)
    assert report["kept"] == [noted.pk] and report["deleted"] == 5
    assert list(Contact.objects.all()) == [noted]
    assert Note.objects.count() == 1


def test_undo_keeps_a_value_edited_after_the_import(user, network):
    run(fixture("current.csv"), user, network)
    batch = run(fixture("current.csv").replace(b"Apprentice", b"Journeyman"), user, network)
    fitz = Contact.objects.get(first_name="Fitzgerald")
    fitz.position = "Master"
    fitz.save()
    report = services.import_batch_undo(batch=batch, actor=batch.uploaded_by)
    assert report["conflicts"] == [{"contact": fitz.pk, "field": "position"}]
    fitz.refresh_from_db()
    assert fitz.position == "Master"


def test_undo_refuses_twice(user, network):
    batch = run(fixture("current.csv"), user, network)
    services.import_batch_undo(batch=batch, actor=batch.uploaded_by)
    with pytest.raises(ValueError, match="cannot be undone"):
        services.import_batch_undo(batch=batch, actor=batch.uploaded_by)


def test_the_preview_changes_nothing_and_confirm_applies_its_plan(user, network):
    ContactFactory(
        first_name="Fitzgerald",
        last_name="Orme",
        company="Tallowby & Sons",
        profile_url="https://www.linkedin.com/in/fitz-orme",
        position="Old",
    )
    before = snapshot()
    batch = services.import_preview(
        data=fixture("current.csv"), file_name="c.csv", user=user, network=network
    )
    assert snapshot() == before
    assert (batch.status, batch.created, batch.updated) == ("pending", 5, 1)
    assert batch.plan["updates"][0]["changes"] == {"position": ["Old", "Apprentice"]}
    services.import_confirm(batch=batch, actor=user)
    batch.refresh_from_db()
    assert batch.status == "done" and batch.plan is None
    assert Contact.objects.count() == 6


def test_a_preview_stored_before_an_upgrade_still_confirms(user, network):
    """Plans stored while the engine ran on django-import-export carry an "invalid" list."""
    batch = services.import_preview(
        data=fixture("current.csv"), file_name="c.csv", user=user, network=network
    )
    batch.plan = {**batch.plan, "invalid": []}
    batch.save(update_fields=["plan"])
    services.import_confirm(batch=batch, actor=user)
    batch.refresh_from_db()
    assert (batch.status, batch.created) == ("done", 6)
    assert Contact.objects.count() == 6


def test_confirm_is_refused_when_contacts_changed_since_the_preview(user, network):
    contact = ContactFactory(profile_url="https://www.linkedin.com/in/fitz-orme", position="Old")
    batch = services.import_preview(
        data=fixture("current.csv"), file_name="c.csv", user=user, network=network
    )
    contact.position = "Edited meanwhile"
    contact.save()
    with pytest.raises(services.StalePreview):
        services.import_confirm(batch=batch, actor=user)
    assert Contact.objects.count() == 1
    batch.refresh_from_db()
    assert batch.status == "failed" and "Upload the file again" in batch.failure


def test_confirm_twice_imports_once(user, network):
    batch = services.import_preview(
        data=fixture("current.csv"), file_name="c.csv", user=user, network=network
    )
    services.import_confirm(batch=batch, actor=user)
    with pytest.raises(ValueError, match="confirmed already"):
        services.import_confirm(batch=batch, actor=user)
    assert Contact.objects.count() == 6


def test_large_imports_are_queued_for_the_worker(
    user, network, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_ASYNC_ROWS = 3
    batch = services.import_preview(
        data=fixture("current.csv"), file_name="c.csv", user=user, network=network
    )
    with django_capture_on_commit_callbacks() as callbacks:
        services.import_confirm(batch=batch, actor=user)
    batch.refresh_from_db()
    assert batch.status == "queued" and not Contact.objects.exists()
    assert len(callbacks) == 1


def test_the_same_file_imported_twice_is_noticed(user, network):
    first = run(fixture("current.csv"), user, network)
    second = run(fixture("current.csv"), user, network)
    assert list(second.same_file_batches()) == [first]
    assert first.sha256 == second.sha256 and len(first.sha256) == 64


def test_dropped_and_shortened_values_are_listed_with_line_and_reason(user, network):
    long_name = "x" * 250
    batch = run(
        HEADER
        + f"{long_name},Lee,https://www.linkedin.com/in/too-long,,,,\n"
        + "Ok,Person,https://www.linkedin.com/in/ok,urn:li:member:123,,,",
        user,
        network,
    )
    assert batch.invalid == 0 and batch.created == 2
    messages = {error["line"]: error["message"] for error in batch.errors}
    assert "cut to 200 characters" in messages[2]
    assert "urn:li:member:123" in messages[3]
    assert Contact.objects.get(first_name="Ok").email == ""
    assert len(Contact.objects.get(last_name="Lee").first_name) == 200


def test_rows_of_erased_people_are_left_out_and_counted(user, network):
    Suppression.add("url", "https://uk.linkedin.com/in/Fitz-Orme/")  # any spelling of the URL
    Suppression.add("email", "Someone@Example.org")
    data = fixture("current.csv") + b"\nSome,One,,someone@example.org,,,05 Jan 2026"
    batch = run(data, user, network)
    assert (batch.created, batch.suppressed) == (5, 2)
    assert not Contact.objects.filter(profile_url__endswith="fitz-orme").exists()
    assert not Contact.objects.filter(email="someone@example.org").exists()
    assert Suppression.objects.count() == 2  # nothing but the hashes holds them
    assert not Suppression.objects.filter(digest__icontains="fitz").exists()


def test_suppressions_survive_a_rotated_secret_key(user, network, settings):
    Suppression.add("url", "https://www.linkedin.com/in/fitz-orme")
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert run(fixture("current.csv"), user, network).suppressed == 1
    settings.SECRET_KEY_FALLBACKS = []
    assert run(fixture("current.csv"), user, network).suppressed == 0


def test_undo_keeps_contacts_another_members_import_found_since(user, network):
    """Ann imports six people; Bob's export holds them too. Ann's undo must not take them
    from Bob's network (nor Bob's own undo records)."""
    bob = UserFactory(username="bob", is_staff=True)
    anns = run(fixture("current.csv"), user, network)
    bobs_network = Network.objects.default_for(bob)
    run(fixture("current.csv"), bob, bobs_network)
    report = services.import_batch_undo(batch=anns, actor=user)
    assert report["deleted"] == 0 and len(report["kept"]) == 6
    assert Contact.objects.count() == 6
    assert Connection.objects.filter(network=bobs_network).count() == 6
    assert not Connection.objects.filter(network=network).exists()
