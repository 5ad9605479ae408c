"""Dates, weekdays and sending windows in words, the one table of day and month names the pages,
the messages and the CSV readers use (contacts.csv_text reads the month names LinkedIn writes in
its exports from here). English whatever the server's locale: strftime's %a and %b follow it."""

import datetime
from collections.abc import Iterable

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # in date.weekday() order
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
MONTHS = tuple(name[:3] for name in MONTH_NAMES)  # Jan, Feb, …


def format_date(day: datetime.date) -> str:
    """05 Jan 2026."""
    return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"


def days_label(days: Iterable[int], *, ranges: bool = True) -> str:
    """Mon–Fri, Mon, Wed, Fri, Sat–Sun, Mon–Wed, Fri: runs of three or more become ranges.
    Without ranges every day is named: Mon, Tue, Wed, Thu, Fri."""
    ordered = sorted(set(days))
    if not ranges:
        return ", ".join(WEEKDAYS[day] for day in ordered)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{WEEKDAYS[run[0]]}–{WEEKDAYS[run[-1]]}")
        else:
            parts.extend(WEEKDAYS[day] for day in run)
    return ", ".join(parts)


def window_label(
    days: Iterable[int],
    start: datetime.time,
    end: datetime.time,
    timezone: str,
    *,
    ranges: bool = True,
) -> str:
    """Mon–Fri 09:00–17:00 Europe/Berlin: when an account sends (days_label() for the days)."""
    return f"{days_label(days, ranges=ranges)} {start:%H:%M}–{end:%H:%M} {timezone}"
