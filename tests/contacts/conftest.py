"""Users with a role beyond Member, for the acts that need one."""

import pytest
from django.test import Client

from tests.contacts.factories import UserFactory, with_role


@pytest.fixture
def manager(db):
    return with_role(UserFactory(username="mia", is_staff=True, first_name="Mia"), "Manager")


@pytest.fixture
def manager_client(manager):
    client = Client()
    client.force_login(manager)
    return client
