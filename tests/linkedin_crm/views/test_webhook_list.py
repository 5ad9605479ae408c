import pytest

pytestmark = pytest.mark.django_db


def test_it_is_for_admins_only(anon_client, staff_client, admin_client):
    assert anon_client.get("/settings/webhooks/").status_code == 302
    # A Manager or Member is staff but not an Admin.
    assert staff_client.get("/settings/webhooks/").status_code == 403
    assert staff_client.post("/settings/webhooks/new/", {}).status_code == 403
    response = admin_client.get("/settings/webhooks/")
    assert response.status_code == 200 and b"No webhooks yet" in response.content
    assert b'href="/settings/webhooks/"' in response.content  # in the navigation
