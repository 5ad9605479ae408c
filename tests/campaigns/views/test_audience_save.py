import pytest

from campaigns.models import Audience
from tests.campaigns.factories import AudienceFactory

pytestmark = pytest.mark.django_db


def test_save_as_audience_from_the_contact_list(staff_client):
    response = staff_client.post(
        "/audiences/save/", {"name": "Berlin CTOs", "query": "q=cto&company=Acme"}
    )
    assert response["Location"] == "/contacts/?q=cto&company=Acme"
    assert Audience.objects.get().query == "q=cto&company=Acme"
    response = staff_client.post("/audiences/save/", {"name": "", "query": "q=x"}, follow=True)
    assert "Give the audience a name." in response.content.decode()
    assert Audience.objects.count() == 1


def test_a_second_audience_of_the_same_name_is_refused(staff_client, other_staff_user):
    """Issue #13: two audiences could share a name, and the campaign form then listed two
    "Berlin CTOs" nobody could tell apart."""
    AudienceFactory(name="Berlin CTOs", owner=other_staff_user, query="q=cto")
    response = staff_client.post(
        "/audiences/save/", {"name": "berlin ctos ", "query": "q=cto&company=Acme"}, follow=True
    )
    page = response.content.decode()
    assert "An audience named “berlin ctos” exists already" in page
    # Back on the same filter of the contact list, nothing saved.
    assert response.redirect_chain[-1][0] == "/contacts/?q=cto&company=Acme"
    assert list(Audience.objects.values_list("query", flat=True)) == ["q=cto"]


def test_the_database_refuses_a_duplicate_name_too(staff_user):
    from django.db import IntegrityError, transaction

    AudienceFactory(name="Munich", owner=staff_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        AudienceFactory(name="MUNICH", owner=staff_user)
    assert Audience.objects.count() == 1


def test_the_admins_selections_in_one_minute_get_their_own_names(staff_user):
    first = Audience.objects.create(name=Audience.free_name("Admin selection"), owner=staff_user)
    second = Audience.objects.create(name=Audience.free_name("Admin selection"), owner=staff_user)
    third = Audience.objects.create(name=Audience.free_name("admin SELECTION"), owner=staff_user)
    assert [first.name, second.name, third.name] == [
        "Admin selection",
        "Admin selection (2)",
        "admin SELECTION (3)",
    ]


def test_save_as_audience_requires_staff(anon_client, non_staff_client):
    data = {"name": "Berlin CTOs", "query": "q=cto"}
    assert anon_client.post("/audiences/save/", data).status_code == 302
    assert non_staff_client.post("/audiences/save/", data).status_code == 403
    assert not Audience.objects.exists()
