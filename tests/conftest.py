"""The fixed cast of users every view test uses (as healthchecks does): anonymous, a signed-in
user who is not staff, and a staff member."""

import pytest
from django.test import Client

from tests.contacts.factories import UserFactory

# The LinkedIn sandbox fixtures (linkedin_sandbox, partner_sandbox, sandbox_client, …).
pytest_plugins = ["tests.sandbox_fixtures"]


@pytest.fixture
def staff_user(db):
    return UserFactory(username="alice", is_staff=True, first_name="Alice", last_name="Archer")


@pytest.fixture
def other_staff_user(db):
    return UserFactory(username="bob", is_staff=True, first_name="Bob")


@pytest.fixture
def non_staff_user(db):
    return UserFactory(username="charlie", is_staff=False)


@pytest.fixture
def staff_client(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def non_staff_client(non_staff_user):
    client = Client()
    client.force_login(non_staff_user)
    return client


@pytest.fixture
def anon_client():
    return Client()
