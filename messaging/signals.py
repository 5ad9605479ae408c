from allauth.socialaccount.models import SocialLogin
from django.contrib import messages
from django.http import HttpRequest

from messaging import services


def linkedin_account_connected(
    sender: object, request: HttpRequest, sociallogin: SocialLogin, **kwargs: object
) -> None:
    """allauth connected (or re-connected) a LinkedIn account: keep our record of it."""
    user = request.user
    if not (user.is_authenticated and user.is_staff) or sociallogin.user != user:
        return  # not ours to record; the adapter refuses these flows
    if sociallogin.state.get("process") != "connect":
        return
    try:
        account = services.account_save_from_login(user=user, sociallogin=sociallogin)
    except services.AccountOwnedElsewhere:
        if sociallogin.account.pk:
            sociallogin.account.delete()  # undo allauth's half of the connection
        messages.error(request, "This LinkedIn account is connected by another team member.")
        return
    messages.success(request, f"Connected LinkedIn account {account}.")
