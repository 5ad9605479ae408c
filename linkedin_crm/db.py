"""Many rows in few statements, within the database's limit on query parameters.

A statement carries one parameter per value of an `__in` look-up and one per column of each
row of a multi-row INSERT, and a database takes only so many: SQLite 3.32 and later 32,766 by
default (a build may set another; max_query_parameters() asks the connection), SQLite before
3.32 999, PostgreSQL 65,535 (the protocol counts them in 16 bits; Django's psycopg binds them on
the client unless the database's OPTIONS ask for server_side_binding, and then has no limit).
Django still sizes its own bulk_create() batches for 999 on SQLite
(DatabaseFeatures.max_query_params).

The look-ups here pass up to CHUNK values, so the app needs SQLite 3.32 or later (or
PostgreSQL); statements sized for any limit (messaging.dispatch_sql's) need nothing."""

import sqlite3
from collections.abc import Iterator, Sequence
from typing import TypeVar

from django.db import connection as default_connection

# Values in one `__in` look-up (or one bulk delete or update by id): far inside 32,766, and a
# 30,000-contact audience or import takes a handful of queries.
CHUNK = 5000
# Rows in one bulk write; an import commits this many at a time, so its progress moves by it.
WRITE_BATCH = 1000

# PostgreSQL's limit: a message's parameter count is a 16-bit integer.
POSTGRESQL_MAX_PARAMETERS = 65_535

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of `items`, each of `size` items but the last; none for no items."""
    if size < 1:
        raise ValueError(f"chunks() needs a size of at least 1, not {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def max_query_parameters(connection=None) -> int:
    """How many parameters one statement may carry on this connection (the default one
    without it)."""
    connection = connection or default_connection
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return POSTGRESQL_MAX_PARAMETERS
