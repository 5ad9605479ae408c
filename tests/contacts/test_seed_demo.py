import pytest
from django.core.management import CommandError, call_command

from contacts.models import Connection, Contact, Network

pytestmark = pytest.mark.django_db


def test_it_creates_invented_contacts_with_connections(staff_user, capsys):
    call_command("seed_demo", "--contacts", "300")
    assert Contact.objects.count() == 300
    assert Connection.objects.filter(network=Network.objects.default_for(staff_user)).count() == 300
    emails = Contact.objects.exclude(email="").count()
    assert 0 < emails < 60  # about 5%
    assert Contact.objects.exclude(search_text="").count() == 300
    assert Contact.objects.filter(tags__isnull=False).exists()
    assert "Created 300 contacts" in capsys.readouterr().out
    # The folded search column is filled by bulk writes too.
    someone = Contact.objects.exclude(last_name="").first()
    assert someone in Contact.objects.search(someone.last_name.upper())


def test_it_refuses_without_a_staff_user():
    with pytest.raises(CommandError, match="Create a staff user first"):
        call_command("seed_demo", "--contacts", "5")
    assert not Contact.objects.exists()


@pytest.mark.parametrize("count", ["0", "-5", "2000000"])
def test_it_refuses_a_bad_count(staff_user, count):
    with pytest.raises(CommandError, match="between 1 and 1,000,000"):
        call_command("seed_demo", "--contacts", count)
    assert not Contact.objects.exists()


def test_it_refuses_an_unknown_owner(staff_user):
    with pytest.raises(CommandError, match="No active staff user 'nobody'"):
        call_command("seed_demo", "--contacts", "5", "--owner", "nobody")
