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

A message queued with a "Send at" (`not_before`) is due only from then: the messages queued
ahead of it go out first, and ours are placed no earlier than that moment, on its day's window
and cap. forecast_sequence() forecasts a campaign's steps: each recipient's next step becomes due
its delay after their previous step went out (the campaign tick queues it then), and joins the
queue behind what became due earlier. It walks every day (no week jumps): a few milliseconds
for 10,000 recipients at 50 a day, about a second for a campaign that would take centuries (50,000
recipients at one message a day).
"""

import datetime
import heapq
import itertools
import math
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field

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

    def place(
        self,
        capacity: int,
        earliest: datetime.datetime,
        end: datetime.datetime,
        spacing: float,
        ready_at: datetime.datetime,
    ) -> None:
        """Fill one day's capacity: the messages queued ahead first, then ours, which are not
        due before ready_at."""
        taken_ahead = min(capacity, self.ahead)
        self.ahead -= taken_ahead
        start = max(earliest + datetime.timedelta(seconds=taken_ahead * spacing), ready_at)
        room = min(capacity - taken_ahead, _fits((end - start).total_seconds(), spacing))
        taken_ours = min(room, self.ours)
        if taken_ours <= 0:
            return
        self.ours -= taken_ours
        self.days += 1
        if self.first_at is None:
            self.first_at = start
        self.last_at = start + datetime.timedelta(seconds=(taken_ours - 1) * spacing)

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


@dataclass
class _Pace:
    """An account's sending settings, checked, with what every forecast derives from them."""

    daily_limit: int
    zone: zoneinfo.ZoneInfo
    send_days: frozenset
    window_start: datetime.time
    window_end: datetime.time
    spacing: float  # seconds between two sends
    wall_clock_window: float  # seconds from window_start to window_end on a day without DST
    per_day: int

    def window_on(self, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
        # Wall-clock times to UTC through zoneinfo, so DST moves the window as it should.
        start = datetime.datetime.combine(day, self.window_start, tzinfo=self.zone)
        end = datetime.datetime.combine(day, self.window_end, tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def room_on(
        self,
        day: datetime.date,
        *,
        today: datetime.date,
        now_utc: datetime.datetime,
        already_today: int,
    ) -> tuple[datetime.datetime, datetime.datetime, int]:
        """The day's window as (earliest send, end) in UTC, and how much of its cap is used:
        today only what is left of the window, with `already_today` used."""
        start, end = self.window_on(day)
        if day == today:
            return max(now_utc, start), end, already_today
        return start, end, 0

    def empty_forecast(self, count: int, timezone: str) -> Forecast:
        return Forecast(
            count=count,
            first_at=None,
            last_at=None,
            per_day=self.per_day,
            days=0,
            timezone=timezone,
            window_days=tuple(sorted(self.send_days)),
            window_start=self.window_start,
            window_end=self.window_end,
        )


def _pace(
    *,
    counts: Sequence[int],
    daily_limit: int,
    timezone: str,
    window_days: list[int],
    window_start: datetime.time,
    window_end: datetime.time,
    min_interval_seconds: int,
    jitter_seconds: int,
    now: datetime.datetime,
    not_before: datetime.datetime | None,
) -> _Pace:
    if not window_days or any(day not in range(7) for day in window_days):
        raise ValueError("Choose at least one weekday (0 = Monday … 6 = Sunday) to send on.")
    if daily_limit < 1:
        raise ValueError("The daily limit must be at least 1.")
    if window_start >= window_end:
        raise ValueError("The send window must end after it starts.")
    if min(*counts, min_interval_seconds, jitter_seconds) < 0:
        raise ValueError(
            "count, min_interval_seconds, jitter_seconds, already_today and queued_before "
            "cannot be negative."
        )
    for moment in (now, not_before):
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise ValueError("now and not_before must be aware datetimes.")
    spacing = max(min_interval_seconds + jitter_seconds / 2, DISPATCH_TICK_SECONDS)
    wall_clock_window = (
        datetime.datetime.combine(datetime.date.min, window_end)
        - datetime.datetime.combine(datetime.date.min, window_start)
    ).total_seconds()
    return _Pace(
        daily_limit=daily_limit,
        zone=_zone(timezone),
        send_days=frozenset(window_days),
        window_start=window_start,
        window_end=window_end,
        spacing=spacing,
        wall_clock_window=wall_clock_window,
        per_day=min(daily_limit, _fits(wall_clock_window, spacing)),
    )


def _start(
    now: datetime.datetime, not_before: datetime.datetime | None, zone: zoneinfo.ZoneInfo
) -> tuple[datetime.datetime, datetime.datetime, datetime.date]:
    """Now in UTC; when ours may go out first (now, or the later not_before) in UTC; and
    today's date in the account's zone, where the walk over days starts."""
    now_utc = now.astimezone(UTC)
    ready_at = max(now_utc, not_before.astimezone(UTC)) if not_before else now_utc
    return now_utc, ready_at, now.astimezone(zone).date()


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
    not_before: datetime.datetime | None = None,
) -> Forecast:
    """When `count` messages from one account go out, after `queued_before` messages queued
    ahead of them, when `already_today` of today's cap are used already; with not_before
    (the composer's "Send at"), none of ours before that moment."""
    pace = _pace(
        counts=(count, already_today, queued_before),
        daily_limit=daily_limit,
        timezone=timezone,
        window_days=window_days,
        window_start=window_start,
        window_end=window_end,
        min_interval_seconds=min_interval_seconds,
        jitter_seconds=jitter_seconds,
        now=now,
        not_before=not_before,
    )
    result = pace.empty_forecast(count, timezone)
    if count == 0:
        return result
    zone, spacing, send_days = pace.zone, pace.spacing, pace.send_days

    # A DST switch inside the window changes that day's real length (by up to two hours in
    # any zone's current rules). If that cannot change how many sends fit, every full window
    # day holds per_day and long stretches can be jumped in one step; otherwise the jump is a
    # week at a time, and only over weeks without a switch.
    dst_proof = min(daily_limit, _fits(pace.wall_clock_window - _MAX_DST_SHIFT, spacing)) == min(
        daily_limit, _fits(pace.wall_clock_window + _MAX_DST_SHIFT, spacing)
    )
    week_capacity = pace.per_day * len(send_days)

    def no_switch_within_week(day: datetime.date) -> bool:
        first = datetime.datetime.combine(day, datetime.time(0, 0), tzinfo=zone)
        after = datetime.datetime.combine(day + _WEEK, datetime.time(0, 0), tzinfo=zone)
        return first.utcoffset() == after.utcoffset()

    now_utc, ready_at, today = _start(now, not_before, zone)
    ready_day = ready_at.astimezone(zone).date()
    queue = _Queue(ahead=queued_before, ours=count)
    day = today
    try:
        while queue.ours > 0:
            if queue.ahead == 0 and day < ready_day:
                # Nothing goes out for us before "Send at": go straight to its day.
                day = ready_day
                continue
            if day != today and (weeks := queue.skippable_weeks(week_capacity)):
                if not dst_proof:
                    weeks = 1 if no_switch_within_week(day) else 0
                if weeks:
                    queue.skip(weeks, week_capacity, len(send_days))
                    day += weeks * _WEEK
                    continue
            if day.weekday() in send_days:
                earliest, end, used = pace.room_on(
                    day, today=today, now_utc=now_utc, already_today=already_today
                )
                fits = _fits((end - earliest).total_seconds(), spacing)
                capacity = max(0, min(daily_limit - used, fits))
                if capacity:
                    queue.place(capacity, earliest, end, spacing, ready_at)
            day += _DAY
    except OverflowError:
        raise ValueError(
            "At this pace the messages would not all go out before the year 9999."
        ) from None
    result.first_at = queue.first_at
    result.last_at = queue.last_at
    result.days = queue.days
    return result


@dataclass(order=True)
class _Batch:
    """Messages that become due one after another: the first at `due`, each next `gap`
    seconds later (0: all at once, as a step queued in one go)."""

    due: datetime.datetime
    order: int  # ties: the batch queued first goes first
    count: int = field(compare=False)
    step: int = field(compare=False)  # index into the steps; -1 for messages queued ahead
    gap: float = field(compare=False, default=0)


def _before_next(batch: _Batch, waiting: list[_Batch]) -> int:
    """How many of the batch become due before the first of the next batch: the queue is
    served in the order messages became due, so batches that overlap take turns."""
    if not waiting or not batch.gap:
        return batch.count
    following = waiting[0]
    seconds = (following.due - batch.due).total_seconds()
    if batch.order < following.order:  # a tie goes to the batch queued first
        return math.floor(seconds / batch.gap) + 1
    return max(1, math.ceil(seconds / batch.gap))


def forecast_sequence(
    *,
    recipients: int,
    follow_up_delays: Sequence[datetime.timedelta],
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
    not_before: datetime.datetime | None = None,
) -> Forecast:
    """When a campaign's messages from one account go out: step 1 to `recipients` people
    from not_before (the campaign's start) on, and each later step to each of them its delay
    (follow_up_delays[0] for step 2, …) after their previous step went out. It assumes nobody
    replies, so it is the latest the last message goes out; the `queued_before` messages
    already queued go first, and `already_today` of today's cap are used."""
    pace = _pace(
        counts=(recipients, already_today, queued_before),
        daily_limit=daily_limit,
        timezone=timezone,
        window_days=window_days,
        window_start=window_start,
        window_end=window_end,
        min_interval_seconds=min_interval_seconds,
        jitter_seconds=jitter_seconds,
        now=now,
        not_before=not_before,
    )
    if any(delay < datetime.timedelta(0) for delay in follow_up_delays):
        raise ValueError("A follow-up cannot be due before the step it follows.")
    steps = 1 + len(follow_up_delays)
    result = pace.empty_forecast(recipients * steps, timezone)
    if recipients == 0:
        return result
    spacing, zone = pace.spacing, pace.zone
    now_utc, ready_at, today = _start(now, not_before, zone)
    sequence = itertools.count()
    waiting = [_Batch(now_utc, next(sequence), queued_before, step=-1)] if queued_before else []
    waiting.append(_Batch(ready_at, next(sequence), recipients, step=0))
    heapq.heapify(waiting)
    days_with_ours: set[datetime.date] = set()
    day = today
    try:
        while waiting:
            # Nothing is due before the first waiting batch: go straight to its day.
            day = max(day, waiting[0].due.astimezone(zone).date())
            if day.weekday() in pace.send_days:
                cursor, end, used = pace.room_on(
                    day, today=today, now_utc=now_utc, already_today=already_today
                )
                capacity = daily_limit - used
                while capacity > 0 and waiting and waiting[0].due <= end:
                    batch = heapq.heappop(waiting)
                    first = max(cursor, batch.due)
                    fits = _fits((end - first).total_seconds(), spacing)
                    taken = min(batch.count, capacity, fits, _before_next(batch, waiting))
                    if taken <= 0:
                        heapq.heappush(waiting, batch)
                        break
                    last = first + datetime.timedelta(seconds=(taken - 1) * spacing)
                    if batch.step >= 0:
                        result.first_at = result.first_at or first
                        if result.last_at is None or last > result.last_at:
                            result.last_at = last
                        days_with_ours.add(day)
                        if batch.step + 1 < steps:
                            # Their next step: due its delay after each of these went out.
                            follow_up = _Batch(
                                first + follow_up_delays[batch.step],
                                next(sequence),
                                taken,
                                step=batch.step + 1,
                                gap=spacing,
                            )
                            heapq.heappush(waiting, follow_up)
                    cursor = last + datetime.timedelta(seconds=spacing)
                    capacity -= taken
                    if batch.count > taken:
                        batch.count -= taken
                        batch.due += datetime.timedelta(seconds=taken * batch.gap)
                        heapq.heappush(waiting, batch)
            day += _DAY
    except OverflowError:
        raise ValueError(
            "At this pace the messages would not all go out before the year 9999."
        ) from None
    result.days = len(days_with_ours)
    return result


def _account_settings(account) -> dict:
    return {name: getattr(account, name) for name in account.SENDING_SETTINGS}


def forecast_account(account, *, count: int, now: datetime.datetime, **kwargs) -> Forecast:
    """forecast() with an account's sending settings (a LinkedInAccount)."""
    return forecast(count=count, now=now, **_account_settings(account), **kwargs)


def forecast_account_sequence(
    account, *, recipients: int, now: datetime.datetime, **kwargs
) -> Forecast:
    """forecast_sequence() with an account's sending settings (a LinkedInAccount)."""
    return forecast_sequence(recipients=recipients, now=now, **_account_settings(account), **kwargs)
