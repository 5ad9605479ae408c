import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "On a fresh installation, create a staff superuser and print its generated password "
        "once. Does nothing when any staff user exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@example.com")

    def handle(self, *args, username: str, email: str, **options):
        User = get_user_model()
        if User.objects.filter(is_staff=True).exists():
            self.stdout.write("A staff user exists already; sign in with it.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(
            self.style.SUCCESS(
                "\n  First run: created the staff user\n"
                f"    username: {username}\n"
                f"    password: {password}\n"
                "  This password is shown only once. Change it after signing in "
                "(Admin → Users, or /accounts/password/change/).\n"
            )
        )
