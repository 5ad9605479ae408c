"""The audit log page (/audit/): Admins only, filtered, paginated, newest first, linking to the
objects that still have a page; its nav link only for those who may open it."""

import datetime

import pytest
from django.test import Client

from linkedin_crm import audit
from linkedin_crm.models import AuditEvent
from tests.contacts.factories import ContactFactory, ImportBatchFactory, UserFactory, with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return with_role(UserFactory(username="ada", is_staff=True), "Admin")


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def at(day: int) -> datetime.datetime:
    return datetime.datetime(2026, 5, day, 12, tzinfo=datetime.UTC)


@pytest.fixture
def events(admin_user, staff_user):
    contact = ContactFactory(first_name="Zelda", last_name="Quist")
    batch = ImportBatchFactory(file_name="bob.csv")
    return {
        "export": audit.record(
            audit.Action.EXPORT, actor=admin_user, counts={"contacts": 40}, at=at(1)
        ),
        "merge": audit.record(
            audit.Action.MERGE, actor=admin_user, obj=contact, counts={"notes": 2}, at=at(3)
        ),
        "import": audit.record(
            audit.Action.IMPORT,
            actor=staff_user,
            obj=batch,
            via=audit.Via.COMMAND,
            counts={"created": 6},
            at=at(5),
        ),
    }


def test_it_requires_staff(anon_client, non_staff_client):
    assert anon_client.get("/audit/").status_code == 302
    assert non_staff_client.get("/audit/").status_code == 403


def test_it_refuses_members_and_managers(staff_client, staff_user, events):
    response = staff_client.get("/audit/")
    assert response.status_code == 403
    assert "The audit log is for Admins." in response.content.decode()
    manager = with_role(staff_user, "Manager")
    client = Client()
    client.force_login(manager)
    assert client.get("/audit/").status_code == 403


def test_it_shows_the_nav_link_only_to_those_who_may_open_it(staff_client, admin_client):
    assert 'href="/audit/"' not in staff_client.get("/contacts/").content.decode()
    assert 'href="/audit/"' in admin_client.get("/contacts/").content.decode()


def test_it_lists_events_newest_first_with_links_and_no_contact_names(admin_client, events):
    response = admin_client.get("/audit/")
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [
        events["import"],
        events["merge"],
        events["export"],
    ]
    page = response.content.decode()
    contact_id = events["merge"].object_id
    assert f'<a href="/contacts/{contact_id}/">contact #{contact_id}</a>' in page
    assert f'href="/imports/{events["import"].object_id}/"' in page
    assert "Zelda" not in page and "Quist" not in page
    assert "created: 6" in page and "contacts: 40" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "merge"}, ["merge"]),
        ({"actor": "alice"}, ["import"]),
        ({"via": "command"}, ["import"]),
        ({"object_type": "contact"}, ["merge"]),
        ({"date_from": "2026-05-02"}, ["import", "merge"]),
        ({"date_to": "2026-05-03"}, ["merge", "export"]),
        ({"date_from": "2026-05-02", "date_to": "2026-05-04", "actor": "ada"}, ["merge"]),
    ],
)
def test_it_filters(admin_client, events, query, expected):
    response = admin_client.get("/audit/", query)
    assert list(response.context["page"].object_list) == [events[name] for name in expected]


def test_it_does_not_link_to_a_contact_it_records_as_gone(admin_client, admin_user):
    contact = ContactFactory()
    audit.record(audit.Action.ERASE, actor=admin_user, obj=contact)
    page = admin_client.get("/audit/").content.decode()
    assert f"contact #{contact.pk}" in page and f'href="/contacts/{contact.pk}/"' not in page


def test_it_filters_by_object(admin_client, events):
    query = {"object_type": "contact", "object_id": events["merge"].object_id}
    response = admin_client.get("/audit/", query)
    assert list(response.context["page"].object_list) == [events["merge"]]


def test_it_offers_the_actors_and_object_types_it_holds(admin_client, events):
    form = admin_client.get("/audit/").context["filter"].form
    assert [value for value, _ in form.fields["actor"].choices] == ["", "ada", "alice"]
    assert [label for _, label in form.fields["object_type"].choices] == [
        "Any",
        "Contact",
        "Import batch",
    ]


@pytest.mark.parametrize(
    "query", [{"action": "explode"}, {"date_from": "yesterday"}, {"actor": "nobody"}]
)
def test_it_shows_nothing_for_an_invalid_filter_and_says_why(admin_client, events, query):
    response = admin_client.get("/audit/", query)
    assert response.status_code == 200
    assert not response.context["page"].object_list
    assert "Some filter values are not valid" in response.content.decode()


def test_it_pages_fifty_at_a_time(admin_client, admin_user):
    for day in range(1, 4):
        for _ in range(20):
            audit.record(audit.Action.EXPORT, actor=admin_user, at=at(day))
    first = admin_client.get("/audit/").context["page"]
    assert len(first.object_list) == 50 and first.paginator.num_pages == 2
    assert {event.at for event in first.object_list[:20]} == {at(3)}
    second = admin_client.get("/audit/", {"page": 2}).context["page"]
    assert len(second.object_list) == 10 and {e.at for e in second.object_list} == {at(1)}
    assert AuditEvent.objects.count() == 60
