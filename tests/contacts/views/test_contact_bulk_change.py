"""A bulk change's page (/contacts/bulk/<pk>/) and its progress bar, where its requester follows
the worker changing "all matching" contacts."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from contacts.models import ContactBulkChange
from tests.contacts.factories import ContactFactory, TagFactory
from tests.contacts.worker import run_queued_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def change(client, settings):
    """Three Acme contacts moved to "Contacted" by the worker, asked for by `client`'s user."""
    settings.BULK_IN_REQUEST_MAX = 2
    ContactFactory.create_batch(3, company="Acme")
    ContactFactory(company="Globex")
    client.post(
        "/contacts/bulk/",
        {
            "action": "set_stage",
            "stage": "contacted",
            "all_matching": "on",
            "query": "company=Acme&page=2",
        },
    )
    return ContactBulkChange.objects.get()


def writes_during(fn) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]


def test_it_requires_staff(anon_client, non_staff_client, change):
    for url in (change.get_absolute_url(), change.get_progress_url()):
        response = anon_client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert non_staff_client.get(url).status_code == 403


def test_it_shows_what_waits_for_the_worker_and_leads_back_to_the_same_filter(client, change):
    page = client.get(change.get_absolute_url()).content.decode()
    assert "Set stage: Contacted" in page and "Waiting for the worker" in page
    assert "Every contact matching Company: Acme" in page
    assert 'href="/contacts/?company=Acme"' in page  # the list's filter, without its page
    assert f'hx-get="/contacts/bulk/{change.pk}/progress/"' in page


def test_its_progress_reloads_the_page_once_done_and_the_page_says_what_happened(client, change):
    response = client.get(change.get_progress_url(), HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in response and "Waiting for the worker" in response.content.decode()
    run_queued_tasks()
    response = client.get(change.get_progress_url(), HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
    page = client.get(change.get_absolute_url()).content.decode()
    assert "Moved 3 contacts to “Contacted”. 3 contacts matched." in page
    assert "hx-get" not in page


def test_a_failure_is_shown_with_its_reason(client, settings):
    settings.BULK_IN_REQUEST_MAX = 1
    ContactFactory.create_batch(2, company="Acme")
    tag = TagFactory(name="Old")
    client.post(
        "/contacts/bulk/",
        {"action": "remove_tag", "tag": "Old", "all_matching": "on", "query": "company=Acme"},
    )
    tag.delete()
    run_queued_tasks()
    change = ContactBulkChange.objects.get()
    page = client.get(change.get_absolute_url()).content.decode()
    assert "Remove tag (a tag since deleted)" in page
    assert "The tag was deleted meanwhile. Nothing was changed." in page


def test_another_members_change_is_not_found(other_staff_user, change):
    other = Client()
    other.force_login(other_staff_user)
    assert other.get(change.get_absolute_url()).status_code == 404
    assert other.get(change.get_progress_url(), HTTP_HX_REQUEST="true").status_code == 404


def test_its_gets_write_nothing(client, change):
    """Not even for a change whose worker died: recovery is the housekeeping's, never a page's."""
    ContactBulkChange.objects.filter(pk=change.pk).update(status="running", worker="x:1:1")
    for state in ("running", "done"):
        for url in (change.get_absolute_url(), change.get_progress_url()):
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):

                def get(url=url, headers=headers):
                    return client.get(url, **headers)

                assert writes_during(get) == [], (state, url)
        ContactBulkChange.objects.filter(pk=change.pk).update(status="queued", worker="")
        run_queued_tasks()
