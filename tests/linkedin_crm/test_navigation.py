"""The top bar on every page: the main menu with the current page marked, and the signed-in
person's menu (password change, API tokens where the page exists, sign out as a POST)."""

import re

import pytest
from django.http import HttpResponse
from django.urls import include, path

from linkedin_crm import urls as project_urls

pytestmark = pytest.mark.django_db


def _api_tokens(request):
    return HttpResponse("tokens")


# The project's URLs plus an API tokens page, as an installation that has one.
urlpatterns = [
    path("settings/api-tokens/", _api_tokens),
    path("", include(project_urls.urlpatterns)),
]


def test_the_current_page_is_marked(staff_client):
    page = staff_client.get("/campaigns/").content.decode()
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', page)
    assert current == ["/campaigns/"]


def test_the_personal_menu_offers_password_change_and_sign_out_as_a_post(staff_client):
    page = staff_client.get("/").content.decode()
    menu = page.split('<details class="account-menu">')[1].split("</details>")[0]
    assert 'href="/accounts/password/change/"' in menu
    assert '<form method="post" action="/accounts/logout/">' in menu
    assert "AA" in menu  # Alice Archer's initials
    # This installation has no API tokens page: no link to a 404.
    assert "api-tokens" not in menu


def test_it_links_the_api_tokens_page_where_there_is_one(staff_client, settings):
    settings.ROOT_URLCONF = __name__
    menu = staff_client.get("/").content.decode().split('<details class="account-menu">')[1]
    assert 'href="/settings/api-tokens/"' in menu.split("</details>")[0]


def test_the_menus_are_for_signed_in_people_only(anon_client):
    page = anon_client.get("/accounts/login/").content.decode()
    assert 'class="account-menu"' not in page and 'class="site-menu"' not in page
