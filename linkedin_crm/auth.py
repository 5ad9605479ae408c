"""Access rules: every page but sign-in requires a signed-in staff user; who may do what
within the team is in linkedin_crm.roles."""

from functools import wraps

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Aggregate, CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
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


class _PermissionKeys(Aggregate):
    """Every "app_label.codename" of a subquery's rows in one comma-separated string."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(distinct)s%(expressions)s)"
    allow_distinct = True
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(%(distinct)s%(expressions)s, ',')",
            **extra,
        )


class TeamAuthenticationBackend(AuthenticationBackend):
    """allauth's sign-in by username or e-mail, loading a signed-in user's permissions with
    the user row itself. Every page asks about roles (the navigation, the rules), and Django's
    own backend would spend two more queries a request on it."""

    def get_user(self, user_id):
        User = get_user_model()
        keys = (
            Permission.objects.filter(Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk")))
            .annotate(key=Concat("content_type__app_label", Value("."), "codename"))
            .order_by()
            .annotate(group_by=Value(1))
            .values("group_by")
            .annotate(keys=_PermissionKeys("key", distinct=True))
            .values("keys")
        )
        user = User._default_manager.annotate(permission_keys=Subquery(keys)).filter(pk=user_id)
        user = user.first()
        if user is None or not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:  # a superuser has every permission; Django knows that
            # What ModelBackend.get_all_permissions() would otherwise query and cache.
            user._perm_cache = set(filter(None, (user.permission_keys or "").split(",")))
        return user


@never_cache
def admin_login(request: HttpRequest) -> HttpResponse:
    """Stands in for the Django admin's own sign-in form, which checks passwords outside
    django-allauth and so outside its rate limits on failed attempts: the admin's visitors
    sign in on /accounts/login/ like everyone else and come back. Whatever the method, this
    view authenticates nobody."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect_to_login(next_url)
    if request.user.is_active and request.user.is_staff:
        return redirect(next_url)
    # Signed in but not staff: the sign-in page would send them straight back here.
    raise PermissionDenied("The admin is for staff members.")
