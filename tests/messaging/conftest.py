"""What the messaging tests share: a staff member's LinkedIn account that holds both tokens, so
the tests of encryption and of disconnecting see a refresh token too."""

import pytest

from tests.messaging.factories import LinkedInAccountFactory


@pytest.fixture
def account(staff_user):
    return LinkedInAccountFactory(owner=staff_user, refresh_token="AQX-refresh-" + "r" * 300)
