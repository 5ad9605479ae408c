import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_creates_a_staff_superuser_once_and_prints_the_password(capsys, client):
    call_command("create_first_admin")
    out = capsys.readouterr().out
    password = out.split("password: ")[1].split()[0]
    user = get_user_model().objects.get()
    assert user.is_staff and user.is_superuser
    response = client.post("/accounts/login/", {"login": "admin", "password": password})
    assert response.status_code == 302
    assert client.get("/contacts/").status_code == 200

    call_command("create_first_admin")
    assert "exists already" in capsys.readouterr().out
    assert get_user_model().objects.count() == 1


def test_it_does_nothing_when_staff_exist(staff_user, capsys):
    call_command("create_first_admin")
    assert "password:" not in capsys.readouterr().out
    assert get_user_model().objects.count() == 1
