"""The Content-Security-Policy (settings.CONTENT_SECURITY_POLICY): every response carries it,
and no page holds what it refuses: inline <script>, <style> elements, style="…" attributes,
on…= handlers and javascript: links. (The browser tests also fail on any violation Chromium
reports: tests/e2e/conftest.py.)"""

import base64
import contextlib
import hashlib
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, get_resolver, reverse

from tests import test_url_access
from tests.contacts.factories import ContactFactory, UserFactory
from tests.test_url_access import _our_patterns, _url, _walk

# The URL walk's objects, which fill every route's parameters.
objects = test_url_access.objects

HEADER = "Content-Security-Policy"
URL_ATTRIBUTES = {"href", "src", "action", "formaction"}
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "form-action": ["'self'", "https://www.linkedin.com"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}


class InlineCode(HTMLParser):
    """Collects what a page holds that the policy refuses to run or apply."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (directive that governs it, its source)

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        script_type = (dict(attrs).get("type") or "text/javascript").lower()
        # A data block (<script type="application/json">) is not run, so the policy allows it.
        runs = script_type in ("text/javascript", "application/javascript", "module")
        if tag == "script" and runs and not dict(attrs).get("src"):
            self.found.append(("script-src", f"inline <script> at line {line}"))
        if tag == "style":
            self.found.append(("style-src", f"<style> at line {line}"))
        for name, value in attrs:
            value = value or ""
            if name == "style":
                self.found.append(("style-src-attr", value))
            elif name.startswith(("on", "hx-on")):
                self.found.append(("script-src-attr", value))
            elif name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                self.found.append(("script-src", f"<{tag} {name}={value!r}> at line {line}"))


def inline_code(response) -> list[tuple[str, str]]:
    parser = InlineCode()
    parser.feed(response.content.decode())
    parser.close()
    return parser.found


def policy(response) -> dict[str, list[str]]:
    directives = (part.split() for part in response[HEADER].split(";") if part.strip())
    return {name: values for name, *values in directives}


def our_pages(objects) -> list[str]:
    """Every page of the project as the URL walk fills it, plus states that render more of the
    templates: a dashboard with data, a long search's notice, a form showing its errors."""
    return [_url(route, objects) for route, _ in _our_patterns()] + [
        "/contacts/?q=" + "ann " * 20,
        "/messages/?contact=" + "ann " * 20,
    ]


def admin_pages() -> list[str]:
    urls = ["/admin/", "/admin/contacts/"]
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"{info}_changelist"), reverse(f"{info}_add")]
        first = model._default_manager.first()
        if first is not None:
            for view in ("change", "history", "delete"):
                urls.append(reverse(f"{info}_{view}", args=[first.pk]))
        for view in ("export", "import"):
            with contextlib.suppress(NoReverseMatch):  # only ImportExportMixin's admins
                urls.append(reverse(f"{info}_{view}"))
    return urls


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_it_sends_the_policy_with_every_response(staff_client, non_staff_client, client, objects):
    responses = [staff_client.get(url) for url in our_pages(objects)]
    responses += [client.get(url) for url in our_pages(objects)]  # redirects to sign in
    responses += [non_staff_client.get("/contacts/"), staff_client.get("/no-such-page/")]
    responses += [staff_client.post("/contacts/new/", {})]
    for response in responses:
        assert policy(response) == POLICY, response.request["PATH_INFO"]


def test_no_page_holds_inline_code(staff_client, objects):
    ContactFactory(first_name="Ann", email="ann@example.com", do_not_contact=True)
    pages = {url: staff_client.get(url) for url in our_pages(objects)}
    pages["the contact form with errors"] = staff_client.post("/contacts/new/", {})
    for name, response in pages.items():
        if response.status_code == 200:
            assert inline_code(response) == [], name


def test_no_sign_in_or_error_page_holds_inline_code(client, staff_client, non_staff_client):
    """django-allauth's pages (sign-in, password, e-mail, connections) as a visitor and as a
    signed-in member, and the error pages."""
    routes = [route for route, _ in _walk(get_resolver().url_patterns)]
    allauth_urls = ["/" + r for r in routes if r.startswith("accounts/") and "<" not in r]
    pages = {
        f"{url} as {who}": visitor.get(url)
        for url in allauth_urls
        for who, visitor in (("visitor", client), ("staff", staff_client))
    }
    pages["404"] = client.get("/no-such-page/")
    pages["403"] = non_staff_client.get("/contacts/")
    assert pages["/accounts/login/ as visitor"].status_code == 200
    for name, response in pages.items():
        if response.status_code in (200, 403, 404):
            assert inline_code(response) == [], name


def test_no_admin_page_needs_more_than_its_policy_admits(superuser_client, objects):
    """The Django admin holds no inline code; django-import-export's export page has a few
    attributes of its own, which its policy admits by hash (contacts.admin.EXPORT_PAGE_CSP)."""
    for url in admin_pages():
        response = superuser_client.get(url)
        assert response.status_code in (200, 403), url
        admitted = policy(response)
        for directive, source in inline_code(response):
            digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in admitted.get(directive, []), (url, source)
            assert "'unsafe-hashes'" in admitted[directive]


def test_only_the_export_page_has_a_wider_policy(superuser_client):
    export = policy(superuser_client.get("/admin/contacts/contact/export/"))
    assert {name: export[name] for name in POLICY} == POLICY
    assert set(export) - set(POLICY) == {"script-src-attr", "style-src-attr"}
    assert policy(superuser_client.get("/admin/contacts/contact/")) == POLICY
