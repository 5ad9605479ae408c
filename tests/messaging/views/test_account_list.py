import pytest

pytestmark = pytest.mark.django_db


def test_pages_require_staff(anon_client, non_staff_client, account):
    for url in ["/linkedin-accounts/", f"/linkedin-accounts/{account.pk}/"]:
        assert anon_client.get(url).status_code == 302
        assert non_staff_client.get(url).status_code == 403
