import pytest
from django.db import IntegrityError

from contacts.models import Contact, Network, Tag
from tests.contacts.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_says_how_a_contact_can_be_messaged():
    assert ContactFactory(member_urn="urn:li:person:abc").message_channel == "api"
    assert ContactFactory().message_channel == "manual"
    assert ContactFactory(profile_url=None).message_channel is None
    dnc = ContactFactory(member_urn="urn:li:person:x", do_not_contact=True)
    assert dnc.message_channel is None and not dnc.can_be_messaged


def test_profile_urls_are_unique_when_set_but_many_may_be_missing():
    ContactFactory(profile_url=None)
    ContactFactory(profile_url=None)
    ContactFactory(profile_url="https://www.linkedin.com/in/a")
    with pytest.raises(IntegrityError):
        ContactFactory(profile_url="https://www.linkedin.com/in/a")


def test_search_text_follows_partial_saves():
    contact = ContactFactory(company="Old Co")
    contact.company = "Société Lumière"
    contact.save(update_fields=["company"])
    assert list(Contact.objects.search("SOCIÉTÉ")) == [contact]


def test_every_user_has_one_default_network():
    user = UserFactory(first_name="Ann", last_name="Lee")
    network = Network.objects.default_for(user)
    assert network.name == "Ann Lee's network"
    assert Network.objects.default_for(user) == network
    with pytest.raises(IntegrityError):
        Network.objects.create(owner=user, is_default=True, name="second")


def test_tags_match_case_insensitively_across_scripts():
    tag = Tag.get_or_create_named("Ärzte")
    assert Tag.get_or_create_named("ÄRZTE") == tag
    assert Tag.find_named("ärzte ") == tag
    assert Tag.find_named("other") is None


def test_search_uses_at_most_10_words_of_any_text():
    ann = ContactFactory(first_name="Ann", last_name="Lee")
    assert list(Contact.objects.search("ann " * 10 + "zzz " * 5000)) == [ann]
