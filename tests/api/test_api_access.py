"""Walks every route under /api/v1/ (as tests/test_url_access.py walks the pages): without a
token every one answers 401 as problem+json, never a redirect to sign-in; and a GET with a
token writes nothing but the token's own bookkeeping (last use and the throttle's count)."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from linkedin_crm.models import ApiToken
from tests.api.conftest import problem
from tests.test_url_access import _walk

WRITES = ("insert", "update", "delete", "replace", "create", "drop", "alter")


def _api_routes():
    from django.urls import get_resolver

    for route, _ in _walk(get_resolver().url_patterns):
        if route.startswith("api/v1/") and "(?P<path>" not in route and "docs/" not in route:
            yield "/" + re.sub(r"<int:\w+>", "1", route)


def test_it_finds_the_api_routes():
    routes = list(_api_routes())
    assert "/api/v1/contacts/" in routes and "/api/v1/messages/send/" in routes
    assert len(routes) > 30


def test_without_a_token_every_route_is_401(db):
    client = Client()
    for url in _api_routes():
        for method in (client.get, client.post, client.delete):
            response = method(url)
            assert response.status_code == 401, (url, method, response.status_code)
            problem(response)


@pytest.mark.parametrize("role", ["member", "manager", "admin"])
def test_a_get_writes_nothing_but_the_tokens_bookkeeping(request, role):
    from tests.api.conftest import token_client

    client = token_client(request.getfixturevalue(role))
    bookkeeping = f"UPDATE {ApiToken._meta.db_table} SET last_used_at"  # noqa: S608 - a prefix
    for url in _api_routes():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code < 500, url
        writes = [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].lstrip().split(" ", 1)[0].lower() in WRITES
        ]
        assert all(sql.startswith(bookkeeping) for sql in writes), (
            url,
            writes,
        )
