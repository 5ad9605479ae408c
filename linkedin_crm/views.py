"""The staff dashboard (the page, and its sending panel alone for htmx to refresh) and the
team page."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from linkedin_crm import dashboard as numbers
from linkedin_crm import roles
from linkedin_crm.auth import staff_required


@staff_required
def dashboard(request):
    now = timezone.now()
    ctx = {
        "now": now,
        "contacts": numbers.contacts_panel(now),
        "sending": numbers.sending_panel(request.user, now),
        "sends_per_day": numbers.sends_per_day(now),
        "reply_rates": numbers.reply_rates(now),
        "campaigns": numbers.running_campaigns(request.user),
        "worker": numbers.worker_status(now),
        "imports": numbers.recent_imports(),
        "stale_minutes": int(numbers.HEARTBEAT_STALE.total_seconds() // 60),
    }
    return render(request, "linkedin_crm/dashboard.html", ctx)


@staff_required
def dashboard_sending(request):
    """The sending panel, polled every 30 s. The worker's status comes with it out of band
    (hx-swap-oob), so that its warning appears and clears without a reload."""
    now = timezone.now()
    ctx = {
        "now": now,
        "sending": numbers.sending_panel(request.user, now),
        "worker": numbers.worker_status(now),
        "stale_minutes": int(numbers.HEARTBEAT_STALE.total_seconds() // 60),
        "out_of_band": True,
    }
    return render(request, "linkedin_crm/_sending_panel.html", ctx)


# --- the team ------------------------------------------------------------------------------


def _team_members():
    User = get_user_model()
    return User.objects.filter(is_staff=True).prefetch_related("groups").order_by("username")


def admins_only(view):
    """Roles are the Admins' to give (linkedin_crm.manage_team)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(roles.MANAGE_TEAM):
            raise PermissionDenied("The team page is for Admins.")
        return view(request, *args, **kwargs)

    return staff_required(wrapper)


@admins_only
def team(request):
    """Who is on the team and with which role; Admins change roles here."""
    members = [(member, roles.role_of(member)) for member in _team_members()]
    ctx = {
        "members": members,
        "roles": [(role, ROLE_HELP[role]) for role in roles.ROLES],
    }
    return render(request, "linkedin_crm/team.html", ctx)


ROLE_HELP = {
    roles.ADMIN: "Everything, including roles, the audit log and the webhooks.",
    roles.MANAGER: "Every member's accounts, Outbox and campaigns; imports into any network; "
    "export, merge, delete and erase contacts.",
    roles.MEMBER: "Their own LinkedIn accounts, Outbox, messages and campaigns; imports into "
    "their own network.",
}


@admins_only
@require_POST
def team_role(request, pk):
    member = get_object_or_404(_team_members(), pk=pk)
    role = request.POST.get("role", "")
    try:
        changed = roles.role_assign(user=member, role=role, actor=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        if changed:
            messages.success(request, f"{member.get_username()} is now {role}.")
    return redirect("team")
