from django.urls import path

from messaging import message_views, views

app_name = "messaging"

urlpatterns = [
    path("linkedin-accounts/", views.account_list, name="accounts"),
    path("linkedin-accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("linkedin-accounts/<int:pk>/validate/", views.account_validate, name="account_validate"),
    path("linkedin-accounts/<int:pk>/pause/", views.account_pause, name="account_pause"),
    path("linkedin-accounts/<int:pk>/resume/", views.account_resume, name="account_resume"),
    path(
        "linkedin-accounts/<int:pk>/disconnect/",
        views.account_disconnect,
        name="account_disconnect",
    ),
    path("contacts/<int:pk>/message/", message_views.compose, name="compose"),
    path(
        "contacts/<int:pk>/message/preview/",
        message_views.compose_preview,
        name="compose_preview",
    ),
    path("contacts/message/", message_views.bulk_compose, name="bulk_compose"),
    path("outbox/", message_views.outbox, name="outbox"),
    path("outbox/<int:pk>/edit/", message_views.outbox_edit, name="outbox_edit"),
    path("outbox/<int:pk>/send/", message_views.outbox_send, name="outbox_send"),
    path("outbox/<int:pk>/sent/", message_views.outbox_mark_sent, name="outbox_mark_sent"),
    path("outbox/<int:pk>/skip/", message_views.outbox_skip, name="outbox_skip"),
    path("messages/", message_views.message_list, name="message_list"),
    path("messages/<int:pk>/", message_views.message_detail, name="message_detail"),
    path("messages/<int:pk>/cancel/", message_views.message_cancel, name="message_cancel"),
    path("messages/<int:pk>/resolve/", message_views.message_resolve, name="message_resolve"),
    path("messages/templates/", message_views.template_list, name="template_list"),
    path("messages/templates/new/", message_views.template_edit, name="template_new"),
    path("messages/templates/<int:pk>/", message_views.template_edit, name="template_edit"),
    path(
        "messages/templates/<int:pk>/delete/",
        message_views.template_delete,
        name="template_delete",
    ),
]
