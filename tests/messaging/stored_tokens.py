"""How a LinkedIn account's tokens look in the database, for the tests that check they are
encrypted (tests/messaging/test_accounts.py) and deleted on disconnect."""

from django.db import connection


def stored(account, column="access_token") -> str:
    """The column as the database holds it, bypassing the field's decryption."""
    assert column in ("access_token", "refresh_token")
    sql = f"SELECT {column} FROM messaging_linkedinaccount WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [account.pk])
        return cursor.fetchone()[0]
