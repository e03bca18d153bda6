"""`manage.py enrolment_link USERNAME`: a set-up link for one staff member, on the server.

For the very first superuser of a new server (nobody can use the admin's "Set-up link"
button yet), and for a superuser who lost their phone and their backup codes. Prints
the link once; only its hash is stored. The same rules as the admin's button: active
staff only, and not while the person still has an app (unless --remove-old-app).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.formats import date_format
from django.utils.timezone import localtime

from accounts import services


class Command(BaseCommand):
    help = "Print a one-time set-up link for a staff member's authenticator app."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The staff member the link is for.")
        parser.add_argument(
            "--remove-old-app",
            action="store_true",
            help="Delete the person's current authenticator app first (a lost phone).",
        )

    def handle(self, *args, username, remove_old_app, **options):
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"There is no user {username!r}.") from None
        if not (user.is_active and user.is_staff):
            raise CommandError(
                f"{username} is not active staff. Make them active staff first "
                "(in the admin, or createsuperuser for the first superuser)."
            )
        if services.has_app(user):
            if not remove_old_app:
                raise CommandError(
                    f"{username} already has an authenticator app. For a new phone, run "
                    "again with --remove-old-app (or delete it in the admin first)."
                )
            services.remove_app(user)
            self.stdout.write(f"Removed the old authenticator app of {username}.")
        link, token = services.make_enrolment_link(user)
        until = date_format(localtime(link.expires_at), "DATETIME_FORMAT")
        self.stdout.write(
            f"Set-up link for {username} (works once, only for {username}, until {until}):\n"
            f"{settings.SITE_URL}{services.enrolment_path(token)}\n"
            f"Give it only to {username}: they open it, sign in with their own password "
            "and set up their app. Making a new link stops this one from working."
        )
