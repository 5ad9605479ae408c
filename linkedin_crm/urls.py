from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path

from linkedin_crm.auth import staff_required


@staff_required
def home(request):
    # The dashboard arrives with its own issue; until then the contact list is home.
    return redirect("contacts:list")


urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("contacts/", include("contacts.urls")),
    path("imports/", include("contacts.import_urls")),
    path("", include("messaging.urls")),
    path("", include("campaigns.urls")),
]
