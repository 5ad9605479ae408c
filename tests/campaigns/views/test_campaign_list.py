import re

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Variant
from messaging.models import Message
from tests.campaigns.factories import AudienceFactory
from tests.contacts.factories import ContactFactory
from tests.status_guard import bypass

pytestmark = pytest.mark.django_db


def test_pages_require_staff(anon_client, non_staff_client, campaign):
    for url in ["/campaigns/", f"/campaigns/{campaign.pk}/", f"/campaigns/{campaign.pk}/dry-run/"]:
        assert anon_client.get(url).status_code == 302
        assert non_staff_client.get(url).status_code == 403
    assert (
        non_staff_client.post(f"/campaigns/{campaign.pk}/launch/", {"confirm": "yes"}).status_code
        == 403
    )
    assert Campaign.objects.get().status == "draft"


def test_create_a_campaign_with_steps_and_variants(staff_client, staff_user, account):
    audience = AudienceFactory(owner=staff_user)
    response = staff_client.post(
        "/campaigns/",
        {
            "name": "Q1 outreach",
            "audience": audience.pk,
            "senders": [account.pk],
            "starts_at": "2026-12-01T09:00",
        },
    )
    campaign = Campaign.objects.get()
    assert response["Location"] == f"/campaigns/{campaign.pk}/"
    staff_client.post(
        f"/campaigns/{campaign.pk}/steps/", {"delay_days": "5", "stop_on_reply": "on"}
    )
    staff_client.post(
        f"/campaigns/{campaign.pk}/steps/", {"delay_days": "4", "stop_on_reply": "on"}
    )
    steps = list(campaign.steps.all())
    assert [(s.order, s.delay_days) for s in steps] == [(1, 0), (2, 4)]
    staff_client.post(
        f"/campaigns/{campaign.pk}/variants/",
        {"step": steps[0].pk, "label": "a", "body": "Hi {{ first_name }}", "weight": "1"},
    )
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/variants/",
        {"step": steps[0].pk, "label": "A", "body": "Dup", "weight": "1"},
        follow=True,
    )
    assert "has a variant A already" in response.content.decode()
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/variants/",
        {"step": steps[0].pk, "label": "B", "body": "Hi {{ frist_name }}", "weight": "1"},
        follow=True,
    )
    assert "frist_name" in response.content.decode()
    assert list(Variant.objects.values_list("label", flat=True)) == ["A"]


def test_bad_campaign_input_is_refused(staff_client):
    response = staff_client.post("/campaigns/", {"name": "", "audience": "999", "senders": ["999"]})
    page = response.content.decode()
    assert "This field is required" in page and "Select a valid choice" in page
    assert not Campaign.objects.exists()


def test_the_list_and_the_campaign_page_count_enrollments_alike(staff_client, campaign):
    """Issue #13: the list said "Enrolled 38" (skipped included) while the page said Active 23,
    Skipped 15. The list, the page and the dashboard now count "enrolled" as the launch message
    does: everyone but the skipped, with the skipped beside it."""
    tag = campaign.audience.query.split("=")[1]
    for name in ("Dan", "Eve"):
        ContactFactory(first_name=name, tags=[int(tag)], do_not_contact=True)
    launched = staff_client.post(
        f"/campaigns/{campaign.pk}/launch/", {"confirm": "yes"}, follow=True
    )
    assert "Launched: 3 enrolled, 2 skipped." in launched.content.decode()
    with bypass():  # the state this test starts from
        Message.objects.update(status="sent", sent_at=timezone.now())
    staff_client.post(f"/messages/{Message.objects.first().pk}/reply/", {"text": "Thanks!"})

    listed = staff_client.get("/campaigns/").content.decode()
    page = staff_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    dashboard = staff_client.get("/").content.decode()

    row = _row(listed, campaign)
    assert "1 / 3" in row and "2 skipped" in row
    assert 'id="count-enrolled">3<' in page and 'id="count-skipped">2<' in page
    assert 'id="count-active">2<' in page and 'id="count-replied">1<' in page
    assert 'id="count-stopped">0<' in page
    assert "1 of 3 contacts done · 1 replied" in dashboard


def _row(listed: str, campaign) -> str:
    return re.search(rf'<a href="/campaigns/{campaign.pk}/">.*?</tr>', listed, re.S).group()


def _cell(row: str, column: str) -> str:
    return re.search(rf'data-col="{column}">(.*?)</td>', row, re.S).group(1).strip()


def test_it_shows_sent_replied_reply_rate_and_progress_per_campaign(staff_client, campaign):
    staff_client.post(f"/campaigns/{campaign.pk}/launch/", {"confirm": "yes"})
    first, second, third = Message.objects.order_by("pk")
    with bypass():  # two of three sent, one of those answered; the third still queued
        Message.objects.filter(pk__in=[first.pk, second.pk]).update(
            status="sent", sent_at=timezone.now()
        )
    staff_client.post(f"/messages/{first.pk}/reply/", {"text": "Thanks!"})
    other = Campaign.objects.create(
        name="Untouched", owner=campaign.owner, audience=campaign.audience
    )

    listed = staff_client.get("/campaigns/").content.decode()

    row = _row(listed, campaign)
    assert (_cell(row, "sent"), _cell(row, "replied"), _cell(row, "rate")) == ("2", "1", "50%")
    assert "1 / 3" in row  # the one who replied is done
    quiet = _row(listed, other)
    assert (_cell(quiet, "sent"), _cell(quiet, "replied")) == ("0", "0")
    assert "—" in _cell(quiet, "rate") and "Nobody enrolled" in quiet


def test_its_numbers_take_the_same_queries_for_one_campaign_or_many(staff_client, campaign):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff_client.get("/campaigns/")
    with CaptureQueriesContext(connection) as one:
        staff_client.get("/campaigns/")
    for index in range(5):
        Campaign.objects.create(
            name=f"More {index}", owner=campaign.owner, audience=campaign.audience
        )
    with CaptureQueriesContext(connection) as six:
        staff_client.get("/campaigns/")
    assert len(six) == len(one)
