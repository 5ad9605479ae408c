"""When the messages go out: caps, windows, spacing and DST. Pure functions, no database."""

import datetime
import random
import time
import zoneinfo

import pytest

from messaging.forecast import Forecast, days_label, forecast, forecast_sequence

UTC = datetime.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")

# 50 a day, Mon–Fri 09:00–17:00 Berlin, 120 s + 60 s jitter: one send every 150 s on average.
ACCOUNT = {
    "daily_limit": 50,
    "timezone": "Europe/Berlin",
    "window_days": [0, 1, 2, 3, 4],
    "window_start": datetime.time(9, 0),
    "window_end": datetime.time(17, 0),
    "min_interval_seconds": 120,
    "jitter_seconds": 60,
}
MONDAY_8AM = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)  # CET, UTC+1


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def berlin(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def test_it_spreads_340_messages_over_seven_weekdays():
    result = forecast(count=340, now=MONDAY_8AM, **ACCOUNT)

    # Mon–Fri: 250, next Mon: 300, next Tue: the last 40, the 40th at 09:00 + 39 × 150 s.
    assert result.per_day == 50
    assert result.days == 7
    assert result.first_at == berlin(2026, 3, 2, 9, 0)
    assert result.last_at == berlin(2026, 3, 10, 10, 37, 30)
    assert result.last_at.tzinfo is UTC
    assert result.describe("Europe/Berlin") == (
        "340 messages; at 50/day inside Mon–Fri 09:00–17:00 Europe/Berlin the last goes out "
        "on Tue 10 Mar 2026 around 10:40."
    )


def test_it_skips_weekends():
    friday = datetime.datetime(2026, 3, 6, 8, 0, tzinfo=BERLIN)

    result = forecast(count=60, now=friday, **ACCOUNT)

    assert result.days == 2
    assert result.last_at == berlin(2026, 3, 9, 9, 22, 30)  # Monday, the 10th of that day


def test_it_starts_on_monday_when_asked_on_a_weekend():
    saturday = datetime.datetime(2026, 3, 7, 10, 0, tzinfo=BERLIN)

    result = forecast(count=1, now=saturday, **ACCOUNT)

    assert result.first_at == result.last_at == berlin(2026, 3, 9, 9, 0)


def test_it_follows_the_window_across_the_spring_dst_change():
    # Berlin moves from UTC+1 to UTC+2 on Sunday 29 Mar 2026: 09:00 is 08:00 UTC on Friday
    # and 07:00 UTC on Monday.
    friday = datetime.datetime(2026, 3, 27, 8, 0, tzinfo=BERLIN)

    result = forecast(count=51, now=friday, **ACCOUNT)

    assert result.first_at == utc(2026, 3, 27, 8, 0)
    assert result.last_at == utc(2026, 3, 30, 7, 0)


def test_it_counts_the_real_length_of_a_window_that_contains_the_spring_change():
    # 01:00–04:00 every day, one send an hour. Saturday: 4 sends. Sunday 29 Mar the clocks
    # jump from 02:00 to 03:00, the window lasts 2 hours: 3 sends (00:00, 01:00, 02:00 UTC).
    account = {
        **ACCOUNT,
        "window_days": list(range(7)),
        "window_start": datetime.time(1, 0),
        "window_end": datetime.time(4, 0),
        "min_interval_seconds": 3600,
        "jitter_seconds": 0,
        "daily_limit": 10,
    }
    saturday = datetime.datetime(2026, 3, 28, 0, 0, tzinfo=BERLIN)

    seven = forecast(count=7, now=saturday, **account)
    eight = forecast(count=8, now=saturday, **account)

    assert seven.per_day == 4
    assert (seven.days, seven.last_at) == (2, utc(2026, 3, 29, 2, 0))
    assert (eight.days, eight.last_at) == (3, utc(2026, 3, 29, 23, 0))  # Mon 01:00 CEST


def test_it_counts_the_real_length_of_a_window_that_contains_the_autumn_change():
    # Sunday 25 Oct 2026 the clocks go back from 03:00 to 02:00: 01:00–04:00 lasts 4 hours
    # and fits 5 sends an hour apart (23:00 … 03:00 UTC).
    account = {
        **ACCOUNT,
        "window_days": list(range(7)),
        "window_start": datetime.time(1, 0),
        "window_end": datetime.time(4, 0),
        "min_interval_seconds": 3600,
        "jitter_seconds": 0,
        "daily_limit": 10,
    }
    saturday = datetime.datetime(2026, 10, 24, 0, 0, tzinfo=BERLIN)

    result = forecast(count=9, now=saturday, **account)

    assert result.days == 2
    assert result.last_at == utc(2026, 10, 25, 3, 0)


def test_it_counts_what_was_already_sent_today():
    result = forecast(count=10, now=MONDAY_8AM, already_today=45, **ACCOUNT)

    # 5 left today (09:00 … 09:10), 5 on Tuesday.
    assert result.days == 2
    assert result.first_at == berlin(2026, 3, 2, 9, 0)
    assert result.last_at == berlin(2026, 3, 3, 9, 10)


def test_it_starts_tomorrow_when_todays_cap_is_used_up():
    result = forecast(count=1, now=MONDAY_8AM, already_today=50, **ACCOUNT)

    assert result.first_at == berlin(2026, 3, 3, 9, 0)


def test_it_lets_messages_queued_before_go_first():
    result = forecast(count=30, now=MONDAY_8AM, queued_before=30, **ACCOUNT)

    # Slots 0–29 on Monday are taken; ours are 30–49 on Monday and 0–9 on Tuesday.
    assert result.first_at == berlin(2026, 3, 2, 10, 15)
    assert result.last_at == berlin(2026, 3, 3, 9, 22, 30)
    assert result.days == 2


def test_it_shifts_by_whole_days_when_the_queue_ahead_is_long():
    result = forecast(count=10, now=MONDAY_8AM, queued_before=120, **ACCOUNT)

    # Mon and Tue are full with the queue ahead; Wednesday 20 more of it, then ours.
    assert result.first_at == berlin(2026, 3, 4, 9, 50)
    assert result.last_at == berlin(2026, 3, 4, 10, 12, 30)
    assert result.days == 1


def test_it_fits_only_what_the_interval_allows_in_a_short_window():
    account = {
        **ACCOUNT,
        "window_end": datetime.time(10, 0),
        "min_interval_seconds": 600,
        "jitter_seconds": 0,
    }

    result = forecast(count=14, now=MONDAY_8AM, **account)

    # 09:00, 09:10, … 10:00: 7 a day although the cap is 50.
    assert result.per_day == 7
    assert result.days == 2
    assert result.last_at == berlin(2026, 3, 3, 10, 0)


@pytest.mark.parametrize(("interval", "jitter"), [(0, 0), (30, 20), (59, 0)])
def test_it_sends_at_most_one_a_minute_because_the_dispatcher_ticks_each_minute(interval, jitter):
    account = {
        **ACCOUNT,
        "window_end": datetime.time(10, 0),
        "daily_limit": 500,
        "min_interval_seconds": interval,
        "jitter_seconds": jitter,
    }

    assert forecast(count=1, now=MONDAY_8AM, **account).per_day == 61


def test_it_uses_the_mean_jitter():
    account = {**ACCOUNT, "min_interval_seconds": 100, "jitter_seconds": 100}

    result = forecast(count=2, now=MONDAY_8AM, **account)

    assert result.last_at - result.first_at == datetime.timedelta(seconds=150)


def test_it_starts_tomorrow_when_todays_window_is_over():
    evening = datetime.datetime(2026, 3, 2, 18, 0, tzinfo=BERLIN)

    result = forecast(count=1, now=evening, **ACCOUNT)

    assert result.first_at == berlin(2026, 3, 3, 9, 0)


def test_it_starts_now_inside_the_window():
    noon = datetime.datetime(2026, 3, 2, 12, 34, 56, tzinfo=BERLIN)

    result = forecast(count=3, now=noon, **ACCOUNT)

    assert result.first_at == noon.astimezone(UTC)
    assert result.last_at == berlin(2026, 3, 2, 12, 39, 56)


def test_it_reads_today_in_the_accounts_time_zone():
    # 23:30 UTC on Sunday is already Monday 00:30 in Berlin: Monday's window counts as today.
    result = forecast(count=1, now=utc(2026, 3, 1, 23, 30), already_today=50, **ACCOUNT)

    assert result.first_at == berlin(2026, 3, 3, 9, 0)


def test_it_has_nothing_to_forecast_for_zero_messages():
    result = forecast(count=0, now=MONDAY_8AM, **ACCOUNT)

    assert (result.first_at, result.last_at, result.days, result.per_day) == (None, None, 0, 50)
    assert result.describe("Europe/Berlin") == "Nothing to send."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"window_days": []}, "at least one weekday"),
        ({"window_days": [7]}, "at least one weekday"),
        ({"daily_limit": 0}, "daily limit"),
        ({"window_end": datetime.time(9, 0)}, "end after it starts"),
        ({"count": -1}, "negative"),
        ({"queued_before": -1}, "negative"),
        ({"timezone": "Mars/Olympus"}, "not a time zone"),
        ({"now": datetime.datetime(2026, 3, 2, 8, 0)}, "aware"),
    ],
)
def test_it_rejects_invalid_input(change, message):
    arguments = {**ACCOUNT, "count": 10, "now": MONDAY_8AM, **change}

    with pytest.raises(ValueError, match=message):
        forecast(**arguments)


def test_it_refuses_a_forecast_beyond_the_calendar():
    account = {**ACCOUNT, "daily_limit": 1, "window_days": [6]}

    with pytest.raises(ValueError, match="year 9999"):
        forecast(count=1_000_000, now=MONDAY_8AM, **account)


def test_it_describes_one_message_and_other_time_zones():
    one = forecast(count=1, now=MONDAY_8AM, **ACCOUNT)
    many = forecast(count=340, now=MONDAY_8AM, **ACCOUNT)

    assert one.describe("Europe/Berlin") == (
        "1 message; at 50/day inside Mon–Fri 09:00–17:00 Europe/Berlin it goes out "
        "on Mon 02 Mar 2026 around 09:00."
    )
    # New York is already on summer time on 10 Mar 2026 (UTC-4).
    assert many.describe("America/New_York").endswith(
        "the last goes out on Tue 10 Mar 2026 around 05:40 America/New_York."
    )


def test_it_describes_a_forecast_built_by_hand():
    result = Forecast(
        count=2, first_at=utc(2026, 1, 1, 9), last_at=utc(2026, 1, 1, 9, 2), per_day=5, days=1
    )

    assert (
        result.describe("UTC")
        == "2 messages; at 5/day the last goes out on Thu 01 Jan 2026 around 09:00."
    )


@pytest.mark.parametrize(
    ("days", "label"),
    [
        ([0, 1, 2, 3, 4], "Mon–Fri"),
        ([4, 0, 2], "Mon, Wed, Fri"),
        ([5, 6], "Sat, Sun"),
        ([0, 1, 2, 4], "Mon–Wed, Fri"),
        (list(range(7)), "Mon–Sun"),
    ],
)
def test_it_labels_the_window_days(days, label):
    assert days_label(days) == label


# --- against a message-by-message reference --------------------------------------------------


def one_by_one(
    *,
    count,
    daily_limit,
    timezone,
    window_days,
    window_start,
    window_end,
    min_interval_seconds,
    jitter_seconds,
    now,
    already_today=0,
    queued_before=0,
    not_before=None,
):
    """The slow obvious simulation: place every message, one at a time."""
    zone = zoneinfo.ZoneInfo(timezone)
    spacing = max(min_interval_seconds + jitter_seconds / 2, 60)
    today = day = now.astimezone(zone).date()
    ready = max(now, not_before or now).astimezone(UTC)
    sends: list[datetime.datetime] = []
    while len(sends) < queued_before + count:
        if day.weekday() in window_days:
            start = datetime.datetime.combine(day, window_start, tzinfo=zone).astimezone(UTC)
            end = datetime.datetime.combine(day, window_end, tzinfo=zone).astimezone(UTC)
            at = max(start, now.astimezone(UTC)) if day == today else start
            used = already_today if day == today else 0
            while used < daily_limit and len(sends) < queued_before + count:
                if len(sends) >= queued_before:  # ours: not before "Send at"
                    at = max(at, ready)
                if at > end:
                    break
                sends.append(at)
                used += 1
                at += datetime.timedelta(seconds=spacing)
        day += datetime.timedelta(days=1)
    ours = sends[queued_before:]
    return ours[0], ours[-1], len({at.astimezone(zone).date() for at in ours})


def test_it_agrees_with_placing_messages_one_by_one():
    rng = random.Random(2026)
    zones = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
    for _ in range(150):
        start_hour = rng.randrange(0, 12)
        arguments = {
            "count": rng.randrange(1, 2000),
            "daily_limit": rng.randrange(1, 80),
            "timezone": rng.choice(zones),
            "window_days": rng.sample(range(7), rng.randrange(1, 8)),
            "window_start": datetime.time(start_hour, rng.choice([0, 30])),
            "window_end": datetime.time(rng.randrange(start_hour + 1, 24), rng.choice([0, 59])),
            "min_interval_seconds": rng.choice([0, 120, 600, 3600, 7200]),
            "jitter_seconds": rng.choice([0, 60, 600]),
            "now": utc(2026, rng.randrange(1, 13), rng.randrange(1, 29), rng.randrange(24)),
            "already_today": rng.randrange(0, 5),
            "queued_before": rng.choice([0, 10, 700]),
            "not_before": rng.choice([None, None, utc(2026, 12, 24, rng.randrange(24))]),
        }

        result = forecast(**arguments)

        assert (result.first_at, result.last_at, result.days) == one_by_one(**arguments), arguments


# --- performance -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"daily_limit": 1, "window_days": [6]},
        # Spacing-bound over a window that contains the DST switch: the slower week-by-week path.
        {
            "window_start": datetime.time(0, 0),
            "window_end": datetime.time(23, 59),
            "min_interval_seconds": 3600,
            "jitter_seconds": 0,
            "daily_limit": 500,
        },
    ],
    ids=["50-a-day", "1-a-week", "dst-sensitive"],
)
def test_it_forecasts_100000_messages_in_well_under_50_ms(change, capsys):
    """PERFORMANCE: the budget is 50 ms; the assertion (CPU time) allows 1 s for busy machines.
    The measured time is printed (pytest -s shows it)."""
    arguments = {**ACCOUNT, **change}

    started = time.process_time()
    result = forecast(count=100_000, now=MONDAY_8AM, queued_before=5_000, **arguments)
    elapsed = time.process_time() - started

    with capsys.disabled():
        print(f"\nforecast of 100,000 ({change or 'default'}): {elapsed * 1000:.2f} ms")
    assert result.last_at is not None
    assert elapsed < 1.0  # a few ms; only a disaster (a loop per message) fails


# --- "Send at" and campaign steps (issue #13) --------------------------------------------------

MONDAY_7_DEC = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=BERLIN)


def test_it_sends_a_message_with_send_at_then_not_now():
    send_at = datetime.datetime(2027, 1, 15, 10, 0, tzinfo=BERLIN)  # a Friday

    result = forecast(count=1, now=MONDAY_7_DEC, not_before=send_at, **ACCOUNT)

    assert result.first_at == result.last_at == berlin(2027, 1, 15, 10, 0)
    assert result.describe("Europe/Berlin") == (
        "1 message; at 50/day inside Mon–Fri 09:00–17:00 Europe/Berlin it goes out on "
        "Fri 15 Jan 2027 around 10:00."
    )


def test_a_send_at_outside_the_window_waits_for_the_next_window():
    saturday = datetime.datetime(2027, 1, 16, 10, 0, tzinfo=BERLIN)
    friday_evening = datetime.datetime(2027, 1, 15, 18, 0, tzinfo=BERLIN)

    assert forecast(count=1, now=MONDAY_7_DEC, not_before=saturday, **ACCOUNT).first_at == berlin(
        2027, 1, 18, 9, 0
    )
    assert forecast(
        count=1, now=MONDAY_7_DEC, not_before=friday_evening, **ACCOUNT
    ).first_at == berlin(2027, 1, 18, 9, 0)


def test_a_send_at_in_the_past_means_now():
    result = forecast(
        count=1, now=MONDAY_8AM, not_before=MONDAY_8AM - datetime.timedelta(days=1), **ACCOUNT
    )

    assert result.first_at == berlin(2026, 3, 2, 9, 0)


def test_the_queue_ahead_still_goes_first_after_send_at():
    # 120 ahead: Mon 50, Tue 50, Wed 20 (09:00 … 09:47:30). "Send at" Tuesday 09:00 is
    # passed by then: ours follow the queue, at 09:50 on Wednesday.
    tuesday = datetime.datetime(2026, 3, 3, 9, 0, tzinfo=BERLIN)

    result = forecast(count=2, now=MONDAY_8AM, queued_before=120, not_before=tuesday, **ACCOUNT)

    assert (result.first_at, result.last_at) == (
        berlin(2026, 3, 4, 9, 50),
        berlin(2026, 3, 4, 9, 52, 30),
    )


def test_send_at_after_the_queue_ahead_has_gone_keeps_its_time_and_the_days_cap():
    # 10 ahead go out 09:00 … 09:22:30; ours are due at 13:00 and fill the 40 slots left
    # (13:00 … 14:37:30), the other 5 go out on Tuesday from 09:00.
    one_pm = datetime.datetime(2026, 3, 2, 13, 0, tzinfo=BERLIN)

    result = forecast(count=45, now=MONDAY_8AM, queued_before=10, not_before=one_pm, **ACCOUNT)

    assert result.first_at == berlin(2026, 3, 2, 13, 0)
    assert result.last_at == berlin(2026, 3, 3, 9, 10)
    assert result.days == 2


def test_a_follow_up_waits_its_delay_after_the_first_step():
    """Issue #13: a dry run of 13 recipients whose step 2 waits three days said the last of the
    26 messages goes out on the first day."""
    result = forecast_sequence(
        recipients=13,
        follow_up_delays=[datetime.timedelta(days=3)],
        now=MONDAY_7_DEC,
        **ACCOUNT,
    )

    # Step 1: Monday 09:00 … 09:30 (13 sends 150 s apart); step 2: each three days later.
    assert result.count == 26
    assert result.first_at == berlin(2026, 12, 7, 9, 0)
    assert result.last_at == berlin(2026, 12, 10, 9, 30)
    assert result.days == 2
    assert result.describe("Europe/Berlin") == (
        "26 messages; at 50/day inside Mon–Fri 09:00–17:00 Europe/Berlin the last goes out "
        "on Thu 10 Dec 2026 around 09:30."
    )


def test_follow_ups_share_the_cap_behind_what_became_due_before_them():
    # 60 recipients, 50 a day, step 2 one day later.
    # Mon: step 1 × 50 (09:00 … 11:02:30).
    # Tue: step 1 × 10 (09:00 … 09:22:30), then step 2 of Monday's 50 from 09:25: 40 fit.
    # Wed: the other 10 of Monday's step 2 (09:00 … 09:22:30), then Tuesday's 10 (09:25 …
    #      09:47:30).
    result = forecast_sequence(
        recipients=60,
        follow_up_delays=[datetime.timedelta(days=1)],
        now=MONDAY_7_DEC,
        **ACCOUNT,
    )

    assert result.last_at == berlin(2026, 12, 9, 9, 47, 30)
    assert result.days == 3


def test_a_follow_up_due_on_a_weekend_goes_out_on_monday():
    thursday = datetime.datetime(2026, 12, 10, 8, 0, tzinfo=BERLIN)

    result = forecast_sequence(
        recipients=1,
        follow_up_delays=[datetime.timedelta(days=2), datetime.timedelta(days=1)],
        now=thursday,
        **ACCOUNT,
    )

    # Step 1 Thu 09:00; step 2 due Sat 09:00, sent Mon 09:00; step 3 Tue 09:00.
    assert result.count == 3
    assert result.last_at == berlin(2026, 12, 15, 9, 0)
    assert result.days == 3


def test_a_campaign_that_starts_later_starts_then():
    starts = datetime.datetime(2027, 1, 15, 14, 0, tzinfo=BERLIN)

    result = forecast_sequence(
        recipients=2,
        follow_up_delays=[datetime.timedelta(days=3)],
        now=MONDAY_7_DEC,
        not_before=starts,
        **ACCOUNT,
    )

    # Fri 14:00 and 14:02:30; step 2 due Mon 18 Jan 14:00 and 14:02:30.
    assert result.first_at == berlin(2027, 1, 15, 14, 0)
    assert result.last_at == berlin(2027, 1, 18, 14, 2, 30)


def test_a_sequence_refuses_a_negative_delay():
    with pytest.raises(ValueError, match="cannot be due before the step it follows"):
        forecast_sequence(
            recipients=1,
            follow_up_delays=[datetime.timedelta(days=-1)],
            now=MONDAY_7_DEC,
            **ACCOUNT,
        )


def steps_one_by_one(
    *,
    recipients,
    follow_up_delays,
    daily_limit,
    timezone,
    window_days,
    window_start,
    window_end,
    min_interval_seconds,
    jitter_seconds,
    now,
    already_today=0,
    queued_before=0,
    not_before=None,
):
    """The slow obvious simulation of a campaign: every slot takes the message that became due
    first; a recipient's next step becomes due its delay after their previous one went out."""
    zone = zoneinfo.ZoneInfo(timezone)
    spacing = datetime.timedelta(seconds=max(min_interval_seconds + jitter_seconds / 2, 60))
    now = now.astimezone(UTC)
    today = day = now.astimezone(zone).date()
    ready = max(now, not_before or now).astimezone(UTC)
    order = iter(range(10**9))
    due = [(now, next(order), -1) for _ in range(queued_before)]
    due += [(ready, next(order), 0) for _ in range(recipients)]
    ours: list[datetime.datetime] = []
    while due:
        due.sort()
        if day.weekday() in window_days:
            start = datetime.datetime.combine(day, window_start, tzinfo=zone).astimezone(UTC)
            end = datetime.datetime.combine(day, window_end, tzinfo=zone).astimezone(UTC)
            at = max(start, now) if day == today else start
            used = already_today if day == today else 0
            while used < daily_limit and due:
                due.sort()
                at = max(at, due[0][0])
                if at > end:
                    break
                _, _, step = due.pop(0)
                if step >= 0:
                    ours.append(at)
                    if step < len(follow_up_delays):
                        due.append((at + follow_up_delays[step], next(order), step + 1))
                used += 1
                at += spacing
        day += datetime.timedelta(days=1)
    return min(ours), max(ours), len({at.astimezone(zone).date() for at in ours})


def test_a_sequence_agrees_with_placing_messages_one_by_one():
    rng = random.Random(13)
    zones = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]
    for _ in range(60):
        start_hour = rng.randrange(0, 12)
        arguments = {
            "recipients": rng.randrange(1, 150),
            "follow_up_delays": [
                datetime.timedelta(days=rng.choice([0, 1, 3, 7]))
                for _ in range(rng.randrange(0, 3))
            ],
            "daily_limit": rng.randrange(1, 60),
            "timezone": rng.choice(zones),
            "window_days": rng.sample(range(7), rng.randrange(1, 8)),
            "window_start": datetime.time(start_hour, rng.choice([0, 30])),
            "window_end": datetime.time(rng.randrange(start_hour + 1, 24), rng.choice([0, 59])),
            "min_interval_seconds": rng.choice([0, 120, 600, 3600]),
            "jitter_seconds": rng.choice([0, 60, 600]),
            "now": utc(2026, rng.randrange(1, 13), rng.randrange(1, 29), rng.randrange(24)),
            "already_today": rng.randrange(0, 5),
            "queued_before": rng.choice([0, 10, 70]),
            "not_before": rng.choice([None, utc(2026, 12, 24, rng.randrange(24))]),
        }

        result = forecast_sequence(**arguments)

        expected = steps_one_by_one(**arguments)
        assert (result.first_at, result.last_at, result.days) == expected, arguments


def test_a_sequence_of_10000_recipients_and_three_steps_is_quick(capsys):
    """The dry run forecasts every sender's share of the audience on each page view."""
    started = time.process_time()
    result = forecast_sequence(
        recipients=10_000,
        follow_up_delays=[datetime.timedelta(days=3), datetime.timedelta(days=7)],
        now=MONDAY_8AM,
        queued_before=5_000,
        **ACCOUNT,
    )
    elapsed = time.process_time() - started

    with capsys.disabled():
        print(f"\nforecast of 10,000 recipients × 3 steps: {elapsed * 1000:.2f} ms")
    assert result.count == 30_000 and result.last_at is not None
    assert elapsed < 1.0
