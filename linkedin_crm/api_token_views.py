"""The personal API tokens page (/settings/api-tokens/): each staff member's own tokens, made
and revoked here (docs/api.md)."""

import datetime

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from linkedin_crm import api_tokens
from linkedin_crm.auth import staff_required
from linkedin_crm.models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What will use it, e.g. “Zapier” or “nightly sync”."
    )
    read_only = forms.BooleanField(required=False, label="Read-only (may only read, never write)")
    expires_on = forms.DateField(
        required=False,
        label="Expires on (optional)",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The token stops working at the start of this day.",
    )

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError("Choose a day after today.")
        return day

    def expires_at(self) -> datetime.datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@staff_required
@never_cache
def api_token_list(request):
    """GET lists the member's tokens; POST makes one and shows its secret on this response
    only (it is stored hashed, so no later page can show it)."""
    new_token = None
    status = 200
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            token, new_token = api_tokens.api_token_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                read_only=form.cleaned_data["read_only"],
                expires_at=form.expires_at(),
                actor=request.user,
            )
            form = ApiTokenForm()
            status = 201
        else:
            status = 400
    else:
        form = ApiTokenForm()
    ctx = {
        "form": form,
        "tokens": ApiToken.objects.filter(owner=request.user),
        "new_token": new_token,
    }
    return render(request, "linkedin_crm/api_tokens.html", ctx, status=status)


@staff_required
def api_token_revoke(request, pk):
    """GET asks for confirmation; POST revokes. Only one's own tokens."""
    token = get_object_or_404(ApiToken, pk=pk, owner=request.user)
    if request.method != "POST":
        return render(request, "linkedin_crm/api_token_revoke.html", {"token": token})
    if api_tokens.api_token_revoke(token=token, actor=request.user):
        messages.success(request, f"Revoked the token “{token.name}”.")
    else:
        messages.info(request, f"The token “{token.name}” was revoked already.")
    return redirect("api_tokens")
