from django.urls import path

from contacts import board_views, views

app_name = "contacts"

urlpatterns = [
    path("", views.contact_list, name="list"),
    path("board/", board_views.contact_board, name="board"),
    path("board/column/", board_views.contact_board_column, name="board_column"),
    path("board/<int:pk>/stage/", board_views.contact_board_move, name="board_move"),
    path("bulk/", views.contact_bulk, name="bulk"),
    path("bulk/<int:pk>/", views.contact_bulk_change, name="bulk_change"),
    path(
        "bulk/<int:pk>/progress/",
        views.contact_bulk_change_progress,
        name="bulk_change_progress",
    ),
    path("new/", views.contact_create, name="create"),
    path("export/", views.contact_export, name="export"),
    path("exports/<int:pk>/", views.contact_export_detail, name="export_detail"),
    path("exports/<int:pk>/progress/", views.contact_export_progress, name="export_progress"),
    path("exports/<int:pk>/download/", views.contact_export_download, name="export_download"),
    path("duplicates/", views.contact_duplicates, name="duplicates"),
    path("merge/", views.contact_merge, name="merge"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
    path("<int:pk>/export-data/", views.contact_export_person, name="export_person"),
    path("<int:pk>/erase/", views.contact_erase, name="erase"),
    path("<int:pk>/stage/", views.contact_set_stage, name="set_stage"),
    path("<int:pk>/inline/", views.contact_inline_edit, name="inline_edit"),
    path("<int:pk>/do-not-contact/", views.contact_set_dnc, name="set_dnc"),
    path("<int:pk>/notes/", views.note_add, name="note_add"),
    path("<int:pk>/notes/<int:note_pk>/delete/", views.note_delete, name="note_delete"),
]
