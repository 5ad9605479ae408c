"""dashboard._range_counts compiles one bucket's query and runs its SQL for every bucket: the
counts must be those of a query per bucket, on dates and on datetimes, with and without a
grouping column, and at the edges of each half-open range."""

import datetime
import random

import pytest
from django.utils import timezone

from contacts.models import Connection
from linkedin_crm.dashboard import _range_counts
from messaging.models import Message
from tests.contacts.factories import ConnectionFactory, ContactFactory, NetworkFactory
from tests.messaging.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_dates_in_ranges_match_one_count_per_range():
    rng = random.Random(7)
    network = NetworkFactory()
    bounds = [
        (datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)) for year in range(2015, 2026)
    ]
    days = [datetime.date(2014, 12, 31), datetime.date(2026, 1, 1)]  # outside every range
    days += [start for start, _ in bounds[::3]]  # on a range's first day
    days += [
        datetime.date(2015, 1, 1) + datetime.timedelta(days=rng.randrange(4017)) for _ in range(60)
    ]
    for day in days:
        ConnectionFactory(network=network, contact=ContactFactory(), connected_on=day)
    ConnectionFactory(network=network, contact=ContactFactory(), connected_on=None)

    counts = _range_counts(Connection.objects.all(), "connected_on", bounds)

    expected = {  # every range answers, 0 where it holds nothing
        index: Connection.objects.filter(connected_on__gte=start, connected_on__lt=end).count()
        for index, (start, end) in enumerate(bounds)
    }
    assert counts == expected
    assert sum(counts.values()) == len(days) - 2 and 0 in counts.values()


def test_datetimes_by_status_match_one_count_per_range_and_status():
    rng = random.Random(11)
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    bounds = [
        (midnight + datetime.timedelta(days=n), midnight + datetime.timedelta(days=n + 1))
        for n in range(-5, 0)
    ]
    statuses = [Message.Status.SENT, Message.Status.FAILED, Message.Status.QUEUED]
    for start, end in bounds:
        MessageFactory(status=Message.Status.SENT, claimed_at=start)  # first instant: in
        MessageFactory(
            status=Message.Status.SENT, claimed_at=end - datetime.timedelta(microseconds=1)
        )
    for _ in range(40):
        MessageFactory(
            status=rng.choice(statuses),
            claimed_at=midnight + datetime.timedelta(seconds=rng.randrange(-6 * 86_400, 86_400)),
        )
    messages = Message.objects.filter(status__in=statuses[:2])  # queued ones are not counted

    counts = _range_counts(messages, "claimed_at", bounds, by="status")

    expected = {}
    for index, (start, end) in enumerate(bounds):
        in_range = messages.filter(claimed_at__gte=start, claimed_at__lt=end)
        for status in statuses:
            if n := in_range.filter(status=status).count():
                expected[(index, status)] = n
    assert counts == expected
    assert all(status != Message.Status.QUEUED for _, status in counts)


def test_no_ranges_count_nothing():
    assert _range_counts(Connection.objects.all(), "connected_on", []) == {}
