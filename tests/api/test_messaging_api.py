"""/api/v1/messages/, /outbox/, /accounts/: sending through the queue with the composer's
rules, the state machine's actions, and the sender's numbers, through real HTTP."""

import datetime

from django.utils import timezone
from django_q.models import OrmQ

from linkedin_crm.models import AuditEvent
from messaging.models import Message, MessageTemplate
from tests.api.conftest import problem
from tests.contacts.factories import ContactFactory
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory


def _recipient(**fields):
    return ContactFactory(member_urn=f"urn:li:person:{fields.pop('urn', 'r1')}", **fields)


def test_it_sends_one_personalised_message(api, member):
    account = LinkedInAccountFactory(owner=member)
    contact = _recipient(first_name="Ann")
    response = api.post(
        "/api/v1/messages/send/",
        {"contact": contact.pk, "account": account.pk, "body": "Hi {{ first_name }}!"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["body"] == "Hi Ann!" and body["status"] == "queued"
    assert Message.objects.get().created_by == member


def test_it_sends_from_a_template_at_a_time(api, member):
    account = LinkedInAccountFactory(owner=member)
    template = MessageTemplate.objects.create(name="Hello", body="Hello {{ first_name }}")
    when = timezone.now() + datetime.timedelta(days=2)
    response = api.post(
        "/api/v1/messages/send/",
        {
            "contact": _recipient(first_name="Ben").pk,
            "account": account.pk,
            "template": template.pk,
            "send_at": when.isoformat(),
        },
    )
    assert response.status_code == 201, response.content
    message = Message.objects.get()
    assert message.body == "Hello Ben" and message.scheduled_for == when


def test_a_members_token_cannot_send_from_another_members_account(api, other_member):
    account = LinkedInAccountFactory(owner=other_member)
    response = api.post(
        "/api/v1/messages/send/",
        {"contact": _recipient().pk, "account": account.pk, "body": "Hi"},
    )
    assert response.status_code == 403
    assert "another member's" in problem(response)["detail"]
    assert not Message.objects.exists()


def test_a_managers_token_may_send_from_a_members_account(manager_api, member):
    account = LinkedInAccountFactory(owner=member)
    response = manager_api.post(
        "/api/v1/messages/send/",
        {"contact": _recipient().pk, "account": account.pk, "body": "Hi"},
    )
    assert response.status_code == 201


def test_bad_sends_are_refused_with_the_reason_and_queue_nothing(api, member):
    account = LinkedInAccountFactory(owner=member)
    contact = _recipient()
    cases = [
        ({"contact": contact.pk, "account": account.pk}, 422, "body"),
        ({"contact": contact.pk, "account": account.pk, "body": "Hi {{ nme }}"}, 422, "body"),
        ({"contact": 424242, "account": account.pk, "body": "Hi"}, 422, "contact"),
        ({"contact": contact.pk, "account": 424242, "body": "Hi"}, 422, "account"),
        ({"contact": contact.pk, "account": account.pk, "template": 424242}, 422, "template"),
        (
            {
                "contact": contact.pk,
                "account": account.pk,
                "body": "Hi",
                "send_at": "2001-01-01T00:00:00Z",
            },
            422,
            "send_at",
        ),
        ({"contact": "x", "account": account.pk, "body": "Hi"}, 422, "contact"),
    ]
    for data, code, field in cases:
        response = api.post("/api/v1/messages/send/", data)
        assert response.status_code == code, (data, response.content)
        assert field in problem(response)["errors"], (data, response.json())
    assert not Message.objects.exists()


def test_a_do_not_contact_person_is_a_409(api, member):
    account = LinkedInAccountFactory(owner=member)
    contact = _recipient(do_not_contact=True)
    response = api.post(
        "/api/v1/messages/send/", {"contact": contact.pk, "account": account.pk, "body": "Hi"}
    )
    assert response.status_code == 409
    assert "do-not-contact" in problem(response)["detail"].lower()
    assert not Message.objects.exists()


def test_a_retried_send_with_its_idempotency_key_never_queues_twice(api, member):
    account = LinkedInAccountFactory(owner=member)
    data = {"contact": _recipient().pk, "account": account.pk, "body": "Hi"}
    first = api.post("/api/v1/messages/send/", data, HTTP_IDEMPOTENCY_KEY="send-1")
    again = api.post("/api/v1/messages/send/", data, HTTP_IDEMPOTENCY_KEY="send-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Message.objects.count() == 1
    other = api.post(
        "/api/v1/messages/send/", {**data, "body": "Hello"}, HTTP_IDEMPOTENCY_KEY="send-1"
    )
    assert other.status_code == 422 and Message.objects.count() == 1


def test_bulk_send_to_a_filter(api, member):
    account = LinkedInAccountFactory(owner=member)
    _recipient(first_name="Ann", company="Acme", urn="a")
    _recipient(first_name="Ben", company="Acme", urn="b")
    _recipient(first_name="Dee", company="Acme", urn="d", do_not_contact=True)
    _recipient(first_name="Cy", company="Other", urn="c")
    response = api.post(
        "/api/v1/messages/bulk/",
        {"account": account.pk, "body": "Hi {{ first_name }}", "filter": {"company": "Acme"}},
        HTTP_IDEMPOTENCY_KEY="bulk-1",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["queued"] == 2 and len(body["skipped"]) == 1
    assert sorted(Message.objects.values_list("body", flat=True)) == ["Hi Ann", "Hi Ben"]
    assert AuditEvent.objects.get(action="bulk_queue").via == "api"
    again = api.post(
        "/api/v1/messages/bulk/",
        {"account": account.pk, "body": "Hi {{ first_name }}", "filter": {"company": "Acme"}},
        HTTP_IDEMPOTENCY_KEY="bulk-1",
    )
    assert again.json() == body and Message.objects.count() == 2


def test_bulk_send_by_ids_needs_confirming_missing_values(api, member):
    account = LinkedInAccountFactory(owner=member)
    ann = _recipient(first_name="Ann", urn="a")
    nameless = _recipient(first_name="", last_name="X", urn="b")
    data = {"account": account.pk, "body": "Hi {{ first_name }}", "ids": [ann.pk, nameless.pk]}
    response = api.post("/api/v1/messages/bulk/", data)
    assert response.status_code == 422
    assert "confirm_missing" in problem(response)["errors"]
    assert not Message.objects.exists()
    response = api.post("/api/v1/messages/bulk/", {**data, "confirm_missing": True})
    assert response.status_code == 201 and response.json()["queued"] == 2


def test_bulk_refuses_bad_selections(api, member):
    account = LinkedInAccountFactory(owner=member)
    base = {"account": account.pk, "body": "Hi"}
    for data, field in [
        (base, "non_field_errors"),
        ({**base, "ids": [1], "filter": {}}, "non_field_errors"),
        ({**base, "filter": {"stage": "emperor"}}, "filter.stage"),
        ({**base, "ids": [424242]}, "non_field_errors"),
    ]:
        response = api.post("/api/v1/messages/bulk/", data)
        assert response.status_code == 422, data
        assert field in problem(response)["errors"], response.json()
    assert not Message.objects.exists()


def test_the_list_shows_only_manageable_messages_with_filters(api, member):
    mine = LinkedInAccountFactory(owner=member)
    MessageFactory(account=mine, status="queued")
    MessageFactory(account=mine, status="sent")
    MessageFactory(status="queued")  # another member's account
    assert len(api.get("/api/v1/messages/").json()["results"]) == 2
    queued = api.get("/api/v1/messages/?status=queued").json()["results"]
    assert [m["status"] for m in queued] == ["queued"]
    response = api.get("/api/v1/messages/?status=lost")
    assert response.status_code == 422 and "status" in problem(response)["errors"]


def test_detail_shows_events_and_hides_other_members_messages(api, member):
    account = LinkedInAccountFactory(owner=member)
    contact = _recipient()
    sent = api.post(
        "/api/v1/messages/send/", {"contact": contact.pk, "account": account.pk, "body": "Hi"}
    ).json()
    api.post(f"/api/v1/messages/{sent['id']}/cancel/")
    detail = api.get(f"/api/v1/messages/{sent['id']}/").json()
    assert detail["status"] == "cancelled"
    assert "cancelled" in [e["status"] for e in detail["events"]]
    other = MessageFactory()
    assert api.get(f"/api/v1/messages/{other.pk}/").status_code == 404
    assert api.post(f"/api/v1/messages/{other.pk}/cancel/").status_code == 404
    other.refresh_from_db()
    assert other.status == "queued"


def test_cancel_and_resolve_follow_the_state_machine(api, member):
    account = LinkedInAccountFactory(owner=member)
    sent = MessageFactory(account=account, status="sent")
    response = api.post(f"/api/v1/messages/{sent.pk}/cancel/")
    assert response.status_code == 409
    problem(response)
    uncertain = MessageFactory(account=account, status="uncertain")
    bad = api.post(f"/api/v1/messages/{uncertain.pk}/resolve/", {"outcome": "maybe"})
    assert bad.status_code == 422
    assert api.post(f"/api/v1/messages/{sent.pk}/resolve/", {"outcome": "sent"}).status_code == 409
    ok = api.post(f"/api/v1/messages/{uncertain.pk}/resolve/", {"outcome": "requeue"})
    assert ok.status_code == 200 and ok.json()["status"] == "queued"


def test_outbox_and_i_sent_it(api, member):
    account = LinkedInAccountFactory(owner=member)
    waiting = MessageFactory(account=account, status="released", released_at=timezone.now())
    MessageFactory(account=account, status="queued")
    listed = api.get("/api/v1/outbox/").json()["results"]
    assert [m["id"] for m in listed] == [waiting.pk]
    empty = api.post(f"/api/v1/outbox/{waiting.pk}/sent/", {"body": "   "})
    assert empty.status_code == 422
    assert "empty" in problem(empty)["errors"]["body"][0]
    done = api.post(f"/api/v1/outbox/{waiting.pk}/sent/", {"body": "Edited text"})
    assert done.status_code == 200
    assert done.json()["status"] == "sent" and done.json()["body"] == "Edited text"
    assert api.post(f"/api/v1/outbox/{waiting.pk}/sent/", {}).status_code == 409


def test_accounts_show_usage_cap_and_reset(api, member, other_member):
    account = LinkedInAccountFactory(owner=member, daily_limit=10)
    LinkedInAccountFactory(owner=other_member)
    MessageFactory(
        account=account, status="sent", claimed_at=timezone.now(), sent_at=timezone.now()
    )
    rows = api.get("/api/v1/accounts/").json()
    assert [row["id"] for row in rows] == [account.pk]
    row = rows[0]
    assert (row["used_today"], row["cap"], row["remaining_today"]) == (1, 10, 9)
    assert row["day_resets_at"] > timezone.now().isoformat()[:10]
    assert row["next_slot"] is not None


def test_validate_asks_linkedin_for_manageable_accounts(
    api, member, other_member, sandbox_settings
):
    token = sandbox_settings.issue_token("sbx-maya-okafor")
    account = LinkedInAccountFactory(owner=member, access_token=token)
    response = api.post(f"/api/v1/accounts/{account.pk}/validate/")
    assert response.status_code == 200 and response.json()["ok"] is True
    other = LinkedInAccountFactory(owner=other_member)
    assert api.post(f"/api/v1/accounts/{other.pk}/validate/").status_code == 404


def test_only_admins_trigger_a_dispatch_tick_and_it_only_enqueues(api, admin_api, member):
    MessageFactory(account=LinkedInAccountFactory(owner=member))
    refused = api.post("/api/v1/messages/dispatch/")
    assert refused.status_code == 403 and "Admin" in problem(refused)["detail"]
    response = admin_api.post("/api/v1/messages/dispatch/")
    assert response.status_code == 202 and response.json()["task_id"]
    assert OrmQ.objects.count() == 1
    assert Message.objects.get().status == "queued"  # nothing sent inline
