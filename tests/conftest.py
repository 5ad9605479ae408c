"""The fixed cast of users every view test uses (as healthchecks does): anonymous, a signed-in
user who is not staff, and a staff member."""

import pytest
from django.test import Client

from tests.contacts.factories import UserFactory
from tests.webhook_receiver import Receiver

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


@pytest.fixture(autouse=True)
def message_status_guard(request, monkeypatch):
    """Every status change of a message goes through messaging.transitions.change()
    (tests/status_guard.py): checked in every test that runs inside a transaction of its own.
    Tests with a live server or worker processes commit for real and are left alone."""
    marker = request.node.get_closest_marker("django_db")
    in_own_transaction = (
        (marker is not None and not marker.kwargs.get("transaction"))
        or "db" in request.fixturenames
    ) and not {"transactional_db", "live_server"} & set(request.fixturenames)
    if in_own_transaction:
        request.getfixturevalue("db")
        from tests import status_guard

        status_guard.install(monkeypatch)
    yield


@pytest.fixture(autouse=True)
def _fresh_content_type_cache():
    """A test that commits for real (browser and worker tests) ends with the tables emptied, and
    the content types are then made again, not always under the same ids: the process must not
    keep the old ids it cached (the admin's history, LogEntry, would point at a missing row)."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
    yield


@pytest.fixture
def receiver():
    """A webhook receiver on this machine (tests/webhook_receiver.py), for the webhook tests."""
    receiver = Receiver().start()
    yield receiver
    receiver.stop()
