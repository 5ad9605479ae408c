"""A database trigger that refuses every change of a message's status not made by
messaging.transitions.change(), and logs every change it lets through.

tests/conftest.py installs it for every test that runs in a transaction of its own (the usual
`db` tests), inside that transaction: it is rolled back with the test's data. change() opens
the gate around its UPDATE; nothing else does, so a code path that writes `status` another
way (an ORM update(), save(), raw SQL) fails the test that exercises it with
"message status changed outside messaging.transitions.change()". Tests that put a message in
some state to start from either create it so (an INSERT is not a change) or use bypass().
"""

import contextlib

from django.db import connection

from messaging import transitions

MESSAGE = "message status changed outside messaging.transitions.change()"

SQLITE = [
    "CREATE TABLE test_status_gate (open INTEGER)",
    "CREATE TABLE test_status_log (message_id INTEGER, old TEXT, new TEXT)",
    f"""CREATE TRIGGER test_status_guard BEFORE UPDATE OF status ON messaging_message
        WHEN OLD.status <> NEW.status AND NOT EXISTS (SELECT 1 FROM test_status_gate)
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",  # noqa: S608 — a constant
    """CREATE TRIGGER test_status_logger AFTER UPDATE OF status ON messaging_message
        WHEN OLD.status <> NEW.status
        BEGIN INSERT INTO test_status_log VALUES (NEW.id, OLD.status, NEW.status); END""",
]
POSTGRESQL = [
    "CREATE TABLE test_status_gate (open INTEGER)",
    "CREATE TABLE test_status_log (message_id INTEGER, old TEXT, new TEXT)",
    f"""CREATE FUNCTION test_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM test_status_gate) THEN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            INSERT INTO test_status_log VALUES (NEW.id, OLD.status, NEW.status);
            RETURN NEW;
        END $$""",  # noqa: S608 — a constant
    """CREATE TRIGGER test_status_guard BEFORE UPDATE OF status ON messaging_message
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
        EXECUTE FUNCTION test_status_guard()""",
]


def install(monkeypatch) -> None:
    """Create the trigger (in the current transaction) and let change() through it."""
    with connection.cursor() as cursor:
        for statement in SQLITE if connection.vendor == "sqlite" else POSTGRESQL:
            cursor.execute(statement)
    update = transitions._update

    def gated_update(*args, **kwargs):
        with bypass():
            return update(*args, **kwargs)

    monkeypatch.setattr(transitions, "_update", gated_update)


@contextlib.contextmanager
def bypass():
    """Let status changes through: a test setting up the state it starts from."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO test_status_gate VALUES (1)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM test_status_gate")


def observed_changes() -> list[tuple[int, str, str]]:
    """Every (message id, old status, new status) since install(), in order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT message_id, old, new FROM test_status_log ORDER BY rowid"
            if connection.vendor == "sqlite"
            else "SELECT message_id, old, new FROM test_status_log"
        )
        return cursor.fetchall()
