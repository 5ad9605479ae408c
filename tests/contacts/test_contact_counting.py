"""The contact list and the stage board count a filter's contacts with the filter written for
counting (ContactQuerySet.counting, ContactFilter.qs_to_count, ContactFilter.count), and the
board walks its columns with the filter written for probing (ContactQuerySet.probing): the
same contacts as the list shows, looked up another way. And on SQLite, the index a search's
count reads."""

import datetime

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from contacts.filters import ContactFilter
from contacts.models import Contact
from tests.contacts.factories import ConnectionFactory, ContactFactory, NetworkFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    vip, cold = TagFactory(name="VIP"), TagFactory(name="Cold")
    north, south = NetworkFactory(), NetworkFactory()
    people = [
        ContactFactory(last_name="Müller", tags=[vip], stage="lead"),
        ContactFactory(last_name="Mueller", tags=[vip, cold], stage="replied"),
        ContactFactory(last_name="Lee", tags=[cold], stage="replied"),
        ContactFactory(last_name="Ng", stage="customer"),
        ContactFactory(last_name="Muller", stage="lead"),
    ]
    ConnectionFactory(contact=people[0], network=north, connected_on=datetime.date(2021, 3, 1))
    ConnectionFactory(contact=people[1], network=south, connected_on=datetime.date(2024, 5, 1))
    ConnectionFactory(contact=people[2], network=north, connected_on=datetime.date(2025, 1, 9))
    ConnectionFactory(contact=people[2], network=south, connected_on=datetime.date(2025, 2, 9))
    return {"vip": vip, "cold": cold, "north": north, "south": south, "people": people}


def filters(team) -> list[str]:
    vip, cold, north, south = team["vip"].pk, team["cold"].pk, team["north"].pk, team["south"].pk
    return [
        "",
        f"tags={vip}",
        f"tags={vip}&tags={cold}",
        "q=muller",
        f"q=muller&tags={cold}",
        f"network={north}",
        f"network={north}&network={south}",
        "do_not_contact=false",
        f"network={north}&network={south}&tags={cold}",
        "connected_after=2024-01-01",
        "connected_before=2024-12-31&stage=lead",
        f"network={south}&connected_after=2025-01-01",
        "q=nobody-at-all",
    ]


def test_the_count_finds_the_contacts_the_page_shows_for_every_filter(team):
    for query in filters(team):
        filterset = ContactFilter(QueryDict(query) or None, queryset=Contact.objects.all())
        shown = set(filterset.qs.values_list("pk", flat=True))
        assert filterset.qs_to_count.count() == len(shown), query
        assert set(filterset.qs_to_count.values_list("pk", flat=True)) == shown, query
        assert filterset.count() == len(shown), query
        probing = ContactFilter(QueryDict(query) or None, queryset=Contact.objects.probing())
        assert list(probing.qs.values_list("pk", flat=True)) == list(
            filterset.qs.values_list("pk", flat=True)
        ), query


@pytest.mark.parametrize("alone", ["tags", "network"])
def test_tags_or_networks_alone_are_counted_on_their_links_once_per_contact(team, alone):
    """The contact in both networks, the one with both tags: each counted once, and no
    contact row read."""
    both = {
        "tags": [team["vip"].pk, team["cold"].pk],
        "network": [team["north"].pk, team["south"].pk],
    }
    query = QueryDict(mutable=True)
    query.setlist(alone, both[alone])
    query["sort"] = "name"
    filterset = ContactFilter(query, queryset=Contact.objects.all())
    with CaptureQueriesContext(connection) as queries:
        assert filterset.count() == 3
    assert 'contacts_contact"' not in " ".join(q["sql"] for q in queries).replace(
        "contacts_contact_tags", ""
    )


def test_a_filter_given_nothing_is_not_a_filter(team):
    filterset = ContactFilter(
        QueryDict("q=&company=&connected_after=&sort=name"), queryset=Contact.objects.all()
    )
    assert filterset.active_filters() == {}
    assert filterset.count() == len(team["people"])
    given = ContactFilter(QueryDict("do_not_contact=false"), queryset=Contact.objects.all())
    assert given.active_filters() == {"do_not_contact": False}


def test_the_count_looks_contacts_up_by_id_and_the_page_walks_its_order(team):
    """The point of the two forms: `pk + 0` keeps SQLite on the list's sort index for a page,
    a plain `pk IN` sends a count straight to the tagged contacts."""
    query = QueryDict(f"tags={team['vip'].pk}&network={team['north'].pk}")
    filterset = ContactFilter(query, queryset=Contact.objects.all())
    assert '"id" + 0' in str(filterset.qs.query).replace("%s", "0")
    assert " + " not in str(filterset.qs_to_count.query)


def test_the_board_probes_each_contact_for_its_links(team):
    """The board's form asks per contact walked (EXISTS), with no list of ids built first."""
    query = QueryDict(f"tags={team['vip'].pk}&network={team['north'].pk}")
    sql = str(ContactFilter(query, queryset=Contact.objects.probing()).qs.query)
    assert sql.count("EXISTS") == 2 and " IN (SELECT" not in sql and " + " not in sql


def test_a_filter_that_is_not_valid_counts_nobody(team):
    filterset = ContactFilter(QueryDict("tags=999999"), queryset=Contact.objects.all())
    assert not filterset.is_valid()
    assert filterset.qs_to_count.count() == 0
    assert filterset.count() == 0


def test_the_list_and_the_board_show_the_counts(staff_client, team):
    vip = team["vip"].pk
    response = staff_client.get("/contacts/", {"tags": vip, "q": "muller"})
    assert response.context["total"] == 2
    board = staff_client.get("/contacts/board/", {"tags": vip})
    counts = {column["stage"]: column["count"] for column in board.context["columns"]}
    assert (counts["lead"], counts["replied"], counts["customer"]) == (1, 1, 0)
    assert board.context["total"] == 2


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the index is SQLite's (0013)")
def test_on_sqlite_a_search_is_counted_from_the_stage_search_index():
    """A migration that rebuilds the contacts table (SQLite's way of altering one) drops
    indexes the models do not declare: this fails if 0013's index is gone."""
    ContactFactory(last_name="Müller")
    filterset = ContactFilter(QueryDict("q=muller"), queryset=Contact.objects.all())
    counting = filterset.qs_to_count.values_list("stage").order_by()
    sql, params = counting.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "COVERING INDEX contact_stage_search_idx" in plan
