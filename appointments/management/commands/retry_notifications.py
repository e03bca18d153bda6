"""Queue the front-desk email again for requests whose notification failed or got stuck.

django-tasks has no automatic retry, so run this from cron, for example every 10 minutes:

    */10 * * * * cd /srv/clinic && .venv/bin/python manage.py retry_notifications

Each request is tried up to NOTIFICATION_MAX_ATTEMPTS times; after that it stays
"Failed" in the admin until someone uses the "Retry notification" action.
"""

from django.core.management.base import BaseCommand

from appointments import notifications, services


class Command(BaseCommand):
    help = "Queue failed or stuck front-desk notifications again."

    def handle(self, *args, **options):
        queued = 0
        for request in notifications.notifications_to_retry():
            queued += services.retry_notification(request)
        self.stdout.write(f"Queued {queued} notification(s) again.")
