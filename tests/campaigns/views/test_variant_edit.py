import pytest

from campaigns.models import Variant
from tests.campaigns.factories import add_step

pytestmark = pytest.mark.django_db


def test_edit_and_delete_steps_and_variants_of_a_draft(staff_client, campaign):
    add_step(campaign, 2, {"A": "Following up, {{ first_name }}"}, delay_days=3)
    add_step(campaign, 3, {"A": "Last try, {{ first_name }}"}, delay_days=7)
    variant = Variant.objects.get(step__order=1, label="B")
    response = staff_client.post(
        f"/campaigns/variants/{variant.pk}/edit/",
        {"step": variant.step_id, "label": "b", "body": "Hey {{ first_name }}", "weight": 3},
    )
    assert response.status_code == 302
    variant.refresh_from_db()
    assert (variant.label, variant.body, variant.weight) == ("B", "Hey {{ first_name }}", 3)
    # A label another variant of the step has, and a template with an unknown variable.
    response = staff_client.post(
        f"/campaigns/variants/{variant.pk}/edit/",
        {"step": variant.step_id, "label": "A", "body": "Hi {{ frist_name }}", "weight": 1},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "has a variant A already" in page and "frist_name" in page
    variant.refresh_from_db()
    assert variant.label == "B"

    second = campaign.steps.get(order=2)
    staff_client.post(f"/campaigns/steps/{second.pk}/edit/", {"delay_days": 4})
    second.refresh_from_db()
    assert second.delay_days == 4 and not second.stop_on_reply

    first = campaign.steps.get(order=1)
    staff_client.post(f"/campaigns/steps/{first.pk}/delete/")
    steps = list(campaign.steps.values_list("order", "delay_days"))
    assert steps == [(1, 0), (2, 7)]  # renumbered; the new first step goes out at launch
    assert not Variant.objects.filter(pk=variant.pk).exists()
