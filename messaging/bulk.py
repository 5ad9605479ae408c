"""Inserting many messages at once: a bulk send or a campaign step queues tens of thousands.

Message.objects.bulk_create() builds a model instance per row first and prepares every value
of every row through its field (30,000 messages x 21 fields): that took longer than rendering
the messages. messages_insert() prepares what all rows share once and sends it once per
statement; per row only what differs.
"""

from collections.abc import Iterable, Mapping

from django.db import connections, router, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from linkedin_crm.db import WRITE_BATCH, chunks, max_query_parameters
from messaging.models import Message

ROWS_PER_STATEMENT = WRITE_BATCH
# Fields whose database value is the Python value itself when that is a str or an int (what
# get_db_prep_save would return unchanged).
PLAIN = {"CharField", "TextField", "ForeignKey", "PositiveIntegerField", "BooleanField"}


def messages_insert(rows: Iterable[Mapping], **shared) -> list[Message]:
    """Insert one message per row; returns them saved (with their ids), in the rows' order.

    Each row maps field attnames (`contact_id`, not `contact`) to what differs per message,
    every row the same names, none of them None; `shared` gives what all of them have in
    common. A field given neither way gets its default, computed once for all rows, except
    the idempotency key (a new UUID per message); auto_now fields get the current time. As
    bulk_create(): no validation and no signals. Works on SQLite and PostgreSQL.
    """
    rows = list(rows)
    if not rows:
        return []
    fields = Message._meta.concrete_fields  # the pk first
    varying = list(rows[0])
    unknown = (set(varying) | set(shared)) - {f.attname for f in fields[1:]}
    if unknown:
        raise TypeError(f"messages_insert() got unknown fields: {', '.join(sorted(unknown))}")
    if both := set(varying) & set(shared):
        raise TypeError(f"messages_insert() got fields both per row and shared: {both}")
    if "idempotency_key" in varying or "idempotency_key" in shared:
        raise TypeError("messages_insert() makes the idempotency keys itself")

    # The connection itself, not the thread-local proxy `django.db.connection`: it is passed
    # with every value.
    connection = connections[router.db_for_write(Message)]
    now = timezone.now()
    template = [None] * len(fields)  # one message's Python values, in field order
    constant = []  # (column, database value) shared by every row
    per_row = []  # (field index, attname, field, plain) of what differs per row
    for index, f in enumerate(fields):
        if f.primary_key:
            continue
        if f.attname in varying:
            per_row.append((index, f.attname, f, f.get_internal_type() in PLAIN))
            continue
        if f.attname == "idempotency_key":
            key = (index, f)
            continue
        if f.attname in shared:
            value = shared[f.attname]
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        else:
            value = f.get_default()
        template[index] = value
        if value is not None:  # a column left out is NULL
            constant.append((f.column, f.get_db_prep_save(value, connection)))

    key_index, key_field = key
    values, params = [], []
    for row in rows:
        python = template.copy()
        db = []
        for index, name, f, plain in per_row:
            value = python[index] = row[name]
            if not (plain and isinstance(value, str | int)):
                value = f.get_db_prep_save(value, connection)
            db.append(value)
        value = python[key_index] = key_field.get_default()
        db.append(key_field.get_db_prep_save(value, connection))
        values.append(python)
        params.append(db)

    columns = [f.column for _, _, f, _ in per_row] + [key_field.column]
    ids = _insert(connection, columns, constant, params)
    attnames = [f.attname for f in fields]
    messages = []
    for python, pk in zip(values, ids, strict=True):
        python[0] = pk
        messages.append(_saved(connection.alias, attnames, python))
    return messages


def _insert(connection, columns: list[str], constant: list[tuple], params: list[list]) -> list:
    """INSERT INTO message (columns…, constant columns…) SELECT v.column1, …, %s, … FROM (VALUES
    (…), (…)) v RETURNING id, in statements of ROWS_PER_STATEMENT rows (fewer where SQLite
    takes fewer parameters). The last of `columns` is the idempotency key: it tells which id
    belongs to which row, whatever order the database returns them in. Returns the ids in
    the order of `params`."""
    # Names from the model's _meta, values as parameters: nothing here comes from a user.
    quote = connection.ops.quote_name
    table, key_column = quote(Message._meta.db_table), quote(columns[-1])
    names = ", ".join(quote(c) for c in columns + [c for c, _ in constant])
    picked = [f"v.column{n}" for n in range(1, len(columns) + 1)] + ["%s"] * len(constant)
    picked = ", ".join(picked)
    head = f"INSERT INTO {table} ({names}) SELECT {picked} FROM (VALUES "  # noqa: S608
    one = f"({', '.join(['%s'] * len(columns))})"
    returning = connection.features.can_return_rows_from_bulk_insert
    tail = f") v RETURNING {quote('id')}, {key_column}" if returning else ") v"
    lookup = f"SELECT {quote('id')}, {key_column} FROM {table} WHERE {key_column} IN "  # noqa: S608
    room = (max_query_parameters(connection) - len(constant)) // len(columns)
    size = max(1, min(ROWS_PER_STATEMENT, room))
    shared = [value for _, value in constant]
    ids_by_key = {}
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for batch in chunks(params, size):
            statement = head + ", ".join([one] * len(batch)) + tail
            cursor.execute(statement, shared + [value for row in batch for value in row])
            if not returning:  # SQLite before 3.35: look the new rows up by their keys
                keys = [row[-1] for row in batch]
                cursor.execute(lookup + f"({', '.join(['%s'] * len(keys))})", keys)
            # The key as this database returns it is the value it was given (SQLite: hex text).
            ids_by_key.update((k, pk) for pk, k in cursor.fetchall())
    return [ids_by_key[row[-1]] for row in params]


def _saved(alias: str, attnames: list[str], values: list) -> Message:
    """A saved Message with these field values, built as unpickling builds one (its fields in
    __dict__, its state): Model.__init__ costs more than the INSERT, in checks and signals a
    row just written needs none of (no handler listens to Message's pre_init or post_init)."""
    message = Message.__new__(Message)
    message.__dict__.update(zip(attnames, values, strict=True))
    message._state = ModelState()
    message._state.adding = False
    message._state.db = alias
    return message
