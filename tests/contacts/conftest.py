"""Users with a role or permission beyond Member, for the acts that need one, and the pair of
records the merge tests merge."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.contacts.factories import UserFactory, with_role
from tests.contacts.merge_pair import ann_lee_twice


@pytest.fixture
def manager(db):
    return with_role(UserFactory(username="mia", is_staff=True, first_name="Mia"), "Manager")


@pytest.fixture
def manager_client(manager):
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def exporter(db):
    """A client signed in as a staff member who may export contacts, and who knows that user.
    A client of its own, not pytest-django's `client`: tests/contacts/views/ overrides that one
    with a staff member's."""
    client = Client()
    user = UserFactory(username="exporter", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="export_contact"))
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def pair(db):
    """Ann Lee twice, for the merge tests (tests/contacts/merge_pair.py); a Manager merges them
    (test_contact_permissions.py has the Member's refusals)."""
    return ann_lee_twice()
