"""Access rules: every page but sign-in requires a signed-in staff user (DESIGN §10)."""

from functools import wraps

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def staff_required(view):
    """Anonymous visitors go to the login page; signed-in users who are not staff get a 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied("This page is for staff members.")
        return view(request, *args, **kwargs)

    return wrapper


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator, never by public signup."""

    def is_open_for_signup(self, request):
        return False
