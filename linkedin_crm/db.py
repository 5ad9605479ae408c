"""Many rows in few statements, within the database's limit on query parameters.

A statement carries one parameter per value of an `__in` look-up and one per column of each
row of a multi-row INSERT, and a database takes only so many: SQLite 3.32 and later 32,766 by
default (a build may set another; max_query_parameters() asks the connection), SQLite before
3.32 999, PostgreSQL 65,535 (the protocol counts them in 16 bits; Django's psycopg binds them on
the client unless the database's OPTIONS ask for server_side_binding, and then has no limit).
Django still sizes its own bulk_create() batches for 999 on SQLite
(DatabaseFeatures.max_query_params).

The look-ups here pass up to CHUNK values, so the app needs SQLite 3.32 or later (or
PostgreSQL); insert_rows() and messaging.transitions size their statements by the limit."""

import datetime
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, JSONField, Model

# Values in one `__in` look-up (or one bulk delete or update by id): far inside 32,766, and a
# 30,000-contact audience or import takes a handful of queries.
CHUNK = 5000
# Rows in one bulk write; an import commits this many at a time, so its progress moves by it.
WRITE_BATCH = 1000

# PostgreSQL's limit: a message's parameter count is a 16-bit integer.
POSTGRESQL_MAX_PARAMETERS = 65_535

T = TypeVar("T")

# What a database driver takes as one parameter of a statement (cursor.execute()).
SQLValue: TypeAlias = (
    bool
    | int
    | float
    | Decimal
    | str
    | bytes
    | datetime.date
    | datetime.datetime
    | uuid.UUID
    | tuple[Any, ...]
    | list[Any]
    | None
)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of `items`, each of `size` items but the last; none for no items."""
    if size < 1:
        raise ValueError(f"chunks() needs a size of at least 1, not {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def max_query_parameters(connection: BaseDatabaseWrapper | None = None) -> int:
    """How many parameters one statement may carry on this connection (the default one
    without it)."""
    connection = connection or default_connection
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        limit: int = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        return limit
    return POSTGRESQL_MAX_PARAMETERS


# Python values a database driver takes as they are, in any column but JSON: the rest
# (datetimes, UUIDs, dates, anything for a JSON column) go through their field's
# get_db_prep_save().
PLAIN_TYPES = (str, int, float, bool, type(None))


# Quoted: Django's Field takes no type arguments at run time, only in django-stubs.
def db_value(field: "Field[Any, Any]", value: object, connection: BaseDatabaseWrapper) -> SQLValue:
    """`value` as the database takes it in `field`'s column."""
    if isinstance(value, PLAIN_TYPES) and not isinstance(field, JSONField):
        return value
    prepared: SQLValue = field.get_db_prep_save(value, connection)
    return prepared


def column_name(field: "Field[Any, Any]") -> str:
    """The column of a concrete field (django-stubs allows None: a field may have no column)."""
    if field.column is None:
        raise TypeError(f"{field} has no column")
    return field.column


def insert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    shared: dict[str, object] | None = None,
    returning: Sequence[str] = (),
    batch: int = WRITE_BATCH,
    ignore_conflicts: bool = False,
) -> list[tuple[Any, ...]]:
    """Insert many rows of `model` in multi-row INSERTs, as few as the database's parameter
    limit allows; the one fast insert of the app (bulk sends, campaign launch, the dispatcher's
    events).

    `columns` are field attnames (`contact_id`, not `contact`) with one value each in every
    row; `shared` maps more attnames to the value every row has. Values are Python values,
    prepared for the database through their field (get_db_prep_save), each distinct shared
    value once. Defaults are not filled in: a column left out gets the database's default
    (none: NULL). No validation, no signals, as bulk_create(); bulk_create() prepares every
    value of every row through its field, which costs more than the INSERT for plain strings
    and numbers.

    Returns the `returning` columns of the inserted rows (one tuple a row; SQLite 3.35 and
    PostgreSQL support RETURNING), in no guaranteed order: return a unique column to match
    them up. `ignore_conflicts` skips a row that a unique constraint refuses (one written
    meanwhile by someone else), as bulk_create(ignore_conflicts=True) does."""
    if not rows:
        return []
    shared = shared or {}
    meta = model._meta
    field_of = {f.attname: f for f in meta.concrete_fields}
    if unknown := [name for name in (*columns, *shared) if name not in field_of]:
        raise TypeError(f"{meta.label} has no column {', '.join(unknown)}")
    if both := set(columns) & set(shared):
        raise TypeError(f"Columns given per row and shared: {', '.join(sorted(both))}")
    connection = default_connection
    fields = [field_of[name] for name in columns]
    plains = [not isinstance(f, JSONField) for f in fields]
    shared_values = [db_value(field_of[name], value, connection) for name, value in shared.items()]
    quote = connection.ops.quote_name
    names = ", ".join(quote(column_name(field_of[name])) for name in (*columns, *shared))
    # INSERT … SELECT v.column1, …, %s, … FROM (VALUES (…), (…)) v: what every row shares is
    # sent once a statement, not once a row. PostgreSQL types a VALUES column by what it holds
    # (a column of NULLs would be text): each is cast to its field's type there.
    postgres = connection.vendor == "postgresql"
    picked = [
        f"CAST(v.column{n} AS {f.db_type(connection)})" if postgres else f"v.column{n}"
        for n, f in enumerate(fields, start=1)
    ] + ["%s"] * len(shared)
    one_row = f"({', '.join(['%s'] * len(columns))})"
    tail = (
        f" RETURNING {', '.join(quote(column_name(field_of[name])) for name in returning)}"
        if returning
        else ""
    )
    if ignore_conflicts:
        # SQLite reads an ON CONFLICT right after a SELECT's FROM as a join's constraint: the
        # WHERE is what its documentation asks for, and PostgreSQL takes it too.
        tail = " WHERE true ON CONFLICT DO NOTHING" + tail
    room = (max_query_parameters(connection) - len(shared)) // len(columns)
    per_statement = max(1, min(batch, room))
    # Our table and columns, from the model's _meta; every value is a parameter.
    head = f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {', '.join(picked)} FROM (VALUES "  # noqa: S608
    inserted: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for chunk in chunks(rows, per_statement):
            params: list[SQLValue] = list(shared_values)
            for row in chunk:
                params += [
                    value
                    if plain and isinstance(value, PLAIN_TYPES)
                    else f.get_db_prep_save(value, connection)
                    for f, plain, value in zip(fields, plains, row, strict=True)
                ]
            cursor.execute(head + ", ".join([one_row] * len(chunk)) + ") v" + tail, params)
            if returning:
                inserted += cursor.fetchall()
    return inserted
