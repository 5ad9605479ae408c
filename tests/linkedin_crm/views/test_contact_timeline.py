import datetime
import re

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import CampaignMessage, Enrollment
from contacts import services as contact_services
from contacts.models import Contact, Network, Note
from linkedin_crm import timeline
from linkedin_crm.models import AuditEvent
from messaging.models import Message
from tests.campaigns.factories import CampaignFactory, add_step
from tests.contacts.factories import ContactFactory, NoteFactory, UserFactory, with_role
from tests.messaging.factories import LinkedInAccountFactory, MessageFactory

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
ITEM = re.compile(r'<li class="timeline-item kind-(\w+)">')
OLDER = re.compile(r'class="timeline-more"><a class="button secondary" href="([^"]+)"')


def url(contact, query=""):
    return f"/contacts/{contact.pk}/timeline/" + (f"?{query}" if query else "")


def at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


@pytest.fixture
def manager(staff_user):
    return with_role(staff_user, "Manager")


@pytest.fixture
def person(manager):
    """A contact with one item of every kind, each a minute after the one before:
    import (0), note (1), message (2), enrollment (3), Outbox message (4), reply (5), stage (6),
    do-not-contact (7), merge (8)."""
    network = Network.objects.default_for(manager)
    data = (HEADER + "Ann,Lee,https://www.linkedin.com/in/ann-lee,,Acme,CTO,01 Mar 2026\n").encode()
    batch = contact_services.import_file(
        data=data, file_name="maya.csv", user=manager, network=network
    )
    contact = Contact.objects.get(profile_url="https://www.linkedin.com/in/ann-lee")
    _move_audit(batch, at(0))
    note = NoteFactory(contact=contact, author=manager, body="Met at the fair.")
    Note.objects.filter(pk=note.pk).update(created_at=at(1))
    account = LinkedInAccountFactory(owner=manager, display_name="Maya")
    sent = MessageFactory(
        contact=contact, account=account, body="Hi Ann, the text as sent", status="sent"
    )
    Message.objects.filter(pk=sent.pk).update(created_at=at(2), sent_at=at(2))
    campaign = CampaignFactory(owner=manager, name="Spring intro", senders=[account])
    step = add_step(campaign, 1, {"A": "Hi"})
    enrollment = Enrollment.objects.create(campaign=campaign, contact=contact, sender=account)
    CampaignMessage.objects.create(
        message=sent, enrollment=enrollment, step=step, variant=step.variants.get()
    )
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=at(3))
    waiting = MessageFactory(
        contact=contact, account=account, body="Following up", status="released"
    )
    Message.objects.filter(pk=waiting.pk).update(created_at=at(4))
    campaign_services.reply_record(
        contact=contact, text="Thanks, call me", received_at=at(5), actor=manager, message=sent
    )
    contact_services.contacts_set_stage(
        contacts=Contact.objects.filter(pk=contact.pk), stage="meeting", actor=manager
    )
    contact_services.contacts_mark_do_not_contact(
        contacts=Contact.objects.filter(pk=contact.pk), reason="On holiday", actor=manager
    )
    duplicate = ContactFactory(first_name="Ann", last_name="Lee", company="Acme")
    contact_services.contacts_merge(survivor=contact, merged=duplicate, values={}, user=manager)
    # The events the services just wrote, at the minutes the story needs (the log refuses
    # updates through the ORM: the tests' own SQL moves them).
    _move_events(contact, {"stage_change": [at(5), at(6)], "do_not_contact": [at(7)]})
    _move_events(contact, {"merge": [at(8)]})
    return contact


def _move_audit(batch, when):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE linkedin_crm_auditevent SET at = %s WHERE object_type = 'importbatch' "
            "AND object_id = %s",
            [when, str(batch.pk)],
        )


def _move_events(contact, times: dict):
    from django.db import connection

    for action, moments in times.items():
        ids = list(
            AuditEvent.objects.filter(
                object_type="contact", object_id=str(contact.pk), action=action
            )
            .order_by("at", "id")
            .values_list("pk", flat=True)
        )
        assert len(ids) == len(moments), (action, ids)
        with connection.cursor() as cursor:
            for pk, when in zip(ids, moments, strict=True):
                cursor.execute(
                    "UPDATE linkedin_crm_auditevent SET at = %s WHERE id = %s", [when, pk]
                )


def kinds_shown(response) -> list[str]:
    return ITEM.findall(response.text)


def test_it_needs_a_staff_member(anon_client, non_staff_client):
    contact = ContactFactory()
    assert anon_client.get(url(contact)).status_code == 302
    assert non_staff_client.get(url(contact)).status_code == 403


def test_it_shows_every_kind_newest_first(staff_client, person):
    response = staff_client.get(url(person))
    assert response.status_code == 200
    assert kinds_shown(response) == [
        "import",  # the merge
        "change",  # do-not-contact
        "change",  # stage → meeting
        "reply",
        "change",  # stage → replied, at the reply's minute, after it (audit > reply)
        "outbox",
        "campaign",
        "message",
        "note",
        "import",
    ]
    text = response.text
    assert "Imported from maya.csv" in text
    assert "Met at the fair." in text
    assert "Hi Ann, the text as sent" in text
    assert "Spring intro, step 1, variant A" in text
    assert "Following up" in text and "In Outbox" in text
    assert "Thanks, call me" in text
    assert "Stage changed from “Replied” to “Meeting”" in text
    assert "Marked do-not-contact" in text
    assert re.search(r"Contact #\d+ merged into this one", text)
    assert text.count(f"by {person_actor(person)}") >= 4


def person_actor(contact) -> str:
    return AuditEvent.objects.filter(object_id=str(contact.pk)).first().actor_name


def test_an_enrollment_shows_how_it_ended(staff_client, person):
    # The reply stopped the follow-ups of the campaign with a step that stops on reply.
    enrollment = Enrollment.objects.get(contact=person)
    assert enrollment.state == Enrollment.State.REPLIED
    assert "Ended: replied" in staff_client.get(url(person, "kind=campaign")).text


def test_the_kind_filter_shows_only_those_kinds(staff_client, person):
    assert kinds_shown(staff_client.get(url(person, "kind=outbox"))) == ["outbox"]
    assert kinds_shown(staff_client.get(url(person, "kind=message&kind=note"))) == [
        "message",
        "note",
    ]
    response = staff_client.get(url(person, "kind=change"))
    assert kinds_shown(response) == ["change", "change", "change"]
    assert 'value="change" checked' in response.text


def test_bad_parameters_are_reported_and_ignored(staff_client, person):
    everything = kinds_shown(staff_client.get(url(person)))
    response = staff_client.get(url(person, "before=garbage&kind=bogus"))
    assert response.status_code == 200
    assert "“garbage” is not a position in this timeline" in response.text
    assert "“bogus” is not a kind of event here" in response.text
    assert kinds_shown(response) == everything
    for before in ("99999999999999999999.message.1", "1.nosuch.1", "1.message.x", "-1.note.2"):
        response = staff_client.get(url(person, f"before={before}"))
        assert response.status_code == 200
        assert "is not a position in this timeline" in response.text


def test_paging_has_no_gaps_or_duplicates_even_with_equal_times(staff_client, staff_user):
    contact = ContactFactory()
    account = LinkedInAccountFactory(owner=staff_user)
    # Many items at one time, from three sources, and some at other times.
    same = at(10)
    for n in range(23):
        note = NoteFactory(contact=contact, author=staff_user, body=f"note {n}")
        Note.objects.filter(pk=note.pk).update(created_at=same if n % 2 else at(n))
        message = MessageFactory(contact=contact, account=account, body=f"message {n}")
        Message.objects.filter(pk=message.pk).update(created_at=same if n % 3 else at(-n))
    for n in range(10):
        contact_services.contacts_set_stage(
            contacts=Contact.objects.filter(pk=contact.pk),
            stage="meeting" if n % 2 else "customer",
            actor=staff_user,
        )
    expected = 23 + 23 + 10
    seen, pages, next_url = [], 0, url(contact)
    while next_url:
        response = staff_client.get(next_url)
        page = timeline_page_items(response)
        seen += page
        pages += 1
        older = OLDER.search(response.text)
        next_url = older.group(1).replace("&amp;", "&") if older else None
    assert pages == 3  # 25 + 25 + 6
    assert len(seen) == expected
    assert len(set(seen)) == expected
    # The same order as one query over everything would give.
    whole = timeline.contact_timeline(contact, user=staff_user, page_size=1000)
    assert seen == [(item.source, item.id) for item in whole.items]
    assert whole.older is None


def timeline_page_items(response) -> list[tuple[str, int]]:
    page = response.context["page"]
    return [(item.source, item.id) for item in page.items]


def test_older_with_htmx_returns_only_the_next_items(staff_client, staff_user):
    contact = ContactFactory()
    for n in range(30):
        NoteFactory(contact=contact, author=staff_user, body=f"note {n}")
    first = staff_client.get(url(contact), headers={"HX-Request": "true"})
    assert first.text.lstrip().startswith('<section class="card timeline" id="timeline"')
    older = OLDER.search(first.text).group(1).replace("&amp;", "&")
    second = staff_client.get(older, headers={"HX-Request": "true"})
    assert "<section" not in second.text and "<html" not in second.text
    assert len(kinds_shown(second)) == 5
    assert "timeline-more" not in second.text


def test_a_member_sees_that_a_colleague_wrote_but_not_the_text(client, person):
    member = UserFactory(username="lukas", is_staff=True)
    with_role(member, "Member")
    client.force_login(member)
    own = LinkedInAccountFactory(owner=member, display_name="Lukas")
    MessageFactory(contact=person, account=own, body="Lukas says hello")
    response = client.get(url(person))
    text = response.text
    assert "Lukas says hello" in text
    assert "Hi Ann, the text as sent" not in text and "Following up" not in text
    assert "Thanks, call me" not in text
    assert text.count("Its text is shown to those who may manage Maya") == 3
    # The rest of the history is the whole team's.
    assert kinds_shown(response).count("message") == 2
    assert "Met at the fair." in text and "Marked do-not-contact" in text
    # No link to message or campaign pages the member may not open.
    sent = Message.objects.get(body="Hi Ann, the text as sent")
    assert f'href="/messages/{sent.pk}/"' not in text
    campaign = Enrollment.objects.get(contact=person).campaign
    assert f'href="/campaigns/{campaign.pk}/"' not in text and "“Spring intro”" in text


def test_a_manager_sees_every_text_and_link(staff_client, person):
    text = staff_client.get(url(person)).text
    assert "Its text is shown" not in text
    campaign = Enrollment.objects.get(contact=person).campaign
    sent = Message.objects.get(body="Hi Ann, the text as sent")
    assert f'href="/campaigns/{campaign.pk}/"' in text and f'href="/messages/{sent.pk}/"' in text


def test_a_missing_contact_is_a_404(staff_client):
    assert staff_client.get("/contacts/987654/timeline/").status_code == 404


def test_the_contact_page_loads_the_timeline(staff_client, person):
    response = staff_client.get(f"/contacts/{person.pk}/")
    assert f'hx-get="/contacts/{person.pk}/timeline/" hx-trigger="load"' in response.text
    # Without JavaScript, the same place links to the timeline's own page.
    assert f'href="/contacts/{person.pk}/timeline/"' in response.text


def test_a_page_of_a_long_history_stays_within_8_queries(
    staff_client, manager, person, django_assert_max_num_queries
):
    # Every kind on one page, with everything each item shows (sender, campaign, step,
    # variant, who recorded it): nothing is loaded item by item.
    with django_assert_max_num_queries(8):
        response = staff_client.get(url(person))
    assert len(set(kinds_shown(response))) == len(timeline.KINDS)
    account = LinkedInAccountFactory(owner=manager)
    for n in range(60):
        MessageFactory(contact=person, account=account, body=f"message {n}")
        NoteFactory(contact=person, author=manager)
    for stage in ["lead", "customer"] * 20:
        contact_services.contacts_set_stage(
            contacts=Contact.objects.filter(pk=person.pk), stage=stage, actor=manager
        )
    with django_assert_max_num_queries(8):
        first = staff_client.get(url(person))
    older = OLDER.search(first.text).group(1).replace("&amp;", "&")
    with django_assert_max_num_queries(8):
        response = staff_client.get(older, headers={"HX-Request": "true"})
    assert len(kinds_shown(response)) == timeline.PAGE_SIZE


def test_gets_write_nothing(staff_client, person):
    before = (AuditEvent.objects.count(), Note.objects.count(), Message.objects.count())
    staff_client.get(url(person, "kind=bogus&before=x"))
    assert (AuditEvent.objects.count(), Note.objects.count(), Message.objects.count()) == before


def test_the_cursor_round_trips_to_the_microsecond():
    when = timezone.now().replace(microsecond=123456)
    cursor = timeline.Cursor(when, "message", 42)
    assert timeline.Cursor.parse(str(cursor)) == cursor
