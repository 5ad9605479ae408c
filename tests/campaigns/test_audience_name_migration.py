"""Audiences that shared a name before names became unique are told apart by the migration:
the oldest keeps the name, the others get a number, and no campaign loses its audience."""

import pytest

from tests.contacts.factories import UserFactory
from tests.migration_steps import migrate, migrate_to_latest

BEFORE = [("campaigns", "0003_roles")]
AFTER = [("campaigns", "0004_step_variant_bounds_unique_audience_names")]


@pytest.mark.django_db(transaction=True)
def test_it_numbers_the_later_audiences_of_a_shared_name():
    maya = UserFactory(username="maya", is_staff=True)
    lukas = UserFactory(username="lukas", is_staff=True)
    try:
        apps = migrate(BEFORE)
        Audience = apps.get_model("campaigns", "Audience")
        Campaign = apps.get_model("campaigns", "Campaign")
        first = Audience.objects.create(name="Berlin CTOs", owner_id=maya.pk)
        second = Audience.objects.create(name="Berlin CTOs", owner_id=maya.pk)
        third = Audience.objects.create(name="berlin ctos", owner_id=lukas.pk)
        long_name = "x" * 120
        Audience.objects.create(name=long_name, owner_id=maya.pk)
        long_twin = Audience.objects.create(name=long_name, owner_id=lukas.pk)
        other = Audience.objects.create(name="Munich", owner_id=lukas.pk)
        campaign = Campaign.objects.create(name="Q1", owner_id=maya.pk, audience_id=second.pk)

        apps = migrate(AFTER)
        Audience = apps.get_model("campaigns", "Audience")
        names = dict(Audience.objects.values_list("pk", "name"))
        assert names[first.pk] == "Berlin CTOs"
        assert names[second.pk] == "Berlin CTOs (2)"
        assert names[third.pk] == "berlin ctos (3)"
        assert names[long_twin.pk] == "x" * 116 + " (2)"
        assert names[other.pk] == "Munich"
        campaign = apps.get_model("campaigns", "Campaign").objects.get(pk=campaign.pk)
        assert campaign.audience_id == second.pk
    finally:
        migrate_to_latest()
