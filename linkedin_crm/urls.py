from django.contrib import admin
from django.urls import include, path

from linkedin_crm import audit_views, views

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("dashboard/sending/", views.dashboard_sending, name="dashboard_sending"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("contacts/", include("contacts.urls")),
    path("imports/", include("contacts.import_urls")),
    path("", include("messaging.urls")),
    path("", include("campaigns.urls")),
]
