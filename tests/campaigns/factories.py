import factory

from campaigns.models import Audience, Campaign, Step, Variant
from tests.contacts.factories import UserFactory


class AudienceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Audience

    name = factory.Sequence(lambda n: f"Audience {n}")
    owner = factory.SubFactory(UserFactory, is_staff=True)
    query = ""


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Campaign {n}")
    owner = factory.SubFactory(UserFactory, is_staff=True)
    audience = factory.SubFactory(AudienceFactory)

    @factory.post_generation
    def senders(self, create, extracted, **kwargs):
        if create and extracted:
            self.senders.add(*extracted)


def add_step(campaign, order, bodies, *, delay_days=0, weights=None, stop_on_reply=True):
    step = Step.objects.create(
        campaign=campaign, order=order, delay_days=delay_days, stop_on_reply=stop_on_reply
    )
    for label, body in bodies.items():
        Variant.objects.create(
            step=step, label=label, body=body, weight=(weights or {}).get(label, 1)
        )
    return step
