"""Queue the front-desk email again for requests whose notification failed or got stuck.

django-tasks has no automatic retry, so run this from cron, for example every 10 minutes:

    */10 * * * * cd /srv/clinic && .venv/bin/python manage.py retry_notifications

Each request is tried up to NOTIFICATION_MAX_ATTEMPTS times; after that it stays
"Failed" in the admin until someone uses the "Retry notification" action.

With several app hosts, the job lock (operations/jobs.py) lets one host run it at a
time; the others skip that round.
"""

import datetime

from django.core.management.base import BaseCommand

from appointments import notifications, services
from operations import jobs


class Command(BaseCommand):
    help = "Queue failed or stuck front-desk notifications again."

    def add_arguments(self, parser):
        jobs.add_skip_argument(parser, default="0")

    def handle(self, *args, **options):
        with jobs.run_once(
            "retry_notifications",
            lease=datetime.timedelta(minutes=10),
            skip_if_done_within=options["skip_if_done_within"],
        ) as job:
            if job.skipped:
                self.stdout.write(job.explanation)
                return
            self.retry()

    def retry(self):
        queued = 0
        for request in notifications.notifications_to_retry():
            queued += services.retry_notification(request)
        self.stdout.write(f"Queued {queued} notification(s) again.")
