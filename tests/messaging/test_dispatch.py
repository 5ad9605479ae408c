"""The send queue's state machine and cap (docs/queue.md), against the sandbox over HTTP."""

import datetime

import pytest
import time_machine
from django.db.models import Count, F, Min, Window
from django.db.models.functions import RowNumber

from messaging import dispatch
from messaging.dispatch import dispatch_tick, reap_stuck_sends
from messaging.models import Message, MessageEvent
from tests.contacts.factories import ContactFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory
from tests.status_guard import bypass

pytestmark = pytest.mark.django_db
UTC = datetime.UTC
# A Wednesday, 10:00 UTC: inside the default window (Mon–Fri 09–17 UTC).
WEDNESDAY = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def automatic_account(sandbox, **fields):
    token = sandbox.issue_token("sbx-maya-okafor")
    defaults = {
        "access_token": token,
        "mode": "automatic",
        "scopes": ["openid", "profile", "email", "w_member_social"],
        "min_interval_seconds": 0,
        "jitter_seconds": 0,
        "access_token_expires_at": WEDNESDAY + datetime.timedelta(days=50),
    }
    return LinkedInAccountFactory(**{**defaults, **fields})


def queue(account, count, **fields):
    return [
        MessageFactory(account=account, next_attempt_at=WEDNESDAY, **fields) for _ in range(count)
    ]


def statuses():
    return sorted(Message.objects.values_list("status", flat=True))


def tick(sandbox_client, now=WEDNESDAY, **kwargs):
    return dispatch_tick(now=now, client=sandbox_client, **kwargs)


# --- automatic sending ---------------------------------------------------------------------------


def test_automatic_messages_reach_linkedin_once(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings)
    messages = queue(account, 3)
    result = tick(sandbox_client)
    assert (result.claimed, result.sent) == (3, 3)
    received = sandbox_settings.sent_messages()
    assert sorted(m["recipients"][0] for m in received) == sorted(
        m.contact.member_urn for m in messages
    )
    assert {m["idempotency_key"] for m in received} == {str(m.idempotency_key) for m in messages}
    assert statuses() == ["sent"] * 3
    sent = Message.objects.first()
    assert sent.external_id and sent.sent_at == WEDNESDAY and sent.channel == "api"
    assert [e.status for e in sent.events.all()] == ["sending", "sent"]
    assert tick(sandbox_client).claimed == 0  # nothing is ever sent twice
    assert len(sandbox_settings.sent_messages()) == 3


def test_a_contact_without_member_urn_waits_in_the_outbox(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings)
    queue(account, 1, contact=ContactFactory(member_urn=""))
    result = tick(sandbox_client)
    assert (result.sent, result.released) == (0, 1)
    assert statuses() == ["released"]


def test_assisted_accounts_release_into_the_outbox(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings, mode="assisted")
    queue(account, 2)
    result = tick(sandbox_client)
    assert (result.released, result.sent) == (2, 0)
    assert statuses() == ["released", "released"]
    assert sandbox_settings.sent_messages() == []
    assert Message.objects.filter(released_at=WEDNESDAY, claimed_at=WEDNESDAY).count() == 2


# --- the cap, the window, the stagger ---------------------------------------------------------


def test_the_cap_holds_over_any_number_of_ticks_and_the_next_day_continues(
    sandbox_settings, sandbox_client
):
    account = automatic_account(sandbox_settings, daily_limit=5)
    queue(account, 12)
    for minute in range(10):
        tick(sandbox_client, now=WEDNESDAY + datetime.timedelta(minutes=minute))
    assert Message.objects.filter(status="sent").count() == 5
    result = tick(sandbox_client, now=WEDNESDAY + datetime.timedelta(minutes=11))
    assert result.capped_accounts == [account.pk]
    tick(sandbox_client, now=WEDNESDAY + datetime.timedelta(days=1))
    assert Message.objects.filter(status="sent").count() == 10
    assert len(sandbox_settings.sent_messages()) == 10


def test_released_outbox_messages_count_against_the_cap(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings, mode="assisted", daily_limit=3)
    queue(account, 5)
    for minute in range(5):
        tick(sandbox_client, now=WEDNESDAY + datetime.timedelta(minutes=minute))
    assert statuses().count("released") == 3


def test_yesterdays_unsent_outbox_holds_todays_slots_and_can_still_be_sent(
    sandbox_settings, sandbox_client
):
    """A member who works the Outbox the next morning: yesterday's three waiting messages leave
    no room for more today, each can be sent today (taking a slot of today), and the day after
    the queue goes on — the cap is neither exceeded nor halved."""
    account = automatic_account(sandbox_settings, mode="assisted", daily_limit=3)
    messages = queue(account, 9, contact__member_urn="urn:li:person:x")
    tick(sandbox_client)
    assert statuses().count("released") == 3
    thursday = WEDNESDAY + datetime.timedelta(days=1)
    assert tick(sandbox_client, now=thursday).released == 0  # yesterday's three still wait
    for message in Message.objects.filter(status="released"):
        assert (
            dispatch.outbox_send(
                message=message, actor=account.owner, client=sandbox_client, now=thursday
            )
            == "sent"
        )
    assert len(sandbox_settings.sent_messages()) == 3
    assert tick(sandbox_client, now=thursday + datetime.timedelta(minutes=1)).released == 0
    with pytest.raises(dispatch.CapReached):  # a fourth today is over the cap
        extra = Message.objects.filter(pk=messages[-1].pk)
        with bypass():  # the state this test starts from
            extra.update(status="released", released_at=thursday, claimed_at=thursday)
        dispatch.outbox_send(
            message=extra.get(), actor=account.owner, client=sandbox_client, now=thursday
        )
    friday = thursday + datetime.timedelta(days=1)
    assert tick(sandbox_client, now=friday).released == 2  # 3 a day, one waiting already


def test_the_day_is_the_accounts_calendar_day(sandbox_settings, sandbox_client):
    # Tokyo is UTC+9: 23:30 UTC on Wednesday is 08:30 Thursday there, a new day.
    account = automatic_account(
        sandbox_settings,
        daily_limit=2,
        timezone="Asia/Tokyo",
        window_start=datetime.time(0, 0),
        window_end=datetime.time(23, 59),
        window_days=list(range(7)),
    )
    queue(account, 6)
    tick(sandbox_client, now=datetime.datetime(2026, 11, 25, 14, 0, tzinfo=UTC))  # 23:00 Wed JST
    tick(sandbox_client, now=datetime.datetime(2026, 11, 25, 14, 50, tzinfo=UTC))  # 23:50 Wed JST
    assert Message.objects.filter(status="sent").count() == 2
    tick(sandbox_client, now=datetime.datetime(2026, 11, 25, 15, 5, tzinfo=UTC))  # 00:05 Thu JST
    assert Message.objects.filter(status="sent").count() == 4


def test_a_dst_day_is_counted_as_one_local_day(sandbox_settings, sandbox_client):
    # Europe/Berlin leaves summer time on 25 Oct 2026: that Sunday has 25 hours.
    account = automatic_account(
        sandbox_settings,
        daily_limit=2,
        timezone="Europe/Berlin",
        window_start=datetime.time(0, 0),
        window_end=datetime.time(23, 59),
        window_days=list(range(7)),
    )
    start = datetime.datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # 00:30 Sunday, CEST
    for message in queue(account, 6):
        Message.objects.filter(pk=message.pk).update(next_attempt_at=start)
    tick(sandbox_client, now=start)
    tick(sandbox_client, now=datetime.datetime(2026, 10, 25, 22, 10, tzinfo=UTC))  # 23:10 Sun CET
    assert Message.objects.filter(status="sent").count() == 2
    tick(sandbox_client, now=datetime.datetime(2026, 10, 25, 23, 5, tzinfo=UTC))  # 00:05 Mon CET
    assert Message.objects.filter(status="sent").count() == 4


def test_nothing_goes_out_outside_the_send_window(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings)
    queue(account, 2)
    saturday = datetime.datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    evening = WEDNESDAY.replace(hour=18)
    assert tick(sandbox_client, now=saturday).claimed == 0
    assert tick(sandbox_client, now=evening).claimed == 0
    assert statuses() == ["queued", "queued"]


def test_staggering_sends_one_per_interval(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings, min_interval_seconds=120, jitter_seconds=0)
    queue(account, 3)
    sent_at = []
    for minute in range(5):
        now = WEDNESDAY + datetime.timedelta(minutes=minute)
        if tick(sandbox_client, now=now).sent:
            sent_at.append(minute)
    assert sent_at == [0, 2, 4]


def test_scheduled_messages_wait_for_their_time(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings)
    later = WEDNESDAY + datetime.timedelta(hours=2)
    MessageFactory(account=account, scheduled_for=later, next_attempt_at=later)
    assert tick(sandbox_client).claimed == 0
    assert tick(sandbox_client, now=later).sent == 1


def test_paused_and_disconnected_accounts_send_nothing(sandbox_settings, sandbox_client):
    paused = automatic_account(sandbox_settings, status="paused")
    queue(paused, 1)
    assert tick(sandbox_client).claimed == 0
    assert statuses() == ["queued"]


def test_do_not_contact_is_checked_at_claim_time(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings)
    message = queue(account, 1)[0]
    message.contact.mark_do_not_contact("asked to stop")
    result = tick(sandbox_client)
    assert (result.cancelled, result.sent) == (1, 0)
    message.refresh_from_db()
    assert message.status == "cancelled" and "do-not-contact" in message.last_error
    assert sandbox_settings.sent_messages() == []


# --- every fault the sandbox can inject ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "delivered"),
    [
        ({"status": 500}, "uncertain", 1),
        ({"status": 502}, "uncertain", 1),
        ({"status": 504}, "uncertain", 1),
        ({"drop": True}, "uncertain", 1),
        ({"status": 503}, "queued", 0),
    ],
)
def test_faults_lead_to_the_prescribed_state(
    sandbox_settings, sandbox_client, fault, status, delivered
):
    account = automatic_account(sandbox_settings)
    message = queue(account, 1)[0]
    sandbox_settings.add_faults([fault])
    tick(sandbox_client)
    message.refresh_from_db()
    assert message.status == status
    assert len(sandbox_settings.sent_messages()) == delivered
    # An uncertain message is never retried automatically.
    tick(sandbox_client, now=WEDNESDAY + datetime.timedelta(hours=3))
    if status == "uncertain":
        message.refresh_from_db()
        assert message.status == "uncertain"
        assert len(sandbox_settings.sent_messages()) == 1


def test_a_read_timeout_is_uncertain(sandbox_settings, make_sandbox_client):
    client = make_sandbox_client(sandbox_settings, read_timeout=0.5)
    account = automatic_account(sandbox_settings)
    message = queue(account, 1)[0]
    sandbox_settings.add_faults([{"delay": 1.5}])
    dispatch_tick(now=WEDNESDAY, client=client)
    message.refresh_from_db()
    assert message.status == "uncertain" and "Decide by hand" in message.last_error


def test_a_retryable_failure_backs_off_then_succeeds(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings)
    message = queue(account, 1)[0]
    sandbox_settings.add_faults([{"status": 503}])
    assert tick(sandbox_client).retried == 1
    message.refresh_from_db()
    assert message.next_attempt_at >= WEDNESDAY + datetime.timedelta(seconds=60)
    assert tick(sandbox_client, now=WEDNESDAY + datetime.timedelta(seconds=30)).claimed == 0
    assert tick(sandbox_client, now=WEDNESDAY + datetime.timedelta(minutes=5)).sent == 1


def test_retryable_failures_give_up_after_the_maximum(sandbox_settings, sandbox_client, settings):
    settings.MESSAGE_MAX_ATTEMPTS = 2
    account = automatic_account(sandbox_settings)
    message = queue(account, 1)[0]
    sandbox_settings.add_faults([{"status": 503}, {"status": 503}])
    tick(sandbox_client)
    tick(sandbox_client, now=WEDNESDAY + datetime.timedelta(hours=2))
    message.refresh_from_db()
    assert message.status == "failed" and "Gave up after 2 attempts" in message.last_error


@pytest.mark.parametrize("retry_after", [None, 600])
def test_429_holds_the_account_until_linkedins_next_day_or_retry_after(
    sandbox_settings, sandbox_client, retry_after
):
    account = automatic_account(sandbox_settings)
    queue(account, 3)
    fault = {"status": 429, **({"retry_after": retry_after} if retry_after else {})}
    sandbox_settings.add_faults([fault])
    result = tick(sandbox_client)
    assert (result.sent, result.retried) == (0, 3)
    account.refresh_from_db()
    expected = (
        WEDNESDAY + datetime.timedelta(seconds=retry_after)
        if retry_after
        else datetime.datetime(2026, 11, 26, tzinfo=UTC)
    )
    assert account.hold_until == expected
    assert statuses() == ["queued"] * 3
    assert Message.objects.filter(attempts=0).count() == 3  # a 429 costs no attempt
    assert tick(sandbox_client, now=expected - datetime.timedelta(seconds=1)).claimed == 0
    # Once the hold is over (and inside the send window), sending resumes.
    resume = expected if retry_after else expected.replace(hour=9)
    assert tick(sandbox_client, now=resume).sent == 3


def test_401_without_refresh_token_needs_reconnect_and_keeps_messages_queued(
    sandbox_settings, sandbox_client
):
    account = automatic_account(sandbox_settings)
    queue(account, 2)
    sandbox_settings.add_faults([{"status": 401}])
    tick(sandbox_client)
    account.refresh_from_db()
    assert account.status == "needs_reconnect"
    assert statuses() == ["queued", "queued"]
    assert tick(sandbox_client, now=WEDNESDAY + datetime.timedelta(minutes=1)).claimed == 0


def test_401_with_a_refresh_token_refreshes_once_and_sends(
    partner_sandbox_settings, make_sandbox_client
):
    from tests.messaging.test_accounts import sandbox_grant

    sandbox = partner_sandbox_settings
    client = make_sandbox_client(sandbox)
    grant = sandbox_grant(sandbox)
    account = automatic_account(
        sandbox, access_token=grant["access_token"], refresh_token=grant["refresh_token"]
    )
    queue(account, 1)
    sandbox.add_faults([{"status": 401}])
    result = dispatch_tick(now=WEDNESDAY, client=client)
    assert result.sent == 1
    account.refresh_from_db()
    assert account.status == "active" and account.access_token != grant["access_token"]


def test_permanent_errors_fail_the_message(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings)
    message = queue(account, 1, contact=ContactFactory(member_urn="urn:li:person:unknown-1"))[0]
    tick(sandbox_client)
    message.refresh_from_db()
    assert message.status == "failed" and message.last_error
    account.refresh_from_db()
    assert account.last_sent_at is None


# --- the reaper ---------------------------------------------------------------------------------


def test_the_reaper_makes_stuck_sends_uncertain(sandbox_settings, sandbox_client, settings):
    account = automatic_account(sandbox_settings)
    message = queue(account, 1)[0]
    with bypass():  # the state this test starts from
        Message.objects.filter(pk=message.pk).update(status="sending", claimed_at=WEDNESDAY)
    assert reap_stuck_sends(now=WEDNESDAY + datetime.timedelta(seconds=60)) == 0
    later = WEDNESDAY + datetime.timedelta(seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS + 1)
    assert reap_stuck_sends(now=later) == 1
    message.refresh_from_db()
    assert message.status == "uncertain"
    assert tick(sandbox_client, now=later).claimed == 0
    assert sandbox_settings.sent_messages() == []


def test_process_messages_command_prints_json(sandbox_settings, capsys):
    import json

    from django.core.management import call_command

    account = automatic_account(sandbox_settings, mode="assisted")
    queue(account, 1)
    with time_machine.travel(WEDNESDAY, tick=False):
        call_command("process_messages", "--json")
    result = json.loads(capsys.readouterr().out)
    assert result == {
        "claimed": 1, "sent": 0, "released": 1, "retried": 0, "uncertain": 0,
        "failed": 0, "cancelled": 0, "capped_accounts": [],
    }  # fmt: skip


def test_process_messages_refuses_an_unknown_account():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="No LinkedIn account 999"):
        call_command("process_messages", "--account", "999")


def test_streams_share_an_accounts_cap_round_robin(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings, daily_limit=6)
    early = WEDNESDAY - datetime.timedelta(hours=1)
    # A big campaign queued first would take the whole cap if served oldest-first.
    big = [
        MessageFactory(account=account, stream="campaign:1", next_attempt_at=early)
        for _ in range(10)
    ]
    small = [
        MessageFactory(account=account, stream="campaign:2", next_attempt_at=WEDNESDAY)
        for _ in range(2)
    ]
    one_off = [
        MessageFactory(account=account, stream="", next_attempt_at=WEDNESDAY) for _ in range(2)
    ]
    tick(sandbox_client)
    sent = set(Message.objects.filter(status="sent").values_list("pk", flat=True))
    assert len(sent) == 6
    assert {m.pk for m in small} <= sent and {m.pk for m in one_off} <= sent
    assert len(sent & {m.pk for m in big}) == 2


def test_staggered_sends_share_the_cap_between_streams_too(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings, daily_limit=6, min_interval_seconds=60)
    early = WEDNESDAY - datetime.timedelta(hours=1)
    big = [
        MessageFactory(account=account, stream="campaign:1", next_attempt_at=early)
        for _ in range(10)
    ]
    one_off = [
        MessageFactory(account=account, stream="", next_attempt_at=WEDNESDAY) for _ in range(3)
    ]
    for minute in range(6):
        tick(sandbox_client, now=WEDNESDAY + datetime.timedelta(minutes=minute))
    sent = set(Message.objects.filter(status="sent").values_list("pk", flat=True))
    assert len(sent) == 6
    assert len(sent & {m.pk for m in one_off}) == 3
    assert len(sent & {m.pk for m in big}) == 3


# --- outcomes are recorded per batch ----------------------------------------------------------


class Watching:
    """The sandbox client, noting what the database shows each time a message goes out."""

    def __init__(self, client, before_send=None):
        self.client = client
        self.before_send = before_send
        self.seen = []

    def send_message(self, *args, **kwargs):
        self.seen.append(sorted(Message.objects.values_list("status", flat=True)))
        if self.before_send:
            self.before_send()
        return self.client.send_message(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_a_batch_records_each_outcome_with_its_history(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings)
    good = queue(account, 2)
    bad = queue(account, 1, contact=ContactFactory(member_urn="urn:li:person:unknown-2"))[0]
    result = tick(sandbox_client)
    assert (result.claimed, result.sent, result.failed) == (3, 2, 1)
    received = {m["idempotency_key"]: m["id"] for m in sandbox_settings.sent_messages()}
    for message in good:
        message.refresh_from_db()
        assert (message.status, message.sent_at, message.last_error) == ("sent", WEDNESDAY, "")
        assert message.external_id == received[str(message.idempotency_key)]
        assert message.claim_token and message.attempts == 1
        events = [(e.status, e.note, e.at) for e in message.events.all()]
        assert events == [("sending", "", WEDNESDAY), ("sent", "", WEDNESDAY)]
    bad.refresh_from_db()
    assert bad.status == "failed" and bad.last_error and bad.sent_at is None
    events = [(e.status, e.note) for e in bad.events.all()]
    assert events == [("sending", ""), ("failed", bad.last_error)]
    account.refresh_from_db()
    assert account.last_sent_at == WEDNESDAY  # the account page's "Last sent"


@pytest.mark.parametrize(
    ("flush_seconds", "first_while_second_goes"), [(0, "sent"), (60, "sending")]
)
def test_outcomes_are_written_at_least_every_flush_interval(
    sandbox_settings, sandbox_client, settings, flush_seconds, first_while_second_goes
):
    settings.MESSAGE_OUTCOME_FLUSH_SECONDS = flush_seconds
    account = automatic_account(sandbox_settings)
    queue(account, 2)
    client = Watching(sandbox_client)
    assert dispatch_tick(now=WEDNESDAY, client=client).sent == 2
    # While the second message goes out, the first one's answer is recorded already (the
    # interval has passed) or not yet (it is still `sending`, as after a crash).
    assert client.seen == [["sending", "sending"], sorted([first_while_second_goes, "sending"])]
    assert statuses() == ["sent", "sent"]


def test_linkedins_answer_overrides_the_reapers_guess(sandbox_settings, sandbox_client, settings):
    account = automatic_account(sandbox_settings)
    message = queue(account, 1)[0]
    later = WEDNESDAY + datetime.timedelta(seconds=settings.MESSAGE_SENDING_TIMEOUT_SECONDS + 1)
    # The send takes so long that the reaper calls it uncertain meanwhile; then LinkedIn
    # answers that it was sent.
    client = Watching(sandbox_client, before_send=lambda: reap_stuck_sends(now=later))
    assert dispatch_tick(now=WEDNESDAY, client=client).sent == 1
    message.refresh_from_db()
    assert message.status == "sent"
    recorded = message.events.order_by("pk").values_list("status", flat=True)
    assert list(recorded) == ["sending", "uncertain", "sent"]


def test_a_batch_stopped_by_an_error_records_the_answers_it_had(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings)
    queue(account, 3)

    class Broken(Exception):
        pass

    calls = []

    def fail_on_third():
        calls.append(1)
        if len(calls) == 3:
            raise Broken  # not a LinkedIn answer: the tick stops

    with pytest.raises(Broken):
        dispatch_tick(now=WEDNESDAY, client=Watching(sandbox_client, before_send=fail_on_third))
    # The two answers LinkedIn gave are recorded; the third message never went out and stays
    # `sending` for the reaper.
    assert statuses() == ["sending", "sent", "sent"]
    assert len(sandbox_settings.sent_messages()) == 2


# --- the fair share, against the window query it replaced ----------------------------------------


def _window_choice(account, now, allowed):
    """The claim as the dispatcher used to choose it: every due message numbered within its
    stream by age, then the first of every stream, the second of every stream, and so on."""
    turn = Window(RowNumber(), partition_by=[F("stream")], order_by=[F("next_attempt_at"), F("pk")])
    due = Message.objects.due(now).filter(account=account).annotate(turn=turn)
    return list(
        due.order_by("turn", "next_attempt_at", "pk").values_list("pk", flat=True)[:allowed]
    )


def _neediest_choice(account, now, usage):
    """One message as the dispatcher used to choose it: the stream with the fewest of today's
    slots, then the oldest due message, then the stream's name; its oldest message."""
    due = Message.objects.due(now).filter(account=account)
    per_stream = due.order_by().values_list("stream").annotate(first=Min("next_attempt_at"))
    oldest = dict(per_stream.values_list("stream", "first"))
    stream = min(oldest, key=lambda s: (usage.get(s, 0), oldest[s], s))
    first = due.filter(stream=stream).order_by("next_attempt_at", "pk")
    return list(first.values_list("pk", flat=True)[:1])


def _random_queue(account, rng, now):
    streams = ["", "campaign:1", "campaign:2", "campaign:10"]
    # Few distinct ages, so that ties between streams and within a stream are common.
    ages = [now - datetime.timedelta(minutes=m) for m in (5, 30, 30, 90)]
    for _ in range(rng.randint(20, 60)):
        fields = {"stream": rng.choice(streams), "next_attempt_at": rng.choice(ages)}
        kind = rng.random()
        if kind < 0.1:
            fields["held"] = True
        elif kind < 0.15:
            fields["next_attempt_at"] = now + datetime.timedelta(hours=1)  # not due yet
        elif kind < 0.3:  # sent earlier today: uses a slot of the cap and of its stream's share
            fields.update(status="sent", claimed_at=now - datetime.timedelta(hours=1))
        MessageFactory(account=account, **fields)


@pytest.mark.parametrize("seed", range(6))
def test_a_burst_claims_what_the_window_query_chose(sandbox_settings, sandbox_client, seed):
    import random

    rng = random.Random(seed)
    account = automatic_account(sandbox_settings, mode="assisted", daily_limit=rng.randint(8, 30))
    _random_queue(account, rng, WEDNESDAY)
    used = Message.objects.filter(status="sent").count()
    expected = _window_choice(account, WEDNESDAY, account.daily_limit - used)
    assert tick(sandbox_client).released == len(expected)
    released = Message.objects.filter(status="released").values_list("pk", flat=True)
    assert sorted(released) == sorted(expected)


@pytest.mark.parametrize("seed", range(6))
def test_a_staggered_tick_claims_what_the_neediest_stream_rule_chose(
    sandbox_settings, sandbox_client, seed
):
    import random

    rng = random.Random(100 + seed)
    account = automatic_account(
        sandbox_settings, mode="assisted", daily_limit=100, min_interval_seconds=60
    )
    _random_queue(account, rng, WEDNESDAY)
    sent = Message.objects.filter(status="sent").values_list("stream").annotate(n=Count("pk"))
    usage = dict(sent.values_list("stream", "n"))
    expected = _neediest_choice(account, WEDNESDAY, usage)
    assert tick(sandbox_client).released == 1
    assert list(Message.objects.filter(status="released").values_list("pk", flat=True)) == expected


def test_a_staggered_tie_between_streams_goes_by_stream_name(sandbox_settings, sandbox_client):
    account = automatic_account(sandbox_settings, mode="assisted", min_interval_seconds=60)
    early = WEDNESDAY - datetime.timedelta(hours=1)
    # Equally old, equally served today: the name decides, not which was queued first.
    MessageFactory(account=account, stream="campaign:2", next_attempt_at=early)
    first = MessageFactory(account=account, stream="campaign:1", next_attempt_at=early)
    assert tick(sandbox_client).released == 1
    assert list(Message.objects.filter(status="released")) == [first]


def test_a_tick_for_one_account_leaves_other_accounts_outboxes_alone(
    sandbox_settings, sandbox_client
):
    mine = automatic_account(sandbox_settings, mode="assisted")
    theirs = LinkedInAccountFactory()
    for account in (mine, theirs):
        message = MessageFactory(account=account, status="released")
        message.contact.mark_do_not_contact("asked to stop")
    assert tick(sandbox_client, account_id=mine.pk).cancelled == 1
    assert dict(Message.objects.values_list("account_id", "status")) == {
        mine.pk: "cancelled",
        theirs.pk: "released",
    }


def test_putting_back_writes_history_only_for_messages_it_changed(sandbox_settings):
    from messaging.sending import requeue

    account = automatic_account(sandbox_settings)
    sending, settled = queue(account, 2)
    with bypass():  # the state this test starts from
        Message.objects.filter(pk=sending.pk).update(
            status="sending", claimed_at=WEDNESDAY, attempts=1
        )
    with bypass():  # the state this test starts from
        Message.objects.filter(pk=settled.pk).update(
            status="sent", claimed_at=WEDNESDAY, attempts=1
        )
    assert requeue([sending, settled], now=WEDNESDAY, next_attempt_at=WEDNESDAY, note="back") == 1
    assert list(MessageEvent.objects.values_list("message_id", "status")) == [
        (sending.pk, "queued")
    ]
    with bypass():  # the state this test starts from
        Message.objects.filter(pk=sending.pk).update(status="sending", claimed_at=WEDNESDAY)
    later = WEDNESDAY + datetime.timedelta(days=1)
    assert reap_stuck_sends(now=later) == 1
    assert MessageEvent.objects.filter(note="reaper").get().message_id == sending.pk
