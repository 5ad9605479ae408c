"""What the import view tests share: a staff member's client that knows its user, so an upload
can pick that user's network."""

import pytest


@pytest.fixture
def client(staff_client, staff_user):
    staff_client.user = staff_user
    return staff_client
