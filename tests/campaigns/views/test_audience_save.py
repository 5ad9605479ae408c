import pytest

from campaigns.models import Audience

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
