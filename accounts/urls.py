from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.two_factor, name="two_factor"),
    path("set-up/", views.two_factor_setup, name="two_factor_setup"),
]
