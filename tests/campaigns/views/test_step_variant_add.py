"""Adding a step or a variant to a draft (the forms on the campaign page): within bounds, and
on a mistake the form comes back with what was typed."""

import pytest

from campaigns.models import Step, Variant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        ("99999999999999", "A weight is at most 1,000."),
        ("1001", "A weight is at most 1,000."),
        ("0", "A weight is at least 1."),
        ("-3", "A weight is at least 1."),
        ("lots", "Enter a whole number."),
    ],
)
def test_a_variant_weight_out_of_bounds_is_refused_and_the_text_kept(
    staff_client, campaign, weight, message
):
    """Issue #13: a weight of 99,999,999,999,999 was accepted."""
    step = campaign.steps.get()
    body = "Hi {{ first_name }}, a long message I would hate to type again."
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/variants/",
        {"step": step.pk, "label": "C", "body": body, "weight": weight},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "a long message I would hate to type again." in page
    assert list(step.variants.values_list("label", flat=True)) == ["A", "B"]


def test_the_largest_weight_is_accepted(staff_client, campaign):
    step = campaign.steps.get()
    staff_client.post(
        f"/campaigns/{campaign.pk}/variants/",
        {"step": step.pk, "label": "C", "body": "Hey {{ first_name }}", "weight": "1000"},
    )
    assert Variant.objects.get(label="C").weight == 1000


@pytest.mark.parametrize(
    ("delay", "message"),
    [("100000", "A step can wait at most 365 days."), ("-1", "A delay cannot be negative.")],
)
def test_a_step_delay_out_of_bounds_is_refused(staff_client, campaign, delay, message):
    """Issue #13: a 100,000-day delay was accepted."""
    response = staff_client.post(
        f"/campaigns/{campaign.pk}/steps/", {"delay_days": delay, "stop_on_reply": "on"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(campaign.steps.values_list("order", flat=True)) == [1]


def test_a_year_is_the_longest_delay(staff_client, campaign):
    staff_client.post(f"/campaigns/{campaign.pk}/steps/", {"delay_days": "365"})
    assert Step.objects.get(order=2).delay_days == 365


def test_editing_a_step_keeps_to_the_bounds(staff_client, campaign):
    step = campaign.steps.get()
    variant = step.variants.get(label="A")
    response = staff_client.post(f"/campaigns/steps/{step.pk}/edit/", {"delay_days": "366"})
    assert "A step can wait at most 365 days." in response.content.decode()
    response = staff_client.post(
        f"/campaigns/variants/{variant.pk}/edit/",
        {"step": step.pk, "label": "A", "body": variant.body, "weight": "5000"},
    )
    assert "A weight is at most 1,000." in response.content.decode()
    variant.refresh_from_db()
    assert variant.weight == 1


def test_adding_requires_staff(anon_client, non_staff_client, campaign):
    step = campaign.steps.get()
    data = {"step": step.pk, "label": "C", "body": "Hi", "weight": "1", "delay_days": "1"}
    for url in (f"/campaigns/{campaign.pk}/variants/", f"/campaigns/{campaign.pk}/steps/"):
        assert anon_client.post(url, data).status_code == 302
        assert non_staff_client.post(url, data).status_code == 403
    assert Variant.objects.count() == 2 and Step.objects.count() == 1
