"""The staff dashboard's numbers (issue #7): every panel from a few aggregate queries.

The page must stay within 20 queries and 200 ms at 100,000 contacts and 300,000 messages
(tests/perf/bench_dashboard.py), so:

- every number is an aggregate (values().annotate(), counts with filter=), never a loop over
  rows;
- counts are COUNT(*), not COUNT(id): PostgreSQL's secondary indexes do not hold the id, so
  COUNT(id) reads the table where COUNT(*) is answered from the index alone (SQLite's indexes
  hold the rowid, so there it makes no difference);
- days and years are counted as index ranges, one per bucket, in one UNION ALL statement
  (`_range_counts`), not with TruncDate/ExtractYear: on SQLite those are Python callbacks run
  once per row (300 ms for a month of messages). The bucket boundaries are computed here, in
  the right time zone, so a day is a local calendar day even across a DST change, on every
  database alike.

The sending panel (accounts, queue, Outbox, uncertain messages) is scoped like the pages it
links to: the LinkedIn accounts the member may manage (their own, or all with
messaging.manage_all_accounts), so a count and the list behind its link agree. Contacts, the
messages-per-day chart and reply rates are the team's: totals, with nothing to open, the same
for every viewer. Only those are cached and shared (`team_figures`); the sending panel and the
running campaigns (`Campaign.objects.editable_by`) depend on who looks, and are computed for
each request.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, Expression, IntegerField, Max, OuterRef, Subquery, Value
from django.utils import timezone
from django.utils.timesince import timesince
from django_q.models import Schedule, Task

from campaigns.models import Campaign, EnrollmentCounts
from campaigns.stats import Interval, wilson_interval
from contacts.models import Connection, Contact, ImportBatch, Network, Stage
from linkedin_crm import charts
from linkedin_crm.dates import window_label
from messaging.dispatch import in_send_window, local_day_bounds
from messaging.forecast import forecast_account
from messaging.models import LinkedInAccount, Message

# LinkedIn opened in May 2003: no connection is older.
FIRST_YEAR = 2003
TOP_COMPANIES = 10
TOP_INDUSTRIES = 10
SEND_DAYS = 30
RECENT_IMPORTS = 5
# The dispatch schedule (setup_schedules) runs every minute, so a worker that is up finishes a
# task every minute or so.
HEARTBEAT_STALE = datetime.timedelta(minutes=5)
DISPATCH_TASK = "messaging.tasks.dispatch"
NEEDS_ATTENTION = ("needs_reconnect", "expiring")
NEW_THIS_MONTH = "+new"  # not a stage: its count travels with the stages' counts

Status = Message.Status
# The messages per day chart: statuses of messages that took a slot of a sender's daily cap
# (or tried to), bottom of each column first, with their CSS class.
SEND_SERIES = [
    (Status.SENT, "Sent", "s-sent"),
    (Status.RELEASED, "In Outbox", "s-released"),
    (Status.SENDING, "Sending", "s-sending"),
    (Status.UNCERTAIN, "Uncertain", "s-uncertain"),
    (Status.FAILED, "Failed", "s-failed"),
]


# --- counting helpers -----------------------------------------------------------------------


def _union_rows(parts: list) -> list[tuple]:
    """The rows of several values_list() querysets of one shape, in one UNION ALL statement."""
    if not parts:
        return []
    if len(parts) == 1:
        return list(parts[0])
    return list(parts[0].union(*parts[1:], all=True))


class _Slot(Expression):
    """A parameter left open when a query is compiled and filled in afterwards, so that
    _range_counts compiles one bucket's query and runs its SQL for every bucket. Building and
    compiling a queryset per bucket (54 of them on the dashboard) was half the CPU time of the
    figures. Compiles to a placeholder whose parameter is the slot itself (a copy: the query
    copies its expressions), named so that it can be found in the compiled parameters."""

    def __init__(self, name: str, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [self]

    def get_group_by_cols(self):
        return []  # a constant for each bucket, like Value: nothing to group by


def _range_counts(queryset, field_name: str, bounds, *, by: str | None = None) -> dict:
    """Counts of `queryset` rows whose `field_name` falls in each half-open range of `bounds`
    ([(start, end), ...]): {index: n}, or {(index, value of `by`): n}. One statement, where each
    range is one index range scan: no per-row date function."""
    if not bounds:
        return {}
    field = queryset.model._meta.get_field(field_name)
    bucket = _Slot("bucket", IntegerField())
    part = queryset.filter(
        **{f"{field_name}__gte": _Slot("start", field), f"{field_name}__lt": _Slot("end", field)}
    ).order_by()
    if by:
        part = part.values(by).annotate(bucket=bucket, n=Count("*"))
        part = part.values_list("bucket", by, "n")
    else:
        part = part.values(bucket=bucket).annotate(n=Count("*")).values_list("bucket", "n")
    connection = connections[part.db]
    sql, slotted = part.query.get_compiler(connection=connection).as_sql()
    if connection.features.supports_parentheses_in_compound:
        sql = f"({sql})"
    params: list = []
    for index, (start, end) in enumerate(bounds):
        values = {
            "bucket": index,
            "start": field.get_db_prep_value(start, connection),
            "end": field.get_db_prep_value(end, connection),
        }
        params += [values[p.name] if isinstance(p, _Slot) else p for p in slotted]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join([sql] * len(bounds)), params)
        rows = cursor.fetchall()
    if by:
        return {(index, value): n for index, value, n in rows}
    return {index: n for index, n in rows}


def local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=timezone.get_current_timezone())


# --- contacts ---------------------------------------------------------------------------------


def contacts_panel(now: datetime.datetime) -> dict:
    month_start = local_midnight(timezone.localdate(now).replace(day=1))
    # Contacts per stage, and those created this month, in one statement (two index scans).
    by_stage = dict(
        _union_rows(
            [
                Contact.objects.order_by().values_list("stage").annotate(n=Count("*")),
                Contact.objects.filter(created_at__gte=month_start)
                .order_by()
                .values_list(Value(NEW_THIS_MONTH))
                .annotate(n=Count("*")),
            ]
        )
    )
    new_this_month = by_stage.pop(NEW_THIS_MONTH, 0)
    total = sum(by_stage.values())
    ctx = {"total": total, "new_this_month": new_this_month}
    if not total:
        return ctx
    companies = (
        Contact.objects.exclude(company="")
        .order_by()
        .values_list("company")
        .annotate(n=Count("*"))
        .order_by("-n", "company")[:TOP_COMPANIES]
    )
    industries = list(
        Contact.objects.exclude(industry="")
        .order_by()
        .values_list("industry")
        .annotate(n=Count("*"))
        .order_by("-n", "industry")
    )
    if len(industries) > TOP_INDUSTRIES + 1:
        rest = industries[TOP_INDUSTRIES:]
        industries = industries[:TOP_INDUSTRIES] + [
            (f"{len(rest)} other industries", sum(n for _, n in rest))
        ]
    ctx.update(
        stages=charts.horizontal_bars(
            "chart-stages",
            "Contacts by stage",
            [(label, by_stage.get(value, 0)) for value, label in Stage.choices],
            label_name="Stage",
        ),
        stage_links=[(value, label, by_stage.get(value, 0)) for value, label in Stage.choices],
        companies=charts.horizontal_bars(
            "chart-companies",
            f"Top {TOP_COMPANIES} companies",
            list(companies),
            label_name="Company",
        ),
        industries=charts.horizontal_bars(
            "chart-industries",
            "Contacts by industry (where set)",
            industries,
            label_name="Industry",
        ),
        years=connections_per_year(now),
        owners=charts.horizontal_bars(
            "chart-owners",
            "Contacts by owner (whose network holds them)",
            contacts_by_owner(),
            label_name="Owner",
        ),
    )
    return ctx


def contacts_by_owner() -> list[tuple[str, int]]:
    """Contacts in each member's networks: per network, a count from the network index (a
    subquery each, so no connection row is joined to anything); only a member with several
    networks (an agency's clients) needs a distinct count, since one person can be in two."""
    per_network = (
        Connection.objects.filter(network=OuterRef("pk"))
        .order_by()
        .values("network")
        .annotate(n=Count("*"))
        .values("n")
    )
    # Empty networks are skipped here, not with .filter(n__gt=0): PostgreSQL would run the
    # subquery twice per network, once for the filter and once for the column.
    networks = (
        Network.objects.select_related("owner")
        .annotate(n=Subquery(per_network, output_field=IntegerField()))
        .order_by()
    )
    owners: dict[int, list] = {}
    for network in networks:
        if not network.n:
            continue
        entry = owners.setdefault(network.owner_id, [network.owner, 0, 0])
        entry[1] += network.n
        entry[2] += 1
    several = [pk for pk, (_, _, count) in owners.items() if count > 1]
    if several:
        distinct = (
            Connection.objects.filter(network__owner__in=several)
            .order_by()
            .values_list("network__owner")
            .annotate(n=Count("contact", distinct=True))
        )
        for pk, n in distinct:
            owners[pk][1] = n
    counted = [
        (owner.get_full_name() or owner.get_username(), n) for owner, n, _ in owners.values()
    ]
    return sorted(counted, key=lambda item: (-item[1], item[0]))


def connections_per_year(now: datetime.datetime) -> charts.Chart:
    years = list(range(FIRST_YEAR, timezone.localdate(now).year + 1))
    bounds = [(datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)) for year in years]
    counts = _range_counts(Connection.objects.all(), "connected_on", bounds)
    values = [counts.get(index, 0) for index in range(len(years))]
    # Start at the first year with a connection.
    first = next((index for index, n in enumerate(values) if n), len(values) - 1)
    return charts.stacked_columns(
        "chart-years",
        "Connections per year (when they connected on LinkedIn)",
        [str(year) for year in years[first:]],
        [charts.Series("Connections", "chart-bar", values[first:])],
        category_name="Year",
        what="connections",
    )


# --- sending ----------------------------------------------------------------------------------


@dataclass
class AccountRow:
    account: LinkedInAccount
    health: tuple[str, str]  # LinkedInAccount.health(): (code, label)
    used_today: int = 0
    queued: int = 0  # waiting in the queue, held ones included
    held: int = 0  # queued but held back by a paused campaign
    outbox: int = 0  # released to the Outbox, waiting for the sender to press Send
    uncertain: int = 0
    window_open: bool = False
    next_slot: datetime.datetime | None = None
    empty_at: datetime.datetime | None = None  # when the last queued message should go out

    @property
    def sending(self) -> bool:
        return self.account.status == LinkedInAccount.Status.ACTIVE

    @property
    def window(self) -> str:
        """Mon–Fri 09:00–17:00 Europe/Berlin"""
        account = self.account
        return window_label(
            account.window_days, account.window_start, account.window_end, account.timezone
        )


def _outlook(row: AccountRow, now: datetime.datetime) -> None:
    """The next slot and when the queue empties, as the dispatcher would go: the window, the
    cap (today's used part included), the interval since the last send and a 429 hold."""
    account = row.account
    if not row.sending:
        return
    earliest = max(t for t in (now, account.next_send_at, account.hold_until) if t is not None)
    _, end_of_today = local_day_bounds(account, now)
    waiting = row.queued - row.held
    try:
        outlook = forecast_account(
            account,
            count=max(waiting, 1),
            now=earliest,
            already_today=row.used_today if earliest < end_of_today else 0,
        )
    except ValueError:  # settings the account form would refuse; say nothing rather than guess
        return
    row.next_slot = outlook.first_at
    row.empty_at = outlook.last_at if waiting else None


def sending_panel(user, now: datetime.datetime) -> dict:
    """Per account the member may manage: today's use of the cap, the queue, the Outbox, the
    uncertain messages, the next slot and when the queue empties."""
    accounts = list(LinkedInAccount.objects.manageable_by(user).defer("refresh_token"))
    rows = {account.pk: AccountRow(account, account.health(now)) for account in accounts}
    ctx: dict[str, object] = {
        "rows": list(rows.values()),
        # Accounts that need reconnecting, or whose token expires within the warning days.
        "attention": [row for row in rows.values() if row.health[0] in NEEDS_ATTENTION],
    }
    if not rows:
        return ctx
    # One statement counts it all. Today's used slots of each cap, each account's day in its
    # own time zone: the cap's two parts (what went to LinkedIn today, what waits in the
    # Outbox), each a range of its own index, per time zone (a team has a few)...
    by_zone: dict[tuple, list[int]] = {}
    for pk, row in rows.items():
        by_zone.setdefault(local_day_bounds(row.account, now), []).append(pk)
    parts = [
        part.order_by()
        .values("account")
        .annotate(kind=Value("used_today"), n=Count("*"))
        .values_list("account", "kind", "n")
        for (start, end), pks in by_zone.items()
        for part in Message.objects.filter(account__in=pks).counting_against_cap_parts(start, end)
    ]
    # ... what waits, one status per part: each reads its own partial index (SQLite matches a
    # partial index's `status = 'queued'` to `status = ?`, not to `status IN (…)`) ...
    waiting = {Status.QUEUED: "queued", Status.RELEASED: "outbox", Status.UNCERTAIN: "uncertain"}
    parts.extend(
        Message.objects.filter(account__in=list(rows), status=status)
        .order_by()
        .values("account")
        .annotate(kind=Value(status), n=Count("*"))
        .values_list("account", "kind", "n")
        for status in waiting
    )
    # ... and the queued ones a paused campaign holds back (from their own small index).
    parts.append(
        Message.objects.filter(account__in=list(rows), status=Status.QUEUED, held=True)
        .order_by()
        .values("account")
        .annotate(kind=Value("held"), n=Count("*"))
        .values_list("account", "kind", "n")
    )
    for pk, kind, n in _union_rows(parts):
        name = waiting.get(kind, kind)  # used_today comes in parts
        setattr(rows[pk], name, getattr(rows[pk], name) + n)
    for row in rows.values():
        row.window_open = in_send_window(row.account, now)
        _outlook(row, now)
    ends = [row.empty_at for row in rows.values() if row.empty_at]
    ctx.update(
        queued=sum(row.queued for row in rows.values()),
        held=sum(row.held for row in rows.values()),
        outbox=sum(row.outbox for row in rows.values()),
        uncertain=sum(row.uncertain for row in rows.values()),
        stuck=sum(row.queued for row in rows.values() if not row.sending),
        empty_at=max(ends) if ends else None,
    )
    return ctx


def sends_per_day(now: datetime.datetime) -> charts.Chart:
    """The team's messages per day over the last 30 days, by status. A message counts on the
    day it took a slot of its sender's cap (claimed_at: released to the Outbox or sent by the
    worker), the day the cap counts it on."""
    today = timezone.localdate(now)
    days = [today - datetime.timedelta(days=SEND_DAYS - 1 - n) for n in range(SEND_DAYS)]
    bounds = [
        (local_midnight(day), local_midnight(day + datetime.timedelta(days=1))) for day in days
    ]
    messages = Message.objects.filter(status__in=[status for status, _, _ in SEND_SERIES])
    counts = _range_counts(messages, "claimed_at", bounds, by="status")
    return charts.stacked_columns(
        "chart-sends",
        f"Messages per day, last {SEND_DAYS} days, by status",
        [f"{day:%d %b}" for day in days],
        [
            charts.Series(
                label, css, [counts.get((index, status), 0) for index in range(SEND_DAYS)]
            )
            for status, label, css in SEND_SERIES
        ],
        category_name="Day",
    )


# --- results ----------------------------------------------------------------------------------


@dataclass
class ReplyRate:
    days: int
    sent: int
    replied: int
    interval: Interval | None

    @property
    def rate(self) -> float | None:
        return self.replied / self.sent if self.sent else None

    @property
    def label(self) -> str:
        """8.3% (7.9–8.7%): the rate with its 95% interval."""
        if self.rate is None or self.interval is None:
            return "—"
        low, high = self.interval.low, self.interval.high
        return f"{self.rate:.1%} ({100 * low:.1f}–{high:.1%})"


def reply_rates(now: datetime.datetime, periods=(30, 90)) -> list[ReplyRate]:
    """Of the messages sent (status sent) that took their slot in the last N days, how many got
    a reply, with a 95% Wilson interval. By claim time, like the chart; the sent count reads
    the (status, claimed_at) index and the replied count the small index of replied messages."""
    sent = Message.objects.filter(status=Status.SENT)
    parts = []
    for days in periods:
        since = now - datetime.timedelta(days=days)
        for what, queryset in (("sent", sent), ("replied", sent.filter(replied_at__isnull=False))):
            key = Value(f"{what}{days}")
            parts.append(
                queryset.filter(claimed_at__gte=since)
                .order_by()
                .values(key=key)
                .annotate(n=Count("*"))
                .values_list("key", "n")
            )
    counts = dict(_union_rows(parts))
    rates = []
    for days in periods:
        sent_n, replied_n = counts.get(f"sent{days}", 0), counts.get(f"replied{days}", 0)
        replied_n = min(replied_n, sent_n)
        rates.append(ReplyRate(days, sent_n, replied_n, wilson_interval(replied_n, sent_n)))
    return rates


@dataclass
class CampaignProgress:
    pk: int
    name: str
    counts: EnrollmentCounts

    @property
    def enrolled(self) -> int:
        return self.counts.enrolled

    @property
    def done(self) -> int:
        return self.counts.done

    @property
    def replied(self) -> int:
        return self.counts.replied


def running_campaigns(user) -> list[CampaignProgress]:
    """The running campaigns the user may open (Campaign.objects.editable_by), counted as the
    campaign list and page count them (Campaign.objects.enrollment_counts)."""
    running = Campaign.objects.editable_by(user).filter(status=Campaign.Status.RUNNING)
    counts = running.enrollment_counts()
    return [
        CampaignProgress(pk, name, counts.get(pk, EnrollmentCounts()))
        for pk, name in running.order_by("name", "pk").values_list("pk", "name")
    ]


# --- the shared team figures ------------------------------------------------------------------

TEAM_FIGURES_KEY = "dashboard:team-figures:v1:{zone}"
# A copy past its time is still kept this long, to be shown while one viewer computes the next.
KEEP_STALE_SECONDS = 3600
# How long the others wait for the viewer computing the next copy before one of them tries:
# more than a computation takes at 300,000 messages, so that a crashed one is replaced soon.
RECOMPUTE_SECONDS = 60


@dataclass
class TeamFigures:
    """The panels that are the same for every viewer, and when they were computed."""

    at: datetime.datetime
    contacts: dict
    sends_per_day: charts.Chart
    reply_rates: list[ReplyRate]


def compute_team_figures(now: datetime.datetime) -> TeamFigures:
    return TeamFigures(
        at=now,
        contacts=contacts_panel(now),
        sends_per_day=sends_per_day(now),
        reply_rates=reply_rates(now),
    )


def team_figures(now: datetime.datetime) -> TeamFigures:
    """The team's figures, computed at most once every DASHBOARD_CACHE_SECONDS for all viewers
    of every web process (the shared cache: a database table, or Redis).

    These aggregates are most of the page's work at 100,000 contacts, and they hardly move
    within seconds. Nothing here depends on the viewer: only on the time zone, which draws
    the days and months (part of the key). When the copy is past its time, one viewer
    computes the next while the others are shown the old one (with its time), rather than
    every viewer running the same aggregates at once.
    """
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return compute_team_figures(now)
    key = TEAM_FIGURES_KEY.format(zone=timezone.get_current_timezone_name())
    cached = cache.get(key)
    if cached is not None and now - cached.at < datetime.timedelta(seconds=seconds):
        return cached
    computing = f"{key}:computing"
    if cached is not None and not cache.add(computing, True, RECOMPUTE_SECONDS):
        return cached  # another viewer is computing the next copy
    figures = compute_team_figures(now)
    cache.set(key, figures, seconds + KEEP_STALE_SECONDS)
    if cached is not None:
        cache.delete(computing)
    return figures


# --- health -----------------------------------------------------------------------------------


@dataclass
class WorkerStatus:
    last_task_at: datetime.datetime | None
    stale: bool
    schedule_missing: bool
    ago: str = ""  # "less than a minute", "4 minutes", "2 days, 3 hours"


def worker_status(now: datetime.datetime) -> WorkerStatus:
    """When a django-q2 worker last finished a task.

    django-q2's own cluster heartbeat (`Stat`, what `qinfo` and the admin show) lives in the
    broker's cache: with the ORM broker that is Django's cache, a per-process LocMemCache
    here, which the web process never shares with the worker, so it always reads "no
    cluster"; on Redis it expires 3 s after the last beat and says nothing about when. The
    Task table holds what we need under both brokers: the cluster's monitor writes a row to
    the database for every finished task (successes are pruned to the newest 250, failures
    are kept), and the dispatch schedule runs every minute. So the newest `stopped` is a true
    "a worker ran something at" — scheduler, worker and monitor all alive — with no heartbeat
    of our own to write.
    """
    last = Task.objects.aggregate(last=Max("stopped"))["last"]
    stale = last is None or now - last > HEARTBEAT_STALE
    # Only asked when it would explain silence: without the schedule, no task ever runs.
    missing = stale and not Schedule.objects.filter(func=DISPATCH_TASK).exists()
    if last is None:
        ago = ""
    elif now - last < datetime.timedelta(minutes=1):
        ago = "less than a minute"
    else:
        ago = timesince(last, now)
    return WorkerStatus(last_task_at=last, stale=stale, schedule_missing=missing, ago=ago)


def recent_imports():
    return (
        ImportBatch.objects.select_related("network")
        .only(
            "file_name",
            "status",
            "created_at",
            "rows",
            "created",
            "updated",
            "invalid",
            "network__name",
        )
        .order_by("-created_at", "-pk")[:RECENT_IMPORTS]
    )
