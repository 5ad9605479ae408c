"""The daily cap is written twice (messaging/models.py): as a queryset method for the app and
in SQL for the dispatcher. On random messages around the accounts' midnights, in time zones east
and west of UTC and across DST changes, both count the same slots of a day, per stream too."""

import datetime
import zoneinfo
from collections import Counter

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging import dispatch
from messaging.models import Message, counting_against_cap_sql
from tests.contacts.factories import ContactFactory
from tests.messaging.factories import LinkedInAccountFactory

pytestmark = pytest.mark.django_db

ZONES = ["UTC", "Europe/Berlin", "Pacific/Auckland", "America/Los_Angeles"]  # an account each
# An ordinary Wednesday, and days with a DST change in one of the zones (Los Angeles springs
# forward on 8 March 2026, Berlin on 29 March, Auckland falls back on 5 April).
DAYS = [
    datetime.date(2026, 11, 25),
    datetime.date(2026, 3, 8),
    datetime.date(2026, 3, 29),
    datetime.date(2026, 4, 5),
]
ONE_DAY = datetime.timedelta(days=1)
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis folder in the project
    suppress_health_check=[HealthCheck.too_slow],
)


def near_midnight(day: datetime.date, zone: str, offset: datetime.timedelta):
    midnight = datetime.datetime.combine(day, datetime.time(0), tzinfo=zoneinfo.ZoneInfo(zone))
    return (midnight + offset).astimezone(datetime.UTC)


def moments(day: datetime.date, zones):
    """Times near the midnight that starts the day before `day`, `day` or the day after, in one
    of `zones`: right on it, a microsecond either side, or hours away."""
    offsets = st.one_of(
        st.sampled_from([0, 0, -1, 1]).map(lambda n: datetime.timedelta(microseconds=n)),
        st.integers(-30 * 3600, 30 * 3600).map(lambda n: datetime.timedelta(seconds=n)),
    )
    return st.builds(
        near_midnight, st.sampled_from([day - ONE_DAY, day, day + ONE_DAY]), zones, offsets
    )


@st.composite
def message(draw, day: datetime.date) -> dict:
    account = draw(st.integers(0, len(ZONES) - 1))
    # Often on a boundary of the account's own days, where a day of its cap starts and ends.
    near = moments(day, st.just(ZONES[account]) | st.sampled_from(ZONES))
    return {
        "account": account,
        # Every status, the ones that may count by their claim time more often.
        "status": draw(
            st.sampled_from(Message.SENT_STATUSES) | st.sampled_from(Message.Status.values)
        ),
        "stream": draw(st.sampled_from(["", "campaign:1", "campaign:2"])),
        "claimed_at": draw(st.none() | near | near),
        "released_at": draw(st.none() | near),
        "sent_at": draw(st.none() | near),
    }


@st.composite
def messages_and_days(draw):
    """Messages, and per account the moments whose days (in its zone) to count: one random,
    and noon of the days around the messages' (whose midnights they fall on)."""
    day = draw(st.sampled_from(DAYS))
    messages = draw(st.lists(message(day), max_size=25))
    at_noon = datetime.timedelta(hours=12)
    nows = [
        [draw(moments(day, st.sampled_from(ZONES)))]
        + [near_midnight(day + n * ONE_DAY, zone, at_noon) for n in (-1, 0)]
        for zone in ZONES
    ]
    return messages, nows


def test_it_counts_the_same_slots_in_sql_as_in_the_orm():
    accounts = [LinkedInAccountFactory(timezone=zone) for zone in ZONES]
    contact = ContactFactory()

    @PROPERTY
    @given(messages_and_days())
    def check(example):
        messages, nows = example
        with transaction.atomic():
            Message.objects.bulk_create(
                Message(**{**fields, "account": accounts[fields["account"]]}, contact=contact)
                for fields in messages
            )
            for account, moments_to_count in zip(accounts, nows, strict=True):
                for now in moments_to_count:
                    start, end = dispatch.local_day_bounds(account, now)
                    of_account = Message.objects.filter(account=account)
                    taken = of_account.counting_against_cap(start, end)
                    by_stream = Counter(taken.values_list("stream", flat=True))
                    total = sum(by_stream.values())

                    # The SQL twin, as it stands and as the dispatcher runs it.
                    statement, params = counting_against_cap_sql(account.pk, start, end)
                    with connection.cursor() as cursor:
                        cursor.execute(f"SELECT COUNT(*) FROM ({statement}) used", params)  # noqa: S608
                        assert cursor.fetchone()[0] == total
                    assert dispatch.usage_today(account, now) == by_stream
                    # The parts the dashboard counts add up to it.
                    sent, waiting = of_account.counting_against_cap_parts(start, end)
                    assert sent.count() + waiting.count() == total
            transaction.set_rollback(True)

    check()
