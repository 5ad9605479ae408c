"""When will the messages go out? An estimate that mirrors the dispatcher's rules (docs/queue.md).

The dispatcher sends an account's messages only on its window days, between window_start and
window_end in the account's time zone, at most daily_limit per calendar day in that zone, and
at least min_interval_seconds plus a random jitter apart. The forecast uses the mean jitter
(half of jitter_seconds), so it is an expectation, not a promise.

The dispatcher ticks once a minute, so an account cannot send faster than one message a
minute whatever min_interval_seconds says: the spacing used here is never below 60 s. (Ticks
also round every gap up to the next minute; that is at most a minute per send and is not
modelled.)

A send at the very last instant of the window is counted (a 1-hour window at 600 s spacing
fits 7 sends: 09:00, 09:10, …, 10:00). The dispatcher's window test is half-open
(start <= time < end), so on a day the spacing rather than the cap limits, this can be one
send too many; on the usual day the cap is reached long before the window ends.

The simulation walks day by day, and jumps whole weeks through the middle of long queues, so
100,000 messages cost a few dozen steps rather than one per message or per day.
"""

import datetime
import math
import zoneinfo
from dataclasses import dataclass

# Also days_label: how the forecast names an account's window days (Mon–Fri).
from linkedin_crm.dates import WEEKDAYS, format_date, window_label
from linkedin_crm.dates import days_label as days_label

UTC = datetime.UTC
DISPATCH_TICK_SECONDS = 60

# Only jump a whole week when this many weeks' worth of work remains, so that the final
# partial weeks (where last_at falls) are always walked day by day.
_WEEKS_KEPT_FOR_DAY_BY_DAY = 2
_MAX_DST_SHIFT = 2 * 3600
_DAY = datetime.timedelta(days=1)
_WEEK = datetime.timedelta(weeks=1)


@dataclass
class Forecast:
    count: int
    first_at: datetime.datetime | None  # aware, UTC
    last_at: datetime.datetime | None  # aware, UTC
    per_day: int  # sends on a full window day
    days: int  # distinct days on which at least one of these messages goes out
    # The window the forecast assumed, for describe().
    timezone: str = "UTC"
    window_days: tuple[int, ...] = ()
    window_start: datetime.time | None = None
    window_end: datetime.time | None = None

    def describe(self, tz_name: str) -> str:
        """One sentence for the dry run; the last send is shown in tz_name, rounded to five
        minutes because the jitter makes anything finer a false precision."""
        if self.count == 0 or self.last_at is None:
            return "Nothing to send."
        last = _round_to_five_minutes(self.last_at).astimezone(_zone(tz_name))
        when = f"{WEEKDAYS[last.weekday()]} {format_date(last)}"
        when += f" around {last:%H:%M}"
        if tz_name != self.timezone:
            when += f" {tz_name}"
        noun = "message" if self.count == 1 else "messages"
        subject = "it goes out" if self.count == 1 else "the last goes out"
        window = ""
        if self.window_days and self.window_start and self.window_end:
            window = " inside " + window_label(
                self.window_days, self.window_start, self.window_end, self.timezone
            )
        return f"{self.count:,} {noun}; at {self.per_day:,}/day{window} {subject} on {when}."


def _round_to_five_minutes(moment: datetime.datetime) -> datetime.datetime:
    seconds = moment.minute * 60 + moment.second + moment.microsecond / 1_000_000
    rounded = round(seconds / 300) * 300
    return moment.replace(minute=0, second=0, microsecond=0) + datetime.timedelta(seconds=rounded)


@dataclass
class _Queue:
    ahead: int  # messages queued ahead of ours, not yet placed
    ours: int  # our messages not yet placed
    first_at: datetime.datetime | None = None
    last_at: datetime.datetime | None = None
    days: int = 0

    def place(self, capacity: int, earliest: datetime.datetime, spacing: float) -> None:
        """Fill one day's capacity: the messages queued ahead first, then ours."""
        taken_ahead = min(capacity, self.ahead)
        self.ahead -= taken_ahead
        taken_ours = min(capacity - taken_ahead, self.ours)
        if taken_ours <= 0:
            return
        self.ours -= taken_ours
        self.days += 1
        if self.first_at is None:
            self.first_at = earliest + datetime.timedelta(seconds=taken_ahead * spacing)
        last_slot = taken_ahead + taken_ours - 1
        self.last_at = earliest + datetime.timedelta(seconds=last_slot * spacing)

    def skippable_weeks(self, week_capacity: int) -> int:
        """Whole weeks that can be counted without walking them: weeks taken entirely by the
        messages ahead, or entirely by ours once the first of ours is placed. Two weeks'
        worth is always left to walk day by day, so first_at and last_at stay exact."""
        kept = _WEEKS_KEPT_FOR_DAY_BY_DAY * week_capacity
        if self.ahead > kept:
            return (self.ahead - kept) // week_capacity
        if self.ahead == 0 and self.first_at is not None and self.ours > kept:
            return (self.ours - kept) // week_capacity
        return 0

    def skip(self, weeks: int, week_capacity: int, send_days_per_week: int) -> None:
        if self.ahead:
            self.ahead -= weeks * week_capacity
        else:
            self.ours -= weeks * week_capacity
            self.days += weeks * send_days_per_week


def _fits(seconds: float, spacing: float) -> int:
    """How many sends fit in a stretch of time, counting one at its very start."""
    if seconds < 0:
        return 0
    return math.floor(seconds / spacing) + 1


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"“{name}” is not a time zone; use an IANA name such as Europe/Berlin."
        ) from None


def forecast(
    *,
    count: int,
    daily_limit: int,
    timezone: str,
    window_days: list[int],
    window_start: datetime.time,
    window_end: datetime.time,
    min_interval_seconds: int,
    jitter_seconds: int,
    now: datetime.datetime,
    already_today: int = 0,
    queued_before: int = 0,
) -> Forecast:
    """When `count` messages from one account go out, after `queued_before` messages queued
    ahead of them, when `already_today` of today's cap are used already."""
    if not window_days or any(day not in range(7) for day in window_days):
        raise ValueError("Choose at least one weekday (0 = Monday … 6 = Sunday) to send on.")
    if daily_limit < 1:
        raise ValueError("The daily limit must be at least 1.")
    if window_start >= window_end:
        raise ValueError("The send window must end after it starts.")
    if min(count, min_interval_seconds, jitter_seconds, already_today, queued_before) < 0:
        raise ValueError(
            "count, min_interval_seconds, jitter_seconds, already_today and queued_before "
            "cannot be negative."
        )
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime.")
    zone = _zone(timezone)

    spacing = max(min_interval_seconds + jitter_seconds / 2, DISPATCH_TICK_SECONDS)
    wall_clock_window = (
        datetime.datetime.combine(datetime.date.min, window_end)
        - datetime.datetime.combine(datetime.date.min, window_start)
    ).total_seconds()
    per_day = min(daily_limit, _fits(wall_clock_window, spacing))
    send_days = frozenset(window_days)
    result = Forecast(
        count=count,
        first_at=None,
        last_at=None,
        per_day=per_day,
        days=0,
        timezone=timezone,
        window_days=tuple(sorted(send_days)),
        window_start=window_start,
        window_end=window_end,
    )
    if count == 0:
        return result

    # A DST switch inside the window changes that day's real length (by up to two hours in
    # any zone's current rules). If that cannot change how many sends fit, every full window
    # day holds per_day and long stretches can be jumped in one step; otherwise the jump is a
    # week at a time, and only over weeks without a switch.
    dst_proof = min(daily_limit, _fits(wall_clock_window - _MAX_DST_SHIFT, spacing)) == min(
        daily_limit, _fits(wall_clock_window + _MAX_DST_SHIFT, spacing)
    )
    week_capacity = per_day * len(send_days)

    def window_on(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
        # Wall-clock times to UTC through zoneinfo, so DST moves the window as it should.
        start = datetime.datetime.combine(day, window_start, tzinfo=zone).astimezone(UTC)
        end = datetime.datetime.combine(day, window_end, tzinfo=zone).astimezone(UTC)
        return start, end

    def no_switch_within_week(day: datetime.date) -> bool:
        first = datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=zone)
        after = datetime.datetime.combine(day + _WEEK, datetime.time(0, 0), tzinfo=zone)
        return first.utcoffset() == after.utcoffset()

    now_utc = now.astimezone(UTC)
    today = now.astimezone(zone).date()
    queue = _Queue(ahead=queued_before, ours=count)
    day = today
    try:
        while queue.ours > 0:
            if day != today and (weeks := queue.skippable_weeks(week_capacity)):
                if not dst_proof:
                    weeks = 1 if no_switch_within_week(day) else 0
                if weeks:
                    queue.skip(weeks, week_capacity, len(send_days))
                    day += weeks * _WEEK
                    continue
            if day.weekday() in send_days:
                start, end = window_on(day)
                earliest, used = start, 0
                if day == today:
                    # Today only what is left of the window and of the cap.
                    earliest, used = max(now_utc, start), already_today
                fits = _fits((end - earliest).total_seconds(), spacing)
                capacity = max(0, min(daily_limit - used, fits))
                if capacity:
                    queue.place(capacity, earliest, spacing)
            day += _DAY
    except OverflowError:
        raise ValueError(
            "At this pace the messages would not all go out before the year 9999."
        ) from None
    result.first_at = queue.first_at
    result.last_at = queue.last_at
    result.days = queue.days
    return result


def forecast_account(account, *, count: int, now: datetime.datetime, **kwargs) -> Forecast:
    """forecast() with an account's sending settings (a LinkedInAccount)."""
    return forecast(
        count=count,
        daily_limit=account.daily_limit,
        timezone=account.timezone,
        window_days=account.window_days,
        window_start=account.window_start,
        window_end=account.window_end,
        min_interval_seconds=account.min_interval_seconds,
        jitter_seconds=account.jitter_seconds,
        now=now,
        **kwargs,
    )
