import pytest

from campaigns.models import Campaign, Enrollment
from contacts.models import Contact
from messaging.models import Message
from tests.contacts.factories import ConnectionFactory, NetworkFactory
from tests.messaging.factories import LinkedInAccountFactory

pytestmark = pytest.mark.django_db


def test_launch_pause_resume_cancel(staff_client, campaign):
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/launch/", {"confirm": "yes"}, follow=True
    )
    assert "Launched: 3 enrolled, 0 skipped." in response.content.decode()
    assert Message.objects.filter(stream=f"campaign:{campaign.pk}").count() == 3
    staff_client.post(f"/campaigns/{campaign.pk}/pause/")
    assert Campaign.objects.get().status == "paused"
    staff_client.post(f"/campaigns/{campaign.pk}/resume/")
    assert Campaign.objects.get().status == "running"
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/launch/", {"confirm": "yes"}, follow=True
    )
    assert "Only a draft campaign can be launched." in response.content.decode()
    staff_client.post(f"/campaigns/{campaign.pk}/cancel/")
    assert Campaign.objects.get().status == "cancelled"
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}


def test_launch_first_asks_with_the_count_it_will_queue(staff_client, staff_user, campaign):
    """Issue #13: the launch queued to everyone at one click. It now states how many contacts
    from how many senders, the numbers the launch then really queues."""
    second = LinkedInAccountFactory(
        owner=staff_user, display_name="Second Sender", network=NetworkFactory(owner=staff_user)
    )
    campaign.senders.add(second)
    for contact in Contact.objects.filter(first_name__in=["Ben", "Cat"]):
        ConnectionFactory(contact=contact, network=second.network)
    Contact.objects.get(first_name="Cat").mark_do_not_contact("asked")
    url = f"/campaigns/{campaign.pk}/launch/"

    for response in (staff_client.get(url), staff_client.post(url)):
        page = response.content.decode()
        assert response.status_code == 200
        assert "Launch to 2 contacts from 2 senders?" in page
        assert "1 contact of the audience is skipped" in page
        assert 'name="confirm" value="yes"' in page
    campaign.refresh_from_db()
    assert campaign.status == "draft"
    assert not Enrollment.objects.exists() and not Message.objects.exists()

    staff_client.post(url, {"confirm": "yes"})
    campaign.refresh_from_db()
    assert campaign.status == "running"
    assert Message.objects.count() == 2
    assert Message.objects.values("account").distinct().count() == 2


def test_the_question_reads_right_for_one_contact(staff_client, campaign):
    Contact.objects.filter(first_name__in=["Ben", "Cat"]).update(do_not_contact=True)
    page = staff_client.get(f"/campaigns/{campaign.pk}/launch/").content.decode()
    assert "Launch to 1 contact from 1 sender?" in page
    assert "Launch to 1 contact</button>" in page


def test_a_campaign_that_cannot_launch_says_why_and_offers_no_launch(staff_client, campaign):
    campaign.steps.all().delete()
    page = staff_client.get(f"/campaigns/{campaign.pk}/launch/").content.decode()
    assert "cannot launch yet" in page
    assert "Add a first step with at least one variant." in page
    assert 'name="confirm"' not in page
    assert Campaign.objects.get().status == "draft"


def test_a_launched_campaign_has_no_confirmation_page(staff_client, campaign):
    staff_client.post(f"/campaigns/{campaign.pk}/launch/", {"confirm": "yes"})
    response = staff_client.get(f"/campaigns/{campaign.pk}/launch/", follow=True)
    assert "Only a draft campaign can be launched." in response.content.decode()
    assert Message.objects.count() == 3


def test_launch_requires_staff(anon_client, non_staff_client, campaign):
    url = f"/campaigns/{campaign.pk}/launch/"
    assert anon_client.get(url).status_code == 302
    assert non_staff_client.get(url).status_code == 403
    assert non_staff_client.post(url, {"confirm": "yes"}).status_code == 403
    assert not Message.objects.exists()
