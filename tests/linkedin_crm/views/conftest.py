"""What the webhook page tests share (the pages are for Admins only; create, edit, turn off,
delete, the delivery log, redeliver): a receiver on this machine, an Admin's client that knows
its user, and a subscription of that Admin's to contact.created."""

import pytest
from django.test import Client

from linkedin_crm import webhooks
from tests.contacts.factories import UserFactory, give_role


@pytest.fixture
def admin_client():
    admin = give_role(UserFactory(username="ada", is_staff=True), "Admin")
    client = Client()
    client.force_login(admin)
    client.user = admin
    return client


@pytest.fixture
def subscription(admin_client, receiver):
    return webhooks.subscription_create(
        url=receiver.url, events=["contact.created"], actor=admin_client.user
    )
