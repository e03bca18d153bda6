"""Scheduled jobs that must run on one host at a time, through a row in the database.

With two or more app hosts, each host's timers start the same commands (backup,
purge_requests, retry_notifications, send_review_reminders). A command wraps its work
in `run_once()`:

    with jobs.run_once("backup", lease=..., skip_if_done_within=...) as job:
        if job.skipped:
            self.stdout.write(job.explanation)   # one plain line; the command exits 0
            return
        ...the work...

How the lock works, on SQLite and PostgreSQL alike, with the ORM only:
1. The job's JobLock row is made once (get_or_create: when two hosts make it at the same
   moment, the loser's INSERT fails on the primary key and get_or_create reads the
   winner's row instead).
2. One conditional UPDATE claims it: "set the holder and the lease, where nobody holds
   it or the lease has run out". The database runs such UPDATEs one after the other on
   the same row, so it reports 1 row changed to exactly one host and 0 to the others.
3. At the end the holder lets go: the lease is cleared, and `last_finished_at` is set
   when the work ended without an error. A failed run lets go without it, so the next
   timer (on any host) tries again.

`skip_if_done_within` is for daily jobs: two hosts whose timers fire minutes apart
must not both take the daily backup. The claim's UPDATE then also requires that the
job did not finish within that time.

A host that dies mid-job (power cut, kill -9) never lets go: the lease is what frees
the job then. Choose it longer than the job can take. The hosts' clocks must agree
(NTP) to within a small part of the lease.

This module must not import education or appointments: their commands import it.
"""

import argparse
import contextlib
import datetime
import logging
import os
import secrets
import socket
from dataclasses import dataclass

from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from operations.models import JobLock

logger = logging.getLogger(__name__)


def this_process():
    """Who holds a lock: the host name and process id (for people reading the output),
    and a random tag, so that a process cannot mistake another's lock for its own when a
    process id is used again."""
    return f"{socket.gethostname()}, pid {os.getpid()}, run {secrets.token_hex(3)}"


def when(moment):
    """A time as the operator reads it: the clinic's time zone, to the second."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


@dataclass
class Job:
    """The outcome of a claim: either this process holds the job, or it skips it."""

    name: str
    holder: str
    skipped: bool = False
    explanation: str = ""


def claim(name, *, lease, skip_if_done_within=None):
    """Try to take the job `name` for `lease` (a timedelta). Returns a Job; when it is
    skipped, its explanation is one line saying which host has it or ran it, and when.
    """
    holder = this_process()
    JobLock.objects.get_or_create(name=name)
    now = timezone.now()  # after: on SQLite, get_or_create may wait for another writer
    free = Q(held_until__isnull=True) | Q(held_until__lt=now)
    candidates = JobLock.objects.filter(free, name=name)
    if skip_if_done_within:
        candidates = candidates.exclude(last_finished_at__gt=now - skip_if_done_within)
    # The claim itself: one UPDATE, which the database applies to one host at a time.
    claimed = candidates.update(holder=holder, held_until=now + lease, last_started_at=now)
    if claimed:
        return Job(name, holder)
    return Job(name, holder, skipped=True, explanation=why_skipped(name, now))


def why_skipped(name, now):
    """The line a skipping host prints: who holds the job, or who ran it and when."""
    lock = JobLock.objects.get(name=name)
    if lock.held_until and lock.held_until >= now:
        return (
            f"Skipped {name}: another host is running it ({lock.holder}, started "
            f"{when(lock.last_started_at)}, held until {when(lock.held_until)})."
        )
    if lock.last_finished_at:
        return (
            f"Skipped {name}: it already ran, finished at {when(lock.last_finished_at)} "
            f"({lock.holder}); --skip-if-done-within 0 runs it again."
        )
    # Let go between our UPDATE and this read (a run that failed): the next timer runs it.
    return f"Skipped {name}: another host was running it a moment ago ({lock.holder})."


def release(job, *, finished):
    """Let go of a job this process holds. `finished`: the work ended without an error.

    Only the holder's own row is changed: when the lease ran out and another host took
    over, this process must not free that host's job (and says so in the log).
    """
    changes = {"held_until": None}
    if finished:
        changes["last_finished_at"] = timezone.now()
    if not JobLock.objects.filter(name=job.name, holder=job.holder).update(**changes):
        logger.warning(
            "Job %s ran past its lease and another host took it over: choose a longer lease.",
            job.name,
        )


@contextlib.contextmanager
def run_once(name, *, lease, skip_if_done_within=None):
    """Claim the job, run the body, and let go at the end (see the module docstring).

    The body always runs: it must check `job.skipped` first. An error in the body (or
    Ctrl-C) lets go of the job without marking it finished, then carries on upwards.
    """
    job = claim(name, lease=lease, skip_if_done_within=skip_if_done_within)
    if job.skipped:
        yield job
        return
    try:
        yield job
    except BaseException:
        try:
            release(job, finished=False)
        except DatabaseError:
            # The job's own error is what the operator needs to see; the lease frees it.
            logger.exception("Could not let go of job %s; its lease will free it.", name)
        raise
    release(job, finished=True)


def duration(text):
    """A length of time from the command line: "0", "90m" or "20h" (argparse `type`)."""
    units = {"m": "minutes", "h": "hours"}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "")
    if not number.isdigit() or (unit == "" and number.strip("0")):
        raise argparse.ArgumentTypeError(f"{text!r}: give minutes or hours, like 90m or 20h.")
    return datetime.timedelta(**{units.get(unit, "minutes"): int(number)})


def add_skip_argument(parser, default):
    """The `--skip-if-done-within` option every job command takes (default: a string)."""
    parser.add_argument(
        "--skip-if-done-within",
        type=duration,
        default=duration(default),
        metavar="TIME",
        help=(
            "Skip (and exit 0) when the job finished on any host within this time, "
            f'like 20h or 90m; 0 runs it anyway (default: "{default}"). For timers on '
            "several hosts. A job already running on another host is always skipped."
        ),
    )
