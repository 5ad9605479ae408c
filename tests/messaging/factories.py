import datetime

import factory
from django.utils import timezone

from contacts.models import Network
from messaging.models import LinkedInAccount, Message
from tests.contacts.factories import UserFactory


class LinkedInAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LinkedInAccount

    owner = factory.SubFactory(UserFactory, is_staff=True)
    network = factory.LazyAttribute(lambda a: Network.objects.default_for(a.owner))
    display_name = factory.Sequence(lambda n: f"Member {n}")
    member_urn = factory.Sequence(lambda n: f"urn:li:person:member{n}")
    access_token = factory.Sequence(lambda n: f"AQV-access-token-{n}-" + "x" * 400)
    access_token_expires_at = factory.LazyFunction(
        lambda: timezone.now() + datetime.timedelta(days=60)
    )
    scopes = ["openid", "profile", "email"]


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    contact = factory.SubFactory(
        "tests.contacts.factories.ContactFactory",
        member_urn=factory.Sequence(lambda n: f"urn:li:person:recipient{n}"),
    )
    account = factory.SubFactory(LinkedInAccountFactory)
    body = "Hello from the CRM"
    status = Message.Status.QUEUED
