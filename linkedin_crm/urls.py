from django.contrib import admin
from django.urls import include, path

from linkedin_crm import audit_views, auth, timeline_views, views, webhook_views

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("dashboard/sending/", views.dashboard_sending, name="dashboard_sending"),
    path("team/", views.team, name="team"),
    path("team/<int:pk>/role/", views.team_role, name="team_role"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("settings/webhooks/", webhook_views.webhook_list, name="webhook_list"),
    path("settings/webhooks/new/", webhook_views.webhook_create, name="webhook_create"),
    path("settings/webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook_detail"),
    path("settings/webhooks/<int:pk>/edit/", webhook_views.webhook_edit, name="webhook_edit"),
    path("settings/webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path(
        "settings/webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        webhook_views.webhook_redeliver,
        name="webhook_redeliver",
    ),
    path("accounts/", include("allauth.urls")),
    # Before the admin's own: its sign-in form would try passwords around allauth's limits.
    path("admin/login/", auth.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    # Here rather than in contacts.urls: the timeline reads messages and campaigns, which the
    # contacts app does not know (docs/architecture.md).
    path(
        "contacts/<int:pk>/timeline/",
        timeline_views.contact_timeline,
        name="contact_timeline",
    ),
    path("contacts/", include("contacts.urls")),
    path("imports/", include("contacts.import_urls")),
    path("", include("messaging.urls")),
    path("", include("campaigns.urls")),
]
