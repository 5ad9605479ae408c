import pytest

from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_duplicates_page_groups_same_name_and_company_and_same_email(manager_client, pair):
    ContactFactory(first_name="X", email="dup@example.org")
    ContactFactory(first_name="Y", email="dup@example.org")
    ContactFactory(first_name="Lonely")
    response = manager_client.get("/contacts/duplicates/")
    assert response.context["total"] == 2
    content = response.content.decode()
    assert "Lonely" not in content and "dup@example.org" in content
