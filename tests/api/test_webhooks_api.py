"""/api/v1/webhooks/: Admins manage subscriptions through the API as on the page, with the same
services (role, audit, the private-target guard), and redeliver an event; a test receiver on
127.0.0.1 (tests/receiver.py) gets what is sent."""

import pytest

from linkedin_crm.models import AuditEvent, WebhookDelivery, WebhookSubscription
from linkedin_crm.webhooks import deliver_due, emit
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db
TARGET = "http://127.0.0.1:9/hooks"


@pytest.fixture
def admin_api(admin):
    return token_client(admin)


def test_an_admin_subscribes_and_gets_the_secret_once(admin_api):
    response = admin_api.post(
        "/api/v1/webhooks/", {"url": TARGET, "events": ["contact.created"], "description": "CRM"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    subscription = WebhookSubscription.objects.get(pk=body["id"])
    assert (subscription.url, subscription.events) == (TARGET, ["contact.created"])
    assert subscription.secret == body["secret"]
    assert AuditEvent.objects.filter(action="webhook_create", via="api").exists()
    listed = admin_api.get("/api/v1/webhooks/").json()
    assert [s["id"] for s in listed] == [subscription.pk]
    assert "secret" not in listed[0]
    assert "secret" not in admin_api.get(f"/api/v1/webhooks/{subscription.pk}/").json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/", "events": ["contact.created"]}, "url"),
        ({"url": "http://10.0.0.1/hooks", "events": ["contact.created"]}, "url"),
        ({"url": "http://169.254.169.254/latest", "events": ["contact.created"]}, "url"),
        ({"url": TARGET, "events": []}, "events"),
        ({"url": TARGET, "events": ["contact.exploded"]}, "events"),
        ({"events": ["contact.created"]}, "url"),
    ],
)
def test_bad_subscriptions_are_refused_by_field_and_nothing_is_written(admin_api, body, field):
    response = admin_api.post("/api/v1/webhooks/", body)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert any(name.split(".")[0] == field for name in response.json()["errors"])
    assert not WebhookSubscription.objects.exists()


def test_only_admins_manage_webhooks(api, manager, admin_api):
    subscription = WebhookSubscription.objects.create(
        url=TARGET, events=["contact.created"], secret="whsec_x"
    )
    for client in (api, token_client(manager)):
        assert client.get("/api/v1/webhooks/").status_code == 403
        refused = client.post("/api/v1/webhooks/", {"url": TARGET, "events": ["contact.created"]})
        assert refused.status_code == 403
        assert client.delete(f"/api/v1/webhooks/{subscription.pk}/").status_code == 403
    assert WebhookSubscription.objects.count() == 1
    read_only = token_client(admin_api.token.owner, read_only=True, name="ro")
    assert read_only.get("/api/v1/webhooks/").status_code == 200
    assert read_only.delete(f"/api/v1/webhooks/{subscription.pk}/").status_code == 403
    assert WebhookSubscription.objects.count() == 1


def test_patch_turns_off_and_on_and_delete_removes(admin_api):
    created = admin_api.post("/api/v1/webhooks/", {"url": TARGET, "events": ["contact.created"]})
    pk = created.json()["id"]
    off = admin_api.patch(f"/api/v1/webhooks/{pk}/", {"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    bad = admin_api.patch(f"/api/v1/webhooks/{pk}/", {"url": "http://10.1.2.3/"})
    assert bad.status_code == 422 and "url" in bad.json()["errors"]
    assert WebhookSubscription.objects.get(pk=pk).url == TARGET
    on = admin_api.patch(f"/api/v1/webhooks/{pk}/", {"active": True, "events": ["reply.received"]})
    assert on.json()["active"] is True and on.json()["events"] == ["reply.received"]
    assert admin_api.delete(f"/api/v1/webhooks/{pk}/").status_code == 204
    assert admin_api.get(f"/api/v1/webhooks/{pk}/").status_code == 404
    assert not WebhookSubscription.objects.exists()


def test_redeliver_sends_the_event_again_with_the_same_id(admin_api, receiver):
    subscription = WebhookSubscription.objects.create(
        url=receiver.url, events=["contact.created"], secret="whsec_c2VjcmV0"
    )
    emit("contact.created", [{"id": 1}])
    deliver_due()
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.state == "delivered"
    url = f"/api/v1/webhooks/{subscription.pk}/deliveries/{delivery.pk}/redeliver/"
    response = admin_api.post(url)
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "pending"
    deliver_due()
    ids = [request.headers["webhook-id"] for request in receiver.received]
    assert len(ids) == 2 and ids[0] == ids[1] == delivery.event_id
    detail = admin_api.get(f"/api/v1/webhooks/{subscription.pk}/").json()
    assert detail["recent_deliveries"][0]["state"] == "delivered"
    assert (
        admin_api.post(
            f"/api/v1/webhooks/{subscription.pk}/deliveries/999999/redeliver/"
        ).status_code
        == 404
    )
