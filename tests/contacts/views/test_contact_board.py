"""The stage board (/contacts/board/); its column pages and stage changes have files of their
own."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.board_views import COLUMN_PAGE
from contacts.models import Contact, Stage
from tests.contacts.factories import ConnectionFactory, ContactFactory, NetworkFactory, TagFactory
from tests.contacts.views.board_page import BOARD, COLUMN, ada, card_ids, column_counts


@pytest.fixture
def contact(db):
    """Instead of the contact page's contact of conftest.py: the board's messages name Ada."""
    return ada()


def test_it_sends_anonymous_visitors_to_login(anon_client):
    response = anon_client.get(BOARD)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_refuses_non_staff(non_staff_client, contact):
    assert non_staff_client.get(BOARD).status_code == 403
    response = non_staff_client.post(f"/contacts/board/{contact.pk}/stage/", {"stage": "meeting"})
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.stage == Stage.LEAD


def test_it_shows_a_column_per_stage_with_counts_and_cards(staff_client, staff_user):
    network = NetworkFactory(owner=staff_user)
    ada = ContactFactory(first_name="Ada", last_name="Lovelace", company="Engines Ltd")
    ConnectionFactory(contact=ada, network=network)
    ContactFactory.create_batch(2, stage=Stage.MEETING)
    response = staff_client.get(BOARD)
    html = response.content.decode()
    assert response.status_code == 200
    assert column_counts(html) == {
        "lead": 1,
        "contacted": 0,
        "replied": 0,
        "meeting": 2,
        "customer": 0,
        "not_interested": 0,
    }
    card = html[html.index(f'id="card-{ada.pk}"') :]
    card = card[: card.index("</li>")]
    assert "Ada Lovelace" in card and "Engines Ltd" in card
    assert "Alice Archer" in card  # the owner of the network Ada came in through
    changed = timezone.localtime(ada.updated_at)
    assert f'title="Last changed {changed:%-d %b %Y, %H:%M}">{changed:%-d %b}</time>' in card


def test_it_applies_the_contact_lists_filter(staff_client):
    vip = TagFactory(name="VIP")
    kept = ContactFactory(stage=Stage.REPLIED, tags=[vip])
    left_out = ContactFactory(stage=Stage.REPLIED)
    html = staff_client.get(BOARD, {"tags": vip.pk}).content.decode()
    assert column_counts(html)["replied"] == 1
    assert kept.pk in card_ids(html) and left_out.pk not in card_ids(html)
    # The menu carries the filter, so that a move without JavaScript comes back to it.
    assert f'name="query" value="tags={vip.pk}"' in html


@pytest.mark.parametrize("look_up_at_most", [0, 1_000], ids=["walked", "looked-up"])
def test_a_filter_finds_the_same_cards_walked_or_looked_up(
    staff_client, monkeypatch, look_up_at_most
):
    """Many matches walk the columns (each contact asked for its links); few are looked up by
    id. Either way the newest matching cards of each column, and the same counts."""
    monkeypatch.setattr("contacts.board_views.LOOK_UP_AT_MOST", look_up_at_most)
    vip, north = TagFactory(name="VIP"), NetworkFactory()
    tagged = [
        ContactFactory(stage=stage, tags=[vip])
        for stage in [Stage.LEAD] * (COLUMN_PAGE + 2) + [Stage.MEETING, Stage.CUSTOMER]
    ]
    ContactFactory.create_batch(3, stage=Stage.MEETING)  # no tag
    for contact in tagged[::2]:
        ConnectionFactory(contact=contact, network=north)
    leads = sorted((c.pk for c in tagged if c.stage == Stage.LEAD), reverse=True)

    with CaptureQueriesContext(connection) as queries:
        html = staff_client.get(BOARD, {"tags": vip.pk}).content.decode()
    assert column_counts(html) == {
        "lead": COLUMN_PAGE + 2,
        "contacted": 0,
        "replied": 0,
        "meeting": 1,
        "customer": 1,
        "not_interested": 0,
    }
    assert card_ids(html) == leads[:COLUMN_PAGE] + [tagged[-2].pk, tagged[-1].pk]
    cards_sql = next(q["sql"] for q in queries if "LIMIT" in q["sql"] and "stage" in q["sql"])
    assert ("EXISTS" in cards_sql) == (look_up_at_most == 0)

    both = staff_client.get(BOARD, {"tags": vip.pk, "network": north.pk}).content.decode()
    in_north = sorted((c.pk for c in tagged[::2] if c.stage == Stage.LEAD), reverse=True)
    assert column_counts(both)["lead"] == len(in_north)
    assert set(card_ids(both)) == set(in_north) | {tagged[-2].pk}


def test_it_shows_no_cards_for_a_filter_that_is_not_valid(staff_client, contact):
    html = staff_client.get(BOARD, {"connected_after": "yesterday-ish"}).content.decode()
    assert "Some filter values are not valid" in html
    assert card_ids(html) == []


def test_it_pages_a_long_column_lazily(staff_client):
    leads = ContactFactory.create_batch(COLUMN_PAGE + 3)
    newest_first = sorted((c.pk for c in leads), reverse=True)
    html = staff_client.get(BOARD).content.decode()
    assert card_ids(html) == newest_first[:COLUMN_PAGE]
    assert column_counts(html)["lead"] == COLUMN_PAGE + 3
    more = re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert f"after={newest_first[COLUMN_PAGE - 1]}" in more

    rest = staff_client.get(more, headers={"HX-Request": "true"}).content.decode()
    assert card_ids(rest) == newest_first[COLUMN_PAGE:]
    assert "hx-get" not in rest  # the last page has no "Show more"


def test_it_counts_and_lists_the_board_in_a_fixed_number_of_queries(staff_client, staff_user):
    for stage in Stage.values:
        for _ in range(3):
            ConnectionFactory(contact=ContactFactory(stage=stage), network__owner=staff_user)
    staff_client.get(BOARD)  # session and user caches warm
    with CaptureQueriesContext(connection) as queries:
        staff_client.get(BOARD)
    contact_queries = [q for q in queries if "contacts_contact" in q["sql"]]
    # One grouped count and one query for every column's first cards.
    assert len(contact_queries) == 2


def test_the_board_pages_never_write(staff_client, contact):
    ContactFactory.create_batch(COLUMN_PAGE + 1, stage=Stage.CONTACTED)
    staff_client.get(BOARD)  # the session is written once, on sign-in's first request
    with CaptureQueriesContext(connection) as queries:
        staff_client.get(BOARD, {"stage": "lead", "q": "ada"})
        staff_client.get(COLUMN, {"column": "contacted", "after": "999999"})
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []
    assert Contact.objects.filter(stage=Stage.LEAD).count() == 1
