from django.urls import path

from . import views
from .cache import public_page

app_name = "education"

urlpatterns = [
    # Reading pages: the same for every anonymous patient, so served from the page cache.
    path("", public_page(views.HomeView.as_view()), name="home"),
    path("procedures/", public_page(views.ProcedureListView.as_view()), name="procedure_list"),
    path(
        "procedures/<slug:slug>/",
        public_page(views.ProcedureDetailView.as_view()),
        name="procedure_detail",
    ),
    path("glossary/", public_page(views.GlossaryView.as_view()), name="glossary"),
]
