from django.urls import path

from . import views

app_name = "education"

urlpatterns = [
    # Reading pages: the same for every anonymous patient, so served from the page
    # cache (settings.PUBLIC_PAGES).
    path("", views.HomeView.as_view(), name="home"),
    path("procedures/", views.ProcedureListView.as_view(), name="procedure_list"),
    path("procedures/<slug:slug>/", views.ProcedureDetailView.as_view(), name="procedure_detail"),
    path("glossary/", views.GlossaryView.as_view(), name="glossary"),
]
