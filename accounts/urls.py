from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.two_factor, name="two_factor"),
    path("enrol/", views.enrol, name="enrol"),
    path("backup-codes/", views.backup_codes, name="backup_codes"),
]
