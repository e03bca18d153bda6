from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The site's own infrastructure (no models): connects the page cache's purge."""

    name = "clinic_site"
    verbose_name = "Clinic site"

    def ready(self):
        from .cache import connect_purge_signals

        connect_purge_signals()
