import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from contacts.models import Connection, Contact, ImportBatch, Network, Note, Tag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


def give_role(user, role: str):
    """Put a user in one of the role groups (Admin, Manager, Member) and return them with
    Django's permission cache cleared, so the next check sees the role."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    from linkedin_crm.roles import sync_role_groups

    if not Group.objects.filter(name=role).exists():
        # A transactional test (the browser tests) empties every table after it, the groups
        # the migration made included.
        sync_role_groups(apps)
    user.groups.add(Group.objects.get(name=role))
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"tag {n}")


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network

    owner = factory.SubFactory(UserFactory, is_staff=True)
    name = factory.LazyAttribute(lambda n: f"{n.owner.username}'s network")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    profile_url = factory.Sequence(lambda n: f"https://www.linkedin.com/in/person-{n}")
    company = factory.Faker("company")
    position = factory.Faker("job")

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.add(*extracted)


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection

    contact = factory.SubFactory(ContactFactory)
    network = factory.SubFactory(NetworkFactory)
    connected_on = datetime.date(2022, 6, 2)


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    contact = factory.SubFactory(ContactFactory)
    author = factory.SubFactory(UserFactory, is_staff=True)
    body = "Met at the conference."


class ImportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportBatch

    file_name = "Connections.csv"
    sha256 = "0" * 64
    network = factory.SubFactory(NetworkFactory)
    uploaded_by = factory.LazyAttribute(lambda b: b.network.owner)
    status = ImportBatch.Status.DONE


def with_role(user, role: str):
    """The user, re-fetched (Django caches permissions on the object), holding `role`
    ("Admin", "Manager" or "Member")."""
    Group.objects.get(name=role).user_set.add(user)
    return get_user_model().objects.get(pk=user.pk)
