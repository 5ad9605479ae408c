import pytest
from django.db import DatabaseError, connection

from linkedin_crm.db import chunks, max_query_parameters


def test_it_cuts_a_sequence_into_slices_of_the_size():
    assert list(chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert list(chunks((1, 2, 3, 4), 2)) == [(1, 2), (3, 4)]


def test_it_yields_one_slice_when_everything_fits():
    assert list(chunks([1, 2, 3], 5000)) == [[1, 2, 3]]


def test_it_yields_nothing_for_nothing():
    assert list(chunks([], 3)) == []


def test_it_refuses_a_size_below_one():
    with pytest.raises(ValueError, match="at least 1"):
        list(chunks([1, 2], 0))


def _select_with(count: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 WHERE 1 IN ({', '.join(['%s'] * count)})", [1] * count)
        return cursor.fetchone()


@pytest.mark.django_db
def test_a_statement_may_carry_as_many_parameters_as_it_says_and_no_more():
    limit = max_query_parameters()
    assert limit >= 999  # SQLite 3.32 and later: 32,766; PostgreSQL: 65,535
    assert _select_with(limit) == (1,)
    if connection.vendor == "sqlite":
        with pytest.raises(DatabaseError):
            _select_with(limit + 1)
    # On PostgreSQL, Django's psycopg binds parameters on the client (unless the database's
    # OPTIONS ask for server_side_binding), so one more goes through: 65,535 is the bound that
    # holds either way.
