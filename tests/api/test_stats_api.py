"""/api/v1/contacts/<id>/timeline/ and /api/v1/stats/…: the same items and numbers the pages
show the token's owner."""

from django.test import Client
from django.utils import timezone

from linkedin_crm import dashboard
from tests.api.conftest import problem
from tests.contacts.factories import ContactFactory, NoteFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory


def test_the_timeline_pages_newest_first(api):
    contact = ContactFactory()
    notes = [NoteFactory(contact=contact, body=f"note {n}") for n in range(30)]
    first = api.get(f"/api/v1/contacts/{contact.pk}/timeline/?kind=note").json()
    assert len(first["results"]) == 25
    assert first["results"][0]["text"] == notes[-1].body
    rest = api.get(
        f"/api/v1/contacts/{contact.pk}/timeline/?kind=note&before={first['next_before']}"
    ).json()
    assert len(rest["results"]) == 5 and rest["next_before"] is None


def test_the_timeline_refuses_bad_parameters(api):
    contact = ContactFactory()
    response = api.get(f"/api/v1/contacts/{contact.pk}/timeline/?kind=gossip&before=x")
    assert response.status_code == 422
    assert set(problem(response)["errors"]) == {"kind.0", "before"}
    assert api.get("/api/v1/contacts/424242/timeline/").status_code == 404


def test_the_dashboard_numbers_are_the_pages(api, member, staff_client):
    ContactFactory.create_batch(3, company="Acme")
    account = LinkedInAccountFactory(owner=member)
    MessageFactory.create_batch(2, account=account)
    MessageFactory(account=LinkedInAccountFactory())  # someone else's account
    body = api.get("/api/v1/stats/dashboard/").json()
    now = timezone.now()
    panel = dashboard.contacts_panel(now)
    assert body["contacts"]["total"] == panel["total"] == 6
    assert body["contacts"]["by_stage"]["lead"] == 6
    assert body["contacts"]["companies"]["rows"][0][0] == "Acme"
    assert body["messages"]["queued"] == 2
    assert [a["id"] for a in body["messages"]["accounts"]] == [account.pk]
    assert body["messages"]["accounts"][0]["cap"] == account.daily_limit
    assert api.get("/api/v1/stats/contacts/").json() == body["contacts"]
    assert api.get("/api/v1/stats/messages/").json()["queued"] == 2


def test_stats_need_a_token(db):
    assert Client().get("/api/v1/stats/dashboard/").status_code == 401
