from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the site: whole-database backup and restore (management commands only).

    Not an appointments or education concern: they copy every table of every app.
    """

    name = "operations"
    verbose_name = "Operations"
