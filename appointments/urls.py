from django.urls import path, register_converter

from . import views
from .references import ReferenceConverter

app_name = "appointments"

register_converter(ReferenceConverter, "reference")

urlpatterns = [
    path("consultation/", views.ConsultationRequestView.as_view(), name="consultation"),
    path("call-back/", views.CallBackRequestView.as_view(), name="call_back"),
    path("thanks/<reference:reference>/", views.ThanksView.as_view(), name="thanks"),
    path(
        "thanks/<reference:reference>/call-now/",
        views.ThanksView.as_view(urgent=True),
        name="thanks_urgent",
    ),
]
