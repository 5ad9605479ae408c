"""Who a management command acts as: commands obey the same rules as pages, and the audit log
names the person answerable for what they did."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def add_as_argument(parser, *, default: str = "required") -> None:
    parser.add_argument(
        "--as",
        dest="as_user",
        metavar="USERNAME",
        help=f"The staff member doing this ({default}): their role decides whether they may, "
        "and the audit log records it under their name.",
    )


def acting_user(username: str | None):
    """The active staff user called `username`, or a CommandError saying what is wrong."""
    if not username:
        raise CommandError(
            "Say who is doing this with --as USERNAME: it needs that staff member's "
            "permission, and the audit log records it under their name."
        )
    user = get_user_model().objects.filter(username=username, is_active=True, is_staff=True)
    found = user.first()
    if found is None:
        raise CommandError(f"No active staff user {username!r}.")
    return found
