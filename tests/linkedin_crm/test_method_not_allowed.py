"""A POST-only address opened in the browser answers with a page, not a blank 405."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_visit_to_a_post_only_address_gets_a_page_that_leads_back(staff_client):
    response = staff_client.get("/outbox/1/skip/", HTTP_REFERER="http://testserver/outbox/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    page = response.content.decode()
    assert "This address is for a button, not a visit" in page
    assert '<a href="http://testserver/outbox/">Back to the previous page</a>' in page
    assert '<a href="/">Back to the start</a>' in page
    assert 'aria-label="Main"' in page  # in the site's layout, as 400.html is


def test_a_referer_from_elsewhere_is_not_offered(staff_client):
    response = staff_client.get("/outbox/1/skip/", HTTP_REFERER="https://evil.example/")
    page = response.content.decode()
    assert "evil.example" not in page and "Back to the previous page" not in page
    assert '<a href="/">Back to the start</a>' in page


def test_a_head_request_gets_no_page(staff_client):
    # HEAD answers without a body: nothing is rendered for it.
    response = staff_client.head("/outbox/1/skip/")
    assert response.status_code == 405 and response.content == b""
