"""Access rules: every page but sign-in requires a signed-in staff user (DESIGN §10)."""

from functools import wraps

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django_htmx.http import HttpResponseClientRedirect


def staff_required(view):
    """Anonymous visitors go to the login page; signed-in users who are not staff get a 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.htmx:
                # A panel refreshing itself after the session ended: the whole page goes to
                # sign-in (not the sign-in form into the panel), and comes back after it.
                page = request.htmx.current_url_abs_path or "/"
                return HttpResponseClientRedirect(redirect_to_login(page).url)
            return redirect_to_login(request.get_full_path())
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied("This page is for staff members.")
        return view(request, *args, **kwargs)

    return wrapper


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by an administrator, never by public signup."""

    def is_open_for_signup(self, request):
        return False
