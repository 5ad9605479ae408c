"""django-allauth's social side, narrowed to one job: a signed-in staff member connects
their LinkedIn account. LinkedIn is never a way to sign in to the CRM."""

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base import AuthError
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

logger = logging.getLogger(__name__)

CANCELLED_ERRORS = {"user_cancelled_authorize", "user_cancelled_login", "access_denied"}


class LinkedInConnectAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin):
        return False

    def pre_social_login(self, request, sociallogin):
        user = request.user
        if sociallogin.state.get("process") != "connect" or not (
            user.is_authenticated and user.is_staff
        ):
            messages.error(
                request,
                "LinkedIn is not a way to sign in here. Sign in with your password, then "
                "connect LinkedIn on the LinkedIn accounts page.",
            )
            raise ImmediateHttpResponse(redirect("account_login"))
        if sociallogin.is_existing and sociallogin.user != user:
            messages.error(
                request,
                "This LinkedIn account is already connected by another team member. Ask them "
                "to disconnect it first; one LinkedIn account has one owner here.",
            )
            raise ImmediateHttpResponse(redirect("messaging:accounts"))

    def get_connect_redirect_url(self, request, socialaccount):
        return reverse("messaging:accounts")

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        """Every way the OAuth round trip can fail lands on the accounts page with a sentence
        that says what happened, never on a 500 or allauth's generic error page."""
        # Anyone can write a callback URL, error_description included, and send it to a member:
        # LinkedIn's words are shown only when allauth matched the URL's state to a flow this
        # session started (it then passes that state on), otherwise the app's own.
        validated = bool(extra_context) and extra_context.get("state") is not None
        code = request.GET.get("error", "") if validated else ""
        if code in CANCELLED_ERRORS or error == AuthError.CANCELLED:
            text = "You cancelled connecting LinkedIn; nothing was changed."
        elif code:
            detail = request.GET.get("error_description") or code
            text = f"LinkedIn refused the connection: {detail[:200]}"
        elif extra_context and "state_id" in extra_context:
            text = (
                "The answer from LinkedIn did not match this browser session (an old or "
                "duplicated tab?). Please connect again."
            )
        elif exception is not None:
            # The exception text of a failed token exchange never holds the token itself;
            # log its type only, to be safe.
            logger.warning("LinkedIn connect failed: %s", type(exception).__name__)
            text = (
                "LinkedIn did not complete the connection (the token exchange failed). Try "
                "again; if it keeps failing, check the app's client id, secret and redirect URL."
            )
        else:
            text = "The connection to LinkedIn did not complete. Please try again."
        messages.error(request, text)
        target = "messaging:accounts" if request.user.is_authenticated else "account_login"
        raise ImmediateHttpResponse(redirect(target))
