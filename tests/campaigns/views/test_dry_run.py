import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import services
from campaigns.models import Enrollment
from contacts.models import Contact
from messaging.models import Message
from tests.campaigns.factories import AudienceFactory, CampaignFactory, add_step
from tests.contacts.factories import ConnectionFactory, ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_dry_run_shows_every_recipient_and_changes_nothing(staff_client, campaign):
    skipped = Contact.objects.get(first_name="Cat")
    skipped.mark_do_not_contact("asked")
    page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/").content.decode()
    assert 'id="dry-enrolled">2<' in page
    assert "Skipped: do-not-contact" in page
    assert "Hi Ann" in page or "Hello Ann" in page
    assert "Alice Archer" in page and "goes out" in page
    assert not Enrollment.objects.exists() and not Message.objects.exists()


def big_campaign(owner, account, size):
    tag = TagFactory(name=f"Big {size}")
    for index in range(size):
        contact = ContactFactory(first_name=f"P{index:03d}", tags=[tag])
        ConnectionFactory(contact=contact, network=account.network)
    audience = AudienceFactory(owner=owner, query=f"tags={tag.pk}")
    campaign = CampaignFactory(owner=owner, audience=audience, senders=[account])
    add_step(campaign, 1, {"A": "Hi {{ first_name }}", "B": "Hello {{ first_name }}"})
    return campaign


def test_dry_run_pages_show_the_plans_rows_in_order(staff_client, staff_user, account):
    campaign = big_campaign(staff_user, account, 120)
    ids = sorted(Contact.objects.values_list("pk", flat=True))
    plan = {r.contact_id: r for r in services.plan_launch(campaign).recipients}

    for number, shown in [(1, ids[:50]), (2, ids[50:100]), (3, ids[100:])]:
        page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/?page={number}").content
        rows = re.findall(
            r'<tr><td><a href="/contacts/(\d+)/">(.*?)</a></td><td>(.*?)</td><td>(.*?)</td>'
            r"<td>(.*?)</td></tr>",
            page.decode(),
        )
        assert [int(row[0]) for row in rows] == shown
        for pk, name, sender, label, message in rows:
            planned = plan[int(pk)]
            assert (name, sender, label) == (
                str(planned.contact),
                "Alice Archer",
                planned.variant.label,
            )
            assert message == planned.message
        assert f"Page {number} of 3" in page.decode()
        assert 'id="dry-enrolled">120<' in page.decode()


def test_dry_run_queries_do_not_grow_with_the_audience(staff_client, staff_user, account):
    counts = []
    for size in (4, 140):
        campaign = big_campaign(staff_user, account, size)
        for number in (1, 2):
            with CaptureQueriesContext(connection) as queries:
                response = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/?page={number}")
            assert response.status_code == 200
            counts.append(len(queries))
    assert len(set(counts)) == 1, counts


def test_dry_run_of_a_campaign_without_steps_shows_what_blocks_it(
    staff_client, staff_user, account
):
    campaign = big_campaign(staff_user, account, 3)
    campaign.steps.all().delete()
    page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/").content.decode()
    assert "Add a first step with at least one variant." in page
    assert 'id="dry-enrolled">3<' in page
    assert page.count("<td>Alice Archer</td><td>—</td><td></td>") == 3


def test_the_forecast_counts_one_recipient_in_the_singular(staff_client, campaign):
    """Issue #13: "(1 recipients, all steps)"."""
    Contact.objects.filter(first_name__in=["Ben", "Cat"]).update(do_not_contact=True)
    page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/").content.decode()
    assert "(1 recipient, all steps)" in page


MONDAY_7_DEC = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.UTC)


@time_machine.travel(MONDAY_7_DEC, tick=False)
def test_dry_run_forecasts_follow_ups_after_their_delay(staff_client, staff_user, account):
    """Issue #13: with step 2 three days after step 1, the dry run said the last message goes
    out on the first day. The account sends one message every 150 s (120 s + half of 60 s of
    jitter) from 09:00 UTC, Monday to Friday."""
    campaign = big_campaign(staff_user, account, 3)
    add_step(campaign, 2, {"A": "Still there, {{ first_name }}?"}, delay_days=3)

    page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/").content.decode()

    # Step 1: Mon 09:00, 09:02:30, 09:05; step 2: three days after each, on Thursday.
    assert "(3 recipients, all steps): 6 messages;" in page
    assert "the last goes out on Thu 10 Dec 2026 around 09:05." in page


@time_machine.travel(MONDAY_7_DEC, tick=False)
def test_dry_run_forecasts_from_the_campaigns_start(staff_client, staff_user, account):
    campaign = big_campaign(staff_user, account, 3)
    add_step(campaign, 2, {"A": "Still there, {{ first_name }}?"}, delay_days=3)
    campaign.starts_at = datetime.datetime(2027, 1, 15, 14, 0, tzinfo=datetime.UTC)  # a Friday
    campaign.save()

    page = staff_client.get(f"/campaigns/{campaign.pk}/dry-run/").content.decode()

    # Step 1 Fri 14:00 … 14:05; step 2 due Mon 18 Jan (three days on, a Monday) 14:00 … 14:05.
    assert "the last goes out on Mon 18 Jan 2027 around 14:05." in page
