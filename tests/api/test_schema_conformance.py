"""schemathesis against the API's own OpenAPI schema, in process through the WSGI application,
with a real token: for every operation, generated requests (valid and invalid) never get a 5xx,
and every response matches the schema (status, content type, headers, body)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from linkedin_crm import api_tokens
from tests.contacts.factories import ContactFactory, UserFactory, give_role
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


@pytest.fixture
def in_process():
    """As Django's test client does: the WSGI handler must not close the test's database
    connection (and with it the test's transaction) when a request ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, in_process):
    """A Manager's token, and a few objects for the generated ids to find now and then."""
    user = give_role(UserFactory(username="schemathesis", is_staff=True), "Manager")
    account = LinkedInAccountFactory(owner=user)
    for _ in range(3):
        MessageFactory(account=account, contact=ContactFactory(member_urn="urn:li:person:x"))
    _, raw = api_tokens.api_token_create(owner=user, name="schemathesis")
    return raw


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_conforms_and_never_fails(case, token, settings):
    settings.API_THROTTLE_READ = settings.API_THROTTLE_WRITE = "100000/minute"
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        # A request can match the schema and still be refused for what it means (an id
        # that names nothing, a sender the token's owner may not use): a 422 or 403 is the
        # right answer there, and the schema cannot say so. And the filters are the pages'
        # own FilterSets, which read an empty value (`?created_before=`) or an unknown yes/no
        # as "any", as the pages' forms do. Every other check runs: no 5xx, documented status
        # codes, content types, headers and bodies.
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
