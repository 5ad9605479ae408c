"""The top bar on every page: the main menu with the current page marked, and the signed-in
person's menu (password change, API tokens, sign out as a POST)."""

import re

import pytest

pytestmark = pytest.mark.django_db


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
    assert 'href="/settings/api-tokens/"' in menu


def test_the_menus_are_for_signed_in_people_only(anon_client):
    page = anon_client.get("/accounts/login/").content.decode()
    assert 'class="account-menu"' not in page and 'class="site-menu"' not in page
