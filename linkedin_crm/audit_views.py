"""The audit log page: who did what, for the Admins who answer for the team."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from linkedin_crm import roles
from linkedin_crm.auth import staff_required
from linkedin_crm.filters import AuditEventFilter
from linkedin_crm.models import AuditEvent

PAGE_SIZE = 50


@staff_required
def audit_log(request):
    if not request.user.has_perm(roles.VIEW_AUDIT_LOG):
        raise PermissionDenied("The audit log is for Admins.")
    filterset = AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.all())
    if filterset.is_bound and not filterset.is_valid():
        events = AuditEvent.objects.none()
    else:
        events = filterset.qs.order_by("-at", "-id")
    ctx = {
        "filter": filterset,
        "page": Paginator(events, PAGE_SIZE).get_page(request.GET.get("page")),
    }
    return render(request, "linkedin_crm/audit_log.html", ctx)
