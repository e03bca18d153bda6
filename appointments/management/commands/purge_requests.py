"""Delete closed requests once the retention period has passed, with their call log and history.

Run it daily from cron, for example:

    15 3 * * * cd /srv/clinic && .venv/bin/python manage.py purge_requests

A request goes when it is closed and nothing has happened to it for
REQUEST_RETENTION_DAYS days (default 90): not changed, no call logged, no history
entry. Open requests are never deleted, however old. Running it twice deletes
nothing the second time. The output has counts only, never patient details.

With several app hosts, the job lock (operations/jobs.py) lets one host run it at a
time; timers pass `--skip-if-done-within 20h` so it runs once a day. --dry-run takes
no lock.
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from appointments.models import ContactAttempt, Request, RequestEvent
from operations import jobs

BATCH = 500
MAX_DAYS = 36_500  # a hundred years; more does not fit a date


def expired_requests(days, now=None):
    """Closed requests with no change, call or history entry in the last `days` days."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    recent_event = RequestEvent.objects.filter(request=OuterRef("pk"), at__gte=cutoff)
    recent_call = ContactAttempt.objects.filter(request=OuterRef("pk"), called_at__gte=cutoff)
    return Request.objects.filter(
        status=Request.Status.CLOSED, updated_at__lt=cutoff, submitted_at__lt=cutoff
    ).exclude(Exists(recent_event) | Exists(recent_call))


class Command(BaseCommand):
    help = "Delete closed requests older than REQUEST_RETENTION_DAYS, with their calls and history."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Retention in days (default: the REQUEST_RETENTION_DAYS setting).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )
        jobs.add_skip_argument(parser, default="0")

    def handle(self, *args, **options):
        days = options["days"] if options["days"] is not None else settings.REQUEST_RETENTION_DAYS
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"The retention must be from 1 to {MAX_DAYS} days.")
        now = timezone.now()
        if options["dry_run"]:
            expired = expired_requests(days, now)
            self.report(
                "Would delete",
                days,
                expired.count(),
                ContactAttempt.objects.filter(request__in=expired).count(),
                RequestEvent.objects.filter(request__in=expired).count(),
            )
            return
        # A dry run changes nothing, so it needs no lock (and must not count as a run).
        with jobs.run_once(
            "purge_requests",
            lease=datetime.timedelta(hours=1),
            skip_if_done_within=options["skip_if_done_within"],
        ) as job:
            if job.skipped:
                self.stdout.write(job.explanation)
                return
            self.purge(days, now)

    def purge(self, days, now):
        requests = calls = events = 0
        # In batches, each in its own transaction, so the front desk's work is never
        # held up for long. Nothing new can expire for the same `now`: bounded.
        batches = expired_requests(days, now).count() // BATCH + 1
        for _ in range(batches):
            with transaction.atomic():
                ids = list(expired_requests(days, now).values_list("pk", flat=True)[:BATCH])
                if not ids:
                    break
                _, per_model = Request.objects.filter(pk__in=ids).delete()
            requests += per_model.get(Request._meta.label, 0)
            calls += per_model.get(ContactAttempt._meta.label, 0)
            events += per_model.get(RequestEvent._meta.label, 0)
        self.report("Deleted", days, requests, calls, events)

    def report(self, verb, days, requests, calls, events):
        self.stdout.write(
            f"{verb} {requests} closed request(s) with no activity for {days} days, "
            f"with {calls} call(s) and {events} history entr{'y' if events == 1 else 'ies'}."
        )
