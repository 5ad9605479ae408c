"""The sandbox's state file (messaging/sandbox/state.py): what it issued survives a restart."""

from __future__ import annotations

import json
import stat

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from messaging.sandbox import LinkedInSandbox, StateFileError
from tests.messaging.test_sandbox import MAYA, get, send, sign_in


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "data" / "linkedin-sandbox.jsonl"


def restart(state_file, key, **options) -> LinkedInSandbox:
    # A new port on purpose: tokens are opaque strings, valid whatever the sandbox's address.
    return LinkedInSandbox(port=0, signing_key=key, state_path=state_file, **options).start()


def test_it_keeps_tokens_messages_and_authorizations_across_a_restart(
    state_file, sandbox_signing_key
):
    first = restart(state_file, sandbox_signing_key)
    grant = sign_in(first)
    token = grant["access_token"]
    assert send(first, token).status_code == 201
    kid = get(f"{first.oauth_base_url}/openid/jwks").json()["keys"][0]["kid"]
    first.stop()

    second = restart(state_file, sandbox_signing_key)
    try:
        userinfo = get(
            f"{second.api_base_url}/v2/userinfo", headers={"Authorization": f"Bearer {token}"}
        )
        assert userinfo.status_code == 200 and userinfo.json()["sub"] == MAYA
        assert send(second, token).status_code == 201
        assert [m["sender_sub"] for m in get(f"{second.base_url}/sandbox/messages").json()] == [
            MAYA,
            MAYA,
        ]
        [authorization] = get(f"{second.base_url}/sandbox/authorizations").json()
        assert authorization["sub"] == MAYA and "w_member_social" in authorization["scopes"]
        # The same signing key, so ID tokens issued before the restart still verify.
        assert get(f"{second.oauth_base_url}/openid/jwks").json()["keys"][0]["kid"] == kid
    finally:
        second.stop()


def test_a_token_expired_before_a_restart_stays_expired(state_file, sandbox_signing_key):
    first = restart(state_file, sandbox_signing_key)
    token = first.issue_token(MAYA)
    first.expire_token(MAYA)
    first.stop()
    with restart(state_file, sandbox_signing_key) as second:
        assert send(second, token).status_code == 401


def test_the_daily_limit_counts_sends_from_before_a_restart(state_file, sandbox_signing_key):
    first = restart(state_file, sandbox_signing_key, daily_limit=1)
    token = first.issue_token(MAYA)
    assert send(first, token).status_code == 201
    first.stop()
    with restart(state_file, sandbox_signing_key, daily_limit=1) as second:
        assert send(second, token).status_code == 429


def test_a_reset_empties_the_file_too(state_file, sandbox_signing_key):
    first = restart(state_file, sandbox_signing_key)
    token = first.issue_token(MAYA)
    assert requests.post(f"{first.base_url}/sandbox/reset", timeout=5).status_code == 200
    first.stop()
    with restart(state_file, sandbox_signing_key) as second:
        assert send(second, token).status_code == 401
        assert second.sent_messages() == [] and second.authorizations() == []
    assert [json.loads(line)["kind"] for line in state_file.read_text().splitlines()] == ["key"]


def test_without_a_state_file_a_restart_forgets(sandbox_signing_key):
    with LinkedInSandbox(port=0, signing_key=sandbox_signing_key) as first:
        token = first.issue_token(MAYA)
    with LinkedInSandbox(port=0, signing_key=sandbox_signing_key) as second:
        assert send(second, token).status_code == 401


def test_the_file_is_readable_by_its_owner_only(state_file, sandbox_signing_key):
    with restart(state_file, sandbox_signing_key) as sandbox:
        sandbox.issue_token(MAYA)
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600


def test_a_line_torn_by_a_crash_is_skipped(state_file, sandbox_signing_key):
    first = restart(state_file, sandbox_signing_key)
    token = first.issue_token(MAYA)
    first.stop()
    with state_file.open("a") as file:
        file.write('{"kind": "token", "val')  # the write a kill -9 interrupted
    with restart(state_file, sandbox_signing_key) as second:
        assert send(second, token).status_code == 201
        later = second.issue_token(MAYA)  # appended after the cut-off line, on a line of its own
    with restart(state_file, sandbox_signing_key) as third:
        assert send(third, token).status_code == 201 and send(third, later).status_code == 201


def test_a_damaged_file_is_refused_with_the_line_and_what_to_do(state_file, sandbox_signing_key):
    state_file.parent.mkdir(parents=True)
    state_file.write_text('{"kind": "key", "pem": "x"}\nnot json\n{"kind": "redirect_uri"}\n')
    with pytest.raises(StateFileError, match=r"damaged at line 2.*Delete the file"):
        LinkedInSandbox(port=0, signing_key=sandbox_signing_key, state_path=state_file)


def test_the_command_keeps_state_where_the_setting_says(settings, state_file, monkeypatch, capsys):
    settings.DEBUG = True
    settings.LINKEDIN_SANDBOX_STATE = str(state_file)
    served: list[LinkedInSandbox] = []

    def fake_serve_forever(self: LinkedInSandbox) -> None:
        served.append(self)
        self.issue_token(MAYA)
        self.stop()
        raise KeyboardInterrupt

    monkeypatch.setattr(LinkedInSandbox, "serve_forever", fake_serve_forever)
    call_command("linkedin_sandbox", "--port", "0")
    assert (
        f"state: {state_file} (kept from earlier runs: 0 authorizations" in capsys.readouterr().out
    )
    assert served[0].state_path == str(state_file)
    assert '"kind":"token"' in state_file.read_text()

    call_command("linkedin_sandbox", "--port", "0", "--state", "")
    assert "state: in memory" in capsys.readouterr().out


def test_the_command_reports_a_damaged_file(settings, state_file):
    settings.DEBUG = True
    state_file.parent.mkdir(parents=True)
    state_file.write_text("garbage\n\n")
    with pytest.raises(CommandError, match="damaged at line 1"):
        call_command("linkedin_sandbox", "--port", "0", "--state", str(state_file))


def test_the_command_listens_where_the_app_looks_for_it(settings, monkeypatch):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.DEBUG = True
    settings.LINKEDIN_SANDBOX_URL = f"http://127.0.0.1:{port}"
    served: list[LinkedInSandbox] = []

    def fake_serve_forever(self: LinkedInSandbox) -> None:
        served.append(self)
        self.stop()
        raise KeyboardInterrupt

    monkeypatch.setattr(LinkedInSandbox, "serve_forever", fake_serve_forever)
    call_command("linkedin_sandbox", "--state", "")
    assert served[0].base_url == f"http://127.0.0.1:{port}"
