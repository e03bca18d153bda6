from django.urls import path

from . import views

app_name = "education"

urlpatterns = [
    # Reading pages: the same for every anonymous patient, so served from the page
    # cache (settings.PUBLIC_PAGES).
    path("", views.HomeView.as_view(), name="home"),
    path("procedures/", views.ProcedureListView.as_view(), name="procedure_list"),
    path("procedures/<slug:slug>/", views.GuideView.as_view(), name="procedure_detail"),
    path("procedures/<slug:slug>/all/", views.GuideAllView.as_view(), name="guide_all"),
    path("procedures/<slug:slug>/handout/", views.HandoutView.as_view(), name="handout"),
    path("procedures/<slug:slug>/<slug:part>/", views.GuidePartView.as_view(), name="guide_part"),
    path("procedures/<slug:slug>/tools/<slug:tool>/", views.ToolView.as_view(), name="tool"),
    path("glossary/", views.GlossaryView.as_view(), name="glossary"),
    path("language-help/", views.LanguageHelpView.as_view(), name="language_help"),
]
