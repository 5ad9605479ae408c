"""manage.py create_api_token USERNAME [--name NAME] [--read-only]."""

import io

import pytest
from django.core.management import CommandError, call_command

from linkedin_crm.models import ApiToken, AuditEvent
from tests.api.conftest import TokenClient
from tests.contacts.factories import UserFactory


def _run(*args) -> str:
    out = io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_prints_a_working_token_on_the_last_line(staff_user):
    raw = _run("alice", "--name", "CI").splitlines()[-1]
    token = ApiToken.objects.get()
    assert token.name == "CI" and not token.read_only and token.owner == staff_user
    assert ApiToken.hash(raw) == token.token_hash
    assert TokenClient(raw).get("/api/v1/contacts/").status_code == 200
    assert AuditEvent.objects.get().via == "command"


def test_it_makes_read_only_tokens(staff_user):
    raw = _run("alice", "--read-only").splitlines()[-1]
    client = TokenClient(raw)
    assert (
        client.post("/api/v1/contacts/", {"first_name": "A"}, "application/json").status_code == 403
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["nobody"], "There is no user “nobody”"),
        (["charlie"], "not an active staff member"),
        (["alice", "--name", " "], "Give the token a name"),
        (["alice", "--expires-days", "0"], "at least 1"),
    ],
)
def test_it_refuses_bad_input_and_makes_nothing(staff_user, args, message):
    UserFactory(username="charlie", is_staff=False)
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not ApiToken.objects.exists()
