from django.conf import settings
from django.http import HttpResponseServerError
from django.template import loader


def server_error(request):
    """The 500 page, built from settings only: the database may be what failed."""
    context = {"clinic_name": settings.CLINIC_NAME, "clinic_phone": settings.CLINIC_PHONE}
    return HttpResponseServerError(loader.render_to_string("500.html", context))
