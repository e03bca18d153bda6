from .models import ClinicSettings


def clinic(request):
    """The clinic's name and numbers for the header, footer and calls to action."""
    return {"clinic": ClinicSettings.load()}
