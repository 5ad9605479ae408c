import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact, Stage
from tests.contacts.factories import (
    ConnectionFactory,
    ContactFactory,
    NetworkFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def names(response):
    return [str(c) for c in response.context["page"].object_list]


def test_it_requires_staff(anon_client, non_staff_client):
    assert anon_client.get("/contacts/").status_code == 302
    assert non_staff_client.get("/contacts/").status_code == 403


def test_it_lists_contacts_with_a_total(staff_client):
    ContactFactory.create_batch(3)
    response = staff_client.get("/contacts/")
    assert response.status_code == 200
    assert response.context["total"] == 3
    assert b'id="total-count">3<' in response.content


def test_it_searches_unicode_case_insensitively(staff_client):
    ContactFactory(first_name="Jürgen", last_name="MÜLLER", company="Nordlicht")
    ContactFactory(first_name="ZOË", last_name="Okafor", company="Acme")
    ContactFactory(first_name="Ann", last_name="Smith", company="Globex")
    assert names(staff_client.get("/contacts/", {"q": "müller"})) == ["Jürgen MÜLLER"]
    assert names(staff_client.get("/contacts/", {"q": "zoë"})) == ["ZOË Okafor"]
    assert names(staff_client.get("/contacts/", {"q": "JÜRGEN nordLICHT"})) == ["Jürgen MÜLLER"]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("müller", ["Hans Mueller", "Jürgen Müller", "Ute Muller"]),
        ("muller", ["Hans Mueller", "Jürgen Müller", "Ute Muller"]),
        ("mueller", ["Hans Mueller", "Jürgen Müller", "Ute Muller"]),
        ("MÜLLER jürgen", ["Jürgen Müller"]),
        ("Łukasz", ["Lukasz Zielinski", "Łukasz Nowak"]),
        ("lukasz", ["Lukasz Zielinski", "Łukasz Nowak"]),
        ("Søren", ["Soren Berg", "Søren Kierkegaard"]),
        ("soren", ["Soren Berg", "Søren Kierkegaard"]),
        ("strasse", ["Eva Straße"]),
        ("françois", ["Francois Petit"]),
    ],
)
def test_it_searches_without_accents_or_transliterations(staff_client, typed, found):
    for first, last in [
        ("Jürgen", "Müller"),
        ("Hans", "Mueller"),
        ("Ute", "Muller"),
        ("Łukasz", "Nowak"),
        ("Lukasz", "Zielinski"),
        ("Søren", "Kierkegaard"),
        ("Soren", "Berg"),
        ("Eva", "Straße"),
        ("Francois", "Petit"),
        ("Ann", "Miller"),
    ]:
        ContactFactory(first_name=first, last_name=last, company="", position="", email="")
    response = staff_client.get("/contacts/", {"q": typed})
    assert sorted(names(response)) == found


def test_it_searches_company_position_and_email(staff_client):
    ContactFactory(first_name="A", last_name="One", position="Head of Sales")
    ContactFactory(first_name="B", last_name="Two", email="b.two@example.org")
    ContactFactory(first_name="C", last_name="Three", company="Brightwave Labs")
    assert names(staff_client.get("/contacts/", {"q": "head of"})) == ["A One"]
    assert names(staff_client.get("/contacts/", {"q": "example.org"})) == ["B Two"]
    assert names(staff_client.get("/contacts/", {"q": "brightwave"})) == ["C Three"]


def test_it_filters_by_company_position_stage_and_dnc(staff_client):
    ContactFactory(first_name="A", last_name="X", company="Acme", position="VP/CTO")
    ContactFactory(
        first_name="B", last_name="X", company="Globex", position="Director", stage=Stage.REPLIED
    )
    ContactFactory(
        first_name="C", last_name="X", company="Acme", position="Sales", do_not_contact=True
    )
    ContactFactory(first_name="D", last_name="Cto", company="Actona", position="Designer")
    assert sorted(names(staff_client.get("/contacts/", {"company": "Acme"}))) == ["A X", "C X"]
    # A word of the position starts so: not "Director", not a name or company.
    assert names(staff_client.get("/contacts/", {"position": "cto"})) == ["A X"]
    assert names(staff_client.get("/contacts/", {"position": "dir"})) == ["B X"]
    assert names(staff_client.get("/contacts/", {"stage": "replied"})) == ["B X"]
    assert names(staff_client.get("/contacts/", {"do_not_contact": "true"})) == ["C X"]


def test_it_filters_by_any_of_several_tags_without_duplicates(staff_client):
    vip, hiring, other = TagFactory(name="VIP"), TagFactory(name="Hiring"), TagFactory()
    ContactFactory(first_name="Both", last_name="Tags", tags=[vip, hiring])
    ContactFactory(first_name="Only", last_name="VIP", tags=[vip])
    ContactFactory(first_name="Other", last_name="Tag", tags=[other])
    response = staff_client.get("/contacts/", {"tags": [vip.pk, hiring.pk]})
    assert sorted(names(response)) == ["Both Tags", "Only VIP"]
    assert response.context["total"] == 2


def test_it_filters_by_email_and_url_presence(staff_client):
    ContactFactory(first_name="Mail", last_name="X", email="m@example.com")
    ContactFactory(first_name="NoUrl", last_name="X", profile_url=None)
    assert names(staff_client.get("/contacts/", {"has_email": "true"})) == ["Mail X"]
    assert names(staff_client.get("/contacts/", {"has_profile_url": "false"})) == ["NoUrl X"]


def test_it_filters_by_network_and_connected_on_range(staff_client, staff_user):
    mine, theirs = NetworkFactory(owner=staff_user), NetworkFactory()
    old = ConnectionFactory(network=mine, connected_on=datetime.date(2012, 1, 5))
    new = ConnectionFactory(network=theirs, connected_on=datetime.date(2024, 3, 1))
    assert names(staff_client.get("/contacts/", {"network": mine.pk})) == [str(old.contact)]
    response = staff_client.get("/contacts/", {"connected_after": "2020-01-01"})
    assert names(response) == [str(new.contact)]
    response = staff_client.get("/contacts/", {"connected_before": "2020-01-01"})
    assert names(response) == [str(old.contact)]


@pytest.mark.parametrize(
    "params",
    [
        {"connected_after": "not-a-date"},
        {"stage": "wizard"},
        {"tags": "999999"},
        {"tags": "abc"},
        {"network": "-1"},
        {"ids": "1,abc"},
        {"page": "abc"},
        {"per_page": "1000000"},
        # A yes/no select only sends true/false; anything else reads as "either".
        {"has_email": "maybe"},
    ],
)
def test_it_shows_a_form_error_for_invalid_filter_input(staff_client, params):
    ContactFactory()
    response = staff_client.get("/contacts/", params)
    assert response.status_code == 200
    if set(params) & {"page", "per_page", "has_email"}:
        assert response.context["total"] == 1  # bad paging falls back to a sensible default
    else:
        assert response.context["filter"].errors
        assert response.context["total"] == 0
        assert b"not valid" in response.content


def test_it_sorts_by_company_both_ways(staff_client):
    for company in ["Beta", "Alpha", "Gamma"]:
        ContactFactory(company=company)
    companies = [
        c.company for c in staff_client.get("/contacts/", {"sort": "company"}).context["page"]
    ]
    assert companies == ["Alpha", "Beta", "Gamma"]
    response = staff_client.get("/contacts/", {"sort": "-company"})
    assert [c.company for c in response.context["page"]] == ["Gamma", "Beta", "Alpha"]


def test_it_paginates_with_a_page_size_choice(staff_client):
    ContactFactory.create_batch(30)
    response = staff_client.get("/contacts/", {"per_page": "25", "page": "2"})
    assert len(response.context["page"].object_list) == 5
    assert response.context["total"] == 30
    response = staff_client.get("/contacts/", {"per_page": "25", "page": "99"})
    assert response.context["page"].number == 2  # past the end shows the last page


@pytest.mark.parametrize("rows", [50, 200])
def test_its_query_count_is_constant_in_page_size_and_tags(staff_client, staff_user, rows):
    tags = [TagFactory() for _ in range(5)]
    network = NetworkFactory(owner=staff_user)
    for index in range(rows):
        contact = ContactFactory(tags=tags[: index % 5 + 1])
        ConnectionFactory(contact=contact, network=network)
    staff_client.get("/contacts/")  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get("/contacts/", {"per_page": str(rows), "tags": tags[0].pk})
    assert len(response.context["page"].object_list) == rows
    # The user's permissions (which decide whether export and bulk delete are offered) come
    # with the user row (linkedin_crm.auth.TeamAuthenticationBackend): no query of their own.
    # The bulk bar's tag suggestions come from the filter's tag list (static/js/contacts.js).
    assert len(queries) <= 8, [q["sql"][:120] for q in queries]


def test_it_shows_the_earliest_connection_date(staff_client):
    contact = ContactFactory()
    ConnectionFactory(contact=contact, connected_on=datetime.date(2019, 11, 20))
    ConnectionFactory(contact=contact, connected_on=datetime.date(2015, 2, 1))
    response = staff_client.get("/contacts/")
    assert b"01 Feb 2015" in response.content


def test_it_escapes_names_it_displays(staff_client):
    ContactFactory(first_name="<script>alert(1)</script>", last_name="X")
    response = staff_client.get("/contacts/")
    assert b"<script>alert(1)</script>" not in response.content
    assert Contact.objects.count() == 1


# A pasted paragraph: SQLite refused the 1,500-condition query ("Expression tree is too large").
LONG_SEARCH = "ann " * 10 + "zzz " * 1490


def test_it_searches_the_first_10_words_of_a_long_search_and_says_so(staff_client):
    ContactFactory(first_name="Ann", last_name="Lee")
    # Pinned: a random company or job title may hold "ann" ("Planning officer").
    ContactFactory(first_name="Bo", last_name="Lee", company="Acme", position="CTO")
    response = staff_client.get("/contacts/", {"q": LONG_SEARCH})
    assert response.status_code == 200
    assert names(response) == ["Ann Lee"]  # "zzz", after the 10th word, was left out
    assert "Search: searched for the first 10 words only." in response.content.decode()


def test_it_searches_the_first_200_characters_and_says_so(staff_client):
    ContactFactory(first_name="A" * 150, last_name="Lee")
    response = staff_client.get("/contacts/", {"q": "a" * 150 + " " + "l" * 300})
    assert response.status_code == 200
    assert "Search: searched for the first 200 characters only." in response.content.decode()
    assert 'maxlength="200"' in response.content.decode()


def test_it_caps_a_long_position_search_too(staff_client):
    ContactFactory(first_name="Ann", last_name="Lee", position="CTO")
    response = staff_client.get("/contacts/", {"position": "cto " * 1500})
    assert response.status_code == 200
    assert names(response) == ["Ann Lee"]
    assert "Position: searched for the first 10 words only." in response.content.decode()


def test_it_says_nothing_of_a_search_it_used_whole(staff_client):
    response = staff_client.get("/contacts/", {"q": "one two three four five six seven eight"})
    assert "searched for the first" not in response.content.decode()


def test_a_bulk_action_on_all_matching_a_long_search_works(staff_client):
    ann = ContactFactory(first_name="Ann", last_name="Lee")
    # Pinned: a random company or job title may hold "ann" ("Planning officer").
    ContactFactory(first_name="Bo", last_name="Lee", company="Acme", position="CTO")
    data = {"action": "set_stage", "stage": "meeting", "all_matching": "on"}
    response = staff_client.post("/contacts/bulk/", {**data, "query": f"q={LONG_SEARCH}"})
    assert response.status_code == 302
    assert list(Contact.objects.filter(stage="meeting")) == [ann]


def test_an_unknown_sort_falls_back_to_the_default_and_says_so(staff_client):
    """Issue #13: ?sort=bogus emptied the list with "Correct the fields marked below" and
    marked nothing, since the sort has no field on the page."""
    older, newer = ContactFactory(last_name="Older"), ContactFactory(last_name="Newer")
    response = staff_client.get("/contacts/", {"sort": "bogus", "company": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert [c.pk for c in response.context["page"]] == [newer.pk, older.pk]
    assert "Unknown sort “bogus”: shown newest first." in page
    assert "not valid" not in page
    # The filter form carries the default along, not the unknown sort.
    assert '<input type="hidden" name="sort" id="id_sort">' in page


def test_a_bad_value_of_a_field_the_page_does_not_show_is_named(staff_client):
    ContactFactory()
    page = staff_client.get("/contacts/", {"ids": "1,abc"}).content.decode()
    assert "Correct the fields marked below" in page
    assert '<p class="error">Contact ids: Enter a number.</p>' in page


def test_the_sort_survives_applying_the_filter(staff_client):
    ContactFactory()
    page = staff_client.get("/contacts/", {"sort": "-company"}).content.decode()
    assert '<input type="hidden" name="sort" value="-company" id="id_sort">' in page
    assert "Company ▼" in page


def test_a_rows_links_are_the_contacts_own_urls(staff_client):
    """The row builds its links from the list's URL rather than reversing each one (speed):
    they must still be exactly what the URL configuration says."""
    from django.urls import reverse

    contact = ContactFactory()
    page = staff_client.get("/contacts/").content.decode()
    detail, inline = (
        reverse(name, args=[contact.pk]) for name in ("contacts:detail", "contacts:inline_edit")
    )
    assert f'<a href="{detail}">{contact}</a>' in page
    assert f'hx-post="{inline}"' in page and f'hx-get="{inline}"' in page
    # And the row htmx draws again after an edit, from its own view.
    row = staff_client.post(
        inline,
        {"version": contact.updated_at.isoformat(), "stage": "meeting"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert f'<a href="{detail}">{contact}</a>' in row and f'hx-post="{inline}"' in row


def test_a_row_shows_the_contact_escaped(staff_client):
    """The row is drawn in Python (contacts/templatetags/contact_rows.py): every value escaped,
    every part of the row there."""
    vip = TagFactory(name="<b>VIP</b>")
    contact = ContactFactory(
        first_name="<script>alert(1)</script>",
        last_name="O'Hara",
        company="Acme & Co",
        position="Head of " + "very " * 20 + "long things",
        email="ann@acme.example",
        do_not_contact=True,
        dnc_reason='Asked "never again"',
        stage="meeting",
        tags=[vip],
    )
    ConnectionFactory(contact=contact, connected_on=datetime.date(2024, 3, 5))
    quiet = ContactFactory(first_name="Bo", company="", email="", position="")
    page = staff_client.get("/contacts/").content.decode()
    row = page[page.index(f'<tr id="contact-{contact.pk}" class="dnc">') :]
    row = row[: row.index("</tr>")]
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; O&#x27;Hara" in row
    assert 'title="Asked &quot;never again&quot;">do not contact</span>' in row
    assert '<span class="muted" title="ann@acme.example"><svg class="icon" role="img"' in row
    assert '<span class="name-company muted">Acme &amp; Co</span>' in row
    assert "Head of very very" in row and "long things" not in row and "…" in row
    assert '<option value="meeting" selected>' in row
    assert '<span class="tag" title="&lt;b&gt;VIP&lt;/b&gt;">&lt;b&gt;VIP&lt;/b&gt;</span>' in row
    assert "05 Mar 2024" in row
    other = page[page.index(f'<tr id="contact-{quiet.pk}">') :]
    other = other[: other.index("</tr>")]
    assert "name-company" not in other and "badge-dnc" not in other and "—</td>" in other
