from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from . import robots, views

admin.site.site_header = _("Clinic staff")
admin.site.site_title = _("Clinic staff")
admin.site.index_title = _("Work and content")
# The front page adds what needs doing (education: pages past their review date).
admin.site.index_template = "admin/index_review_dates.html"

urlpatterns = [
    # Browsers ask for /favicon.ico on every page that names no icon (the admin).
    path("favicon.ico", views.favicon),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", robots.robots_txt, name="robots_txt"),
    path("admin/two-factor/", include("accounts.urls")),
    path("admin/", admin.site.urls),
]
# The patients' pages: in English at these addresses, in Spanish under /es/.
urlpatterns += i18n_patterns(
    path("appointments/", include("appointments.urls")),
    path("", include("education.urls")),
    prefix_default_language=False,
)

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler500 = "clinic_site.views.server_error"
