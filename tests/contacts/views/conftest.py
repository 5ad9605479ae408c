"""What the contact view tests share: a staff member's client that knows its user, so an upload
can pick that user's network, and the contact the contact page's tests open, change and delete
(the board's tests have a contact of their own, named in its messages)."""

import pytest

from tests.contacts.factories import ContactFactory


@pytest.fixture
def client(staff_client, staff_user):
    staff_client.user = staff_user
    return staff_client


@pytest.fixture
def contact():
    return ContactFactory(first_name="Zoë", last_name="Müller", company="Acme")
