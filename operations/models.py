"""The job lock: scheduled jobs that must run once, however many app hosts have timers.

The jobs themselves and how a command takes the lock are in operations/jobs.py.
"""

from django.db import models
from django.db.models import Q


class JobLock(models.Model):
    """One row per scheduled job (backup, purge_requests, ...), shared by every host.

    Every app host may run the same timers against the one database. A host runs a job
    only after it has claimed this row with one conditional UPDATE (operations/jobs.py);
    the others see the row held, or finished a short while ago, and skip. `held_until`
    is a lease rather than a flag, so a host that dies in the middle of a job blocks the
    others only until the lease runs out. The row stays after the job: it remembers who
    ran it last and when it finished, which is what a skipping host reports.

    No patient data: job names, host names and times only.
    """

    name = models.CharField("job", max_length=100, primary_key=True)
    holder = models.CharField(
        "held by",
        max_length=200,
        blank=True,
        help_text="The host and process that holds the job now, or held it last.",
    )
    held_until = models.DateTimeField(
        "held until",
        null=True,
        blank=True,
        help_text="Empty when no host is running the job. A host that stopped without "
        "letting go keeps it only until this time; then another host may take over.",
    )
    last_started_at = models.DateTimeField("last started", null=True, blank=True)
    last_finished_at = models.DateTimeField(
        "last finished",
        null=True,
        blank=True,
        help_text="When the job last ended without an error (a failed run does not count).",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "job lock"
        verbose_name_plural = "job locks"
        constraints = [
            models.CheckConstraint(
                condition=Q(held_until__isnull=True) | ~Q(holder=""),
                name="joblock_held_has_a_holder",
                violation_error_message="A job that is held must say which host holds it.",
            )
        ]

    def __str__(self):
        return self.name
