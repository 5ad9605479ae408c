from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from linkedin_crm.auth import staff_required
from messaging import services
from messaging.forms import AccountSettingsForm
from messaging.models import LinkedInAccount


def _account(request, pk) -> LinkedInAccount:
    """An account the signed-in member may manage (their own, or any with the permission)."""
    queryset = LinkedInAccount.objects.manageable_by(request.user).select_related(
        "owner", "network"
    )
    return get_object_or_404(queryset, pk=pk)


@staff_required
def account_list(request):
    now = timezone.now()
    accounts = LinkedInAccount.objects.manageable_by(request.user).select_related(
        "owner", "network"
    )
    ctx = {
        "accounts": [(account, account.health(now)) for account in accounts],
        "linkedin_configured": bool(settings.SOCIALACCOUNT_PROVIDERS),
        "sandbox": settings.LINKEDIN_SANDBOX,
    }
    return render(request, "messaging/account_list.html", ctx)


@staff_required
def account_detail(request, pk):
    account = _account(request, pk)
    posted = request.method == "POST"
    form = AccountSettingsForm(
        request.POST if posted else None, instance=account, user=account.owner
    )
    if posted and form.is_valid():
        services.account_save_settings(account=form.save(commit=False), actor=request.user)
        messages.success(request, "Settings saved.")
        return redirect(account)
    ctx = {"account": account, "health": account.health(timezone.now()), "form": form}
    return render(request, "messaging/account_detail.html", ctx)


@staff_required
@require_POST
def account_validate(request, pk):
    account = _account(request, pk)
    ok, text = services.account_validate(account=account)
    (messages.success if ok else messages.error)(request, text)
    return redirect(account)


@staff_required
@require_POST
def account_pause(request, pk):
    account = _account(request, pk)
    services.account_pause(account=account, actor=request.user)
    messages.success(request, "Paused: nothing is released or sent from this account.")
    return redirect(account)


@staff_required
@require_POST
def account_resume(request, pk):
    account = _account(request, pk)
    services.account_resume(account=account, actor=request.user)
    messages.success(request, "Resumed.")
    return redirect(account)


@staff_required
def account_disconnect(request, pk):
    account = _account(request, pk)
    if request.method == "POST":
        services.account_disconnect(account=account, actor=request.user)
        messages.success(request, f"Disconnected {account}; its tokens were deleted.")
        return redirect("messaging:accounts")
    return render(request, "messaging/account_disconnect.html", {"account": account})
