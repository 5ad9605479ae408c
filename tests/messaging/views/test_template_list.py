"""The template list shows each template as a sample contact would get it."""

import pytest

from messaging.models import MessageTemplate

pytestmark = pytest.mark.django_db


def _template(body: str, name: str = "Intro") -> MessageTemplate:
    return MessageTemplate.objects.create(name=name, body=body)


def test_it_needs_staff(anon_client, non_staff_client):
    assert anon_client.get("/messages/templates/").status_code == 302
    assert non_staff_client.get("/messages/templates/").status_code == 403


def test_it_shows_a_rendered_sample_instead_of_the_variables(staff_client, staff_user):
    staff_user.first_name, staff_user.last_name = "Alice", "Archer"
    staff_user.save()
    _template('Hi {{ first_name|default:"there" }} at {{ company }}, {{ sender_first_name }}')

    page = staff_client.get("/messages/templates/").content.decode()

    sample = page.split('class="message-preview template-sample">')[1].split("</div>")[0]
    assert sample == "Hi Jane at Acme GmbH, Alice"
    # The source is still there, folded away.
    assert "{{ first_name|default:&quot;there&quot; }}" in page


def test_a_template_that_cannot_render_says_why_instead_of_failing(staff_client):
    _template("{% if company %}{% endif %}", name="Empty")
    response = staff_client.get("/messages/templates/")
    assert response.status_code == 200
    assert "This template cannot be rendered: The message is empty for this recipient." in (
        response.content.decode()
    )
