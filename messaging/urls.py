from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.account_list, name="accounts"),
    path("<int:pk>/", views.account_detail, name="account_detail"),
    path("<int:pk>/validate/", views.account_validate, name="account_validate"),
    path("<int:pk>/pause/", views.account_pause, name="account_pause"),
    path("<int:pk>/resume/", views.account_resume, name="account_resume"),
    path("<int:pk>/disconnect/", views.account_disconnect, name="account_disconnect"),
]
