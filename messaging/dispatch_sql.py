"""The dispatcher's statements, written out in SQL (SQLite and PostgreSQL alike).

A tick runs these for every account, and with a hundred accounts building the equivalent ORM
queries cost more than running them (tests/perf/bench_dispatch.py). The rest of the app reads
and writes messages through the ORM; what these statements mean is said next to each, and the
ORM form they stand for where there is one. Parameters are passed as the ORM passes them:
datetimes through `db_datetime()`.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from linkedin_crm.db import SQLValue

# Today's used slots of an account's cap, per stream: `used` is counting_against_cap_sql()
# (messaging/models.py, beside the queryset method it stands for).
USAGE_BY_STREAM = "SELECT stream, COUNT(*) FROM ({used}) used GROUP BY stream"

# The streams that have queued messages (held ones aside), from message_due_idx alone.
QUEUED_STREAMS = """
    SELECT DISTINCT stream FROM messaging_message
    WHERE account_id = %s AND status = %s AND held = %s
"""

# One branch per stream: the stream's first `limit` due messages, oldest first (the index
# message_due_idx reads exactly those).
STREAM_HEAD = """
    SELECT * FROM (
        SELECT id, stream, next_attempt_at FROM messaging_message
        WHERE account_id = %s AND status = %s AND held = %s AND stream = %s
            AND next_attempt_at <= %s
        ORDER BY next_attempt_at, id
        LIMIT %s
    ) head{n}
"""

# The branches together, oldest first; ties by `tiebreak` (id, or stream).
STREAM_HEADS = """
    SELECT heads.id, heads.stream FROM ({branches}) heads
    ORDER BY heads.next_attempt_at, heads.{tiebreak}
"""

# What claiming and sending the chosen messages needs. Newest first, as the ORM's default
# ordering of Message (-created_at, -id) had it: the order in which a batch is sent.
CANDIDATES = """
    SELECT m.id, c.do_not_contact, c.member_urn, m.body, m.idempotency_key, m.attempts
    FROM messaging_message m JOIN contacts_contact c ON c.id = m.contact_id
    WHERE m.id IN ({ids})
    ORDER BY m.created_at DESC, m.id DESC
"""

# The claims and what LinkedIn answered are status changes: messaging/transitions.py writes them.

SET_NEXT_SEND_AT = "UPDATE messaging_linkedinaccount SET next_send_at = %s WHERE id = %s"
SET_LAST_SENT_AT = "UPDATE messaging_linkedinaccount SET last_sent_at = %s WHERE id = %s"


def placeholders(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def db_datetime(value: datetime | None) -> SQLValue:
    """A datetime as the ORM passes it to this database (SQLite: UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def execute(statement: str, params: Sequence[SQLValue] = ()) -> int:
    """Run one statement; returns the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        changed: int = cursor.rowcount
        return changed


def fetch(statement: str, params: Sequence[SQLValue] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows
