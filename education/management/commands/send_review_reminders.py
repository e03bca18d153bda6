"""Daily: email the clinical reviewers the guide pages past their review date, and empty
the page cache on the day a page turns late. Run it from cron soon after midnight,
clinic time (the TIME_ZONE setting); on a server that keeps UTC, for New York:

    5 5 * * * cd /srv/clinic && .venv/bin/python manage.py send_review_reminders

1. When a published page turned late today (its "next review due" was yesterday), it
   empties the public page cache, so the page says it is late from now on rather than
   showing the cached "next review due" line (review_dates.py).
2. When any published page is overdue, due within 30 days or has no review date, it
   queues the reminder task (education/tasks.py; the worker sends it), then waits for
   the worker, up to --wait seconds, so cron hears about a failure: a failed email or
   a worker that did not run it ends the command with an error (exit status 1), which
   cron mails to the server's administrator. The task is kept: the worker sends it
   when it runs again.

With several app hosts, the job lock (operations/jobs.py) lets one host run it, and
skips it when it already finished within the last 20 hours (on any host), so reviewers
get one email a day. A run that failed does not count. `--skip-if-done-within 0`
sends again.

The output has counts only: no titles, no addresses.
"""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django_tasks import TaskResultStatus

from education import review_dates, tasks
from education.review_dates import Due, RemindersNotSent
from operations import jobs


class Command(BaseCommand):
    help = "Email reviewers the guide pages past their review date; refresh the page cache."

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait",
            type=int,
            default=120,
            help="Seconds to wait for the worker to send the email (0: queue and leave).",
        )
        jobs.add_skip_argument(parser, default="20h")

    def handle(self, *args, **options):
        with jobs.run_once(
            "send_review_reminders",
            lease=datetime.timedelta(seconds=options["wait"], minutes=10),
            skip_if_done_within=options["skip_if_done_within"],
        ) as job:
            if job.skipped:
                self.stdout.write(job.explanation)
                return
            self.remind(options)

    def remind(self, options):
        today = review_dates.today()
        turned = review_dates.empty_page_cache_if_a_page_turned_late(today)
        if turned:
            self.stdout.write(f"{turned} page(s) turned late today: emptied the page cache.")
        counts = {due: review_dates.pages(due, today).count() for due in Due}
        self.stdout.write(
            f"Published pages: {counts[Due.OVERDUE]} overdue, {counts[Due.DUE_SOON]} due "
            f"within {review_dates.DUE_SOON_DAYS} days, {counts[Due.NO_DATE]} with no "
            f"review date, {counts[Due.CURRENT]} current."
        )
        if not (counts[Due.OVERDUE] or counts[Due.DUE_SOON] or counts[Due.NO_DATE]):
            self.stdout.write("Nothing to review: no email.")
            return
        try:
            result = tasks.send_review_reminders.enqueue(today.isoformat())
        except Exception as exc:  # The queue's own errors: about our server, not people.
            raise CommandError(
                f"Could not queue the review reminder ({type(exc).__name__})."
            ) from None
        self.wait_for(result, options["wait"])

    def wait_for(self, result, seconds):
        """Report the task's outcome once the worker has run it (at once with the
        immediate backend); fail when it failed or did not run within `seconds`."""
        can_ask = result.task.get_backend().supports_get_result
        deadline = time.monotonic() + seconds
        while can_ask and not result.is_finished and time.monotonic() < deadline:
            time.sleep(1)
            result.refresh()
        if result.status == TaskResultStatus.SUCCESSFUL:
            self.stdout.write(f"Sent {result.return_value['emails']} review reminder email(s).")
        elif result.status == TaskResultStatus.FAILED:
            raise CommandError(
                f"The review reminder failed: {failure(result)} See the worker's log."
            )
        elif seconds and can_ask:
            raise CommandError(
                f"Queued the review reminder, but the worker had not sent it after {seconds} "
                "seconds. Is `manage.py db_worker` running? It sends it when it runs."
            )
        else:
            self.stdout.write("Queued the review reminder.")


def failure(result):
    """What went wrong, from the task's last error: RemindersNotSent's own message (counts
    and error classes only); for anything else, only the error's class."""
    error = result.errors[-1] if result.errors else None
    if error is None:
        return "unknown error."
    if error.exception_class_path == f"{RemindersNotSent.__module__}.RemindersNotSent":
        return error.traceback.strip().splitlines()[-1].split(": ", 1)[-1]
    return f"{error.exception_class_path.rsplit('.', 1)[-1]}."
