"""The staff dashboard (issue #7): the page, and its sending panel alone for htmx to refresh."""

from django.shortcuts import render
from django.utils import timezone

from linkedin_crm import dashboard as numbers
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
        "campaigns": numbers.running_campaigns(),
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
