import pytest

from tests.contacts.factories import ContactFactory, with_role
from tests.contacts.merge_pair import ann_lee_twice

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_user(staff_user):
    """Merging needs the Manager role (test_contact_permissions.py has the Member's refusals)."""
    return with_role(staff_user, "Manager")


@pytest.fixture
def pair():
    return ann_lee_twice()


def test_the_duplicates_page_groups_same_name_and_company_and_same_email(staff_client, pair):
    ContactFactory(first_name="X", email="dup@example.org")
    ContactFactory(first_name="Y", email="dup@example.org")
    ContactFactory(first_name="Lonely")
    response = staff_client.get("/contacts/duplicates/")
    assert response.context["total"] == 2
    content = response.content.decode()
    assert "Lonely" not in content and "dup@example.org" in content
