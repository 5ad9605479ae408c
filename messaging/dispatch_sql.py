"""The dispatcher's statements, written out in SQL (SQLite and PostgreSQL alike).

A tick runs these for every account, and with a hundred accounts building the equivalent ORM
queries cost more than running them (tests/perf/bench_dispatch.py). The rest of the app reads
and writes messages through the ORM; what these statements mean is said next to each, and the
ORM form they stand for where there is one. Parameters are passed as the ORM passes them:
datetimes through `db_datetime()`.
"""

from collections.abc import Iterable, Sequence

from django.db import connection

from linkedin_crm.db import chunks

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

# The claims: conditional UPDATEs (only messages still queued, and not held by a campaign
# paused since they were chosen, change).
CLAIM_FOR_SENDING = """
    UPDATE messaging_message
    SET status = %s, claimed_at = %s, claim_token = %s, attempts = attempts + 1, channel = %s
    WHERE account_id = %s AND status = %s AND held = %s AND id IN ({ids})
"""
CLAIM_FOR_OUTBOX = """
    UPDATE messaging_message
    SET status = %s, claimed_at = %s, released_at = %s, claim_token = %s
    WHERE account_id = %s AND status = %s AND held = %s AND id IN ({ids})
"""

# What LinkedIn answered. Recorded whether or not the reaper has meanwhile called the message
# uncertain: LinkedIn's answer is better knowledge than the reaper's guess.
#
# Sent messages of one claim in one statement (see record_sent()), each with its own id at
# LinkedIn.
RECORD_SENT = """
    UPDATE messaging_message
    SET status = %s, last_error = '', sent_at = %s, external_id = CASE id {external_ids} END
    WHERE id IN ({ids}) AND status IN (%s, %s) AND claim_token = %s
"""
# Failed and uncertain ones, each with its own error: one parameter row per message (few).
RECORD_UNSENT = """
    UPDATE messaging_message SET status = %s, last_error = %s
    WHERE id = %s AND status IN (%s, %s) AND claim_token = %s
"""

# Events, many in one statement (see insert_events()).
INSERT_EVENTS = """
    INSERT INTO messaging_messageevent (message_id, status, note, actor_id, at) VALUES {rows}
"""
# Rows per statement, within 999 parameters: the smallest limit of any database the app may
# meet (SQLite before 3.32; linkedin_crm.db), so these need not ask the connection.
EVENTS_PER_STATEMENT = 190  # 5 parameters each
SENT_PER_STATEMENT = 300  # 3 parameters each

SET_NEXT_SEND_AT = "UPDATE messaging_linkedinaccount SET next_send_at = %s WHERE id = %s"
SET_LAST_SENT_AT = "UPDATE messaging_linkedinaccount SET last_sent_at = %s WHERE id = %s"


def placeholders(values: Sequence) -> str:
    return ", ".join(["%s"] * len(values))


def db_datetime(value):
    """A datetime as the ORM passes it to this database (SQLite: UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def execute(statement: str, params: Sequence = ()) -> int:
    """Run one statement; returns the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def fetch(statement: str, params: Sequence = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def execute_many(statement: str, rows: Iterable[Sequence]) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def insert_events(rows: Sequence[tuple]) -> None:
    """Insert (message_id, status, note, actor_id, at) rows: a statement per
    EVENTS_PER_STATEMENT rows, not one per row (on PostgreSQL each is a round trip)."""
    with connection.cursor() as cursor:
        for chunk in chunks(rows, EVENTS_PER_STATEMENT):
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(INSERT_EVENTS.format(rows=values), [v for row in chunk for v in row])


def record_sent(sent: Sequence[tuple[int, str]], *, status, at, unsettled, token: str) -> None:
    """Mark these (id, external id) messages of one claim sent, SENT_PER_STATEMENT a statement."""
    with connection.cursor() as cursor:
        for chunk in chunks(sent, SENT_PER_STATEMENT):
            statement = RECORD_SENT.format(
                external_ids=" ".join(["WHEN %s THEN %s"] * len(chunk)),
                ids=placeholders(chunk),
            )
            params = [status, at, *(v for pair in chunk for v in pair)]
            params += [pk for pk, _ in chunk] + [*unsettled, token]
            cursor.execute(statement, params)
