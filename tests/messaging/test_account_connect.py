"""Connecting a LinkedIn account through django-allauth against the sandbox, over real HTTP."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.test import Client

from messaging.models import LinkedInAccount
from tests.contacts.factories import UserFactory
from tests.messaging.factories import LinkedInAccountFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
LOGIN_URL = "/accounts/oidc/linkedin/login/"


def signed_in(username="alice", **extra) -> Client:
    # The sandbox accepts redirect URIs on localhost only, as a LinkedIn app would list them.
    client = Client(HTTP_HOST="localhost")
    user = UserFactory(username=username, is_staff=True, **extra)
    assert (
        client.post("/accounts/login/", {"login": username, "password": PASSWORD}).status_code
        == 302
    )
    client.user = user
    return client


def start(client: Client, process="connect") -> str:
    response = client.post(f"{LOGIN_URL}?process={process}&next=/linkedin-accounts/")
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def consent(authorize_url: str, member="sbx-maya-okafor", action="approve") -> str:
    """Play the member on LinkedIn's consent page; returns where LinkedIn sends them back."""
    response = requests.get(
        authorize_url,
        params={"sandbox_member": member, "sandbox_auto": action},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302, response.text[:300]
    return response.headers["Location"]


def come_back(client: Client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}", follow=True)


def test_a_staff_member_connects_an_account(sandbox_settings):
    client = signed_in()
    authorize_url = start(client)
    assert authorize_url.startswith(sandbox_settings.oauth_base_url + "/v2/authorization")
    query = parse_qs(urlsplit(authorize_url).query)
    assert set(query["scope"][0].split()) == {"openid", "profile", "email", "w_member_social"}
    response = come_back(client, consent(authorize_url))
    assert response.redirect_chain[-1][0] == "/linkedin-accounts/"
    account = LinkedInAccount.objects.get()
    assert account.owner == client.user
    assert account.member_urn == "urn:li:person:sbx-maya-okafor"
    assert account.display_name == "Maya Okafor"
    assert account.status == "active" and account.network.owner == client.user
    assert len(account.access_token) > 100
    assert 59 <= account.days_until_expiry(account.created_at) <= 60
    assert "Connected LinkedIn account Maya Okafor." in response.content.decode()
    # allauth keeps no plaintext token of its own.
    assert not SocialToken.objects.exists()
    assert SocialAccount.objects.get().user == client.user


def test_a_member_may_connect_several_accounts_and_reconnect_one(sandbox_settings):
    client = signed_in()
    come_back(client, consent(start(client), member="sbx-maya-okafor"))
    come_back(client, consent(start(client), member="sbx-lukas-brenner"))
    assert LinkedInAccount.objects.filter(owner=client.user).count() == 2
    first = LinkedInAccount.objects.get(member_urn__endswith="maya-okafor")
    old_token = first.access_token
    LinkedInAccount.objects.filter(pk=first.pk).update(status="needs_reconnect")
    come_back(client, consent(start(client), member="sbx-maya-okafor"))
    first.refresh_from_db()
    assert first.status == "active" and first.access_token != old_token
    assert LinkedInAccount.objects.count() == 2


def test_an_account_of_another_member_is_refused(sandbox_settings):
    alice = signed_in("alice")
    come_back(alice, consent(start(alice)))
    bob = signed_in("bob")
    response = come_back(bob, consent(start(bob)))
    assert "already connected by another team member" in response.content.decode()
    assert LinkedInAccount.objects.get().owner == alice.user
    assert not SocialAccount.objects.filter(user=bob.user).exists()


def test_cancelling_on_linkedin_says_so_and_changes_nothing(sandbox_settings):
    client = signed_in()
    response = come_back(client, consent(start(client), action="cancel"))
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/linkedin-accounts/"
    assert "You cancelled connecting LinkedIn; nothing was changed." in response.content.decode()
    assert not LinkedInAccount.objects.exists()


def test_a_bad_state_is_refused_with_a_clear_message(sandbox_settings):
    client = signed_in()
    callback = consent(start(client))
    forged = callback.replace("state=", "state=forged")
    response = come_back(client, forged)
    assert response.status_code == 200
    assert "did not match this browser session" in response.content.decode()
    assert not LinkedInAccount.objects.exists()


def test_it_asks_linkedin_with_a_pkce_challenge(sandbox_settings):
    client = signed_in()
    first, second = (parse_qs(urlsplit(start(client)).query) for _ in range(2))
    assert first["code_challenge_method"] == ["S256"]
    assert len(first["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    assert first["code_challenge"] != second["code_challenge"]


def test_a_code_issued_to_another_flow_is_refused(sandbox_settings):
    # A code injected into this session's flow (an attacker's own, or one intercepted) was
    # issued for another PKCE challenge: the token exchange with this flow's verifier fails.
    client = signed_in()
    other = parse_qs(urlsplit(consent(start(client))).query)
    mine = parse_qs(urlsplit(start(client)).query)
    callback = f"/accounts/oidc/linkedin/login/callback/?code={other['code'][0]}"
    response = client.get(f"{callback}&state={mine['state'][0]}", follow=True)
    assert "the token exchange failed" in response.content.decode()
    assert not LinkedInAccount.objects.exists()


CALLBACK = "/accounts/oidc/linkedin/login/callback/"
FORGED = "Your account is suspended; call +1 555 0100 to restore it"


def test_it_shows_linkedins_error_for_a_flow_of_this_session(sandbox_settings):
    client = signed_in()
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    query = {"state": state, "error": "unauthorized_scope_error", "error_description": "No scope"}
    response = client.get(CALLBACK, query, follow=True)
    assert response.redirect_chain[-1][0] == "/linkedin-accounts/"
    assert "LinkedIn refused the connection: No scope" in response.content.decode()


@pytest.mark.parametrize("pending", [False, True])
def test_it_never_shows_error_text_from_a_callback_it_did_not_ask_for(sandbox_settings, pending):
    # A link crafted by anyone, with or without a flow of this session waiting (its state is
    # not in the link): the page says what happened in its own words.
    client = signed_in()
    if pending:
        start(client)
    query = {"state": "made-up", "error": "server_error", "error_description": FORGED}
    for params in (query, {k: v for k, v in query.items() if k != "state"}):
        page = client.get(CALLBACK, params, follow=True).content.decode()
        assert "did not match this browser session" in page
        assert "+1 555 0100" not in page and "suspended" not in page
    assert not LinkedInAccount.objects.exists()


def test_an_error_from_the_token_endpoint_lands_on_a_clear_page(sandbox_settings):
    client = signed_in()
    callback = consent(start(client))
    sandbox_settings.add_faults([{"status": 500}], path="/oauth/v2/accessToken")
    response = come_back(client, callback)
    assert response.status_code == 200
    assert "the token exchange failed" in response.content.decode()
    assert not LinkedInAccount.objects.exists()


def test_linkedin_is_not_a_way_to_sign_in(sandbox_settings):
    client = Client(HTTP_HOST="localhost")
    response = come_back(client, consent(start(client, process="login")))
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "not a way to sign in" in response.content.decode()
    assert not LinkedInAccount.objects.exists() and not SocialAccount.objects.exists()
    assert "_auth_user_id" not in client.session


def test_the_connect_button_appears_only_when_linkedin_is_configured(staff_client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    page = staff_client.get("/linkedin-accounts/").content.decode()
    assert "LinkedIn is not configured" in page and "Connect LinkedIn account" not in page


def test_the_connect_button_posts_to_allauth(sandbox_settings, staff_client):
    page = staff_client.get("/linkedin-accounts/").content.decode()
    assert f'action="{LOGIN_URL}?process=connect' in page
    assert "Sandbox mode" in page


def test_accounts_page_lists_only_my_accounts(staff_client, staff_user):
    mine = LinkedInAccountFactory(owner=staff_user, display_name="Mine")
    LinkedInAccountFactory(display_name="Someone else's")
    page = staff_client.get("/linkedin-accounts/").content.decode()
    assert "Mine" in page and "Someone else" not in page
    assert mine.access_token not in page
