"""Walks every URL pattern of the project, so that every future view is covered by the access
rules without anyone remembering to add it: anonymous → login, non-staff → 403, staff → 200
(GET pages) or 405 (POST-only actions)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from contacts.models import ContactBulkChange, ContactExport
from linkedin_crm import api_tokens
from linkedin_crm.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from linkedin_crm.webhooks import new_secret
from messaging.models import MessageTemplate
from tests.campaigns.factories import CampaignFactory, add_step
from tests.contacts.factories import ImportBatchFactory, NetworkFactory, NoteFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

# Pages that are deliberately not staff-only, and why.
PUBLIC_PREFIXES = (
    # django-allauth: sign-in, sign-out, password reset and the pages where any signed-in user
    # manages only their own login (password, e-mail). Public signup is closed by the adapter.
    "accounts/",
    # The Django admin applies its own staff check; its sign-in is allauth's (tested in
    # tests/linkedin_crm/views/test_admin_login.py).
    "admin/",
    # The REST API authenticates by token and answers 401/403 as problem+json, never with a
    # redirect to sign-in; tests/api/test_api_access.py walks its routes the same way.
    "api/",
)

# Pages that redirect a staff member who arrives without parameters, and where to.
REDIRECTS = {
    "contacts/merge/": "/contacts/duplicates/",
    # Bulk messaging needs a selection of contacts.
    "contacts/message/": "/contacts/",
    # A column's next cards need the column and where to go on from: the board without them.
    "contacts/board/column/": "/contacts/board/",
}

# Staff pages that need a permission on top of being staff.
PERMISSION_PAGES = {
    "contacts/export/": "export_contact",
    "contacts/exports/<int:pk>/": "export_contact",
    "contacts/exports/<int:pk>/progress/": "export_contact",
    "contacts/exports/<int:pk>/download/": "export_contact",
    "team/": "manage_team",
    "team/<int:pk>/role/": "manage_team",
    "contacts/merge/": "merge_contact",
    "contacts/<int:pk>/delete/": "delete_contact",
    "contacts/<int:pk>/export-data/": "erase_contact",
    "contacts/<int:pk>/erase/": "erase_contact",
    "audit/": "view_auditevent",
    "settings/webhooks/": "change_webhooksubscription",
    "settings/webhooks/new/": "change_webhooksubscription",
    "settings/webhooks/<int:pk>/": "change_webhooksubscription",
    "settings/webhooks/<int:pk>/edit/": "change_webhooksubscription",
    "settings/webhooks/<int:pk>/delete/": "change_webhooksubscription",
    "settings/webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/": (
        "change_webhooksubscription"
    ),
}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _our_patterns():
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith(PUBLIC_PREFIXES) or route.startswith("^"):
            continue
        yield route, pattern


@pytest.fixture
def objects(db, staff_user):
    note = NoteFactory()
    # The staff member's own import: undoing another member's needs the Manager role.
    batch = ImportBatchFactory(network=NetworkFactory(owner=staff_user))
    account = LinkedInAccountFactory(owner=staff_user)
    message = MessageFactory(account=account, status="released")
    template = MessageTemplate.objects.create(name="Hello", body="Hi {{ first_name }}")
    campaign = CampaignFactory(owner=staff_user)
    step = add_step(campaign, 1, {"A": "Hi {{ first_name }}"})
    subscription = WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/hooks", events=["contact.created"], secret=new_secret()
    )
    event = WebhookEvent.objects.create(id="msg_1", type="contact.created", payload={})
    delivery = WebhookDelivery.objects.create(
        event=event, subscription=subscription, retry_until=timezone.now()
    )
    token, _ = api_tokens.api_token_create(owner=staff_user, name="Script")
    export = ContactExport.objects.create(requested_by=staff_user, status="done", data=b"x")
    change = ContactBulkChange.objects.create(
        requested_by=staff_user, action="set_stage", stage="contacted", filter_params={"q": "x"}
    )
    return {
        # What fills the URL parameters of the routes under each prefix (the first that fits).
        "routes": {
            "contacts/exports/": {"pk": export.pk},
            "contacts/bulk/": {"pk": change.pk},
            "contacts/": {"pk": note.contact.pk, "note_pk": note.pk},
            "imports/": {"pk": batch.pk},
            "linkedin-accounts/": {"pk": account.pk},
            "outbox/": {"pk": message.pk},
            "campaigns/variants/": {"pk": step.variants.get().pk},
            "campaigns/steps/": {"pk": step.pk},
            "campaigns/": {"pk": campaign.pk},
            "messages/templates/": {"pk": template.pk},
            "messages/": {"pk": message.pk},
            "team/": {"pk": staff_user.pk},
            "settings/webhooks/": {"pk": subscription.pk, "delivery_pk": delivery.pk},
            "settings/api-tokens/": {"pk": token.pk},
        },
        "contact": note.contact,
        "account": account,
    }


def _url(route: str, objects) -> str:
    path = route
    for prefix, values in objects["routes"].items():
        if route.startswith(prefix):
            for name, value in values.items():
                path = path.replace(f"<int:{name}>", str(value))
    assert "<" not in path, f"teach this test how to fill {route}"
    return "/" + path


def test_it_finds_the_project_pages():
    routes = [route for route, _ in _our_patterns()]
    assert "" in routes and "contacts/" in routes and "contacts/<int:pk>/" in routes


def test_it_sends_anonymous_visitors_to_login(client, objects):
    for route, _ in _our_patterns():
        url = _url(route, objects)
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (route, method)
            assert response["Location"].startswith("/accounts/login/"), route


def test_it_refuses_signed_in_users_who_are_not_staff(non_staff_client, objects):
    for route, _ in _our_patterns():
        url = _url(route, objects)
        assert non_staff_client.get(url).status_code == 403, route
        assert non_staff_client.post(url).status_code == 403, route


def test_it_serves_every_page_to_staff(staff_client, objects):
    for route, _ in _our_patterns():
        response = staff_client.get(_url(route, objects))
        if route in PERMISSION_PAGES:
            assert response.status_code == 403, route
            continue
        # Pages answer 200 (or redirect where they need parameters); POST-only actions say 405.
        assert response.status_code in (200, 302, 405), (route, response.status_code)
        if response.status_code == 302:
            assert response["Location"] == REDIRECTS[route], route
        if response.status_code == 405:
            # A page that says why and leads back, not the browser's blank error (issue #13).
            assert "for a button, not a visit" in response.content.decode(), route
            assert "POST" in response["Allow"], route


def test_it_serves_permission_pages_to_staff_with_the_permission(staff_user, client, objects):
    for codename in PERMISSION_PAGES.values():
        staff_user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(staff_user)
    for route, _ in _our_patterns():
        if route in PERMISSION_PAGES:
            # Pages 200 (or their redirect); POST-only actions 405.
            response = client.get(_url(route, objects))
            expected = (302,) if route in REDIRECTS else (200, 405)
            assert response.status_code in expected, route


def test_it_lets_anyone_see_the_login_page(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"<h1>Sign in</h1>" in response.content
    assert b"sign up" not in response.content.lower()  # public signup is closed


def test_it_has_no_public_signup(client, db):
    response = client.get("/accounts/signup/")
    assert b"closed" in response.content.lower()
    assert response.status_code == 200


def test_it_keeps_non_staff_out_of_the_admin(non_staff_client, client, db):
    assert client.get("/admin/").status_code == 302
    response = non_staff_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_it_requires_a_csrf_token_on_posts(staff_user, objects):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff_user)
    response = strict.post(f"/contacts/{objects['contact'].pk}/notes/", {"body": "hello"})
    assert response.status_code == 403
    assert objects["contact"].notes.count() == 1  # only the fixture's note


def test_it_logs_out_only_by_post(staff_client):
    response = staff_client.get("/accounts/logout/")
    assert response.status_code == 200  # a confirmation page, still signed in
    assert staff_client.get("/contacts/").status_code == 200
    response = staff_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert staff_client.get("/contacts/").status_code == 302


def test_staff_sign_in_with_username_or_email(client, db):
    from tests.contacts.factories import UserFactory

    UserFactory(username="dora", email="dora@example.com", is_staff=True)
    password = "correct horse battery staple"
    assert (
        client.post("/accounts/login/", {"login": "dora", "password": password}).status_code == 302
    )
    client.post("/accounts/logout/")
    response = client.post("/accounts/login/", {"login": "DORA@example.com", "password": password})
    assert response.status_code == 302
    response = client.post("/accounts/logout/")
    response = client.post("/accounts/login/", {"login": "dora", "password": "wrong"})
    assert response.status_code == 200 and b"not correct" in response.content


def test_an_htmx_refresh_after_the_session_ended_sends_the_page_to_sign_in(client):
    """The dashboard's panel polls every 30 s: once signed out, the whole page goes to the
    sign-in form (and back to the dashboard after), instead of the form landing in the panel."""
    response = client.get(
        "/dashboard/sending/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/?tab=sending",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/%3Ftab%3Dsending"
    plain = client.get("/dashboard/sending/")
    assert plain.status_code == 302 and plain["Location"].startswith("/accounts/login/")


_WRITES = ("insert", "update", "delete", "replace", "create", "drop", "alter")


def _writes_during(fn):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().split(" ", 1)[0].lower() in _WRITES
    ]


@pytest.mark.parametrize("role", ["Member", "Manager", "Admin"])
@pytest.mark.parametrize("newcomer", [False, True], ids=["owner", "newcomer"])
def test_it_never_writes_on_a_get(client, staff_user, objects, role, newcomer):
    """Every URL pattern, with real ids, read with GET (and as htmx, which some views answer
    differently) by each role, by the owner of the objects and by a newcomer who has nothing
    yet (no network, no account): not one INSERT, UPDATE or DELETE reaches the database."""
    from django.contrib.auth.models import Group

    from tests.contacts.factories import ContactFactory, UserFactory

    # Work a GET might be tempted to do: an Outbox message to someone now do-not-contact.
    account = objects["account"]
    MessageFactory(account=account, status="released", contact=ContactFactory(do_not_contact=True))
    user = UserFactory(username="newcomer", is_staff=True) if newcomer else staff_user
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    for route, _ in _our_patterns():
        url = _url(route, objects)
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            writes = _writes_during(lambda url=url, headers=headers: client.get(url, **headers))
            assert writes == [], (route, headers, writes)
