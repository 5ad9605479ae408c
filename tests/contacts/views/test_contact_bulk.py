import pytest

from contacts.models import Contact, Stage, Tag
from linkedin_crm.models import AuditEvent
from tests.contacts.factories import ContactFactory, NoteFactory, TagFactory, with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_user(staff_user):
    """Deleting needs the Manager role (test_contact_permissions.py has the Member's refusals)."""
    return with_role(staff_user, "Manager")


@pytest.fixture
def people():
    return [
        ContactFactory(first_name="Ann", last_name="Acme", company="Acme"),
        ContactFactory(first_name="Ben", last_name="Acme", company="Acme"),
        ContactFactory(first_name="Cat", last_name="Globex", company="Globex"),
    ]


def post(client, **data):
    return client.post("/contacts/bulk/", data)


def test_it_requires_staff(anon_client, non_staff_client, people):
    data = {"action": "delete", "selected": [people[0].pk], "confirmed": "on"}
    assert anon_client.post("/contacts/bulk/", data).status_code == 302
    assert non_staff_client.post("/contacts/bulk/", data).status_code == 403
    assert Contact.objects.count() == 3


def test_it_tags_the_selected_contacts_reusing_a_tag_case_insensitively(staff_client, people):
    vip = TagFactory(name="VIP")
    people[0].tags.add(vip)
    response = post(
        staff_client, action="add_tag", tag="vip", selected=[people[0].pk, people[1].pk]
    )
    assert response.status_code == 302
    assert Tag.objects.count() == 1
    assert set(vip.contacts.all()) == {people[0], people[1]}


def test_it_creates_a_new_tag_when_needed(staff_client, people):
    post(staff_client, action="add_tag", tag="  Conference  2025 ", selected=[people[2].pk])
    assert list(people[2].tags.values_list("name", flat=True)) == ["Conference 2025"]


def test_it_removes_a_tag(staff_client, people):
    vip = TagFactory(name="VIP")
    for person in people:
        person.tags.add(vip)
    post(staff_client, action="remove_tag", tag="VIP", selected=[people[0].pk])
    assert set(vip.contacts.all()) == {people[1], people[2]}


def test_it_refuses_to_remove_a_tag_that_does_not_exist(staff_client, people):
    response = staff_client.post(
        "/contacts/bulk/",
        {"action": "remove_tag", "tag": "Nope", "selected": [people[0].pk]},
        follow=True,
    )
    assert "There is no tag called “Nope”." in response.content.decode()


def test_it_sets_the_stage_of_all_contacts_matching_the_filter(staff_client, people):
    response = post(
        staff_client, action="set_stage", stage="contacted", all_matching="on", query="company=Acme"
    )
    assert response["Location"] == "/contacts/?company=Acme"
    stages = dict(Contact.objects.values_list("first_name", "stage"))
    assert stages == {"Ann": Stage.CONTACTED, "Ben": Stage.CONTACTED, "Cat": Stage.LEAD}
    # One event per contact that changed, for its timeline.
    recorded = AuditEvent.objects.filter(action="stage_change")
    assert sorted(recorded.values_list("object_id", flat=True)) == sorted(
        [str(people[0].pk), str(people[1].pk)]
    )
    assert {event.actor for event in recorded} == {response.wsgi_request.user}


def test_it_marks_do_not_contact_with_a_reason(staff_client, people):
    post(staff_client, action="mark_dnc", reason="Competitor", selected=[people[2].pk])
    people[2].refresh_from_db()
    assert people[2].do_not_contact and people[2].dnc_reason == "Competitor"
    event = AuditEvent.objects.get(action="do_not_contact")
    assert event.object_id == str(people[2].pk) and "Competitor" not in str(event.detail)


def test_it_asks_before_deleting_and_states_the_count(staff_client, people):
    NoteFactory(contact=people[0])
    response = post(staff_client, action="delete", all_matching="on", query="company=Acme")
    assert response.status_code == 200
    assert "Delete 2 contacts?" in response.content.decode()
    assert Contact.objects.count() == 3
    response = post(
        staff_client, action="delete", all_matching="on", query="company=Acme", confirmed="on"
    )
    assert response.status_code == 302
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Cat"]


def test_it_deletes_only_the_selected_contacts_after_confirmation(staff_client, people):
    post(staff_client, action="delete", selected=[people[1].pk], confirmed="on")
    assert set(Contact.objects.all()) == {people[0], people[2]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "add_tag", "tag": "x"}, "Select at least one contact."),
        ({"action": "add_tag", "selected": ["PK"]}, "Name the tag."),
        ({"action": "set_stage", "selected": ["PK"], "stage": "wizard"}, "Select a valid choice"),
        ({"action": "set_stage", "selected": ["PK"]}, "Choose a stage."),
        ({"action": "mark_dnc", "selected": ["PK"]}, "Say why"),
        ({"action": "explode", "selected": ["PK"]}, "Select a valid choice"),
        ({"action": "delete", "selected": ["999999"], "confirmed": "on"}, "Select a valid choice"),
        ({"action": "delete", "selected": ["abc"], "confirmed": "on"}, "is not a valid value"),
    ],
)
def test_it_reports_bad_input_and_changes_nothing(staff_client, people, data, message):
    data = {k: ([str(people[0].pk)] if v == ["PK"] else v) for k, v in data.items()}
    response = staff_client.post("/contacts/bulk/", data, follow=True)
    assert message in response.content.decode()
    assert Contact.objects.count() == 3
    assert not Tag.objects.exists()
    assert set(Contact.objects.values_list("stage", flat=True)) == {Stage.LEAD}
    assert not Contact.objects.filter(do_not_contact=True).exists()


def test_it_refuses_all_matching_with_an_invalid_filter(staff_client, people):
    response = staff_client.post(
        "/contacts/bulk/",
        {"action": "delete", "all_matching": "on", "query": "stage=wizard", "confirmed": "on"},
        follow=True,
    )
    assert "nothing was changed" in response.content.decode()
    assert Contact.objects.count() == 3


def test_it_is_post_only(staff_client):
    assert staff_client.get("/contacts/bulk/").status_code == 405


def test_its_messages_count_one_contact_in_the_singular(staff_client, people):
    """Issue #13: "Tagged 1 contact(s)"."""
    response = staff_client.post(
        "/contacts/bulk/", {"action": "add_tag", "tag": "VIP", "selected": [people[0].pk]}
    )
    page = staff_client.get(response["Location"]).content.decode()
    assert "Tagged 1 contact “VIP”." in page
    response = staff_client.post(
        "/contacts/bulk/",
        {"action": "set_stage", "stage": "contacted", "selected": [p.pk for p in people]},
    )
    page = staff_client.get(response["Location"]).content.decode()
    assert "Moved 3 contacts to “Contacted”." in page
