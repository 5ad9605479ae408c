from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("campaigns/<int:pk>/delete/", views.campaign_delete, name="delete"),
    path("campaigns/<int:pk>/steps/", views.step_add, name="step_add"),
    path("campaigns/steps/<int:pk>/edit/", views.step_edit, name="step_edit"),
    path("campaigns/steps/<int:pk>/delete/", views.step_delete, name="step_delete"),
    path("campaigns/variants/<int:pk>/edit/", views.variant_edit, name="variant_edit"),
    path("campaigns/<int:pk>/variants/", views.variant_add, name="variant_add"),
    path("campaigns/variants/<int:pk>/delete/", views.variant_delete, name="variant_delete"),
    path("campaigns/<int:pk>/dry-run/", views.dry_run, name="dry_run"),
    path("campaigns/<int:pk>/launch/", views.launch, name="launch"),
    path("campaigns/<int:pk>/pause/", views.change_state, {"action": "pause"}, name="pause"),
    path("campaigns/<int:pk>/resume/", views.change_state, {"action": "resume"}, name="resume"),
    path("campaigns/<int:pk>/cancel/", views.change_state, {"action": "cancel"}, name="cancel"),
    path("audiences/save/", views.audience_save, name="audience_save"),
    path("messages/<int:pk>/reply/", views.mark_replied, name="mark_replied"),
    path("imports/messages/", views.messages_import, name="messages_import"),
]
